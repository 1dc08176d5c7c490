//! Issue 13: a patient-view call shaped like a real EHR's (Conditions in SNOMED CT and
//! ICD-10-CM, MedicationRequests in RxNorm without display, Observations in LOINC) read by the
//! operator's value sets (`fhir.value_set_dir` = `tests/data/valuesets`, hand-written files with
//! the bound VSAC URLs), over real HTTP against the real server; and without the directory, the
//! same codes named as not used.

use cramp_cds::{config::Settings, server::Application};
use serde_json::{Value, json};

use crate::{
    cds_hooks::{SCREEN, app_with},
    fhir_convert::{
        clinician_canonical, hook_request, parameters, prefetch, questionnaire_response,
    },
    helpers::{capture_trace_logs, repo_path, test_settings},
};

/// The test settings with the fixture value sets configured.
fn with_value_sets() -> Settings {
    with_dir("tests/data/valuesets")
}

fn with_dir(dir: &str) -> Settings {
    let mut settings = test_settings();
    settings.fhir.value_set_dir = Some(repo_path(dir));
    settings
}

const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const SNOMED: &str = "http://snomed.info/sct";
const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const LOINC: &str = "http://loinc.org";
const MED_CHECK: &str = "/cds-services/leg-cramp-med-check";

fn bundle(resources: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "searchset",
        "entry": resources.into_iter().map(|r| json!({"resource": r})).collect::<Vec<_>>()})
}

fn condition(id: &str, system: &str, code: &str) -> Value {
    json!({"resourceType": "Condition", "id": id,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/pat-1"}})
}

fn rx(id: &str, code: &str) -> Value {
    json!({"resourceType": "MedicationRequest", "id": id, "status": "active", "intent": "order",
        "subject": {"reference": "Patient/pat-1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}})
}

/// Walking calf cramps; the form reports HCTZ and a potassium of 4.2; the chart holds the rest.
fn ehr_request() -> Value {
    let history = json!({
        "patient": {"age_years": 68, "sex": "SEX_MALE"},
        "cramps": {"locations": ["LOCATION_CALF"], "contexts": ["CONTEXT_WALKING"],
            "worse_uphill_or_hurrying": true, "starts_when_standing_still_or_sitting": false,
            "relief_on_standing_still": "RELIEF_WITHIN_10_MINUTES", "weeks_since_onset": 30},
        "medications": [{"name": "HCTZ 25 mg", "recently_stopped": false}],
        "findings": {"labs": {}}
    });
    let mut request = hook_request("patient-view", &prefetch(&history, true));
    // The patient's reported potassium, entered in the clinician's companion form.
    let mut clinician = request["prefetch"]["intake"]["entry"][0]["resource"].clone();
    clinician["id"] = json!("qr-clinician");
    clinician["questionnaire"] = json!(clinician_canonical());
    clinician["item"] = json!([
        {"linkId": "findings.labs.potassium_mmol_l", "answer": [{"valueDecimal": 4.2}]}
    ]);
    request["prefetch"]["clinician"] = bundle(vec![clinician]);
    request["prefetch"]["conditions"] = bundle(vec![
        condition("c-dm", SNOMED, "44054006"),
        condition("c-dm-icd", ICD10CM, "E11.9"),
        condition("c-ckd", ICD10CM, "N18.31"),
        condition("c-htn", SNOMED, "38341003"),
        condition("c-smoke", ICD10CM, "F17.210"),
        condition("c-lipid", ICD10CM, "E78.5"),
    ]);
    request["prefetch"]["medications"] =
        bundle(vec![rx("m-hctz", "310798"), rx("m-furo", "310429")]);
    request["prefetch"]["labs"] = bundle(vec![
        json!({"resourceType": "Observation", "id": "k-chart", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "2823-3"}]},
            "effectiveDateTime": "2026-05-20T09:30:00Z",
            "subject": {"reference": "Patient/pat-1"},
            "valueQuantity": {"value": 3.1, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}),
        json!({"resourceType": "Observation", "id": "bp", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}]},
            "subject": {"reference": "Patient/pat-1"},
            "valueQuantity": {"value": 150, "unit": "mm[Hg]"}}),
    ]);
    request
}

fn unread_detail(body: &Value) -> String {
    body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["summary"].as_str().unwrap().contains("could not be used"))
        .map(|c| c["detail"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_ehr_coded_chart_is_read_by_value_sets_and_what_is_not_used_is_named() {
    let app = app_with(with_value_sets()).await;
    let answer = app.http().post(SCREEN, &ehr_request()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let text = answer.body.to_string();
    let unread = unread_detail(&answer.body);
    // Conditions read: none of them is in the not-used list, and they are evidence.
    for used in [
        "c-dm", "c-dm-icd", "c-ckd", "c-htn", "c-smoke", "m-hctz", "m-furo", "k-chart",
    ] {
        assert!(
            !unread.contains(&format!("/{used}`")),
            "{used} was used: {unread}"
        );
    }
    assert!(
        text.contains("Condition/c-"),
        "conditions are cited as evidence: {text}"
    );
    // What was not used is named, with its code and why.
    assert!(
        unread.contains("Condition/c-lipid") && unread.contains("ICD-10-CM E78.5"),
        "{unread}"
    );
    assert!(
        unread.contains("Observation/bp") && unread.contains("not a lab"),
        "{unread}"
    );
    assert!(!unread.contains("150"), "never a patient value: {unread}");
    assert!(unread.contains("**Chart entries not used**"), "{unread}");
    // The chart potassium wins over the form's, shown with its date.
    assert!(text.contains("chart value of 2026-05-20"), "{text}");
    assert!(!text.contains("potassium_mmol_l` = `4.2"), "{text}");
    // HCTZ on the form and RxNorm 310798 in the chart: one medicine, both sources.
    assert!(text.contains(" and MedicationRequest/m-hctz"), "{text}");
    let findings = text.matches("hydrochlorothiazide").count();
    assert!(findings > 0, "{text}");
    app.stop().await;
}

#[tokio::test]
async fn an_order_select_for_a_thiazide_product_code_without_display_gives_the_medication_card() {
    let app = app_with(with_value_sets()).await;
    let history = json!({"patient": {"age_years": 70, "sex": "SEX_FEMALE"},
        "cramps": {"contexts": ["CONTEXT_NIGHT"]}});
    let mut request = hook_request("order-select", &prefetch(&history, false));
    request["context"]["selections"] = json!(["MedicationRequest/draft-1"]);
    request["context"]["draftOrders"] = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
            "intent": "order", "subject": {"reference": "Patient/pat-1"},
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "310798"}]}}}]});
    let answer = app.http().post(MED_CHECK, &request).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let cards = answer.body["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert_eq!(cards[0]["source"]["topic"]["code"], "medication");
    assert!(
        cards[0]["detail"]
            .as_str()
            .unwrap()
            .contains("hydrochlorothiazide"),
        "{cards:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn cramp_assess_reads_the_same_chart_and_notes_what_it_did_not_use() {
    let app = app_with(with_value_sets()).await;
    let history = json!({"patient": {"age_years": 66, "sex": "SEX_FEMALE"},
        "cramps": {"locations": ["LOCATION_CALF"], "contexts": ["CONTEXT_NIGHT"]}});
    let response = questionnaire_response(&history, "qr-vs", true);
    let extra = [
        ("condition", condition("c-ckd", ICD10CM, "N18.31")),
        ("condition", condition("c-lipid", ICD10CM, "E78.5")),
        ("condition", condition("c-smoke", SNOMED, "77176002")),
        ("condition", condition("c-dm", ICD10CM, "E11.9")),
        ("condition", condition("c-htn", ICD10CM, "I10")),
        ("medication", rx("m-furo", "310429")),
    ];
    let answer = app
        .http()
        .post("/fhir/$cramp-assess", &parameters(&response, &extra))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let risk = answer.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "RiskAssessment")
        .unwrap();
    let basis: Vec<&str> = risk["basis"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["reference"].as_str())
        .collect();
    for used in [
        "Condition/c-ckd",
        "Condition/c-smoke",
        "MedicationRequest/m-furo",
    ] {
        assert!(basis.contains(&used), "{used} in {basis:?}");
    }
    assert!(!basis.contains(&"Condition/c-lipid"), "{basis:?}");
    let notes: Vec<&str> = risk["note"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["text"].as_str())
        .filter(|n| n.starts_with("Not used from the chart: "))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("Condition/c-lipid") && notes[0].contains("ICD-10-CM E78.5"),
        "{}",
        notes[0]
    );
    // Furosemide named from its product code reaches the medication review.
    assert!(answer.text.contains("furosemide"), "{}", answer.text);
    app.stop().await;
}

#[tokio::test]
async fn without_value_sets_the_same_codes_are_named_as_not_used_never_read_as_no() {
    let app = app_with(test_settings()).await;
    let answer = app.http().post(SCREEN, &ehr_request()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let unread = unread_detail(&answer.body);
    for (id, code) in [
        ("c-dm-icd", "ICD-10-CM E11.9"),
        ("c-dm", "SNOMED CT 44054006"),
        ("c-ckd", "ICD-10-CM N18.31"),
        ("c-htn", "SNOMED CT 38341003"),
        ("c-smoke", "ICD-10-CM F17.210"),
        ("c-lipid", "ICD-10-CM E78.5"),
    ] {
        let line = unread
            .lines()
            .find(|l| l.contains(&format!("Condition/{id}`")))
            .unwrap_or_else(|| panic!("{id} is named: {unread}"));
        assert!(
            line.contains(code) && line.contains("no value set configured for this code"),
            "{line}"
        );
    }
    // The product codes without display cannot be named, so they are not resolved and say so.
    for id in ["m-furo", "m-hctz"] {
        let line = unread
            .lines()
            .find(|l| l.contains(&format!("MedicationRequest/{id}`")))
            .unwrap_or_else(|| panic!("{id} is named: {unread}"));
        assert!(
            line.contains("no value set configured for this code"),
            "{line}"
        );
    }
    // Unknown, never "no": no card and no evidence cites a condition the sets would have read.
    let text = answer.body.to_string();
    for id in ["c-dm", "c-ckd", "c-htn", "c-smoke"] {
        assert!(
            !text.contains(&format!("\"Condition/{id}\"")),
            "{id} is not evidence: {text}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn without_value_sets_an_order_select_for_a_product_code_without_display_says_it_was_not_checked()
 {
    let app = app_with(test_settings()).await;
    let history = json!({"patient": {"age_years": 70, "sex": "SEX_FEMALE"},
        "cramps": {"contexts": ["CONTEXT_NIGHT"]}});
    let mut request = hook_request("order-select", &prefetch(&history, false));
    request["context"]["selections"] = json!(["MedicationRequest/draft-1"]);
    request["context"]["draftOrders"] = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
            "intent": "order", "subject": {"reference": "Patient/pat-1"},
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "310798"}]}}}]});
    let answer = app.http().post(MED_CHECK, &request).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let cards = answer.body["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert_eq!(
        cards[0]["indicator"], "info",
        "not a medication finding: {cards:?}"
    );
    let detail = cards[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("MedicationRequest/draft-1")
            && detail
                .contains("RxNorm 310798: no display, and no value set configured for this code"),
        "the order was not checked, and the clinician is told: {detail}"
    );
    assert!(
        !answer.text.contains("hydrochlorothiazide"),
        "{}",
        answer.text
    );
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_value_set_file_stops_startup_naming_the_file() {
    let err = Application::build(&with_dir("tests/data/valuesets-malformed"))
        .await
        .expect_err("startup fails");
    let text = err.to_string();
    assert!(
        text.contains("valuesets-malformed/hypertension.json")
            && text.contains("expansion.contains[0] needs a system and a code"),
        "{text}"
    );
    let missing = Application::build(&with_dir("tests/data/no-such-value-set-dir"))
        .await
        .expect_err("startup fails");
    assert!(
        missing.to_string().contains("fhir.value_set_dir"),
        "{missing}"
    );
}

#[test]
fn the_binary_refuses_to_start_with_a_malformed_value_set_file() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .args([
            "serve",
            "--grpc-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .env(
            "CRAMP__FHIR__VALUE_SET_DIR",
            repo_path("tests/data/valuesets-malformed"),
        )
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("hypertension.json"), "{said}");
}

#[test]
fn an_unbound_file_is_reported_at_startup_and_not_used() {
    let logs = capture_trace_logs(|| async {
        let app = app_with(with_dir("tests/data/valuesets-unbound")).await;
        let answer = app.http().post(SCREEN, &ehr_request()).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let unread = unread_detail(&answer.body);
        assert!(
            unread.contains("Condition/c-lipid") && unread.contains("ICD-10-CM E78.5"),
            "{unread}"
        );
        app.stop().await;
    });
    let line = logs
        .lines()
        .find(|l| l.contains("value set not bound; not used"))
        .unwrap_or_else(|| panic!("reported: {logs}"));
    assert!(
        line.contains("http://example.org/fhir/ValueSet/site-hyperlipidaemia")
            && line.contains("\"concepts\":1"),
        "{line}"
    );
    assert!(
        !line.contains("Hyperlipidaemia"),
        "URL and counts only: {line}"
    );
    assert!(logs.contains("no value set configured for these bound URLs"));
    let loaded_with_fixtures = capture_trace_logs(|| async {
        let app = app_with(with_value_sets()).await;
        app.stop().await;
    });
    assert_eq!(
        loaded_with_fixtures.matches("value set loaded").count(),
        7,
        "{loaded_with_fixtures}"
    );
}
