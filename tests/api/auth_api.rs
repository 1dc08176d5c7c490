//! API authentication: gRPC `CrampAssessmentService` (every method, `AssessBatch` included) and
//! FHIR `$cramp-assess` need an access token from the configured issuer, for the configured
//! audience, granting the required scope; health, reflection and the open HTTP routes do not.
//! Real gRPC and HTTP clients against the real server; keys from a real JWKS server.

use jsonwebtoken::Algorithm;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use tonic::{Code, metadata::MetadataValue};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt as _;

use crate::{
    auth_support::{JwksServer, Signer, bearer, claims, hs256_token, jwks, unix_now},
    fhir_convert::{now, parameters, questionnaire_response},
    helpers::{TestApp, capture_trace_logs, health, minimal_request, spawn_app_at, test_settings},
    http_support::Answer,
    reflection::list_services_v1,
};
use cramp_cds::{
    auth::IssuerSettings,
    config::Settings,
    pb,
    server::{Application, ServerError},
    status::Reason,
};

const ISSUER: &str = "https://auth.example.org";
const AUDIENCE: &str = "https://cds.example.org/api";
const SCOPE: &str = "system/cramp.assess";
const ASSESS: &str = "/fhir/$cramp-assess";

struct Fixture {
    app: TestApp,
    _jwks: JwksServer,
    es256: Signer,
    rs256: Signer,
}

/// Claims of a valid API token granting `scope`.
fn api_claims(scope: &str) -> Value {
    let mut token_claims = claims(ISSUER, AUDIENCE);
    token_claims["scope"] = json!(scope);
    token_claims["client_id"] = json!("intake-backend");
    token_claims
}

fn settings(jwks_server: &JwksServer) -> Settings {
    let mut settings = test_settings();
    settings.auth.enabled = true;
    // Auth on needs a CDS Hooks issuer; its keys are never fetched here.
    settings.auth.cds_hooks.issuers = vec![IssuerSettings {
        iss: "https://ehr.example.org".into(),
        jwks_url: Some(jwks_server.url("/ehr.json")),
        ..IssuerSettings::default()
    }];
    settings.auth.api.issuer = Some(ISSUER.into());
    settings.auth.api.audience = Some(AUDIENCE.into());
    settings.auth.api.jwks_url = Some(jwks_server.url("/api.json"));
    settings
}

async fn fixture() -> Fixture {
    let jwks_server = JwksServer::start().await;
    let es256 = Signer::es256("api-ec-1");
    let rs256 = Signer::rsa("api-rsa-1", Algorithm::RS256);
    jwks_server.publish("/api.json", jwks(&[&es256, &rs256]));
    Fixture {
        app: spawn_app_at(settings(&jwks_server), Some(now())).await,
        _jwks: jwks_server,
        es256,
        rs256,
    }
}

/// `request` with `Authorization: Bearer <token>` metadata when a token is given.
fn with_token<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        let value: MetadataValue<_> = bearer(token).parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    request
}

async fn assess(app: &TestApp, token: Option<&str>) -> Result<pb::AssessResponse, tonic::Status> {
    app.client()
        .await
        .assess(with_token(minimal_request("auth-1"), token))
        .await
        .map(tonic::Response::into_inner)
}

fn assert_code(outcome: Result<pb::AssessResponse, tonic::Status>, code: Code, reason: &str) {
    let status = outcome.expect_err("refused");
    assert_eq!(status.code(), code, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, reason);
    assert_eq!(info.domain, "cramp-cds");
}

#[tokio::test]
async fn grpc_assess_needs_a_token_granting_the_scope() {
    let f = fixture().await;
    assert_code(
        assess(&f.app, None).await,
        Code::Unauthenticated,
        Reason::Unauthenticated.as_str(),
    );

    let now = unix_now();
    let refused: Vec<(&str, String)> = vec![
        ("HS256", hs256_token(&f.es256.kid, &api_claims(SCOPE))),
        ("wrong audience", {
            let mut c = api_claims(SCOPE);
            c["aud"] = json!("https://other.example.org");
            f.es256.token(&c)
        }),
        ("wrong issuer", {
            let mut c = api_claims(SCOPE);
            c["iss"] = json!("https://rogue.example.org");
            f.es256.token(&c)
        }),
        ("expired", {
            let mut c = api_claims(SCOPE);
            c["exp"] = json!(now - 300);
            f.rs256.token(&c)
        }),
        (
            "unknown key",
            Signer::es256("stranger").token(&api_claims(SCOPE)),
        ),
        ("not a JWT", "zzqx".into()),
    ];
    for (case, token) in &refused {
        let status = assess(&f.app, Some(token)).await.expect_err(case);
        assert_eq!(status.code(), Code::Unauthenticated, "{case}: {status:?}");
    }

    assert_code(
        assess(
            &f.app,
            Some(&f.es256.token(&api_claims("openid system/other.read"))),
        )
        .await,
        Code::PermissionDenied,
        Reason::InsufficientScope.as_str(),
    );
    let status = assess(&f.app, Some(&f.es256.token(&api_claims("x"))))
        .await
        .unwrap_err();
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.metadata["required_scope"], SCOPE);

    // Valid: ES256 with `scope`, RS256 with the `scp` array; the same token again (access tokens
    // are reusable until they expire).
    let token = f.es256.token(&api_claims(&format!("openid {SCOPE}")));
    for _ in 0..2 {
        let response = assess(&f.app, Some(&token)).await.unwrap();
        assert_eq!(response.request_id, "auth-1");
    }
    let mut scp = api_claims("");
    scp.as_object_mut().unwrap().remove("scope");
    scp["scp"] = json!(["openid", SCOPE]);
    assess(&f.app, Some(&f.rs256.token(&scp))).await.unwrap();
    f.app.stop().await;
}

#[tokio::test]
async fn every_api_method_is_guarded_batch_included() {
    let f = fixture().await;
    let mut client = f.app.client().await;
    let status = client
        .get_knowledge_base(with_token(pb::GetKnowledgeBaseRequest::default(), None))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let record = || {
        let history = match minimal_request("b1").input {
            Some(pb::assess_request::Input::History(history)) => Some(history),
            Some(pb::assess_request::Input::QuestionnaireResponseJson(_)) | None => None,
        };
        pb::AssessBatchRequest {
            record_id: "b1".into(),
            history,
            view: pb::AssessmentView::Unspecified.into(),
        }
    };
    let status = client
        .assess_batch(with_token(tokio_stream::iter(vec![record()]), None))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let wrong_scope = f.es256.token(&api_claims("system/other"));
    let status = client
        .assess_batch(with_token(
            tokio_stream::iter(vec![record()]),
            Some(&wrong_scope),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    let token = f.rs256.token(&api_claims(SCOPE));
    let mut answers = client
        .assess_batch(with_token(
            tokio_stream::iter(vec![record(), record()]),
            Some(&token),
        ))
        .await
        .unwrap()
        .into_inner();
    let mut ids = Vec::new();
    while let Some(answer) = answers.message().await.unwrap() {
        ids.push(answer.record_id);
    }
    assert_eq!(ids, ["b1", "b1"]);
    let kb = client
        .get_knowledge_base(with_token(
            pb::GetKnowledgeBaseRequest::default(),
            Some(&token),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(kb.knowledge_base.is_some_and(|kb| !kb.rules.is_empty()));
    f.app.stop().await;
}

#[tokio::test]
async fn health_and_reflection_need_no_token() {
    let f = fixture().await;
    let channel = f.app.channel().await;
    assert_eq!(
        health(channel.clone(), "").await.unwrap(),
        ServingStatus::Serving
    );
    assert_eq!(
        health(channel.clone(), "cramp.v1.CrampAssessmentService")
            .await
            .unwrap(),
        ServingStatus::Serving
    );
    let services = list_services_v1(channel).await.unwrap();
    assert!(
        services
            .iter()
            .any(|s| s == "cramp.v1.CrampAssessmentService"),
        "{services:?}"
    );
    f.app.stop().await;
}

async fn fhir_assess(app: &TestApp, token: Option<&str>) -> Answer {
    let http = app.http();
    let body = parameters(
        &questionnaire_response(&json!({"patient": {"age_years": 61}}), "qr-auth", true),
        &[],
    );
    let mut request = http
        .client()
        .post(http.url(ASSESS))
        .header(reqwest::header::CONTENT_TYPE, "application/fhir+json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, bearer(token));
    }
    http.send(request).await
}

#[tokio::test]
async fn fhir_cramp_assess_answers_401_403_or_the_bundle() {
    let f = fixture().await;
    let answer = fhir_assess(&f.app, None).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert!(answer.text.is_empty());
    assert_eq!(answer.headers[WWW_AUTHENTICATE], "Bearer");

    let mut wrong_audience = api_claims(SCOPE);
    wrong_audience["aud"] = json!("https://cds.example.org/fhir/$cramp-assess");
    let answer = fhir_assess(&f.app, Some(&f.es256.token(&wrong_audience))).await;
    assert_eq!(answer.status, 401);
    assert!(answer.text.is_empty());

    let answer = fhir_assess(&f.app, Some(&f.es256.token(&api_claims("openid")))).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    assert!(answer.text.is_empty());
    assert_eq!(
        answer.headers[WWW_AUTHENTICATE],
        format!("Bearer error=\"insufficient_scope\", scope=\"{SCOPE}\"")
    );

    let answer = fhir_assess(&f.app, Some(&f.rs256.token(&api_claims(SCOPE)))).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["resourceType"], "Bundle");
    f.app.stop().await;
}

#[tokio::test]
async fn metadata_the_questionnaire_and_about_need_no_token() {
    let f = fixture().await;
    for path in [
        "/fhir/metadata",
        "/fhir/Questionnaire/cramp-intake",
        "/about",
    ] {
        let answer = f.app.http().get(path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
    }
    f.app.stop().await;
}

#[test]
fn api_tokens_never_reach_the_logs() {
    let mut tokens = Vec::new();
    let logs = capture_trace_logs(|| async {
        let f = fixture().await;
        let good = f.es256.token(&api_claims(SCOPE));
        let unscoped = f.rs256.token(&api_claims("openid"));
        let mut expired = api_claims(SCOPE);
        expired["exp"] = json!(unix_now() - 600);
        let expired = f.es256.token(&expired);
        assess(&f.app, Some(&good)).await.unwrap();
        assert_eq!(fhir_assess(&f.app, Some(&good)).await.status, 200);
        assess(&f.app, Some(&unscoped)).await.unwrap_err();
        assert_eq!(fhir_assess(&f.app, Some(&expired)).await.status, 401);
        tokens.extend([good, unscoped, expired]);
        f.app.stop().await;
    });
    assert_eq!(tokens.len(), 3);
    for token in &tokens {
        for part in [token.as_str(), token.rsplit('.').next().unwrap()] {
            assert!(!logs.contains(part), "a token part reached the logs");
        }
    }
    for expected in ["insufficient_scope", "expired", ISSUER] {
        assert!(logs.contains(expected), "{expected} is not in the logs");
    }
}

/// The error `Application::build` stops with, and its causes, as `main` prints them.
async fn start_up_error(settings: &Settings) -> String {
    let err: ServerError = Application::build(settings).await.unwrap_err();
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

#[tokio::test]
async fn start_up_fails_on_an_unusable_auth_section_naming_the_key() {
    let jwks_server = JwksServer::start().await;
    let mut no_issuers = settings(&jwks_server);
    no_issuers.auth.cds_hooks.issuers.clear();
    assert!(
        start_up_error(&no_issuers)
            .await
            .contains("auth.cds_hooks.issuers")
    );

    let mut missing_file = settings(&jwks_server);
    missing_file.auth.api.jwks_url = None;
    missing_file.auth.api.jwks_file = Some("/nonexistent/api-jwks.json".into());
    let err = start_up_error(&missing_file).await;
    assert!(err.contains("auth.api.jwks_file"), "{err}");
    assert!(err.contains("/nonexistent/api-jwks.json"), "{err}");

    let mut plain_http_in_production = settings(&jwks_server);
    plain_http_in_production.http.production = true;
    let err = start_up_error(&plain_http_in_production).await;
    assert!(err.contains("auth.cds_hooks.issuers[0].jwks_url"), "{err}");
    assert!(err.contains("https"), "{err}");
}

#[test]
fn a_client_certificate_stands_in_for_a_token_and_both_identities_reach_the_audit_trail() {
    let logs = crate::helpers::capture_trace_logs(|| async {
        let jwks_server = JwksServer::start().await;
        let signer = Signer::es256("api-ec-audit");
        jwks_server.publish("/api.json", jwks(&[&signer]));
        let pki = crate::pki::Pki::new();
        let mut settings = settings(&jwks_server);
        settings.auth.api.accept_client_certificates = true;
        // Client certificates optional: token callers need none.
        pki.enable(&mut settings, true, false);
        let app = spawn_app_at(settings, Some(now())).await;

        // A verified client certificate and no token: served, as the certificate's subject.
        let worker = pki.leaf("intake-worker", false);
        let channel = pki.grpc_channel(app.addr, Some(&worker)).await.unwrap();
        pb::cramp_assessment_service_client::CrampAssessmentServiceClient::new(channel)
            .assess(with_token(minimal_request("by-certificate"), None))
            .await
            .expect("a client certificate stands in for a token");

        // The same over the HTTP door ($cramp-assess) is covered by the layer; here the TLS
        // connection without a certificate and without a token is refused.
        let anonymous = pki.grpc_channel(app.addr, None).await.unwrap();
        let refused = pb::cramp_assessment_service_client::CrampAssessmentServiceClient::new(
            anonymous.clone(),
        )
        .assess(with_token(minimal_request("nobody"), None))
        .await
        .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");

        // A token caller over TLS without a certificate: served, as iss|client.
        let token = signer.token(&api_claims(SCOPE));
        pb::cramp_assessment_service_client::CrampAssessmentServiceClient::new(anonymous)
            .assess(with_token(minimal_request("by-token"), Some(&token)))
            .await
            .expect("token accepted");
        app.stop().await;
    });
    let audit: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "audit")
        .collect();
    assert_eq!(
        audit.len(),
        2,
        "refused-by-auth calls are not assessments: {audit:#?}"
    );
    assert_eq!(audit[0]["fields"]["entity.request"], "by-certificate");
    assert_eq!(audit[0]["fields"]["agent.who"], "CN=intake-worker");
    assert_eq!(audit[0]["fields"]["agent.method"], "mtls");
    assert_eq!(audit[1]["fields"]["entity.request"], "by-token");
    assert_eq!(audit[1]["fields"]["agent.method"], "jwt");
    let who = audit[1]["fields"]["agent.who"].as_str().unwrap();
    assert!(who.starts_with(ISSUER), "{who}");
}
