//! HTTP fixtures: a plain HTTP/1.1 client against the test app's HTTP door, the generic JSON
//! hygiene check, and the folder where every FHIR resource the tests receive is saved for the
//! outside validator (`tools/validate_fhir.py`, run by `.ci/run`).

use std::{
    path::PathBuf,
    sync::atomic::{AtomicUsize, Ordering},
};

use reqwest::{Response, StatusCode, header::HeaderMap};
use serde_json::Value;

use crate::helpers::TestApp;

/// A client bound to one app's HTTP door.
pub(crate) struct Http {
    client: reqwest::Client,
    base: String,
}

impl TestApp {
    /// A client for the HTTP door.
    pub(crate) fn http(&self) -> Http {
        Http {
            client: crate::helpers::http_client(),
            base: format!("http://{}", self.http_addr),
        }
    }
}

/// An answer: status, headers and the body as JSON (`Value::Null` for an empty body).
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl Answer {
    /// The `Content-Type` without parameters.
    pub(crate) fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
    }
}

async fn read(response: Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    Answer {
        status,
        headers,
        body,
        text,
    }
}

impl Http {
    /// A client for an HTTP door at `addr` (the real binary's).
    pub(crate) fn at(addr: std::net::SocketAddr) -> Self {
        Self {
            client: crate::helpers::http_client(),
            base: format!("http://{addr}"),
        }
    }

    /// The full URL of `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The underlying client.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request built on [`Http::client`] (custom headers, methods) and reads the answer.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        read(request.send().await.unwrap()).await
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Answer {
        read(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    /// `POST path` with a JSON body.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Answer {
        self.post_text(path, &body.to_string()).await
    }

    /// `POST path` with a raw body.
    pub(crate) async fn post_text(&self, path: &str, body: &str) -> Answer {
        read(
            self.client
                .post(self.url(path))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_owned())
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

/// Every place in `value` where JSON hygiene is broken: `null`, `""`, `[]` or `{}` (CDS Hooks
/// and FHIR forbid them), except the top-level `cards: []` CDS Hooks allows.
pub(crate) fn hygiene_problems(value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    walk(value, "$", &mut problems);
    problems
}

fn walk(value: &Value, path: &str, problems: &mut Vec<String>) {
    match value {
        Value::Null => problems.push(format!("{path} is null")),
        Value::String(s) if s.is_empty() => problems.push(format!("{path} is \"\"")),
        Value::Array(items) if items.is_empty() && path != "$.cards" => {
            problems.push(format!("{path} is []"));
        }
        Value::Object(map) if map.is_empty() => problems.push(format!("{path} is {{}}")),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), problems);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                walk(item, &format!("{path}.{key}"), problems);
            }
        }
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

/// Asserts JSON hygiene, naming what breaks it.
pub(crate) fn assert_hygiene(value: &Value, what: &str) {
    let problems = hygiene_problems(value);
    assert!(problems.is_empty(), "{what}: {problems:?}");
}

/// Where the tests leave FHIR JSON for the outside validator.
pub(crate) fn fhir_out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fhir-out")
}

static SAVED: AtomicUsize = AtomicUsize::new(0);

/// Saves a FHIR resource the server produced, for `tools/validate_fhir.py`.
pub(crate) fn save_fhir(name: &str, resource: &Value) {
    assert!(
        resource.get("resourceType").is_some(),
        "{name} is not a FHIR resource"
    );
    let dir = fhir_out_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let n = SAVED.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{name}-{}-{n}.json", std::process::id()));
    std::fs::write(path, serde_json::to_vec_pretty(resource).unwrap()).unwrap();
}

#[test]
fn the_hygiene_check_finds_every_kind_of_empty() {
    let value = serde_json::json!({
        "cards": [], "a": null, "b": "", "c": [], "d": {}, "e": [{"f": null}], "g": "ok"
    });
    assert_eq!(
        hygiene_problems(&value),
        [
            "$.a is null",
            "$.b is \"\"",
            "$.c is []",
            "$.d is {}",
            "$.e[0].f is null"
        ]
    );
}
