//! The generated `cramp.v1` API: prost messages, the tonic client and server, proto3-JSON serde
//! impls and the encoded descriptor set for reflection.
//!
//! This is the only module that names generated code, so a change of code generator touches one
//! file. Messages holding patient data get hand-written `Debug` impls here that print no values:
//! build.rs turns prost's derived `Debug` off for exactly those messages.

#![allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::allow_attributes_without_reason,
    reason = "generated"
)]

use std::fmt;

tonic::include_proto!("cramp.v1");
include!(concat!(env!("OUT_DIR"), "/cramp.v1.serde.rs"));

pub mod json_number;

/// The encoded `FileDescriptorSet` of every `cramp.v1` proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cramp_descriptor");

/// `Debug` that names the message and nothing else: the fields are patient answers or echo them.
macro_rules! redacted_debug {
    ($($message:ident),+ $(,)?) => {$(
        impl fmt::Debug for $message {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($message)).finish_non_exhaustive()
            }
        }
    )+};
}

redacted_debug!(
    CrampHistory,
    Patient,
    Cramps,
    Symptoms,
    Conditions,
    Medication,
    Lifestyle,
    Findings,
    Labs,
    Assessment,
    RiskFlag,
    Evidence,
    SuggestedWorkup,
    MedicationFinding,
);

// The correlation id is the one field of a request that is safe (and useful) to show.
impl fmt::Debug for AssessRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssessRequest")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

// The oneof holds the history or a QuestionnaireResponse: patient data either way.
impl fmt::Debug for assess_request::Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::History(_) => "History(..)",
            Self::QuestionnaireResponseJson(_) => "QuestionnaireResponseJson(..)",
        })
    }
}

impl fmt::Debug for AssessResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssessResponse")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    #[test]
    fn descriptor_set_decodes_and_names_the_service() {
        let fds = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        let services: Vec<_> = fds
            .file
            .iter()
            .flat_map(|f| &f.service)
            .filter_map(|s| s.name.as_deref())
            .collect();
        assert_eq!(services, ["CrampAssessmentService"]);
    }

    #[test]
    fn debug_of_patient_data_prints_no_values() {
        let request = AssessRequest {
            request_id: "req-1".into(),
            input: Some(assess_request::Input::History(CrampHistory {
                medications: vec![Medication {
                    name: "zzqx-med".into(),
                    ..Medication::default()
                }],
                patient: Some(Patient {
                    age_years: Some(97),
                    ..Patient::default()
                }),
                ..CrampHistory::default()
            })),
        };
        let shown = format!("{request:?} {:?}", request.input);
        assert!(shown.contains("req-1"));
        assert!(!shown.contains("zzqx-med"));
        assert!(!shown.contains("97"));
    }
}
