//! The HTTP door's cross-cutting behaviour: CORS on both ports (integration.md §6.5 "CORS") and
//! the `/about` transparency page as JSON and HTML.

use reqwest::{Method, header};
use serde_json::Value;

use crate::{
    helpers::{ALLOWED_ORIGIN, BASE_URL, spawn_app},
    http_support::assert_hygiene,
};

async fn preflight(url: &str, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    crate::helpers::http_client()
        .request(Method::OPTIONS, url)
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, headers)
        .send()
        .await
        .unwrap()
}

fn header_of(response: &reqwest::Response, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn cors_echoes_allowed_origins_only_and_never_a_wildcard() {
    let app = spawn_app().await;
    let http = app.http();
    for path in [
        "/cds-services",
        "/cds-services/leg-cramp-screen",
        "/fhir/$cramp-assess",
    ] {
        let url = http.url(path);
        let allowed = preflight(&url, ALLOWED_ORIGIN, "POST", "authorization,content-type").await;
        assert!(
            allowed.status().is_success(),
            "{path}: {}",
            allowed.status()
        );
        assert_eq!(
            header_of(&allowed, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            ALLOWED_ORIGIN
        );
        let methods =
            header_of(&allowed, header::ACCESS_CONTROL_ALLOW_METHODS).to_ascii_uppercase();
        for method in ["GET", "POST", "OPTIONS"] {
            assert!(methods.contains(method), "{path}: {methods}");
        }
        let headers =
            header_of(&allowed, header::ACCESS_CONTROL_ALLOW_HEADERS).to_ascii_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
        assert_ne!(
            header_of(&allowed, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
            "true"
        );

        let other = preflight(&url, "https://evil.example.net", "POST", "content-type").await;
        assert!(
            other
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none(),
            "{path}"
        );
    }
    // A simple GET from an allowed origin carries the header too.
    let simple = http
        .client()
        .get(http.url("/cds-services"))
        .header(header::ORIGIN, ALLOWED_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        header_of(&simple, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        ALLOWED_ORIGIN
    );

    // gRPC-Web on the gRPC port uses the same allow-list.
    let url = format!("http://{}/cramp.v1.CrampAssessmentService/Assess", app.addr);
    let allowed = preflight(
        &url,
        ALLOWED_ORIGIN,
        "POST",
        "content-type,x-grpc-web,x-user-agent",
    )
    .await;
    assert_eq!(
        header_of(&allowed, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        ALLOWED_ORIGIN
    );
    let other = preflight(&url, "https://evil.example.net", "POST", "content-type").await;
    assert!(
        other
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    app.stop().await;
}

#[tokio::test]
async fn about_publishes_intended_use_rules_sources_and_limits_as_json_and_html() {
    let app = spawn_app().await;
    let http = app.http();
    let answer = http.get("/about").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "application/json");
    assert_hygiene(&answer.body, "about");
    let about = &answer.body;
    let kb = cramp_core::KnowledgeBase::standard();
    assert_eq!(about["knowledge_base_version"], kb.version());
    for key in [
        "intended_use",
        "intended_users",
        "inputs",
        "limitations",
        "sources",
    ] {
        assert!(about.get(key).is_some(), "{key}");
    }
    let rules = about["rules"].as_array().unwrap();
    assert_eq!(rules.len(), kb.rules().len());
    for (rule, meta) in rules.iter().zip(kb.rules()) {
        assert_eq!(rule["id"], meta.id);
        assert_eq!(rule["version"], meta.version);
        assert!(!rule["citations"].as_array().unwrap().is_empty());
    }
    assert_eq!(
        about["inputs"]["questionnaire"],
        format!("{BASE_URL}/fhir/Questionnaire/cramp-intake")
    );

    let page = http
        .client()
        .get(http.url("/about"))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert!(header_of(&page, header::CONTENT_TYPE).starts_with("text/html"));
    let page = page.text().await.unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for meta in kb.rules() {
        assert!(page.contains(meta.id), "{}", meta.id);
    }
    assert!(page.contains("Intended use") && page.contains("Limitations"));
    let _: &Value = about;
    app.stop().await;
}
