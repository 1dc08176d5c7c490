//! The doors the server composes, each built in one function from the parts it needs, and each
//! returning the future that serves it until the [`Shutdown`] it was given says stop.
//!
//! A new door is one more function here and one `shutdown.door(..)` line in
//! [`super::Application::run_until_stopped`].

use std::{sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tonic::transport::{Server, server::TcpIncoming};
use tonic_health::pb::health_server::{Health, HealthServer};

use super::{Parts, ServerError, shutdown::Shutdown};
use crate::{
    assess::Assessor,
    grpc::AssessmentService,
    http::HttpState,
    limits::{GrpcLimitLayer, seconds_or_off},
    pb,
    tls::{ClientCertificateLayer, HttpListener},
};

/// The gRPC port: the API (authenticated), health, reflection when enabled, and gRPC-Web for
/// browser intake forms, behind the telemetry, client-certificate and call-limit layers.
///
/// # Errors
/// [`ServerError::Reflection`] or [`ServerError::Serve`] (TLS configuration) before serving.
pub(super) fn grpc<H: Health>(
    parts: &Parts,
    listener: TcpListener,
    health: HealthServer<H>,
    shutdown: &Shutdown,
) -> Result<impl Future<Output = Result<(), ServerError>> + Send + 'static, ServerError> {
    let Parts {
        settings,
        kb,
        http,
        batch_limits,
        batch_gauge,
        tls,
        limits,
        limiter,
        audit,
        auth,
        clock: _,
        fhir_server: _,
        value_sets: _,
    } = parts;
    let (reflection_v1, reflection_v1alpha) = if settings.reflection {
        let v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        (Some(v1), Some(v1alpha))
    } else {
        (None, None)
    };
    // gRPC-Web (HTTP/1.1) for browser intake forms, with CORS from the same allow-list.
    let grpc_web_cors = crate::http::cors(
        &http.allowed_origins,
        &[
            axum::http::header::CONTENT_TYPE,
            // A browser form calls with its token and its trace (issue 13).
            axum::http::header::AUTHORIZATION,
            axum::http::HeaderName::from_static("traceparent"),
            axum::http::HeaderName::from_static("x-grpc-web"),
            axum::http::HeaderName::from_static("x-user-agent"),
            axum::http::HeaderName::from_static("grpc-timeout"),
        ],
        &[
            axum::http::HeaderName::from_static("grpc-status"),
            axum::http::HeaderName::from_static("grpc-message"),
            axum::http::HeaderName::from_static("grpc-status-details-bin"),
        ],
    );
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls.grpc.clone())?;
    }
    let router = builder
        .accept_http1(true)
        .tcp_keepalive(seconds_or_off(limits.tcp_keepalive_seconds))
        .http2_keepalive_interval(seconds_or_off(limits.http2_keepalive_interval_seconds))
        .http2_keepalive_timeout(seconds_or_off(limits.http2_keepalive_timeout_seconds))
        .max_concurrent_streams(Some(limits.max_concurrent_streams))
        // Fixed windows, the connection's far larger than a stream's: see
        // `LimitsSettings::check` (hyper's adaptive window grows both alike).
        .initial_stream_window_size(limits.http2_stream_window_bytes.get())
        .initial_connection_window_size(limits.http2_connection_window_bytes.get())
        .http2_max_pending_accept_reset_streams(Some(limits.http2_max_pending_accept_reset_streams))
        .http2_max_local_error_reset_streams(Some(limits.http2_max_local_error_reset_streams))
        .max_connection_age(
            seconds_or_off(limits.max_connection_age_seconds).unwrap_or(Duration::MAX),
        )
        .max_connection_age_grace(Duration::from_secs(limits.max_connection_age_grace_seconds))
        .layer(grpc_web_cors)
        .layer(tower::util::MapRequestLayer::new(grpc_web_text_accept))
        .layer(tonic_web::GrpcWebLayer::new())
        // A server span per call (the caller's trace continued) and RPC metrics; inside
        // gRPC-Web so browser calls count as gRPC, outside the limits so refused calls count
        // too. Nothing from the message reaches either.
        .layer(crate::telemetry::grpc::GrpcTelemetryLayer)
        .layer(ClientCertificateLayer::default())
        .layer(GrpcLimitLayer::new(limiter.clone()))
        .add_service(health)
        .add_service(
            auth.grpc(
                AssessmentService::new(*kb)
                    .with_max_message_bytes(settings.max_message_bytes.get())
                    .with_batch(*batch_limits, batch_gauge.clone())
                    .with_audit(audit.clone())
                    .with_shutdown(shutdown.streams_ending())
                    .into_server()
                    .max_decoding_message_size(settings.max_message_bytes.get()),
            ),
        )
        // loadgen's baseline, only when asked for (never in production; see `bench_canned`).
        .add_optional_service(
            settings
                .bench_canned_service
                .then(|| auth.grpc(crate::bench_canned::CannedService::new())),
        )
        .add_optional_service(reflection_v1)
        .add_optional_service(reflection_v1alpha);
    let incoming = crate::edge::guard_incoming(
        TcpIncoming::from(listener)
            .with_nodelay(Some(true))
            .with_keepalive(seconds_or_off(limits.tcp_keepalive_seconds)),
        limiter.grpc_connections(),
    );
    let serve = router.serve_with_incoming_shutdown(incoming, shutdown.closing());
    Ok(async move { serve.await.map_err(ServerError::Serve) })
}

/// The HTTP port (axum): CDS Hooks, FHIR and `/about`, assessing through the same
/// [`Assessor`] and limiter as gRPC; TLS handshakes on their own tasks.
///
/// # Errors
/// [`ServerError::LocalAddr`] when the listener has no local address.
pub(super) fn http(
    parts: &Parts,
    listener: TcpListener,
    shutdown: &Shutdown,
) -> Result<impl Future<Output = Result<(), ServerError>> + Send + 'static, ServerError> {
    let router = crate::http::router(Arc::new(HttpState {
        assessor: Assessor::new(parts.kb, parts.audit.clone()),
        settings: parts.http.clone(),
        clock: parts.clock.clone(),
        limiter: parts.limiter.clone(),
        auth: parts.auth.clone(),
        fhir_server: parts.fhir_server.clone(),
        value_sets: parts.value_sets.clone(),
    }));
    let listener = HttpListener::start(
        listener,
        parts.tls.clone(),
        shutdown.closed_flag(),
        parts.limiter.http_connections(),
    )
    .map_err(ServerError::LocalAddr)?;
    // hyper's header-read timeout and the connection cap (issue 14), so slow or idle callers
    // cannot hold the port.
    let serve = crate::edge::serve_http(
        listener,
        router,
        Duration::from_secs(parts.limits.header_read_timeout_seconds.get()),
        shutdown.closing(),
    );
    Ok(async move { serve.await.map_err(ServerError::ServeHttp) })
}

/// The plaintext health-only port: a probe, which answers through the whole drain so probes see
/// `NOT_SERVING` (then `NOT_FOUND`), and stops last.
pub(super) fn health_port<H: Health>(
    listener: TcpListener,
    health: HealthServer<H>,
    shutdown: &Shutdown,
) -> impl Future<Output = Result<(), ServerError>> + Send + 'static {
    let serve = Server::builder()
        .add_service(health)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown.stopping());
    async move { serve.await.map_err(ServerError::Serve) }
}

/// tonic-web encodes its answer (and labels its content type) by the `accept` header alone, so a
/// `grpc-web-text` call without one, as browsers' fetch sends it, got a binary
/// `application/grpc-web+proto` answer it cannot read, errors included. The gRPC-Web protocol
/// answers in the request's own encoding unless the caller asks for another.
fn grpc_web_text_accept<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    use axum::http::header::{ACCEPT, CONTENT_TYPE};
    let text = request
        .headers()
        .get(CONTENT_TYPE)
        .filter(|value| value.as_bytes().starts_with(b"application/grpc-web-text"))
        .cloned();
    let asks_grpc_web = request
        .headers()
        .get(ACCEPT)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc-web"));
    if let (Some(text), false) = (text, asks_grpc_web) {
        request.headers_mut().insert(ACCEPT, text);
    }
    request
}
