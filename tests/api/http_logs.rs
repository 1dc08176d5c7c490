//! PHI rule for the HTTP doors: run the real server with logs at TRACE, send CDS Hooks calls,
//! feedback and `$cramp-assess` full of distinctive patient data and an access token, and prove
//! none of it reaches a log line while the route, `hookInstance` and rule ids do.

use serde_json::{Value, json};

use crate::{
    fhir_convert::{hook_request, now, parameters, prefetch, questionnaire_response},
    helpers::{spawn_app_at, spawn_binary, test_settings},
    http_support::Http,
};

const HOOK_INSTANCE: &str = "d3b07384-d113-4ec6-a55c-5c0e6f1d2a71";

const SECRETS: &[&str] = &[
    "Zzqxfamily",
    "Zzqxgiven",
    "1947-03-29",
    "zzqx-http-med",
    "31415926",
    "487.125",
    "98765.4321",
    "zzqx-access-token",
    "zzqx-private-comment",
    "zzqx-bad-value",
    "RELIEF_WITHIN_10_MINUTES",
    "LOCATION_HAMSTRING",
];

fn history() -> Value {
    json!({
        "patient": {"age_years": 79, "sex": "SEX_FEMALE"},
        "cramps": {"locations": ["LOCATION_HAMSTRING"], "contexts": ["CONTEXT_WALKING"],
            "relief_on_standing_still": "RELIEF_WITHIN_10_MINUTES", "episodes_per_week": 487.125,
            "pain_free_walking_meters": 31_415_926},
        "medications": [{"name": "zzqx-http-med", "weeks_since_started": 3},
            {"name": "hydrochlorothiazide 25 mg", "weeks_since_started": 2}],
        "findings": {"labs": {"ck_u_l": 98765.4321}}
    })
}

/// Sends every kind of HTTP request with patient data, checking each was answered as expected.
async fn exercise(http: &Http) {
    let mut request = hook_request("patient-view", &prefetch(&history(), true));
    request["hookInstance"] = json!(HOOK_INSTANCE);
    request["prefetch"]["patient"]["birthDate"] = json!("1947-03-29");
    request["prefetch"]["patient"]["name"] =
        json!([{"family": "Zzqxfamily", "given": ["Zzqxgiven"]}]);
    request["fhirServer"] = json!("https://ehr.example.org/fhir");
    request["fhirAuthorization"] = json!({"access_token": "zzqx-access-token", "token_type": "Bearer",
        "expires_in": 300, "scope": "patient/*.rs", "subject": "cramp-cds"});
    let answer = http.post("/cds-services/leg-cramp-screen", &request).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer.text.contains("hydrochlorothiazide 25 mg"),
        "cards show the chart to the clinician"
    );

    let answer = http
        .post(
            "/cds-services/leg-cramp-screen/feedback",
            &json!({"feedback": [{"card": uuid::Uuid::new_v4().to_string(), "outcome": "overridden",
                "overrideReason": {"userComment": "zzqx-private-comment"},
                "outcomeTimestamp": "2026-06-15T12:00:00Z"}]}),
        )
        .await;
    assert_eq!(answer.status, 200);

    let response = questionnaire_response(&history(), "qr-logs", false);
    let answer = http
        .post("/fhir/$cramp-assess", &parameters(&response, &[]))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    // An unreadable answer is unknown and named (200); an unreadable required one is a 400.
    let mut unreadable = response.clone();
    unreadable["item"][0]["answer"][0] = json!({"valueString": "zzqx-bad-value"});
    let answer = http
        .post("/fhir/$cramp-assess", &parameters(&unreadable, &[]))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let mut bad = response.clone();
    bad["item"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["linkId"] != "patient.age_years");
    bad["item"].as_array_mut().unwrap().push(
        json!({"linkId": "patient.age_years", "answer": [{"valueString": "zzqx-bad-value"}]}),
    );
    let answer = http
        .post("/fhir/$cramp-assess", &parameters(&bad, &[]))
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let answer = http
        .post_text(
            "/cds-services/leg-cramp-screen",
            "{\"hook\": \"zzqx-bad-value",
        )
        .await;
    assert_eq!(answer.status, 400);
}

fn assert_no_patient_data(logs: &str) {
    assert!(logs.contains("/cds-services/{id}"), "the route is logged");
    assert!(logs.contains(HOOK_INSTANCE), "the hookInstance is logged");
    assert!(
        logs.contains("medication.associated"),
        "rule ids are logged"
    );
    let leaked: Vec<&&str> = SECRETS.iter().filter(|s| logs.contains(**s)).collect();
    assert!(leaked.is_empty(), "patient data in logs: {leaked:?}");
}

#[test]
fn in_process_trace_logs_of_the_http_doors_carry_no_patient_data() {
    let logs = crate::helpers::capture_trace_logs(|| async {
        let app = spawn_app_at(test_settings(), Some(now())).await;
        exercise(&app.http()).await;
        app.stop().await;
    });
    assert_no_patient_data(&logs);
}

#[tokio::test]
async fn the_binary_json_logs_of_the_http_doors_carry_no_patient_data() {
    let server = spawn_binary("trace").await;
    let http = Http::at(server.http_addr);
    exercise(&http).await;
    let (code, lines) = server.terminate().await;
    assert_eq!(code, Some(0));
    assert_no_patient_data(&lines.join("\n"));
}
