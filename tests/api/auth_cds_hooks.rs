//! CDS Hooks authentication (integration.md §1.5, §6.5 "Auth"), over real HTTP against the real
//! server, with keys published by a real JWKS server on loopback: valid ES384 and RS384 tokens
//! open discovery, services and feedback; every failure is a bare 401; keys rotate; unknown
//! `kid`s cannot make the service hammer the EHR; the token never reaches a log.

use jsonwebtoken::Algorithm;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::{
    auth_support::{
        JwksServer, Signer, bearer, claims, hs256_token, jwks, unix_now, unsigned_token,
    },
    fhir_convert::{hook_request, now, prefetch},
    helpers::{ALLOWED_ORIGIN, BASE_URL, TestApp, capture_trace_logs, spawn_app_at, test_settings},
    http_support::Answer,
};
use cramp_cds::auth::IssuerSettings;

/// The allow-listed EHR: keys at `/ehr.json`, or at the allowed `jku` `/jku.json`.
const EHR: &str = "https://ehr.example.org";
/// A second EHR whose keys come from a file and whose tokens must name tenant `tenant-a`.
const TENANT_EHR: &str = "https://tenant-ehr.example.org";

const DISCOVERY: &str = "/cds-services";
const SERVICE: &str = "/cds-services/leg-cramp-screen";
const FEEDBACK: &str = "/cds-services/leg-cramp-screen/feedback";

/// The exact URL a token for `path` must name in `aud`.
fn url(path: &str) -> String {
    format!("{BASE_URL}{path}")
}

/// The running server, its JWKS server and the keys the EHRs publish.
struct Fixture {
    app: TestApp,
    jwks: JwksServer,
    es384: Signer,
    rs384: Signer,
    jku_key: Signer,
    tenant_key: Signer,
    /// Keeps the tenant EHR's JWKS file alive.
    _jwks_file: tempfile::NamedTempFile,
}

/// Starts the JWKS server and the app with auth on and `refresh_interval` between refreshes.
async fn fixture(refresh_interval: u64) -> Fixture {
    let jwks_server = JwksServer::start().await;
    let es384 = Signer::es384("ehr-ec-1");
    let rs384 = Signer::rsa("ehr-rsa-1", Algorithm::RS384);
    let jku_key = Signer::es384("ehr-jku-1");
    let tenant_key = Signer::es384("tenant-ec-1");
    jwks_server.publish("/ehr.json", jwks(&[&es384, &rs384]));
    jwks_server.publish("/jku.json", jwks(&[&jku_key]));
    let jwks_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(jwks_file.path(), jwks(&[&tenant_key]).to_string()).unwrap();

    let mut settings = test_settings();
    settings.auth.enabled = true;
    settings.auth.jwks_refresh_min_interval_seconds = refresh_interval;
    settings.auth.cds_hooks.issuers = vec![
        IssuerSettings {
            iss: EHR.into(),
            jwks_url: Some(jwks_server.url("/ehr.json")),
            allowed_jku: vec![jwks_server.url("/jku.json")],
            ..IssuerSettings::default()
        },
        IssuerSettings {
            iss: TENANT_EHR.into(),
            jwks_file: Some(jwks_file.path().to_owned()),
            tenants: vec!["tenant-a".into()],
            ..IssuerSettings::default()
        },
    ];
    // The API door is not under test here; certificates keep its section valid.
    settings.auth.api.accept_client_certificates = true;
    Fixture {
        app: spawn_app_at(settings, Some(now())).await,
        jwks: jwks_server,
        es384,
        rs384,
        jku_key,
        tenant_key,
        _jwks_file: jwks_file,
    }
}

/// A valid body for `path` (discovery has none).
fn body(path: &str) -> Option<Value> {
    match path {
        SERVICE => Some(hook_request(
            "patient-view",
            &prefetch(&json!({"patient": {"age_years": 61}}), true),
        )),
        FEEDBACK => Some(
            json!({"feedback": [{"card": uuid::Uuid::new_v4().to_string(),
            "outcome": "overridden", "outcomeTimestamp": "2026-06-15T12:01:00Z"}]}),
        ),
        _ => None,
    }
}

/// Calls `path` (GET discovery, POST the others) with `authorization` as the header, if any.
async fn call(app: &TestApp, path: &str, authorization: Option<&str>) -> Answer {
    let http = app.http();
    let mut request = match body(path) {
        Some(body) => http
            .client()
            .post(http.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string()),
        None => http.client().get(http.url(path)),
    };
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    http.send(request).await
}

/// Calls `path` with `token`.
async fn call_with(app: &TestApp, path: &str, token: &str) -> Answer {
    call(app, path, Some(&bearer(token))).await
}

/// A bare 401: no body, a `Bearer` challenge, nothing about why.
fn assert_refused(answer: &Answer, case: &str) {
    assert_eq!(answer.status, 401, "{case}: {}", answer.text);
    assert!(answer.text.is_empty(), "{case}: body {:?}", answer.text);
    assert_eq!(answer.headers[WWW_AUTHENTICATE], "Bearer", "{case}");
}

fn assert_accepted(answer: &Answer, case: &str) {
    assert_eq!(answer.status, 200, "{case}: {}", answer.text);
}

#[tokio::test]
async fn valid_es384_and_rs384_tokens_open_discovery_services_and_feedback() {
    let f = fixture(60).await;
    for signer in [&f.es384, &f.rs384] {
        for path in [DISCOVERY, SERVICE, FEEDBACK] {
            let token = signer.token(&claims(EHR, &url(path)));
            let answer = call_with(&f.app, path, &token).await;
            assert_accepted(&answer, &format!("{:?} {path}", signer.alg));
        }
    }
    let discovery = call_with(
        &f.app,
        DISCOVERY,
        &f.es384.token(&claims(EHR, &url(DISCOVERY))),
    )
    .await;
    assert!(discovery.body["services"].is_array(), "{}", discovery.text);
    let cards = call_with(&f.app, SERVICE, &f.rs384.token(&claims(EHR, &url(SERVICE)))).await;
    assert!(cards.body["cards"].is_array(), "{}", cards.text);

    // `aud` may be an array holding the URL.
    let mut token_claims = claims(EHR, "");
    token_claims["aud"] = json!(["https://elsewhere.example.org", url(SERVICE)]);
    let answer = call_with(&f.app, SERVICE, &f.es384.token(&token_claims)).await;
    assert_accepted(&answer, "aud array");

    // Keys from an allow-listed `jku`, and from a JWKS file with an allowed tenant.
    let jku = f.jwks.url("/jku.json");
    let token = f
        .jku_key
        .token_with(&claims(EHR, &url(SERVICE)), |h| h.jku = Some(jku));
    assert_accepted(&call_with(&f.app, SERVICE, &token).await, "allowed jku");
    let mut tenant_claims = claims(TENANT_EHR, &url(SERVICE));
    tenant_claims["tenant"] = json!("tenant-a");
    let token = f.tenant_key.token(&tenant_claims);
    assert_accepted(&call_with(&f.app, SERVICE, &token).await, "allowed tenant");
    f.app.stop().await;
}

/// One failing case: what it is, the reason code the log must give, the path called and the
/// `Authorization` header sent.
struct Case {
    name: &'static str,
    reason: &'static str,
    path: &'static str,
    authorization: Option<String>,
}

fn case(
    name: &'static str,
    reason: &'static str,
    path: &'static str,
    authorization: Option<String>,
) -> Case {
    Case {
        name,
        reason,
        path,
        authorization,
    }
}

/// A token by `signer` for `path` after `edit` changes the valid claims.
fn edited(signer: &Signer, path: &str, edit: impl FnOnce(&mut Value)) -> Option<String> {
    let mut token_claims = claims(EHR, &url(path));
    edit(&mut token_claims);
    Some(bearer(&signer.token(&token_claims)))
}

fn without(claim: &'static str) -> impl FnOnce(&mut Value) {
    move |c: &mut Value| drop(c.as_object_mut().unwrap().remove(claim))
}

/// The reason codes of the refusals in `logs` (JSON lines), in order.
fn refusal_reasons(logs: &str) -> Vec<String> {
    logs.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "request refused by authentication")
        .filter_map(|line| line["fields"]["reason"].as_str().map(str::to_owned))
        .collect()
}

/// Every §6.5 failure (and the other rules) over real HTTP: a bare 401 each time, refused for
/// the intended reason (the log's code), while valid tokens on the same routes pass.
#[test]
fn every_bad_token_is_a_bare_401_for_its_own_reason() {
    let mut expected = Vec::new();
    let logs = capture_trace_logs(|| async {
        let f = fixture(60).await;
        let now = unix_now();
        let es = &f.es384;
        let valid = claims(EHR, &url(SERVICE));
        let published_es256 = Signer::es256("ehr-ec-256");
        // Published, so only the algorithm rule can refuse it.
        f.jwks
            .publish("/ehr.json", jwks(&[&f.es384, &f.rs384, &published_es256]));
        let impostor = Signer::es384(&es.kid);
        let rogue_jku = Some("https://rogue.example.org/jwks.json".to_owned());
        let tenant_token = |edit: fn(&mut Value)| {
            let mut token_claims = claims(TENANT_EHR, &url(SERVICE));
            edit(&mut token_claims);
            Some(bearer(&f.tenant_key.token(&token_claims)))
        };
        let cases = [
            case("no header on discovery", "no_token", DISCOVERY, None),
            case("no header on a service", "no_token", SERVICE, None),
            case("no header on feedback", "no_token", FEEDBACK, None),
            case(
                "another scheme",
                "malformed",
                SERVICE,
                Some("Basic ZWhyOnNlY3JldA==".into()),
            ),
            case("not a JWT", "malformed", SERVICE, Some(bearer("not-a-jwt"))),
            case(
                "alg none",
                "alg_not_allowed",
                SERVICE,
                Some(bearer(&unsigned_token(&es.kid, &valid))),
            ),
            case(
                "HS256",
                "alg_not_allowed",
                SERVICE,
                Some(bearer(&hs256_token(&es.kid, &valid))),
            ),
            case(
                "ES256",
                "alg_not_allowed",
                SERVICE,
                Some(bearer(&published_es256.token(&valid))),
            ),
            case(
                "a service URL's token on discovery",
                "aud_mismatch",
                DISCOVERY,
                edited(es, SERVICE, |_| {}),
            ),
            case(
                "discovery's token on a service",
                "aud_mismatch",
                SERVICE,
                edited(es, DISCOVERY, |_| {}),
            ),
            case(
                "another service's URL",
                "aud_mismatch",
                SERVICE,
                edited(es, "/cds-services/leg-cramp-med-check", |_| {}),
            ),
            case(
                "aud is the path, not a URL",
                "aud_mismatch",
                SERVICE,
                edited(es, SERVICE, |c| c["aud"] = json!(SERVICE)),
            ),
            case(
                "feedback with the service URL",
                "aud_mismatch",
                FEEDBACK,
                edited(es, SERVICE, |_| {}),
            ),
            case(
                "expired",
                "expired",
                SERVICE,
                edited(es, SERVICE, |c| {
                    c["iat"] = json!(now - 600);
                    c["exp"] = json!(now - 300);
                }),
            ),
            case(
                "iat in the future",
                "iat_in_future",
                SERVICE,
                edited(es, SERVICE, |c| c["iat"] = json!(now + 600)),
            ),
            case(
                "no iat",
                "iat_missing",
                SERVICE,
                edited(es, SERVICE, without("iat")),
            ),
            case(
                "no exp",
                "claim_missing",
                SERVICE,
                edited(es, SERVICE, without("exp")),
            ),
            case(
                "no jti",
                "jti_missing",
                SERVICE,
                edited(es, SERVICE, without("jti")),
            ),
            case(
                "outlives the replay window",
                "lifetime_too_long",
                SERVICE,
                edited(es, SERVICE, |c| c["exp"] = json!(now + 7200)),
            ),
            case(
                "iss not allow-listed",
                "iss_not_allowed",
                SERVICE,
                edited(es, SERVICE, |c| {
                    c["iss"] = json!("https://rogue.example.org")
                }),
            ),
            case(
                "no iss",
                "iss_not_allowed",
                SERVICE,
                edited(es, SERVICE, without("iss")),
            ),
            case(
                "jku not allow-listed",
                "jku_not_allowed",
                SERVICE,
                Some(bearer(&f.jku_key.token_with(&valid, |h| h.jku = rogue_jku))),
            ),
            case(
                "no kid",
                "kid_missing",
                SERVICE,
                Some(bearer(&es.token_with(&valid, |h| h.kid = None))),
            ),
            case(
                "typ not JWT",
                "typ_not_allowed",
                SERVICE,
                Some(bearer(
                    &es.token_with(&valid, |h| h.typ = Some("at+jwt".into())),
                )),
            ),
            case(
                "another key under a published kid",
                "bad_signature",
                SERVICE,
                Some(bearer(&impostor.token(&valid))),
            ),
            case(
                "RS384 over an EC key's kid",
                "key_alg_mismatch",
                SERVICE,
                Some(bearer(
                    &f.rs384.token_with(&valid, |h| h.kid = Some(es.kid.clone())),
                )),
            ),
            case(
                "tenant not allowed",
                "tenant_not_allowed",
                SERVICE,
                tenant_token(|c| c["tenant"] = json!("tenant-b")),
            ),
            case(
                "no tenant where tenants are listed",
                "tenant_not_allowed",
                SERVICE,
                tenant_token(|_| {}),
            ),
        ];
        for case in &cases {
            let answer = call(&f.app, case.path, case.authorization.as_deref()).await;
            assert_refused(&answer, case.name);
            expected.push(case.reason);
        }
        // Valid tokens on the same routes pass, so each refusal above was the token's fault.
        for path in [DISCOVERY, SERVICE, FEEDBACK] {
            let answer = call_with(&f.app, path, &es.token(&claims(EHR, &url(path)))).await;
            assert_accepted(&answer, path);
        }
        f.app.stop().await;
    });
    assert_eq!(refusal_reasons(&logs), expected);
}

#[tokio::test]
async fn a_replayed_jti_is_refused() {
    let f = fixture(60).await;
    let token = f.es384.token(&claims(EHR, &url(SERVICE)));
    assert_accepted(&call_with(&f.app, SERVICE, &token).await, "first use");
    assert_refused(
        &call_with(&f.app, SERVICE, &token).await,
        "the same token again",
    );

    // A new token reusing the jti is a replay too, even on another route.
    let mut reused = claims(EHR, &url(DISCOVERY));
    reused["jti"] =
        json!(jsonwebtoken::dangerous::insecure_decode_claims::<Value>(&token).unwrap()["jti"]);
    assert_refused(
        &call_with(&f.app, DISCOVERY, &f.rs384.token(&reused)).await,
        "reused jti",
    );
    f.app.stop().await;
}

#[tokio::test]
async fn rotated_keys_are_fetched_once_and_unknown_kids_cannot_force_refreshes() {
    // An hour between refreshes: only the first load and one refresh can happen in this test.
    let f = fixture(3600).await;
    let token = |signer: &Signer| signer.token(&claims(EHR, &url(SERVICE)));
    assert_accepted(
        &call_with(&f.app, SERVICE, &token(&f.es384)).await,
        "first key",
    );
    assert_eq!(f.jwks.hits("/ehr.json"), 1, "loaded on first use");
    assert_accepted(
        &call_with(&f.app, SERVICE, &token(&f.rs384)).await,
        "cached",
    );
    assert_eq!(f.jwks.hits("/ehr.json"), 1, "served from the cache");

    // The EHR rotates: a new key with a new kid, the old one withdrawn.
    let rotated = Signer::es384("ehr-ec-2");
    f.jwks.publish("/ehr.json", jwks(&[&rotated]));
    assert_accepted(
        &call_with(&f.app, SERVICE, &token(&rotated)).await,
        "rotated key",
    );
    assert_eq!(f.jwks.hits("/ehr.json"), 2, "one refresh found the new kid");
    assert_refused(
        &call_with(&f.app, SERVICE, &token(&f.es384)).await,
        "withdrawn key",
    );

    // Random kids now get no refresh: the EHR is not hammered.
    for i in 0..5 {
        let stranger = Signer::es384(&format!("random-{i}"));
        assert_refused(
            &call_with(&f.app, SERVICE, &token(&stranger)).await,
            "random kid",
        );
    }
    assert_eq!(f.jwks.hits("/ehr.json"), 2, "refreshes are rate-limited");

    // A kid still absent after its one refresh is refused (the allowed jku's set, fresh).
    let jku = f.jwks.url("/jku.json");
    let jku_token = |signer: &Signer| {
        let jku = jku.clone();
        signer.token_with(&claims(EHR, &url(SERVICE)), |h| h.jku = Some(jku))
    };
    assert_accepted(
        &call_with(&f.app, SERVICE, &jku_token(&f.jku_key)).await,
        "jku key",
    );
    assert_eq!(f.jwks.hits("/jku.json"), 1);
    let ghost = Signer::es384("ghost");
    assert_refused(
        &call_with(&f.app, SERVICE, &jku_token(&ghost)).await,
        "absent after refresh",
    );
    assert_eq!(
        f.jwks.hits("/jku.json"),
        2,
        "refreshed once for the unknown kid"
    );
    f.jwks.publish("/jku.json", jwks(&[&f.jku_key, &ghost]));
    assert_refused(
        &call_with(&f.app, SERVICE, &jku_token(&ghost)).await,
        "within the interval",
    );
    assert_eq!(
        f.jwks.hits("/jku.json"),
        2,
        "no second refresh within the interval"
    );
    f.app.stop().await;
}

#[tokio::test]
async fn a_preflight_needs_no_token_and_a_refusal_still_answers_cors() {
    let f = fixture(60).await;
    let http = f.app.http();
    let preflight = http
        .send(
            http.client()
                .request(reqwest::Method::OPTIONS, http.url(SERVICE))
                .header("Origin", ALLOWED_ORIGIN)
                .header("Access-Control-Request-Method", "POST")
                .header(
                    "Access-Control-Request-Headers",
                    "authorization,content-type",
                ),
        )
        .await;
    assert_eq!(preflight.status, 200, "{}", preflight.text);
    assert_eq!(
        preflight.headers["access-control-allow-origin"],
        ALLOWED_ORIGIN
    );
    let refused = http
        .send(
            http.client()
                .get(http.url(DISCOVERY))
                .header("Origin", ALLOWED_ORIGIN),
        )
        .await;
    assert_refused(&refused, "no token from a browser");
    assert_eq!(
        refused.headers["access-control-allow-origin"],
        ALLOWED_ORIGIN
    );
    f.app.stop().await;
}

#[test]
fn tokens_never_reach_the_logs_but_reasons_and_claims_do() {
    let mut tokens = Vec::new();
    let logs = capture_trace_logs(|| async {
        let f = fixture(60).await;
        let good = f.es384.token(&claims(EHR, &url(SERVICE)));
        assert_accepted(&call_with(&f.app, SERVICE, &good).await, "valid");
        assert_refused(&call_with(&f.app, SERVICE, &good).await, "replayed");
        let mut wrong_aud = claims(EHR, &url(DISCOVERY));
        wrong_aud["jti"] = json!("zzqx-jti-wrong-aud");
        let bad = f.rs384.token(&wrong_aud);
        assert_refused(&call_with(&f.app, SERVICE, &bad).await, "aud");
        let stranger = Signer::es384("zzqx-unknown-kid").token(&claims(EHR, &url(SERVICE)));
        assert_refused(&call_with(&f.app, SERVICE, &stranger).await, "kid");
        tokens.extend([good, bad, stranger]);
        f.app.stop().await;
    });
    assert!(!tokens.is_empty());
    for token in &tokens {
        let signature = token.rsplit('.').next().unwrap();
        let payload = token.split('.').nth(1).unwrap();
        for secret in [token.as_str(), signature, payload] {
            assert!(!logs.contains(secret), "a token part reached the logs");
        }
    }
    for expected in [
        "jti_replayed",
        "aud_mismatch",
        "kid_unknown",
        "zzqx-jti-wrong-aud",
        EHR,
    ] {
        assert!(logs.contains(expected), "{expected} is not in the logs");
    }
}
