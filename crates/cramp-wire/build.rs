//! Compiles the `cramp.v1` protos with protox (pure Rust, so no system `protoc` is needed) into
//! tonic/prost types, proto3-JSON serde impls (pbjson) and an encoded descriptor set for server
//! reflection.

use std::{env, fs, path::PathBuf};

use prost::Message as _;

/// Every proto of the API; `cramp_assessment_service.proto` imports the others, but listing them
/// all keeps the descriptor set complete even if an import is dropped.
const PROTOS: &[&str] = &[
    "cramp/v1/intake.proto",
    "cramp/v1/assessment.proto",
    "cramp/v1/knowledge_base.proto",
    "cramp/v1/cramp_assessment_service.proto",
    "cramp/v1/batch.proto",
    // Not used by any message, but reflection needs it so that clients can render the
    // `BadRequest`/`ErrorInfo` details of a batch record's `google.rpc.Status`.
    "google/rpc/error_details.proto",
];

/// Messages that hold patient answers (inputs) or values echoed from them (evidence, medication
/// names). Keep in step with the `redacted_debug!` list in `src/pb.rs`; the build fails if a name
/// is missing there, because prost requires `Debug` of every message.
const PATIENT_DATA_MESSAGES: &[&str] = &[
    "AssessRequest",
    "CrampHistory",
    "Patient",
    "Cramps",
    "Symptoms",
    "Conditions",
    "Medication",
    "Lifestyle",
    "Findings",
    "Labs",
    "AssessResponse",
    "Assessment",
    "RiskFlag",
    "Evidence",
    "SuggestedWorkup",
    "MedicationFinding",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The protos stay at the workspace root (buf, the CI's Python client and the docs read them
    // there). `compile_fds` never emits rerun hints itself (only the protoc path does).
    let proto = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto.display());

    let fds = protox::compile(PROTOS, [proto])?;
    let encoded = fds.encode_to_vec();
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("cramp_descriptor.bin"), &encoded)?;

    tonic_prost_build::configure()
        // `google.rpc` (a batch record's error) is tonic-types' own generated code, so clients
        // read its details with `tonic_types::RpcStatusExt`.
        .extern_path(".google.rpc", "::tonic_types::pb")
        // These messages carry patient answers; `pb.rs` gives them redacting `Debug` impls so
        // that no log line can print them by accident.
        .skip_debug(
            PATIENT_DATA_MESSAGES
                .iter()
                .map(|m| format!(".cramp.v1.{m}")),
        )
        .compile_fds(fds)?;

    pbjson_build::Builder::new()
        .register_descriptors(&encoded)?
        .preserve_proto_field_names()
        // Its `google.rpc.Status` has no serde impl; `screen` writes it by hand
        // (`screen::output`), rendering the known details the way proto3 JSON would.
        .exclude([".cramp.v1.AssessBatchResponse"])
        .build(&[".cramp.v1"])?;

    // pbjson reads every number through an untagged enum that first tries a string, which
    // builds (and drops) a serde error with a formatted message for every numeric field: a
    // measurable share of `screen`'s parse. `pb::json_number` accepts the same inputs (a JSON
    // number or a numeric string, as proto3 JSON allows) with one visitor and no error.
    let serde_rs = out_dir.join("cramp.v1.serde.rs");
    let generated = fs::read_to_string(&serde_rs)?;
    let patched = generated.replace(
        "::pbjson::private::NumberDeserialize",
        "crate::pb::json_number::NumberDeserialize",
    );
    if patched == generated {
        return Err("pbjson no longer uses NumberDeserialize: review pb::json_number".into());
    }
    fs::write(serde_rs, patched)?;
    Ok(())
}
