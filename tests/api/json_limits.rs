//! JSON bodies are counted before they are parsed (issue 14, item 3): a `$cramp-assess` body of
//! hundreds of thousands of tiny items and a CDS Hooks prefetch of tens of thousands of
//! Conditions, both under the byte limit, are refused with 413 at once instead of being built
//! into models hundreds of megabytes large.

use std::time::{Duration, Instant};

use crate::helpers::{TestApp, spawn_app};

const ASSESS: &str = "/fhir/$cramp-assess";

fn questionnaire_response_items(n: usize) -> String {
    let items = vec![r#"{"linkId":"x"}"#; n].join(",");
    format!(
        r#"{{"resourceType":"Parameters","parameter":[{{"name":"response","resource":
        {{"resourceType":"QuestionnaireResponse","status":"completed","item":[{items}]}}}}]}}"#
    )
}

fn prefetch_conditions(n: usize) -> String {
    let entries = vec![r#"{"resource":{"resourceType":"Condition"}}"#; n].join(",");
    format!(
        r#"{{"hook":"patient-view","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context":{{"userId":"Practitioner/1","patientId":"p1"}},
        "prefetch":{{"conditions":{{"resourceType":"Bundle","type":"searchset","entry":[{entries}]}}}}}}"#
    )
}

async fn refused_quickly(app: &TestApp, path: &str, body: &str, expression: &str) {
    assert!(
        body.len() < 4 * 1024 * 1024,
        "under the byte limit: {}",
        body.len()
    );
    let started = Instant::now();
    let answer = app.http().post_text(path, body).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(answer.status.as_u16(), 413, "{}", answer.text);
    assert_eq!(answer.body["resourceType"], "OperationOutcome");
    assert_eq!(answer.body["issue"][0]["code"], "too-costly");
    let named = answer.body["issue"][0]["expression"][0].as_str().unwrap();
    assert!(named.starts_with(expression), "{named}");
}

#[tokio::test]
async fn two_hundred_thousand_questionnaire_items_are_refused_before_parsing() {
    let app = spawn_app().await;
    let body = questionnaire_response_items(200_000);
    refused_quickly(&app, ASSESS, &body, "parameter[0].resource.item").await;
    // At the cap the same shape is read (and answered on its merits).
    let body = questionnaire_response_items(10_000);
    let answer = app.http().post_text(ASSESS, &body).await;
    assert_ne!(answer.status.as_u16(), 413, "{}", answer.text);
    app.stop().await;
}

#[tokio::test]
async fn a_prefetch_bundle_of_eighty_thousand_conditions_is_refused_before_parsing() {
    let app = spawn_app().await;
    let body = prefetch_conditions(80_000);
    refused_quickly(
        &app,
        "/cds-services/leg-cramp-screen",
        &body,
        "prefetch.conditions.entry",
    )
    .await;
    app.stop().await;
}
