//! The FHIR HTTP handlers: `POST /fhir/$cramp-assess`, `GET /fhir/metadata` and the published
//! conformance resources (the two intake Questionnaires, their CodeSystem, the
//! OperationDefinition).
//!
//! `$cramp-assess` takes `Parameters` (one or two `questionnaireResponse`s: the patient's intake,
//! the clinician's companion, or both; optionally `medication`, `condition`, `observation` and
//! `patient` resources) or a bare QuestionnaireResponse, and answers with a `collection` Bundle.
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
    link_ids::Form,
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
    /// The `questionnaireResponse` parameters (at most two), each with the path of its resource
    /// (`parameter[0].resource`; empty for a bare body), which errors about it are named under.
    pub responses: Vec<(String, QuestionnaireResponse)>,
    /// The chart resources passed beside it.
    pub chart: Chart,
}

impl std::fmt::Debug for Inputs {
    // Resources carry patient data: show what was passed, not what it says.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("responses", &self.responses.len())
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
            responses: vec![(String::new(), from_json(body)?)],
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
    if inputs.responses.is_empty() {
        return Err(HttpError::invalid(
            "parameter",
            "is required: a `questionnaireResponse` parameter (the patient's intake, the clinician's companion, or one of each)",
        ));
    }
    let now = state.clock.now();
    // The patient's response names the request and the patient when there is one.
    let (_, first) = inputs
        .responses
        .iter()
        .find(|(_, r)| {
            r.questionnaire.as_deref().is_some_and(|c| {
                questionnaire_response::form_at(c, &state.settings.base_url) == Some(Form::Patient)
            })
        })
        .or_else(|| inputs.responses.first())
        .ok_or_else(|| HttpError::invalid("parameter", "is required"))?;
    let request_id = first.id.clone().unwrap_or_default();
    let patient_id = first
        .subject
        .as_ref()
        .and_then(|s| s.reference.as_deref())
        .and_then(|r| r.strip_prefix("Patient/"))
        .map(str::to_owned);
    let call = Call::new(Door::FhirOperation, &caller).about(&request_id, patient_id.as_deref());
    // The strict canonical check needs the deployment's base URL, which only the door knows; a
    // refusal goes through the assessor like any other, so it is audited.
    let base_url = &state.settings.base_url;
    let foreign: Vec<cramp_core::FieldViolation> = inputs
        .responses
        .iter()
        .filter(|(_, r)| {
            r.questionnaire
                .as_deref()
                .and_then(|c| questionnaire_response::form_at(c, base_url))
                .is_none()
        })
        .map(|(path, _)| {
            let field = if path.is_empty() {
                "questionnaire".to_owned()
            } else {
                format!("{path}.questionnaire")
            };
            cramp_core::FieldViolation::new(
                field,
                format!(
                    "must be one of this service's intake Questionnaires with its version: {}|{v} (the patient's) or {}|{v} (the clinician's)",
                    questionnaire::canonical_of(Form::Patient, base_url),
                    questionnaire::canonical_of(Form::Clinician, base_url),
                    v = crate::fhir::QUESTIONNAIRE_VERSION
                ),
            )
        })
        .collect();
    let read = if foreign.is_empty() {
        let responses: Vec<&QuestionnaireResponse> =
            inputs.responses.iter().map(|(_, r)| r).collect();
        intake::read(
            &responses,
            &inputs.chart,
            &state.value_sets,
            &[],
            now.date(),
        )
        .map(|intake| {
            let request = intake.request();
            (intake, request)
        })
    } else {
        Err(foreign)
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
                if inputs.responses.len() >= Form::ALL.len() {
                    return Err(HttpError::invalid(
                        format!("parameter[{i}]"),
                        "is a third questionnaireResponse; at most two are read (the patient's intake and the clinician's companion)",
                    ));
                }
                let response = from_value(resource, &path)?;
                inputs.responses.push((path, response));
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

/// `GET /fhir/Questionnaire/cramp-intake`: the patient's intake Questionnaire, canonical under
/// this deployment's base URL.
pub async fn questionnaire(state: State) -> Response {
    json(
        &questionnaire::questionnaire(&state.settings.base_url),
        FHIR_JSON,
    )
}

/// `GET /fhir/Questionnaire/cramp-intake-clinician`: the clinician's companion (examination and
/// labs), canonical under this deployment's base URL.
pub async fn clinician_questionnaire(state: State) -> Response {
    json(
        &questionnaire::questionnaire_of(Form::Clinician, &state.settings.base_url),
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
                documentation: "POST Parameters (one or two questionnaireResponse: the patient's cramp-intake, the clinician's cramp-intake-clinician, or both; optional medication, condition, observation, patient resources) or a bare QuestionnaireResponse; returns a collection Bundle with a RiskAssessment, draft/proposal ServiceRequests and DetectedIssues.",
            }],
        }],
    };
    json(&statement, FHIR_JSON)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    /// The committed Questionnaires are exactly what the table generates for the default base
    /// URL (the default lives in the service's settings, so the check lives here, not in the
    /// mapping).
    #[test]
    fn the_committed_questionnaire_is_the_generated_one() {
        let settings = Settings::load(None, Some(std::collections::HashMap::new())).unwrap();
        assert_eq!(
            questionnaire::COMMITTED_PATH,
            questionnaire::committed_path(Form::Patient)
        );
        for form in Form::ALL {
            let generated = serde_json::to_string_pretty(&questionnaire::questionnaire_of(
                form,
                &settings.http.base_url,
            ))
            .unwrap()
                + "\n";
            let relative = questionnaire::committed_path(form);
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&relative);
            if std::env::var_os("UPDATE_FHIR").is_some() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &generated).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == generated,
                "{relative} is stale: run `UPDATE_FHIR=1 cargo test -p cramp-cds committed_questionnaire`",
            );
        }
    }
}
