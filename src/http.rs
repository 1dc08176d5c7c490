//! The HTTP door: CDS Hooks, the FHIR operation, the Questionnaire and `/about`, on one axum
//! router beside the gRPC listener.
//!
//! Adapters only: every assessment goes through [`crate::assess::Assessor`]. This module wires the
//! routes, CORS (an allow-list that echoes origins, never `*`), a log span per request that names
//! the route and never the body, and the clock: the request time is the one date any door reads
//! (for ages from birth dates), injected here so tests can fix it.

pub mod about;
pub mod cds_hooks;
pub mod fhir;
pub mod fhir_server;

use std::{sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{HeaderValue, Method, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Serialize;
use time::OffsetDateTime;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument as _;

use crate::{config::HttpSettings, status::HttpError};

/// `Content-Type` of CDS Hooks (plain JSON) bodies.
pub const JSON: &str = "application/json";

/// The request clock: the one place the service reads the date.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl Clock {
    /// The system clock (UTC).
    #[must_use]
    pub fn system() -> Self {
        Self(Arc::new(OffsetDateTime::now_utc))
    }

    /// A clock stopped at `at` (tests: ages from birth dates stay stable).
    #[must_use]
    pub fn fixed(at: OffsetDateTime) -> Self {
        Self(Arc::new(move || at))
    }

    /// Now, to the second.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        let now = (self.0)();
        now.replace_nanosecond(0).unwrap_or(now)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// What every HTTP handler shares; immutable.
#[derive(Debug)]
pub struct HttpState {
    /// The one assessor: the rule set and the audit trail every assessment is recorded in.
    pub assessor: crate::assess::Assessor,
    /// Base URL, origins, production mode.
    pub settings: HttpSettings,
    /// The request clock.
    pub clock: Clock,
    /// The global call limit (shared with gRPC), body size and deadline.
    pub limiter: crate::limits::Limiter,
    /// Guards the CDS Hooks routes and `$cramp-assess` (a no-op when authentication is off).
    pub auth: crate::auth::Authenticator,
    /// Fetches from a CDS Hooks `fhirServer` what a call's prefetch left out.
    pub fhir_server: fhir_server::FhirServerClient,
    /// The value sets chart codes are read by (built once at startup).
    pub value_sets: Arc<crate::fhir::valuesets::ValueSets>,
}

impl HttpState {
    /// `{base_url}{path}`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url)
    }
}

/// Shared state as handlers receive it.
pub type State = axum::extract::State<Arc<HttpState>>;

/// The HTTP router with CORS and request spans.
pub fn router(state: Arc<HttpState>) -> Router {
    let cors = cors(
        &state.settings.allowed_origins,
        &[header::AUTHORIZATION, header::CONTENT_TYPE],
        &[],
    );
    // Authentication is opt-in per route: routes without a layer (metadata, the Questionnaire,
    // `/about`) stay open.
    let (cds_auth, api_auth) = (state.auth.cds_hooks_layer(), state.auth.api_layer());
    Router::new()
        .route(
            "/cds-services",
            get(cds_hooks::discovery).route_layer(cds_auth.clone()),
        )
        .route(
            "/cds-services/{id}",
            post(cds_hooks::call)
                .layer(middleware::from_fn(json_body))
                .route_layer(cds_auth.clone()),
        )
        .route(
            "/cds-services/{id}/feedback",
            post(cds_hooks::feedback)
                .layer(middleware::from_fn(json_body))
                .route_layer(cds_auth),
        )
        .route(
            "/fhir/$cramp-assess",
            post(fhir::cramp_assess)
                .layer(middleware::from_fn(json_body))
                .route_layer(api_auth),
        )
        .route("/fhir/metadata", get(fhir::metadata))
        .route("/fhir/Questionnaire/cramp-intake", get(fhir::questionnaire))
        .route(
            "/fhir/Questionnaire/cramp-intake-clinician",
            get(fhir::clinician_questionnaire),
        )
        .route("/fhir/CodeSystem/cramp-intake", get(fhir::code_system))
        .route(
            "/fhir/OperationDefinition/cramp-assess",
            get(fhir::operation_definition),
        )
        .route("/about", get(about::about))
        .route("/metrics", get(crate::telemetry::metrics::scrape))
        .route(
            crate::limits::READY_PATH,
            get(|state: State| async move { crate::limits::readiness(&state.limiter) }),
        )
        .fallback(|| async { HttpError::NotFound })
        .method_not_allowed_fallback(|| async { HttpError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.limiter.clone(),
            crate::limits::http_limits,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.limiter.max_http_body(),
        ))
        .with_state(state)
        .layer(cors)
        .layer(middleware::from_fn(client_certificate))
        .layer(middleware::from_fn(span))
}

/// CORS for an allow-list of origins: each allowed origin is echoed, others get no CORS headers,
/// and credentials are never combined with a wildcard (none is ever sent).
pub fn cors(
    origins: &[String],
    headers: &[header::HeaderName],
    expose: &[header::HeaderName],
) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(headers.to_vec())
        .expose_headers(expose.to_vec())
        .vary([header::ORIGIN])
}

/// Hands a verified TLS client certificate of the connection to the request, in the same shape
/// the gRPC port uses, for the authentication layer.
async fn client_certificate(mut request: Request, next: Next) -> Response {
    let certificate = request
        .extensions()
        .get::<axum::extract::ConnectInfo<crate::tls::PeerInfo>>()
        .and_then(|info| info.0.client_certificate.clone());
    if let Some(certificate) = certificate {
        request.extensions_mut().insert(certificate);
    }
    next.run(request).await
}

/// One span per request, named by the route template (never the path's values or the body), a
/// child of the caller's span when a `traceparent` header names one, and the request's duration
/// metric ([`crate::telemetry::http`]).
async fn span(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let call = crate::telemetry::http::HttpCall::start(request.method(), route, request.headers());
    let started = Instant::now();
    let span = call.span().clone();
    async move {
        let response = next.run(request).await;
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "answered"
        );
        call.finish(response.status());
        response
    }
    .instrument(span)
    .await
}

/// Refuses a body not declared as JSON with 415 before it is read: a form, XML or plain text
/// sent by mistake is named as such instead of failing as malformed JSON (or, worse, parsing).
/// Inside authentication, so an unauthenticated caller learns nothing new.
async fn json_body(request: Request, next: Next) -> Response {
    let declared_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(is_json_media_type);
    if declared_json {
        next.run(request).await
    } else {
        HttpError::UnsupportedMediaType.into_response()
    }
}

/// `application/json` or `application/<anything>+json` (FHIR's `application/fhir+json`), any
/// case, with or without parameters (`; charset=utf-8`).
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let subtype = subtype.to_ascii_lowercase();
    kind.eq_ignore_ascii_case("application") && (subtype == "json" || subtype.ends_with("+json"))
}

/// A 200 JSON answer with `content_type`.
pub fn json<T: Serialize>(value: &T, content_type: &'static str) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(_) => {
            tracing::error!("cannot serialize a response");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_json_and_nothing_else_is() {
        for yes in [
            "application/json",
            "application/fhir+json",
            "Application/JSON; charset=utf-8",
            "application/fhir+json;fhirVersion=4.0",
        ] {
            assert!(is_json_media_type(yes), "{yes}");
        }
        for no in [
            "",
            "text/plain",
            "application/xml",
            "application/fhir+xml",
            "text/json",
            "application/x-www-form-urlencoded",
            "json",
        ] {
            assert!(!is_json_media_type(no), "{no}");
        }
    }
}
