//! Turns a proto3-JSON history (a vignette's request) into what an EHR would hold: a
//! QuestionnaireResponse to the published Questionnaire, and for CDS Hooks a prefetch where the
//! age is a birth date, coded conditions are Conditions, labs are LOINC Observations and current
//! medicines are MedicationRequests. Built from the library's linkId table, so a table change
//! reaches these tests.

use cramp_cds::fhir::{
    chart::{ICD10CM, LABS, LOINC, SNOMED, UCUM},
    link_ids::{self, Answer},
};
use serde_json::{Map, Value, json};
use time::{Date, Duration, Month, OffsetDateTime};

use crate::helpers::BASE_URL;

/// The fixed request time of these tests: ages from birth dates are computed against it.
pub(crate) fn now() -> OffsetDateTime {
    Date::from_calendar_date(2026, Month::June, 15)
        .unwrap()
        .with_hms(12, 0, 0)
        .unwrap()
        .assume_utc()
}

/// The canonical the test app serves.
pub(crate) fn canonical() -> String {
    format!("{BASE_URL}/fhir/Questionnaire/cramp-intake|1.1.0")
}

/// The canonical of the clinician's companion the test app serves.
pub(crate) fn clinician_canonical() -> String {
    format!("{BASE_URL}/fhir/Questionnaire/cramp-intake-clinician|1.1.0")
}

/// Splits a response built by [`questionnaire_response`] as the two Questionnaires ask it: the
/// patient's items stay, the examination and labs (`findings`) move to a response to the
/// clinician's companion (`{id}-clinician`), if there are any.
pub(crate) fn split_clinician(response: &Value) -> (Value, Option<Value>) {
    let mut patient = response.clone();
    let items = patient["item"].as_array_mut().unwrap();
    let (findings, rest): (Vec<Value>, Vec<Value>) = items.drain(..).partition(|item| {
        item["linkId"]
            .as_str()
            .is_some_and(|id| id == "findings" || id.starts_with("findings."))
    });
    *items = rest;
    if findings.is_empty() {
        return (patient, None);
    }
    let mut clinician = response.clone();
    clinician["id"] = json!(format!("{}-clinician", response["id"].as_str().unwrap()));
    clinician["questionnaire"] = json!(clinician_canonical());
    clinician["item"] = json!(findings);
    (patient, Some(clinician))
}

fn answers(link_id: &str, value: &Value) -> Vec<Value> {
    let item = link_ids::item(link_id).unwrap_or_else(|| panic!("{link_id} not in the table"));
    let coding = |code: &Value| json!({"valueCoding": {"system": format!("{BASE_URL}/fhir/CodeSystem/cramp-intake"), "code": code}});
    match item.answer {
        Answer::Boolean => vec![json!({"valueBoolean": value})],
        Answer::Integer => vec![json!({"valueInteger": value})],
        Answer::Decimal => vec![json!({"valueDecimal": value})],
        Answer::String => vec![json!({"valueString": value})],
        Answer::Choice(_) => vec![coding(value)],
        Answer::MultiChoice(_) => value.as_array().unwrap().iter().map(coding).collect(),
    }
}

/// Items for one message at `prefix`, nested in a group item or flat.
fn items(prefix: &str, message: &Map<String, Value>, nested: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for (field, value) in message {
        let link_id = format!("{prefix}.{field}");
        if let Value::Object(inner) = value {
            out.extend(items(&link_id, inner, nested));
        } else {
            out.push(json!({"linkId": link_id, "answer": answers(&link_id, value)}));
        }
    }
    if nested && !out.is_empty() {
        vec![json!({"linkId": prefix, "item": out})]
    } else {
        out
    }
}

/// A QuestionnaireResponse holding `history`; `nested` puts items inside their groups.
pub(crate) fn questionnaire_response(history: &Value, id: &str, nested: bool) -> Value {
    let mut all = Vec::new();
    for (group, value) in history.as_object().unwrap() {
        match (group.as_str(), value) {
            ("medications", Value::Array(medications)) => {
                for medication in medications {
                    all.push(json!({
                        "linkId": "medications",
                        "item": items("medications", medication.as_object().unwrap(), false),
                    }));
                }
            }
            (_, Value::Object(message)) => all.extend(items(group, message, nested)),
            _ => panic!("unexpected {group}"),
        }
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "id": id,
        "questionnaire": canonical(),
        "status": "completed",
        "subject": {"reference": "Patient/pat-1"},
        "authored": "2026-06-14T09:30:00Z",
        "item": all,
    })
}

/// UCUM unit of each lab field, in the field's own unit.
fn unit(field: &str) -> &'static str {
    match field {
        "potassium_mmol_l" | "sodium_mmol_l" => "mmol/L",
        "magnesium_mg_dl" | "calcium_mg_dl" | "phosphate_mg_dl" => "mg/dL",
        "egfr_ml_min_1_73m2" => "mL/min/{1.73_m2}",
        "hba1c_percent" => "%",
        "ck_u_l" => "U/L",
        "tsh_miu_l" => "m[IU]/L",
        "vitamin_d_ng_ml" => "ng/mL",
        "vitamin_b12_pg_ml" => "pg/mL",
        _ => panic!("no unit for {field}"),
    }
}

/// The verified code a condition answer moves to, if any.
fn condition_code(
    field: &str,
    value: &Value,
    stage: Option<&str>,
) -> Option<(&'static str, &'static str)> {
    match (field, value.as_str(), value.as_bool()) {
        ("known_peripheral_artery_disease", _, Some(true)) => Some((ICD10CM, "I73.9")),
        ("prior_dvt_or_pe", _, Some(true)) => Some((SNOMED, "128053003")),
        ("spinal_stenosis_or_disc_disease", _, Some(true)) => Some((ICD10CM, "M48.062")),
        ("thyroid", Some("THYROID_HYPO"), _) => Some((ICD10CM, "E03.9")),
        ("diabetes", Some("DIABETES_TYPE_2"), _) => Some((ICD10CM, "E11.42")),
        ("chronic_kidney_disease", _, Some(true)) => match stage {
            None => Some((SNOMED, "709044004")),
            Some("CKD_STAGE_G1") => Some((ICD10CM, "N18.1")),
            Some("CKD_STAGE_G2") => Some((ICD10CM, "N18.2")),
            Some("CKD_STAGE_G4") => Some((ICD10CM, "N18.4")),
            Some("CKD_STAGE_G5") => Some((ICD10CM, "N18.5")),
            Some(_) => None,
        },
        _ => None,
    }
}

fn searchset(resources: Vec<Value>) -> Value {
    if resources.is_empty() {
        return Value::Null;
    }
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": resources.into_iter().map(|r| json!({"resource": r})).collect::<Vec<_>>(),
    })
}

/// Splits `history` into chart resources and the QuestionnaireResponse that keeps the rest, and
/// returns the CDS Hooks prefetch for patient `pat-1`.
pub(crate) fn prefetch(history: &Value, nested: bool) -> Value {
    let mut rest = history.as_object().unwrap().clone();
    let today = now().date();
    let mut patient = json!({"resourceType": "Patient", "id": "pat-1", "gender": "unknown"});
    if let Some(age) = rest
        .get_mut("patient")
        .and_then(Value::as_object_mut)
        .and_then(|p| p.remove("age_years"))
    {
        let year = today.year() - i32::try_from(age.as_i64().unwrap()).unwrap();
        patient["birthDate"] = json!(format!("{year}-01-01"));
    }

    let mut conditions = Vec::new();
    if let Some(Value::Object(c)) = rest.get_mut("conditions") {
        let stage = c
            .get("ckd_stage")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let fields: Vec<String> = c.keys().cloned().collect();
        for field in fields {
            let Some((system, code)) = condition_code(&field, &c[&field], stage.as_deref()) else {
                continue;
            };
            c.remove(&field);
            if field == "chronic_kidney_disease" && stage.is_some() {
                c.remove("ckd_stage");
            }
            conditions.push(json!({
                "resourceType": "Condition",
                "id": format!("cond-{}", conditions.len() + 1),
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                "code": {"coding": [{"system": system, "code": code}]},
                "subject": {"reference": "Patient/pat-1"},
            }));
        }
    }

    let mut observations = Vec::new();
    if let Some(Value::Object(labs)) = rest
        .get_mut("findings")
        .and_then(Value::as_object_mut)
        .and_then(|f| f.remove("labs"))
        .as_mut()
        .map(|l| l.take())
    {
        for (field, value) in labs {
            let lab = LABS.iter().find(|l| l.field == field).unwrap();
            let (code, display) = lab.codes[0];
            observations.push(json!({
                "resourceType": "Observation",
                "id": format!("obs-{}", observations.len() + 1),
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": {"reference": "Patient/pat-1"},
                "valueQuantity": {"value": value, "unit": unit(&field), "system": UCUM, "code": unit(&field)},
            }));
        }
    }
    if rest
        .get("findings")
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        rest.remove("findings");
    }

    let mut medication_requests = Vec::new();
    if let Some(Value::Array(medications)) = rest.get_mut("medications") {
        let (stay, go): (Vec<Value>, Vec<Value>) = medications
            .drain(..)
            .partition(|m| m.get("recently_stopped").is_some());
        for medication in go {
            let mut request = json!({
                "resourceType": "MedicationRequest",
                "id": format!("medreq-{}", medication_requests.len() + 1),
                "status": "active",
                "intent": "order",
                "subject": {"reference": "Patient/pat-1"},
                "medicationCodeableConcept": {"text": medication["name"]},
            });
            if let Some(weeks) = medication
                .get("weeks_since_started")
                .and_then(Value::as_i64)
            {
                let started = today - Duration::weeks(weeks);
                request["authoredOn"] = json!(started.to_string());
            }
            medication_requests.push(request);
        }
        *medications = stay;
    }
    if rest
        .get("medications")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        rest.remove("medications");
    }

    let response = questionnaire_response(&Value::Object(rest), "qr-1", nested);
    let (response, clinician) = split_clinician(&response);
    let mut prefetch = json!({
        "patient": patient,
        "intake": searchset(vec![response]),
        "conditions": searchset(conditions),
        "medications": searchset(medication_requests),
        "labs": searchset(observations),
    });
    if let Some(clinician) = clinician {
        prefetch["clinician"] = searchset(vec![clinician]);
    }
    prefetch
}

/// A CDS Hooks request for `hook` with `prefetch`.
pub(crate) fn hook_request(hook: &str, prefetch: &Value) -> Value {
    json!({
        "hook": hook,
        "hookInstance": uuid::Uuid::new_v4().to_string(),
        "context": {"userId": "Practitioner/prac-1", "patientId": "pat-1", "encounterId": "enc-1"},
        "prefetch": prefetch,
    })
}

/// `Parameters` for `$cramp-assess` with `response` and extra named resources. A response to
/// the patient's Questionnaire that answers examination or lab items is sent as two, one to each
/// Questionnaire (see [`split_clinician`]).
pub(crate) fn parameters(response: &Value, extra: &[(&str, Value)]) -> Value {
    let (patient, clinician) = if response["questionnaire"] == json!(canonical()) {
        split_clinician(response)
    } else {
        (response.clone(), None)
    };
    let mut parameter = vec![json!({"name": "questionnaireResponse", "resource": patient})];
    parameter.extend(clinician.map(|r| json!({"name": "questionnaireResponse", "resource": r})));
    parameter.extend(
        extra
            .iter()
            .map(|(name, r)| json!({"name": name, "resource": r})),
    );
    json!({"resourceType": "Parameters", "parameter": parameter})
}
