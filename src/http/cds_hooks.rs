//! The CDS Hooks 2.0.1 door: discovery, service calls and feedback.
//!
//! A call's prefetch (Patient, the latest completed intake QuestionnaireResponse, active
//! Conditions, medications, recent labs) is read into a history by [`crate::fhir::intake`] and
//! assessed on the one path every door uses; the assessment becomes cards ([`cards`]). A prefetch
//! key the client left out, sent as `null` or as an `OperationOutcome` is fetched from the call's
//! `fhirServer` with its `fhirAuthorization` token, by the discovery's own query
//! ([`super::fhir_server`]); without `fhirServer`, or when the server cannot give it in time, a
//! required key missing is 412, which the spec requires when data cannot be had. Logs carry the
//! service id, `hookInstance`, card counts and outcome codes; never prefetch content, tokens or
//! comments.

use axum::{body::Bytes, extract::Path, response::Response};
use cramp_core::FieldViolation;
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};

use super::{JSON, State, fhir_server::Query, json};
use crate::{
    assess::Call,
    audit::Door,
    caller::Caller,
    cds_hooks::{
        cards,
        model::{CardsResponse, Discovery, FeedbackRequest, HookRequest},
        services::{self, Hook, REQUIRED_PREFETCH, ServiceDef},
    },
    fhir::{
        self, JsonError,
        chart::{self, Chart, Provenance},
        from_value, intake,
        link_ids::Form,
        model::{
            Condition, Medication, MedicationUse, Observation, Patient, QuestionnaireResponse,
        },
        questionnaire_response::answers_our_questionnaire_at,
        valuesets::ValueSets,
    },
    status::HttpError,
};

/// `GET /cds-services`.
pub async fn discovery(state: State) -> Response {
    let discovery = Discovery {
        services: services::SERVICES
            .iter()
            .map(|s| services::describe(s, &state.settings.base_url))
            .collect(),
    };
    json(&discovery, JSON)
}

/// `POST /cds-services/{id}`.
///
/// # Errors
/// 404 for an unknown service; 400 naming every bad element; 412 naming the missing prefetch.
#[tracing::instrument(name = "cds_service", skip_all, fields(service = tracing::field::Empty, hook_instance = tracing::field::Empty))]
pub async fn call(
    state: State,
    Path(id): Path<String>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, HttpError> {
    let service = services::find(&id).ok_or(HttpError::NotFound)?;
    tracing::Span::current().record("service", service.id);
    let mut request = read_request(service, &body, state.settings.production)?;
    tracing::Span::current().record(
        "hook_instance",
        crate::request_id::loggable_id(&request.checked.hook_instance).as_ref(),
    );

    // What the prefetch left out (absent, null or an OperationOutcome) is fetched from the
    // client's fhirServer, with its bearer token, under the latency budget.
    fetch_what_prefetch_left_out(
        &state,
        &request.request,
        service,
        &request.checked.patient_id,
        &mut request.prefetch,
    )
    .await;
    let checked = &request.checked;
    let call =
        Call::new(Door::CdsHooks, &caller).about(&checked.hook_instance, Some(&checked.patient_id));
    let foreign = foreign_resources(&request.prefetch, &checked.patient_id);
    if !foreign.is_empty() {
        // No card from another patient's chart: refused, and audited as a refusal.
        tracing::warn!(
            resources = foreign.len(),
            "prefetch holds resources of another patient"
        );
        let _refused = state
            .assessor
            .assess_translated::<()>(&call, Err(foreign.clone()), 0);
        return Err(HttpError::Invalid(foreign));
    }
    let (translated, selected, orders) = match request.read_intake(
        service,
        state.clock.now().date(),
        &state.settings.base_url,
        &state.value_sets,
    )? {
        HookIntake::NoIntake => {
            tracing::info!(cards = 0, "no completed intake questionnaire");
            return Ok(json(&CardsResponse { cards: Vec::new() }, JSON));
        }
        HookIntake::NoMedicationSelected => {
            tracing::info!(cards = 0, "no medication selected");
            return Ok(json(&CardsResponse { cards: Vec::new() }, JSON));
        }
        HookIntake::Read {
            translated,
            selected,
            orders,
        } => (translated, selected, orders),
    };
    let (intake, assessed) = state
        .assessor
        .assess_translated(&call, translated, 0)
        .map_err(|err| {
            HttpError::Invalid(
                err.violations()
                    .iter()
                    .map(|v| {
                        FieldViolation::new(
                            format!("prefetch.intake#linkId={}", v.field),
                            v.description.clone(),
                        )
                    })
                    .collect(),
            )
        })?;
    let assessed = intake.assessed(assessed.into_core());
    let uuid = || uuid::Uuid::new_v4().to_string();
    let context = cards::CardContext {
        base_url: &state.settings.base_url,
        patient_id: &checked.patient_id,
        uuid: &uuid,
    };
    let cards = if service.hook == Hook::OrderSelect {
        cards::medication_card(&assessed, &context, &selected)
            .or_else(|| cards::unresolved_order_card(&assessed, &context, &orders))
            .into_iter()
            .collect()
    } else {
        cards::cards(&assessed, &context)
    };
    tracing::info!(
        cards = cards.len(),
        card_uuids = %cards.iter().map(|c| c.uuid.as_str()).collect::<Vec<_>>().join(","),
        not_used = assessed.provenance.not_used.len(),
        "cards returned"
    );
    Ok(json(&CardsResponse { cards }, JSON))
}

/// A hook request read and checked, before its prefetch is: public, with
/// [`HookRequestRead::read_intake`], so that the `cds_hooks_request` fuzz target drives the
/// very decoding a caller reaches.
pub struct HookRequestRead {
    checked: Checked,
    /// The request without its prefetch (the `fhirServer` and its authorization, for the
    /// fallback).
    request: HookRequest,
    prefetch: Map<String, Value>,
}

impl std::fmt::Debug for HookRequestRead {
    // The prefetch is patient data: name the parts, not their content.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookRequestRead")
            .field("prefetch_keys", &self.prefetch.len())
            .finish_non_exhaustive()
    }
}

/// What a hook call's prefetch gives to assess.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per hook call, moved once: boxing the common case gains nothing"
)]
pub enum HookIntake {
    /// No completed intake questionnaire in the prefetch: no cards.
    NoIntake,
    /// An order-select call whose selections name no medication: no cards.
    NoMedicationSelected,
    /// The intake read (or the violations, by linkId, that stop it), and the names of the
    /// selected drugs (order-select only).
    Read {
        /// The intake and its request, or why it cannot be read.
        translated: Result<(intake::Intake, crate::pb::AssessRequest), Vec<FieldViolation>>,
        /// The selected medications' names.
        selected: Vec<String>,
        /// The selected orders' pointers (`MedicationRequest/{id}`).
        orders: Vec<String>,
    },
}

/// Reads a CDS Hooks service call's body and checks its required elements.
///
/// # Errors
/// 400 naming every bad element.
pub fn read_request(
    service: &ServiceDef,
    body: &[u8],
    production: bool,
) -> Result<HookRequestRead, HttpError> {
    let mut request: HookRequest = fhir::from_json(body)?;
    let checked = check(&request, service, production)?;
    let prefetch = request.prefetch.take().unwrap_or_default();
    Ok(HookRequestRead {
        checked,
        request,
        prefetch,
    })
}

impl HookRequestRead {
    /// Reads the prefetch into the intake to assess (and, for order-select, the selected
    /// drugs), as of `today`.
    ///
    /// # Errors
    /// 412 naming a missing prefetch key; 400 naming the element at fault.
    pub fn read_intake(
        &self,
        service: &ServiceDef,
        today: Date,
        base_url: &str,
        sets: &ValueSets,
    ) -> Result<HookIntake, HttpError> {
        let missing: Vec<String> = REQUIRED_PREFETCH
            .iter()
            .filter(|key| self.prefetch.get(**key).is_none_or(is_operation_outcome))
            .map(|key| (*key).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(HttpError::PrefetchMissing(missing));
        }
        let read = read_prefetch(&self.prefetch)?;
        let Some(response) = latest_intake(&read.responses, base_url, Form::Patient) else {
            return Ok(HookIntake::NoIntake);
        };
        // The clinician's examination and labs, when the EHR holds a response to that form.
        let mut responses = vec![response];
        responses.extend(latest_intake(&read.responses, base_url, Form::Clinician));
        let mut selected = Vec::new();
        if service.hook == Hook::OrderSelect {
            let mut provenance = Provenance::default();
            for order in selected_orders(&self.checked.context)? {
                if let Some(medication) =
                    chart::medication(&order, &read.chart, sets, today, &mut provenance)
                {
                    let pointer = format!(
                        "MedicationRequest/{}",
                        order.id.as_deref().unwrap_or_default()
                    );
                    selected.push((medication, pointer));
                }
            }
            if selected.is_empty() {
                return Ok(HookIntake::NoMedicationSelected);
            }
        }
        let translated =
            intake::read(&responses, &read.chart, sets, &selected, today).map(|intake| {
                let request = intake.request();
                (intake, request)
            });
        Ok(HookIntake::Read {
            translated,
            orders: selected.iter().map(|(_, p)| p.clone()).collect(),
            selected: selected.into_iter().map(|(m, _)| m.name).collect(),
        })
    }
}

/// The parts of a request the service uses, checked.
struct Checked {
    hook_instance: String,
    patient_id: String,
    context: Map<String, Value>,
}

/// Every required element present, the hook right for the service, cds-r-1 and https rules.
fn check(
    request: &HookRequest,
    service: &ServiceDef,
    production: bool,
) -> Result<Checked, HttpError> {
    let mut violations = Vec::new();
    let mut require = |present: bool, field: &str| {
        if !present {
            violations.push(FieldViolation::new(field, "is required"));
        }
    };
    require(request.hook.is_some(), "hook");
    require(
        request
            .hook_instance
            .as_deref()
            .is_some_and(|h| !h.is_empty()),
        "hookInstance",
    );
    require(request.context.is_some(), "context");
    let patient_id = request
        .context
        .as_ref()
        .and_then(|c| c.get("patientId"))
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty());
    if request.context.is_some() {
        require(patient_id.is_some(), "context.patientId");
    }
    if let Some(hook) = request.hook.as_deref()
        && hook != service.hook.name()
    {
        violations.push(FieldViolation::new(
            "hook",
            format!(
                "does not match this service's hook ({})",
                service.hook.name()
            ),
        ));
    }
    match request.fhir_server.as_deref() {
        None if request.fhir_authorization.is_some() => violations.push(FieldViolation::new(
            "fhirServer",
            "is required when fhirAuthorization is present (cds-r-1)",
        )),
        Some(server) if production && !server.starts_with("https://") => violations.push(
            FieldViolation::new("fhirServer", "must be an https URL in production"),
        ),
        _ => {}
    }
    if !violations.is_empty() {
        return Err(HttpError::Invalid(violations));
    }
    Ok(Checked {
        hook_instance: request.hook_instance.clone().unwrap_or_default(),
        patient_id: patient_id.unwrap_or_default().to_owned(),
        context: request.context.clone().unwrap_or_default(),
    })
}

/// Runs the discovery's query on `fhirServer` for every prefetch key the client did not satisfy
/// (absent, `null`, or an `OperationOutcome`), all at once under one deadline, and puts each
/// answer in its place. A key that cannot be fetched stays as it was.
async fn fetch_what_prefetch_left_out(
    state: &State,
    request: &HookRequest,
    service: &ServiceDef,
    patient_id: &str,
    prefetch: &mut Map<String, Value>,
) {
    let Some(server) = request.fhir_server.as_deref() else {
        return;
    };
    // A FHIR id ([A-Za-z0-9.-]{1,64}) needs no escaping in a query; anything else is not put
    // into one.
    let valid_id = !patient_id.is_empty()
        && patient_id.len() <= 64
        && patient_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !valid_id {
        return;
    }
    let templates = services::describe(service, &state.settings.base_url).prefetch;
    let queries: Vec<Query> = templates
        .iter()
        .filter(|(key, _)| {
            prefetch
                .get(**key)
                .is_none_or(|v| v.is_null() || is_operation_outcome(v))
        })
        .map(|(key, template)| Query {
            key: (*key).to_owned(),
            relative: template.replace("{{context.patientId}}", patient_id),
        })
        .collect();
    if queries.is_empty() {
        return;
    }
    let token = request
        .fhir_authorization
        .as_ref()
        .and_then(|a| a.get("access_token"))
        .and_then(Value::as_str);
    for (key, answer) in state.fhir_server.fetch(server, token, queries).await {
        if let Ok(value) = answer {
            prefetch.insert(key, value);
        }
    }
}

/// Every prefetched resource that does not belong to `context.patientId`, named by path: a
/// Patient with another id, or a QuestionnaireResponse, Condition, Observation or medication whose
/// `subject` is not that patient or is missing (it cannot then be shown to be theirs). Values are
/// never echoed.
fn foreign_resources(prefetch: &Map<String, Value>, patient_id: &str) -> Vec<FieldViolation> {
    let ours = |reference: &str| {
        let reference = reference.split("/_history/").next().unwrap_or_default();
        let tail = format!("Patient/{patient_id}");
        reference == tail || reference.ends_with(&format!("/{tail}"))
    };
    let mut foreign = Vec::new();
    for (key, value) in prefetch {
        for (path, resource) in resources(key, value) {
            match resource.get("resourceType").and_then(Value::as_str) {
                Some("Patient")
                    if resource.get("id").and_then(Value::as_str) != Some(patient_id) =>
                {
                    foreign.push(FieldViolation::new(
                        format!("{path}.id"),
                        "is not context.patientId: another patient's record is not assessed",
                    ));
                }
                Some(
                    "QuestionnaireResponse"
                    | "Condition"
                    | "Observation"
                    | "MedicationRequest"
                    | "MedicationStatement",
                ) => {
                    let subject = resource
                        .get("subject")
                        .and_then(|s| s.get("reference"))
                        .and_then(Value::as_str);
                    if !subject.is_some_and(ours) {
                        foreign.push(FieldViolation::new(
                            format!("{path}.subject"),
                            "does not refer to context.patientId: another patient's (or no patient's) data is not assessed",
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    foreign
}

fn is_operation_outcome(value: &Value) -> bool {
    value.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome")
}

/// The prefetch, read into resources.
#[derive(Default)]
struct Prefetched {
    responses: Vec<QuestionnaireResponse>,
    chart: Chart,
}

/// The resources of one prefetch value: a Bundle's entries, a single resource, or nothing for
/// `null` and for an `OperationOutcome` (a failed fetch is treated as missing).
fn resources<'a>(key: &str, value: &'a Value) -> Vec<(String, &'a Value)> {
    if value.is_null() || is_operation_outcome(value) {
        return Vec::new();
    }
    if value.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
        return value
            .get("entry")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .enumerate()
                    .filter_map(|(i, e)| {
                        e.get("resource")
                            .map(|r| (format!("prefetch.{key}.entry[{i}].resource"), r))
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
    vec![(format!("prefetch.{key}"), value)]
}

fn read_prefetch(prefetch: &Map<String, Value>) -> Result<Prefetched, JsonError> {
    let mut read = Prefetched::default();
    for (key, value) in prefetch {
        for (path, resource) in resources(key, value) {
            match resource.get("resourceType").and_then(Value::as_str) {
                Some("QuestionnaireResponse") => read.responses.push(from_value(resource, &path)?),
                Some("Patient") => {
                    read.chart.patient = Some(from_value::<Patient>(resource, &path)?)
                }
                Some("Condition") => read
                    .chart
                    .conditions
                    .push(from_value::<Condition>(resource, &path)?),
                Some("Observation") => read
                    .chart
                    .observations
                    .push(from_value::<Observation>(resource, &path)?),
                Some("MedicationRequest" | "MedicationStatement") => {
                    read.chart
                        .medications
                        .push(from_value::<MedicationUse>(resource, &path)?);
                }
                Some("Medication") => read
                    .chart
                    .medication_resources
                    .push(from_value::<Medication>(resource, &path)?),
                // Other resources (an OperationOutcome entry, a Provenance) are not ours to read.
                _ => {}
            }
        }
    }
    Ok(read)
}

/// The most recently authored completed (or amended) response to our Questionnaire of `form`.
fn latest_intake<'a>(
    responses: &'a [QuestionnaireResponse],
    base_url: &str,
    form: Form,
) -> Option<&'a QuestionnaireResponse> {
    let authored = |r: &QuestionnaireResponse| {
        r.authored
            .as_deref()
            .and_then(|a| OffsetDateTime::parse(a, &Rfc3339).ok())
    };
    responses
        .iter()
        .filter(|r| matches!(r.status.as_deref(), Some("completed" | "amended")))
        .filter(|r| {
            r.questionnaire
                .as_deref()
                .is_some_and(|canonical| answers_our_questionnaire_at(canonical, base_url, form))
        })
        .max_by_key(|r| authored(r))
}

/// The MedicationRequests `context.selections` names in `context.draftOrders`.
fn selected_orders(context: &Map<String, Value>) -> Result<Vec<MedicationUse>, HttpError> {
    let selections: Vec<&str> = match context.get("selections") {
        None => {
            return Err(HttpError::invalid(
                "context.selections",
                "is required for order-select",
            ));
        }
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(_) => {
            return Err(HttpError::invalid(
                "context.selections",
                "must be an array of references",
            ));
        }
    };
    let Some(entries) = context
        .get("draftOrders")
        .and_then(|d| d.get("entry"))
        .and_then(Value::as_array)
    else {
        return Err(HttpError::invalid(
            "context.draftOrders",
            "is required for order-select: a Bundle of draft orders",
        ));
    };
    let mut orders = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(resource) = entry.get("resource") else {
            continue;
        };
        let kind = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let id = resource
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if kind == "MedicationRequest" && selections.contains(&format!("{kind}/{id}").as_str()) {
            orders.push(from_value(
                resource,
                &format!("context.draftOrders.entry[{i}].resource"),
            )?);
        }
    }
    Ok(orders)
}

/// `POST /cds-services/{id}/feedback`: validated and logged (uuids and outcome codes only),
/// idempotent, 200 with an empty body.
///
/// # Errors
/// 404 for an unknown service; 400 naming each entry that breaks cds-fb-1..3 or has a
/// timestamp that is not RFC 3339.
#[tracing::instrument(name = "cds_feedback", skip_all)]
pub async fn feedback(Path(id): Path<String>, body: Bytes) -> Result<Response, HttpError> {
    let service = services::find(&id).ok_or(HttpError::NotFound)?;
    let request: FeedbackRequest = fhir::from_json(&body)?;
    let Some(entries) = request.feedback.filter(|f| !f.is_empty()) else {
        return Err(HttpError::invalid(
            "feedback",
            "is required: at least one entry",
        ));
    };
    let mut violations = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = |field: &str| format!("feedback[{i}].{field}");
        if entry.card.as_deref().is_none_or(str::is_empty) {
            violations.push(FieldViolation::new(at("card"), "is required"));
        }
        match entry.outcome.as_deref() {
            Some("accepted") => {
                let accepted = entry.accepted_suggestions.as_deref().unwrap_or_default();
                if accepted.is_empty() {
                    violations.push(FieldViolation::new(
                        at("acceptedSuggestions"),
                        "is required when the outcome is accepted (cds-fb-2)",
                    ));
                }
                for (j, suggestion) in accepted.iter().enumerate() {
                    if suggestion.id.as_deref().is_none_or(str::is_empty) {
                        violations.push(FieldViolation::new(
                            format!("feedback[{i}].acceptedSuggestions[{j}].id"),
                            "is required",
                        ));
                    }
                }
            }
            Some("overridden") => {}
            _ => violations.push(FieldViolation::new(
                at("outcome"),
                "must be accepted or overridden (cds-fb-1)",
            )),
        }
        if let Some(reason) = &entry.override_reason
            && reason.reason.is_none()
            && reason.user_comment.as_deref().is_none_or(str::is_empty)
        {
            violations.push(FieldViolation::new(
                at("overrideReason"),
                "needs a reason or a userComment (cds-fb-3)",
            ));
        }
        match entry.outcome_timestamp.as_deref() {
            None => violations.push(FieldViolation::new(at("outcomeTimestamp"), "is required")),
            Some(stamp) if OffsetDateTime::parse(stamp, &Rfc3339).is_err() => violations.push(
                FieldViolation::new(at("outcomeTimestamp"), "must be an RFC 3339 date-time"),
            ),
            Some(_) => {}
        }
    }
    if !violations.is_empty() {
        return Err(HttpError::Invalid(violations));
    }
    for entry in &entries {
        // The card uuid and coded outcome only: the override comment is free text.
        tracing::info!(
            service = service.id,
            card = %crate::request_id::loggable_id(entry.card.as_deref().unwrap_or_default()),
            outcome = entry.outcome.as_deref().unwrap_or_default(),
            accepted = entry.accepted_suggestions.as_ref().map_or(0, Vec::len),
            override_reason = entry
                .override_reason
                .as_ref()
                .and_then(|r| r.reason.as_ref())
                .and_then(|c| c.code.as_deref())
                .map(|code| cards::OVERRIDE_CODES.iter().find(|c| **c == code).copied().unwrap_or("other"))
                .unwrap_or_default(),
            "card feedback"
        );
    }
    Ok(Response::default())
}
