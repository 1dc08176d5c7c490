//! FHIR R4 mapping: the published intake Questionnaire and the mapping of FHIR resources onto
//! the intake, and of an assessment back into FHIR. No HTTP and no assessing here: the handlers
//! (`cramp_cds::http::fhir`, in the service) read resources into a wire `CrampHistory` with
//! [`intake`] and assess it through the service's one `Assessor`, exactly as a gRPC call would
//! be. Nothing here decides anything clinical.
//!
//! # Layout
//! - [`model`]: hand-written serde types for the subset read and written.
//! - [`link_ids`]: the Questionnaire's items, linkId = field path (the single source of truth).
//! - [`questionnaire`]: the published Questionnaire, generated from [`link_ids`].
//! - [`questionnaire_response`]: QuestionnaireResponse → history.
//! - [`chart`]: Patient, Condition, Observation and medication resources → history, by the
//!   value sets of [`valuesets`], with unit checks; what it does not use is named.
//! - [`valuesets`]: the operator's FHIR ValueSet files (VSAC expansions) bound to intake meanings,
//!   over the clinical reference's verified codes; loaded once at startup and passed as a value.
//! - [`intake`]: the two combined into a history the core accepts.
//! - [`bundle`]: the assessment as a Bundle of RiskAssessment, ServiceRequests and DetectedIssues.

pub mod bundle;
pub mod chart;
pub mod intake;
pub mod link_ids;
pub mod model;
pub mod published;
pub mod questionnaire;
pub mod questionnaire_response;
pub mod valuesets;

/// Path of the intake Questionnaire under the FHIR base (`{base}/fhir` + this).
pub const QUESTIONNAIRE_PATH: &str = "/Questionnaire/cramp-intake";
/// Path of the clinician's companion Questionnaire (examination and labs) under the FHIR base.
pub const CLINICIAN_QUESTIONNAIRE_PATH: &str = "/Questionnaire/cramp-intake-clinician";
/// Path of the Questionnaire's own CodeSystem (answer codes = enum value names).
pub const CODE_SYSTEM_PATH: &str = "/CodeSystem/cramp-intake";
/// Version of both published Questionnaires (they change together); the major must match to be
/// read.
pub const QUESTIONNAIRE_VERSION: &str = "1.1.0";
/// The FHIR version spoken.
pub const FHIR_VERSION: &str = "4.0.1";
/// `Content-Type` of FHIR JSON bodies.
pub const FHIR_JSON: &str = "application/fhir+json";

/// Whether `url` is an absolute http(s) URL of one of our artifacts at `path` (under any base
/// URL, since the base is deployment configuration).
#[must_use]
pub fn is_ours(url: &str, path: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://")) && url.ends_with(path)
}

/// Why a JSON body could not be read. Carries the path only: serde's own messages can quote the
/// submitted value, which may be patient data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` {}", self.description())]
pub struct JsonError {
    /// Where parsing stopped, as a JSON path (`context.patientId`, `.` for the whole body).
    pub path: String,
    /// Whether the text is not JSON at all or a value has the wrong type.
    pub syntax: bool,
}

impl JsonError {
    /// What is wrong, without the value.
    #[must_use]
    pub fn description(&self) -> &'static str {
        if self.syntax {
            "is not well-formed JSON"
        } else {
            "has the wrong JSON type or an invalid value"
        }
    }
}

/// Parses `bytes` as `T`, naming the JSON path of the first problem.
///
/// # Errors
/// [`JsonError`] with the path and kind, never the value.
pub fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let result = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let syntax = err.inner().is_syntax() || err.inner().is_eof();
        JsonError {
            // Unparseable text has no element path; the body as a whole is at fault.
            path: if syntax {
                ".".to_owned()
            } else {
                path_text(err.path())
            },
            syntax,
        }
    })?;
    Ok(result)
}

/// Reads an already-parsed JSON value as `T`, naming the path under `prefix`.
///
/// # Errors
/// [`JsonError`] with `prefix` + the inner path.
pub fn from_value<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    prefix: &str,
) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let inner = path_text(err.path());
        JsonError {
            path: if inner == "." {
                prefix.to_owned()
            } else {
                format!("{prefix}.{inner}")
            },
            syntax: false,
        }
    })
}

fn path_text(path: &serde_path_to_error::Path) -> String {
    // serde_path_to_error prints `a.b[0].c`, and `.` for the root.
    path.to_string()
}
