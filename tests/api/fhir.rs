//! The FHIR door over real HTTP: the published Questionnaire, the CapabilityStatement, and
//! `$cramp-assess` (integration.md §6.5 "FHIR outputs" and the QuestionnaireResponse cases), plus
//! the gRPC `questionnaire_response_json` input.

use std::collections::BTreeSet;

use cramp_cds::{fhir::link_ids, pb};
use serde_json::{Value, json};

use crate::{
    fhir_convert::{
        canonical, clinician_canonical, now, parameters, questionnaire_response, split_clinician,
    },
    helpers::{BASE_URL, TestApp, repo_path, spawn_app_at, test_settings},
    http_support::{Answer, assert_hygiene, save_fhir},
};

const ASSESS: &str = "/fhir/$cramp-assess";

async fn app() -> TestApp {
    spawn_app_at(test_settings(), Some(now())).await
}

fn history() -> Value {
    json!({
        "patient": {"age_years": 68, "sex": "SEX_MALE"},
        "cramps": {"locations": ["LOCATION_CALF"], "contexts": ["CONTEXT_WALKING"],
            "worse_uphill_or_hurrying": true, "relief_on_standing_still": "RELIEF_WITHIN_10_MINUTES"},
        "conditions": {"smoking": "SMOKING_CURRENT"},
        "findings": {"labs": {"potassium_mmol_l": 3.2}}
    })
}

fn linked_ids(items: &[Value], out: &mut Vec<String>) {
    for item in items {
        out.push(item["linkId"].as_str().unwrap().to_owned());
        linked_ids(item["item"].as_array().map_or(&[][..], Vec::as_slice), out);
    }
}

#[tokio::test]
async fn the_questionnaire_is_published_with_one_item_per_intake_field() {
    let app = app().await;
    let answer = app.http().get("/fhir/Questionnaire/cramp-intake").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "application/fhir+json");
    assert_hygiene(&answer.body, "Questionnaire");
    save_fhir("questionnaire-served", &answer.body);
    let q = &answer.body;
    assert_eq!(
        q["url"],
        format!("{BASE_URL}/fhir/Questionnaire/cramp-intake")
    );
    assert_eq!(q["version"], "1.1.0");
    // Issue 13 item 6: the patient's form asks no examination or lab; the clinician's companion
    // does, and the two together ask every intake field exactly once.
    let companion = app
        .http()
        .get("/fhir/Questionnaire/cramp-intake-clinician")
        .await;
    assert_eq!(companion.status, 200);
    assert_eq!(companion.content_type(), "application/fhir+json");
    assert_hygiene(&companion.body, "Questionnaire");
    save_fhir("questionnaire-clinician-served", &companion.body);
    let c = &companion.body;
    assert_eq!(
        c["url"],
        format!("{BASE_URL}/fhir/Questionnaire/cramp-intake-clinician")
    );
    assert_eq!(c["version"], q["version"]);
    let mut ids = Vec::new();
    linked_ids(q["item"].as_array().unwrap(), &mut ids);
    assert!(ids.iter().all(|id| !id.starts_with("findings")), "{ids:?}");
    let mut clinician_ids = Vec::new();
    linked_ids(c["item"].as_array().unwrap(), &mut clinician_ids);
    assert!(clinician_ids.iter().all(|id| id.starts_with("findings")));
    assert!(
        clinician_ids
            .iter()
            .any(|id| id == "findings.labs.potassium_mmol_l")
    );
    let patient_items = ids.len();
    ids.extend(clinician_ids);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "linkIds are unique across both");
    for item in link_ids::items() {
        assert_eq!(
            ids.iter().filter(|id| *id == item.link_id).count(),
            1,
            "{}",
            item.link_id
        );
    }
    assert!(patient_items > 100, "{patient_items}");
    let medications = q["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["linkId"] == "medications")
        .unwrap();
    assert_eq!(medications["repeats"], true);
    let children: Vec<&str> = medications["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["linkId"].as_str().unwrap())
        .collect();
    assert_eq!(
        BTreeSet::from_iter(children),
        BTreeSet::from([
            "medications.name",
            "medications.weeks_since_started",
            "medications.rxnorm_cui",
            "medications.atc_code",
            "medications.recently_stopped"
        ])
    );
    let text = q.to_string();
    assert!(text.contains("\"enableWhen\""));
    assert!(text.contains("\"RELIEF_WITHIN_10_MINUTES\""));
    assert!(text.contains(&format!("{BASE_URL}/fhir/CodeSystem/cramp-intake")));

    // The committed copy is the same document for the default base URL; the validator reads it too.
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("fhir/Questionnaire-cramp-intake.json")).unwrap(),
    )
    .unwrap();
    save_fhir("questionnaire-committed", &committed);
    assert_eq!(
        committed["item"],
        q["item"]
            .to_string()
            .replace(BASE_URL, "http://127.0.0.1:8080")
            .parse::<Value>()
            .unwrap()
    );
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("fhir/Questionnaire-cramp-intake-clinician.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        committed["item"],
        c["item"]
            .to_string()
            .replace(BASE_URL, "http://127.0.0.1:8080")
            .parse::<Value>()
            .unwrap()
    );
    app.stop().await;
}

#[tokio::test]
async fn metadata_is_a_minimal_capability_statement() {
    let app = app().await;
    let answer = app.http().get("/fhir/metadata").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["resourceType"], "CapabilityStatement");
    assert_eq!(answer.body["fhirVersion"], "4.0.1");
    assert_eq!(
        answer.body["rest"][0]["operation"][0]["name"],
        "cramp-assess"
    );
    assert_hygiene(&answer.body, "CapabilityStatement");
    save_fhir("capability-statement", &answer.body);
    app.stop().await;
}

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

#[tokio::test]
async fn cramp_assess_returns_a_collection_bundle_that_explains_itself() {
    let app = app().await;
    let response = questionnaire_response(&history(), "qr-7", true);
    let extra = [
        (
            "patient",
            json!({"resourceType": "Patient", "id": "pat-1", "birthDate": "1958-02-03",
            "name": [{"family": "Zzqxfamily", "given": ["Zzqxgiven"]}]}),
        ),
        (
            "medication",
            json!({"resourceType": "MedicationStatement", "id": "ms-1", "status": "active",
            "subject": {"reference": "Patient/pat-1"},
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "5487", "display": "hydrochlorothiazide"}]},
            "effectiveDateTime": "2026-05-01"}),
        ),
        (
            "condition",
            json!({"resourceType": "Condition", "id": "c-1",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I73.9"}]},
            "subject": {"reference": "Patient/pat-1"}}),
        ),
        (
            "observation",
            json!({"resourceType": "Observation", "id": "o-1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "19123-9"}]},
            "valueQuantity": {"value": 0.6, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}),
        ),
    ];
    let answer = app
        .http()
        .post(ASSESS, &parameters(&response, &extra))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.content_type(), "application/fhir+json");
    let bundle = &answer.body;
    assert_hygiene(bundle, "Bundle");
    save_fhir("bundle", bundle);
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let allowed = ["RiskAssessment", "ServiceRequest", "DetectedIssue"];
    for entry in bundle["entry"].as_array().unwrap() {
        let full_url = entry["fullUrl"].as_str().unwrap();
        uuid::Uuid::parse_str(full_url.strip_prefix("urn:uuid:").unwrap()).unwrap();
        assert!(allowed.contains(&entry["resource"]["resourceType"].as_str().unwrap()));
    }
    assert!(
        !answer.text.contains("Zzqx") && !answer.text.contains("1958-02-03"),
        "no name or birth date"
    );

    let risk = resources(bundle, "RiskAssessment");
    assert_eq!(risk.len(), 1);
    let risk = risk[0];
    assert_eq!(risk["status"], "final");
    assert_eq!(risk["subject"]["reference"], "Patient/pat-1");
    assert_eq!(
        risk["method"]["coding"][0]["version"],
        cramp_core::kb::VERSION
    );
    let basis: Vec<&str> = risk["basis"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["reference"].as_str())
        .collect();
    for reference in [
        "QuestionnaireResponse/qr-7",
        "MedicationStatement/ms-1",
        "Condition/c-1",
        "Observation/o-1",
    ] {
        assert!(basis.contains(&reference), "{reference} not in {basis:?}");
    }
    for prediction in risk["prediction"].as_array().unwrap() {
        assert_eq!(
            prediction["qualitativeRisk"]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/risk-probability"
        );
        assert!(!prediction["rationale"].as_str().unwrap().is_empty());
    }
    let risk_url = bundle["entry"][0]["fullUrl"].as_str().unwrap();
    let requests = resources(bundle, "ServiceRequest");
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(request["status"], "draft");
        assert_eq!(request["intent"], "proposal");
        assert_eq!(request["reasonReference"][0]["reference"], risk_url);
        assert!(request["code"]["coding"][0]["code"].is_string());
    }
    let issues = resources(bundle, "DetectedIssue");
    assert!(
        issues
            .iter()
            .any(|i| i["implicated"][0]["reference"] == "MedicationStatement/ms-1"),
        "{issues:?}"
    );
    // The chart's magnesium (0.6 mmol/L = 1.46 mg/dL) was converted and read as low.
    assert!(answer.text.contains("low magnesium"), "{}", answer.text);
    app.stop().await;
}

async fn assess(app: &TestApp, response: &Value) -> Answer {
    app.http().post(ASSESS, &parameters(response, &[])).await
}

#[tokio::test]
async fn an_unknown_questionnaire_canonical_is_rejected() {
    let app = app().await;
    let mut response = questionnaire_response(&history(), "qr", false);
    response["questionnaire"] = json!("https://example.org/fhir/Questionnaire/phq-9");
    let answer = assess(&app, &response).await;
    assert_eq!(answer.status, 400);
    assert!(answer.text.contains("questionnaire"));
    save_fhir("operation-outcome", &answer.body);
    response["questionnaire"] = json!(format!("{BASE_URL}/fhir/Questionnaire/cramp-intake|2.0.0"));
    assert_eq!(assess(&app, &response).await.status, 400);
    // Issue 13 item 6: strict. Another host's look-alike, or no version, is not ours; this
    // deployment's canonical at a 1.x version is.
    for look_alike in [
        "https://elsewhere.example.com/fhir/Questionnaire/cramp-intake|1.1.0".to_owned(),
        "https://cds.example.org.evil.example/fhir/Questionnaire/cramp-intake|1.1.0".to_owned(),
        format!("{BASE_URL}/fhir/Questionnaire/cramp-intake"),
        format!("{BASE_URL}/fhir/Questionnaire/cramp-intake|1.x"),
    ] {
        response["questionnaire"] = json!(look_alike);
        let answer = assess(&app, &response).await;
        assert_eq!(answer.status, 400, "{look_alike}: {}", answer.text);
        assert!(answer.text.contains("questionnaire"), "{}", answer.text);
    }
    response["questionnaire"] = json!(format!("{BASE_URL}/fhir/Questionnaire/cramp-intake|1.0.0"));
    assert_eq!(assess(&app, &response).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn an_in_progress_response_gives_a_preliminary_assessment() {
    let app = app().await;
    let mut response = questionnaire_response(&history(), "qr", false);
    response["status"] = json!("in-progress");
    let answer = assess(&app, &response).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["entry"][0]["resource"]["status"], "preliminary");
    app.stop().await;
}

#[tokio::test]
async fn answers_nested_under_answers_are_read() {
    let app = app().await;
    let response = json!({
        "resourceType": "QuestionnaireResponse", "questionnaire": canonical(), "status": "completed",
        "item": [
            {"linkId": "patient.age_years", "answer": [{"valueInteger": 61,
                "item": [{"linkId": "symptoms.chest_pain", "answer": [{"valueBoolean": true}]}]}]}
        ]
    });
    let answer = assess(&app, &response).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let risk = &answer.body["entry"][0]["resource"];
    assert_eq!(
        risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"],
        "high"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unreadable_answer_is_unknown_and_named_by_link_id_only() {
    let app = app().await;
    // Clinical reference g.1 (which wins over the first edition's "wrong type → 400"): an answer
    // the service cannot read is unknown, never "no", and named; the rest is assessed.
    let response = json!({
        "resourceType": "QuestionnaireResponse", "id": "qr-u", "questionnaire": canonical(),
        "status": "completed",
        "item": [
            {"linkId": "patient.age_years", "answer": [{"valueInteger": 61}]},
            {"linkId": "symptoms.chest_pain", "answer": [{"valueBoolean": true}]},
            {"linkId": "cramps.severity", "answer": [{"valueString": "zzqx-severe"}]},
            {"linkId": "symptoms.fever", "answer": [{"valueCoding": {"code": "ZZQX_NO"}}]}
        ]
    });
    let answer = assess(&app, &response).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        !answer.text.contains("zzqx") && !answer.text.contains("ZZQX"),
        "{}",
        answer.text
    );
    save_fhir("bundle-unread", &answer.body);
    let risk = &answer.body["entry"][0]["resource"];
    let codes: Vec<&str> = risk["prediction"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["outcome"]["coding"][0]["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"FLAG_PE_SUSPECTED"),
        "the rest is assessed: {codes:?}"
    );
    let notes: Vec<&str> = risk["note"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["text"].as_str())
        .filter(|n| n.starts_with("Not read, treated as unknown: "))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("QuestionnaireResponse/qr-u#linkId=cramps.severity"));
    assert!(notes[0].contains("not a whole number"), "{}", notes[0]);
    assert!(notes[1].contains("linkId=symptoms.fever"));
    assert!(notes[1].contains("not a yes/no"), "{}", notes[1]);

    // A required answer that cannot be read is still the caller's error, named by linkId.
    let response = json!({
        "resourceType": "QuestionnaireResponse", "questionnaire": canonical(), "status": "completed",
        "item": [{"linkId": "patient.age_years", "answer": [{"valueString": "zzqx-sixty"}]}]
    });
    let answer = assess(&app, &response).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["issue"][0]["expression"],
        json!(["patient.age_years"])
    );
    assert!(!answer.text.contains("zzqx"), "{}", answer.text);
    // A value the core rejects is named by its linkId too.
    let response = questionnaire_response(&json!({"patient": {"age_years": 300}}), "qr", true);
    let answer = assess(&app, &response).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["issue"][0]["expression"],
        json!(["patient.age_years"])
    );
    app.stop().await;
}

#[tokio::test]
async fn the_neuromuscular_answers_are_read_from_a_questionnaire_response() {
    let app = app().await;
    let history = json!({
        "patient": {"age_years": 58, "sex": "SEX_MALE"},
        "cramps": {"locations": ["LOCATION_CALF"], "laterality": "LATERALITY_RIGHT", "weeks_since_onset": 20},
        "symptoms": {"muscle_weakness": true, "weakness_getting_worse": true, "muscle_twitching": true,
            "muscle_wasting": true, "speech_or_swallowing_difficulty": false}
    });
    let answer = assess(&app, &questionnaire_response(&history, "qr-nm", true)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // The same answers through gRPC: the FHIR door read every one of them.
    let request: pb::AssessRequest =
        serde_json::from_value(json!({"request_id": "nm", "history": history})).unwrap();
    let grpc = app
        .client()
        .await
        .assess(request)
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    let codes: BTreeSet<String> = answer.body["entry"][0]["resource"]["prediction"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p["outcome"]["coding"][0]["code"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    let expected: BTreeSet<String> = grpc
        .flags
        .iter()
        .chain(grpc.possible_flags.iter().filter_map(|p| p.flag.as_ref()))
        .map(|f| pb::Flag::try_from(f.flag).unwrap().as_str_name().to_owned())
        .collect();
    assert_eq!(codes, expected);
    // Clinical reference g.4: needs the neuromuscular rule (issue 11, core side).
    assert!(codes.contains("FLAG_NEUROMUSCULAR_WEAKNESS"), "{codes:?}");
    app.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_element() {
    let app = app().await;
    let http = app.http();
    let answer = http
        .post(
            ASSESS,
            &json!({"resourceType": "Parameters", "parameter": []}),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert!(answer.text.contains("questionnaireResponse"));
    let response = questionnaire_response(&history(), "qr", true);
    let answer = http
        .post(
            ASSESS,
            &parameters(
                &response,
                &[("allergy", json!({"resourceType": "AllergyIntolerance"}))],
            ),
        )
        .await;
    // The lab answer went into a second response (to the clinician's form), so the unknown
    // parameter is the third.
    assert_eq!(
        answer.body["issue"][0]["expression"],
        json!(["parameter[2].name"])
    );
    let answer = http.post_text(ASSESS, "{\"resourceType\": ").await;
    assert_eq!(answer.status, 400);
    let answer = http
        .post(
            ASSESS,
            &json!({"resourceType": "Parameters", "parameter": "x"}),
        )
        .await;
    assert_eq!(answer.body["issue"][0]["expression"], json!(["parameter"]));
    assert_eq!(http.get(ASSESS).await.status, 405);
    app.stop().await;
}

#[tokio::test]
async fn grpc_accepts_a_questionnaire_response_beside_history() {
    let app = app().await;
    // gRPC reads one response: with examination and labs that is a 1.0 one (one Questionnaire
    // then); a 1.1 patient response may not carry them.
    let mut response = questionnaire_response(&history(), "qr", true);
    let mixed = pb::AssessRequest {
        request_id: "qr-grpc".into(),
        input: Some(pb::assess_request::Input::QuestionnaireResponseJson(
            response.to_string(),
        )),
    };
    assert_eq!(
        crate::helpers::bad_fields(app.assess(mixed).await),
        ["questionnaire_response_json.findings"]
    );
    response["questionnaire"] = json!(format!("{BASE_URL}/fhir/Questionnaire/cramp-intake|1.0.0"));
    let request = pb::AssessRequest {
        request_id: "qr-grpc".into(),
        input: Some(pb::assess_request::Input::QuestionnaireResponseJson(
            response.to_string(),
        )),
    };
    let from_qr = app.assess(request).await.unwrap().assessment.unwrap();
    let from_history: pb::AssessRequest =
        serde_json::from_value(json!({"request_id": "h", "history": history()})).unwrap();
    let from_history = app.assess(from_history).await.unwrap().assessment.unwrap();
    assert_eq!(from_qr, from_history);

    let bad = json!({"resourceType": "QuestionnaireResponse", "questionnaire": canonical(), "status": "completed",
        "item": [{"linkId": "patient.age_years", "answer": [{"valueBoolean": true}]}]});
    let request = pb::AssessRequest {
        request_id: "qr-bad".into(),
        input: Some(pb::assess_request::Input::QuestionnaireResponseJson(
            bad.to_string(),
        )),
    };
    assert_eq!(
        crate::helpers::bad_fields(app.assess(request).await),
        ["questionnaire_response_json.patient.age_years"]
    );
    app.stop().await;
}

/// Issue 13 item 6: the URLs the service writes resolve. Every answer's `valueCoding.system` is
/// a CodeSystem served at that URL holding the code; the CapabilityStatement's operation
/// `definition` is an OperationDefinition served at that URL.
#[tokio::test]
async fn the_code_system_and_operation_definition_are_served_at_their_urls() {
    let app = app().await;
    let http = app.http();
    let questionnaire = http.get("/fhir/Questionnaire/cramp-intake").await.body;
    let mut systems = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let mut stack = vec![&questionnaire];
    while let Some(node) = stack.pop() {
        for option in node["answerOption"].as_array().into_iter().flatten() {
            systems.insert(option["valueCoding"]["system"].as_str().unwrap().to_owned());
            codes.insert(option["valueCoding"]["code"].as_str().unwrap().to_owned());
        }
        stack.extend(node["item"].as_array().into_iter().flatten());
    }
    assert_eq!(systems.len(), 1, "{systems:?}");
    let system_url = systems.pop_first().unwrap();
    let answer = http.get(system_url.strip_prefix(BASE_URL).unwrap()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.content_type(), "application/fhir+json");
    assert_eq!(answer.body["resourceType"], "CodeSystem");
    assert_eq!(answer.body["url"], system_url.as_str());
    assert_hygiene(&answer.body, "CodeSystem");
    let published: BTreeSet<String> = answer.body["concept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        codes.is_subset(&published),
        "{:?}",
        codes.difference(&published)
    );
    save_fhir("code-system", &answer.body);

    let metadata = http.get("/fhir/metadata").await.body;
    let definition = metadata["rest"][0]["operation"][0]["definition"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = http.get(definition.strip_prefix(BASE_URL).unwrap()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["resourceType"], "OperationDefinition");
    assert_eq!(answer.body["url"], definition.as_str());
    assert_eq!(answer.body["code"], "cramp-assess");
    assert_hygiene(&answer.body, "OperationDefinition");
    save_fhir("operation-definition", &answer.body);
    app.stop().await;
}

/// Issue 13 item 6: `$cramp-assess` takes the QuestionnaireResponse as the whole body too, and
/// assesses it exactly as when it comes inside Parameters.
#[tokio::test]
async fn cramp_assess_takes_a_bare_questionnaire_response() {
    let app = app().await;
    let http = app.http();
    let (response, _) = split_clinician(&questionnaire_response(&history(), "qr-bare", true));
    let wrapped = http.post(ASSESS, &parameters(&response, &[])).await;
    let bare = http.post(ASSESS, &response).await;
    assert_eq!(bare.status, 200, "{}", bare.text);
    assert_eq!(bare.body["resourceType"], "Bundle");
    let codes = |bundle: &Value| -> Vec<String> {
        let mut codes: Vec<String> = resources(bundle, "RiskAssessment")
            .iter()
            .flat_map(|r| r["prediction"].as_array().into_iter().flatten())
            .map(|p| {
                p["outcome"]["coding"][0]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        codes.sort();
        codes
    };
    assert!(!codes(&wrapped.body).is_empty());
    assert_eq!(codes(&bare.body), codes(&wrapped.body));
    // A bare body's errors are named from its root.
    let mut broken = response.clone();
    broken["status"] = json!(7);
    let answer = http.post(ASSESS, &broken).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.text.contains("status"), "{}", answer.text);
    app.stop().await;
}

/// Issue 13 item 6: "Currently pregnant?" stays hidden until sex is answered (no `!=` condition,
/// which FHIR holds true while the other item is unanswered), and nothing inside the optional
/// medicines group is required (a patient who takes none can complete the form).
#[tokio::test]
async fn pregnancy_waits_for_sex_and_the_medicines_group_requires_nothing() {
    let app = app().await;
    let questionnaire = app
        .http()
        .get("/fhir/Questionnaire/cramp-intake")
        .await
        .body;
    let mut stack = vec![&questionnaire];
    let mut pregnant = None;
    let mut medications = None;
    while let Some(node) = stack.pop() {
        match node["linkId"].as_str() {
            Some("patient.pregnant") => pregnant = Some(node),
            Some("medications") => medications = Some(node),
            _ => {}
        }
        stack.extend(node["item"].as_array().into_iter().flatten());
    }
    let pregnant = pregnant.expect("patient.pregnant");
    let conditions = pregnant["enableWhen"].as_array().unwrap();
    assert!(!conditions.is_empty());
    for condition in conditions {
        assert_eq!(condition["question"], "patient.sex");
        assert_eq!(condition["operator"], "=", "{condition}");
        assert_ne!(condition["answerCoding"]["code"], "SEX_MALE");
    }
    let medications = medications.expect("medications group");
    assert_ne!(medications["required"], true);
    for item in medications["item"].as_array().unwrap() {
        assert_ne!(item["required"], true, "{}", item["linkId"]);
    }
    app.stop().await;
}

/// Issue 13 item 6: the patient's answers and the clinician's examination and labs come as two
/// responses, one to each Questionnaire, each checked against its own strict canonical; either
/// alone is assessed too, and neither may answer the other's items.
#[tokio::test]
async fn patient_and_clinician_responses_are_assessed_apart_or_together() {
    let app = app().await;
    let http = app.http();
    let (patient, clinician) = split_clinician(&questionnaire_response(&history(), "qr-two", true));
    let clinician = clinician.expect("the history has a lab value");
    let both = |patient: &Value, clinician: &Value| {
        json!({"resourceType": "Parameters", "parameter": [
            {"name": "questionnaireResponse", "resource": patient},
            {"name": "questionnaireResponse", "resource": clinician}]})
    };
    // Together: the potassium comes from the clinician's response and says so.
    let answer = http.post(ASSESS, &both(&patient, &clinician)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let risk = resources(&answer.body, "RiskAssessment")[0];
    assert_eq!(
        risk["basis"],
        json!([{"reference": "QuestionnaireResponse/qr-two"},
            {"reference": "QuestionnaireResponse/qr-two-clinician"}])
    );
    assert!(answer.text.contains("low potassium"), "{}", answer.text);
    save_fhir("bundle-two-responses", &answer.body);
    // In either order.
    let reversed = http.post(ASSESS, &both(&clinician, &patient)).await;
    assert_eq!(reversed.status, 200, "{}", reversed.text);

    // The patient's form at 1.1 no longer asks for labs: named by linkId.
    let mut mixed = questionnaire_response(&history(), "qr-mixed", false);
    mixed["questionnaire"] = json!(canonical());
    let answer = http.post(ASSESS, &mixed).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(
        answer.text.contains("findings.labs.potassium_mmol_l"),
        "{}",
        answer.text
    );
    // Nor does the clinician's ask the patient's questions.
    let mut wrong = patient.clone();
    wrong["questionnaire"] = json!(clinician_canonical());
    let answer = http.post(ASSESS, &wrong).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(
        answer.body["issue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["expression"] == json!(["patient"])),
        "{}",
        answer.text
    );

    // Two responses to one Questionnaire, or about two patients, are refused.
    let answer = http.post(ASSESS, &both(&patient, &patient)).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.text.contains("questionnaire"), "{}", answer.text);
    let mut other = clinician.clone();
    other["subject"] = json!({"reference": "Patient/pat-999"});
    let answer = http.post(ASSESS, &both(&patient, &other)).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.text.contains("subject"), "{}", answer.text);

    // The companion is checked against its own strict canonical.
    let mut look_alike = clinician.clone();
    look_alike["questionnaire"] =
        json!("https://elsewhere.example.com/fhir/Questionnaire/cramp-intake-clinician|1.1.0");
    let answer = http.post(ASSESS, &both(&patient, &look_alike)).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(
        answer.text.contains("parameter[1].resource.questionnaire"),
        "{}",
        answer.text
    );

    // The clinician's response alone lacks the age, which the patient's form asks; with a
    // Patient resource from the chart it is assessed.
    let answer = http.post(ASSESS, &clinician).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.text.contains("patient.age_years"), "{}", answer.text);
    let with_patient = json!({"resourceType": "Parameters", "parameter": [
        {"name": "questionnaireResponse", "resource": clinician},
        {"name": "patient", "resource": {"resourceType": "Patient", "id": "pat-1",
            "birthDate": "1958-03-01", "gender": "male"}}]});
    let answer = http.post(ASSESS, &with_patient).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    app.stop().await;
}
