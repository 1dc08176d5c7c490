//! The FHIR HTTP handlers: `POST /fhir/$cramp-assess`, `GET /fhir/metadata` and
//! `GET /fhir/Questionnaire/cramp-intake`.
//!
//! `$cramp-assess` takes `Parameters` (a `questionnaireResponse`, optionally `medication`,
//! `condition`, `observation` and `patient` resources) and answers with a `collection` Bundle.
//! Errors are `OperationOutcome`s naming JSON paths or linkIds, never values.

use axum::{body::Bytes, response::Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

use super::{State, json};
use crate::fhir::{
    FHIR_JSON, FHIR_VERSION, bundle,
    chart::Chart,
    from_json, from_value, intake,
    model::{Condition, Medication, MedicationUse, Observation, Patient, QuestionnaireResponse},
    published, questionnaire, questionnaire_response,
};
use crate::{assess::Call, audit::Door, caller::Caller, status::HttpError};

/// `Parameters` (read).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parameters {
    #[serde(default)]
    resource_type: Option<String>,
    #[serde(default)]
    parameter: Vec<Parameter>,
}

/// One `Parameters.parameter`.
#[derive(Deserialize)]
struct Parameter {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    resource: Option<Value>,
}

/// The operation's inputs, read.
#[derive(Default)]
pub struct Inputs {
    /// The `questionnaireResponse` parameter.
    pub response: Option<QuestionnaireResponse>,
    /// The chart resources passed beside it.
    pub chart: Chart,
}

impl std::fmt::Debug for Inputs {
    // Resources carry patient data: show what was passed, not what it says.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("response", &self.response.is_some())
            .finish_non_exhaustive()
    }
}

/// Reads a `$cramp-assess` body into its inputs: the whole decoding a caller can reach before
/// anything is assessed, public so that the `fhir_parameters` fuzz target drives this very code.
///
/// # Errors
/// 400 naming the JSON path or parameter at fault, never a value.
pub fn read_body(body: &[u8]) -> Result<Inputs, HttpError> {
    /// Only the resource type, to tell the two accepted bodies apart; serde skips the rest
    /// without building it.
    #[derive(serde::Deserialize)]
    struct Kind {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
    }
    // The operation's one required input may also be the whole body (FHIR operations with a
    // single resource input allow it): a bare QuestionnaireResponse.
    let bare = serde_json::from_slice::<Kind>(body)
        .is_ok_and(|kind| kind.resource_type.as_deref() == Some("QuestionnaireResponse"));
    if bare {
        return Ok(Inputs {
            response: Some(from_json(body)?),
            chart: Chart::default(),
        });
    }
    let parameters: Parameters = from_json(body)?;
    read_parameters(&parameters)
}

/// `POST /fhir/$cramp-assess`.
///
/// # Errors
/// 400 with an `OperationOutcome` for unreadable JSON, a missing or unknown parameter, or
/// invalid answers (named by linkId).
#[tracing::instrument(name = "cramp_assess", skip_all)]
pub async fn cramp_assess(
    state: State,
    caller: Caller,
    body: Bytes,
) -> Result<Response, HttpError> {
    let inputs = read_body(&body)?;
    let Some(response) = inputs.response else {
        return Err(HttpError::invalid(
            "parameter",
            "is required: one `questionnaireResponse` parameter",
        ));
    };
    let now = state.clock.now();
    let request_id = response.id.clone().unwrap_or_default();
    let patient_id = response
        .subject
        .as_ref()
        .and_then(|s| s.reference.as_deref())
        .and_then(|r| r.strip_prefix("Patient/"))
        .map(str::to_owned);
    let call = Call::new(Door::FhirOperation, &caller).about(&request_id, patient_id.as_deref());
    // The strict canonical check needs the deployment's base URL, which only the door knows; a
    // refusal goes through the assessor like any other, so it is audited.
    let ours = response.questionnaire.as_deref().is_some_and(|canonical| {
        questionnaire_response::answers_our_questionnaire_at(canonical, &state.settings.base_url)
    });
    let read = if ours {
        intake::read(&response, &inputs.chart, &[], now.date()).map(|intake| {
            let request = intake.request();
            (intake, request)
        })
    } else {
        Err(vec![cramp_core::FieldViolation::new(
            "questionnaire",
            format!(
                "must be this service's intake Questionnaire with its version: {}|{}",
                questionnaire::canonical(&state.settings.base_url),
                crate::fhir::QUESTIONNAIRE_VERSION
            ),
        )])
    };
    let (intake, assessed) = state
        .assessor
        .assess_translated(&call, read, 0)
        .map_err(|err| HttpError::Invalid(err.violations().to_vec()))?;
    let assessed = intake.assessed(assessed.into_core());
    let fhir_base = state.url("/fhir");
    let uuid = || uuid::Uuid::new_v4().to_string();
    let now_text = now.format(&Rfc3339).unwrap_or_default();
    let context = bundle::BundleContext {
        fhir_base: &fhir_base,
        now: &now_text,
        uuid: &uuid,
    };
    let bundle = bundle::bundle(&assessed, &context);
    tracing::info!(
        entries = assessed.assessment.flags.len(),
        not_used = assessed.provenance.not_used.len(),
        "assessed a QuestionnaireResponse"
    );
    Ok(json(&bundle, FHIR_JSON))
}

fn read_parameters(parameters: &Parameters) -> Result<Inputs, HttpError> {
    if parameters.resource_type.as_deref() != Some("Parameters") {
        return Err(HttpError::invalid("resourceType", "must be Parameters"));
    }
    let mut inputs = Inputs::default();
    for (i, parameter) in parameters.parameter.iter().enumerate() {
        let path = format!("parameter[{i}].resource");
        let Some(resource) = parameter.resource.as_ref() else {
            return Err(HttpError::invalid(
                path,
                "is required: every parameter carries a resource",
            ));
        };
        let kind = resource.get("resourceType").and_then(Value::as_str);
        match (parameter.name.as_deref(), kind) {
            (Some("questionnaireResponse"), Some("QuestionnaireResponse")) => {
                if inputs.response.is_some() {
                    return Err(HttpError::invalid(
                        format!("parameter[{i}]"),
                        "is a second questionnaireResponse; exactly one is read",
                    ));
                }
                inputs.response = Some(from_value(resource, &path)?);
            }
            (Some("medication"), Some("MedicationRequest" | "MedicationStatement")) => {
                inputs
                    .chart
                    .medications
                    .push(from_value::<MedicationUse>(resource, &path)?);
            }
            (Some("medication"), Some("Medication")) => {
                inputs
                    .chart
                    .medication_resources
                    .push(from_value::<Medication>(resource, &path)?);
            }
            (Some("condition"), Some("Condition")) => {
                inputs
                    .chart
                    .conditions
                    .push(from_value::<Condition>(resource, &path)?);
            }
            (Some("observation"), Some("Observation")) => {
                inputs
                    .chart
                    .observations
                    .push(from_value::<Observation>(resource, &path)?);
            }
            (Some("patient"), Some("Patient")) => {
                inputs.chart.patient = Some(from_value::<Patient>(resource, &path)?);
            }
            (
                Some(
                    "questionnaireResponse"
                    | "medication"
                    | "condition"
                    | "observation"
                    | "patient",
                ),
                _,
            ) => {
                return Err(HttpError::invalid(
                    format!("{path}.resourceType"),
                    "is not a resource type this parameter takes",
                ));
            }
            _ => {
                return Err(HttpError::invalid(
                    format!("parameter[{i}].name"),
                    "must be questionnaireResponse, medication, condition, observation or patient",
                ));
            }
        }
    }
    Ok(inputs)
}

/// `GET /fhir/Questionnaire/cramp-intake`: the intake Questionnaire, canonical under this
/// deployment's base URL.
pub async fn questionnaire(state: State) -> Response {
    json(
        &questionnaire::questionnaire(&state.settings.base_url),
        FHIR_JSON,
    )
}

/// `GET /fhir/CodeSystem/cramp-intake`: the intake's answer codes, at the URL every answer's
/// `valueCoding.system` names.
pub async fn code_system(state: State) -> Response {
    json(&published::code_system(&state.settings.base_url), FHIR_JSON)
}

/// `GET /fhir/OperationDefinition/cramp-assess`: the operation's definition, at the URL the
/// CapabilityStatement names.
pub async fn operation_definition(state: State) -> Response {
    json(
        &published::operation_definition(&state.settings.base_url),
        FHIR_JSON,
    )
}

/// `CapabilityStatement` (written, minimal).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CapabilityStatement {
    resource_type: &'static str,
    status: &'static str,
    date: String,
    publisher: &'static str,
    kind: &'static str,
    software: Software,
    implementation: Implementation,
    fhir_version: &'static str,
    format: [&'static str; 1],
    rest: [Rest; 1],
}

#[derive(Serialize)]
struct Software {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Implementation {
    description: &'static str,
    url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rest {
    mode: &'static str,
    resource: [RestResource; 1],
    operation: [RestOperation; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RestResource {
    #[serde(rename = "type")]
    kind: &'static str,
    interaction: [Interaction; 1],
}

#[derive(Serialize)]
struct Interaction {
    code: &'static str,
}

#[derive(Serialize)]
struct RestOperation {
    name: &'static str,
    definition: String,
    documentation: &'static str,
}

/// `GET /fhir/metadata`: what this FHIR endpoint supports.
pub async fn metadata(state: State) -> Response {
    let statement = CapabilityStatement {
        resource_type: "CapabilityStatement",
        status: "active",
        date: state.clock.now().format(&Rfc3339).unwrap_or_default(),
        publisher: "cramp-cds",
        kind: "instance",
        software: Software {
            name: "cramp-cds",
            version: env!("CARGO_PKG_VERSION"),
        },
        implementation: Implementation {
            description: "cramp-cds leg-cramp decision support: the intake Questionnaire and the $cramp-assess operation",
            url: state.url("/fhir"),
        },
        fhir_version: FHIR_VERSION,
        format: ["json"],
        rest: [Rest {
            mode: "server",
            resource: [RestResource {
                kind: "Questionnaire",
                interaction: [Interaction { code: "read" }],
            }],
            operation: [RestOperation {
                name: "cramp-assess",
                definition: state.url(&format!("/fhir{}", published::OPERATION_DEFINITION_PATH)),
                documentation: "POST Parameters (questionnaireResponse; optional medication, condition, observation, patient resources); returns a collection Bundle with a RiskAssessment, draft/proposal ServiceRequests and DetectedIssues.",
            }],
        }],
    };
    json(&statement, FHIR_JSON)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    /// The committed Questionnaire is exactly what the table generates for the default base URL
    /// (the default lives in the service's settings, so the check lives here, not in the mapping).
    #[test]
    fn the_committed_questionnaire_is_the_generated_one() {
        let settings = Settings::load(None, Some(std::collections::HashMap::new())).unwrap();
        let generated =
            serde_json::to_string_pretty(&questionnaire::questionnaire(&settings.http.base_url))
                .unwrap()
                + "\n";
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(questionnaire::COMMITTED_PATH);
        if std::env::var_os("UPDATE_FHIR").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `UPDATE_FHIR=1 cargo test -p cramp-cds committed_questionnaire`",
            questionnaire::COMMITTED_PATH
        );
    }
}
