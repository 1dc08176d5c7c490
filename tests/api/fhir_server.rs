//! The CDS Hooks `fhirServer` fallback against a real FHIR server: Medplum's FHIR router over its
//! in-memory repository (`tools/fhir-server`, installed from npm by [`FhirServer::start`] on
//! first use and run by Node on loopback). The chart the other CDS Hooks tests prefetch is
//! stored there instead, and the service must find it with the call's own bearer token.
//!
//! Node must be on PATH (it is on developer machines and in CI); without it these tests fail
//! with a message saying so, never pass silently.

use std::{
    process::Stdio,
    sync::{Mutex, OnceLock},
};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::{
    cds_hooks::{SCREEN, app_with, card_summaries, full_request, history},
    fhir_convert::{hook_request, prefetch},
    helpers::{TestApp, repo_path},
};

/// A running FHIR server; stopped when dropped (its stdin closes and the child is killed).
pub(crate) struct FhirServer {
    _child: tokio::process::Child,
    /// `http://127.0.0.1:PORT/fhir/R4`.
    pub(crate) base: String,
    /// The only bearer token it accepts.
    pub(crate) token: String,
    client: reqwest::Client,
}

/// `npm ci` once per test run, if the packages are not there yet.
fn install() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    DONE.get_or_init(|| {
        let dir = repo_path("tools/fhir-server");
        if dir.join("node_modules/@medplum/fhir-router").is_dir() {
            return Ok(());
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .map_err(|err| format!("npm is needed to install tools/fhir-server ({err})"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("npm ci in tools/fhir-server failed: {status}"))
        }
    })
    .clone()
}

impl FhirServer {
    pub(crate) async fn start() -> Self {
        tokio::task::spawn_blocking(install)
            .await
            .unwrap()
            .unwrap_or_else(|err| panic!("the test FHIR server cannot be installed: {err}"));
        let token = format!("fhir-token-{}", uuid::Uuid::new_v4());
        let mut child = tokio::process::Command::new("node")
            .arg("server.js")
            .args(["--token", &token])
            .current_dir(repo_path("tools/fhir-server"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!("`node` must be on PATH to run the test FHIR server: {err}")
            });
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .expect("the FHIR server reports its address");
        let announced: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the FHIR server did not start: {line:?}"));
        Self {
            _child: child,
            base: announced["base"].as_str().unwrap().to_owned(),
            token,
            client: crate::helpers::http_client(),
        }
    }

    /// Stores `resource` under its own id.
    pub(crate) async fn put(&self, resource: &Value) {
        let url = format!(
            "{}/{}/{}",
            self.base,
            resource["resourceType"].as_str().unwrap(),
            resource["id"].as_str().unwrap()
        );
        let answer = self
            .client
            .put(url)
            .bearer_auth(&self.token)
            .header("content-type", "application/fhir+json")
            .body(resource.to_string())
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
    }

    /// Stores every resource of a test prefetch (a resource, a searchset, or `null`).
    pub(crate) async fn store_prefetch(&self, prefetch: &Value) {
        for value in prefetch.as_object().unwrap().values() {
            if value["resourceType"] == "Bundle" {
                for entry in value["entry"].as_array().unwrap() {
                    self.put(&entry["resource"]).await;
                }
            } else if value.is_object() {
                self.put(value).await;
            }
        }
    }

    /// `fhirServer` and `fhirAuthorization` for a hook request, with `token`.
    pub(crate) fn authorize(&self, request: &mut Value, token: &str) {
        request["fhirServer"] = json!(self.base);
        request["fhirAuthorization"] = json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/Patient.r patient/QuestionnaireResponse.rs patient/Condition.rs patient/MedicationRequest.rs patient/Observation.rs",
            "subject": "cramp-cds",
            "patient": "pat-1",
        });
    }
}

/// The test app with a generous fallback deadline: the tests check what is fetched, not how
/// fast (a loaded CI machine must not turn them red).
async fn app() -> TestApp {
    let mut settings = crate::helpers::test_settings();
    settings.http.fhir_server.timeout_ms = 20_000;
    app_with(settings).await
}

#[tokio::test]
async fn without_prefetch_the_chart_is_fetched_from_fhir_server_with_the_token() {
    let server = FhirServer::start().await;
    server.store_prefetch(&prefetch(&history(), true)).await;
    let app = app().await;
    let http = app.http();
    let expected = http.post(SCREEN, &full_request()).await;
    assert_eq!(expected.status, 200, "{}", expected.text);

    let mut request = hook_request("patient-view", &json!({}));
    request.as_object_mut().unwrap().remove("prefetch");
    server.authorize(&mut request, &server.token);
    let answer = http.post(SCREEN, &request).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(!card_summaries(&answer.body).is_empty());
    assert_eq!(
        card_summaries(&answer.body),
        card_summaries(&expected.body),
        "the same chart, fetched instead of prefetched, gives the same cards"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_partial_prefetch_is_completed_from_fhir_server_key_by_key() {
    let server = FhirServer::start().await;
    let full = prefetch(&history(), true);
    server.store_prefetch(&full).await;
    let app = app().await;
    let http = app.http();
    let expected = http.post(SCREEN, &full_request()).await;

    // The EHR sent the patient, failed the intake query, had no conditions to give and left
    // the rest out: each unsatisfied key is fetched, the satisfied one is used as sent.
    let mut request = hook_request(
        "patient-view",
        &json!({
            "patient": full["patient"],
            "intake": {"resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "timeout"}]},
            "conditions": null,
        }),
    );
    server.authorize(&mut request, &server.token);
    let answer = http.post(SCREEN, &request).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(card_summaries(&answer.body), card_summaries(&expected.body));
    app.stop().await;
}

#[tokio::test]
async fn a_fhir_server_that_refuses_the_token_leaves_the_data_missing_412() {
    let server = FhirServer::start().await;
    server.store_prefetch(&prefetch(&history(), true)).await;
    let app = app().await;
    let mut request = hook_request("patient-view", &json!({}));
    request.as_object_mut().unwrap().remove("prefetch");
    server.authorize(&mut request, "zzq-not-the-token");
    let answer = app.http().post(SCREEN, &request).await;
    assert_eq!(answer.status, 412, "{}", answer.text);
    let expressions: Vec<&str> = answer.body["issue"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["expression"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(expressions, ["prefetch.patient", "prefetch.intake"]);
    app.stop().await;
}
