//! The gRPC server: the API, grpc.health.v1, server reflection and gRPC-Web on one listener,
//! and the HTTP door (CDS Hooks, FHIR, `/about`) on a second; one shutdown stops both.
//!
//! Start-up is split in two (zero2prod, mini-redis): [`Application::build`] binds, so a caller
//! (a test binding port 0, the binary logging its address) knows the real address before anything
//! is served; [`Application::run_until_stopped`] serves until the given shutdown future resolves.
//! On shutdown, health turns `NOT_SERVING` first so load balancers stop sending work, then
//! in-flight calls get a bounded grace period to finish.

use std::{
    future::{Future, IntoFuture as _},
    net::SocketAddr,
    sync::Arc,
    time::Duration,
};

use cramp_core::KnowledgeBase;
use tokio::net::TcpListener;
use tonic::transport::{Server, server::TcpIncoming};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    audit::Audit,
    auth::{AuthConfigError, Authenticator},
    batch::{BatchGauge, BatchLimits},
    config::{HttpSettings, ServerSettings, Settings},
    grpc::AssessmentService,
    http::{Clock, HttpState},
    limits::{GrpcLimitLayer, Limiter, LimitsSettings, seconds_or_off},
    pb::{self, cramp_assessment_service_server::CrampAssessmentServiceServer},
    tls::{ClientCertificateLayer, HttpListener, PeerInfo, ServerTls},
};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The listen address could not be bound (in use, not local, no permission).
    #[error("cannot listen on `{addr}` (key `server.grpc_addr`)")]
    Bind {
        /// The address from the settings.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP listen address could not be bound.
    #[error("cannot listen on `{addr}` (key `server.http_addr`)")]
    BindHttp {
        /// The address from the settings.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server failed while serving.
    #[error("the HTTP server failed")]
    ServeHttp(#[source] std::io::Error),
    /// The bound socket has no local address (should not happen on TCP).
    #[error("cannot read the bound address")]
    LocalAddr(#[source] std::io::Error),
    /// The embedded descriptor set could not be served by reflection.
    #[error("cannot build the reflection service")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed while serving.
    #[error("the gRPC server failed")]
    Serve(#[from] tonic::transport::Error),
    /// The plaintext health address could not be bound.
    #[error("cannot listen on `{addr}` (key `server.health_addr`)")]
    BindHealth {
        /// The address from the settings.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The TLS files are missing or unusable.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The audit trail's key is missing or unusable.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// The `[auth]` settings cannot be used (the message names the key).
    #[error(transparent)]
    Auth(#[from] AuthConfigError),
}

/// A bound, not yet serving, cramp-cds server.
#[derive(Debug)]
pub struct Application {
    /// Bound in [`Application::build`] so that port 0 resolves before serving starts.
    listener: TcpListener,
    /// The address actually bound (differs from the settings when the port was 0).
    grpc_addr: SocketAddr,
    /// Protocol options: reflection on or off, shutdown grace.
    settings: ServerSettings,
    /// The immutable rule set, shared by every call.
    kb: KnowledgeBase,
    /// The HTTP door's listener, bound with the gRPC one.
    http_listener: TcpListener,
    /// The HTTP address actually bound.
    http_addr: SocketAddr,
    /// Base URL, CORS origins, production mode.
    http: HttpSettings,
    /// The request clock (the system clock; tests fix it).
    clock: Clock,
    /// Window, record cap and idle timeout of `AssessBatch` streams.
    batch_limits: BatchLimits,
    /// Live batch counts; [`Application::batch_gauge`] hands out a view before serving starts.
    batch_gauge: BatchGauge,
    /// TLS material for both ports, when TLS is on.
    tls: Option<ServerTls>,
    /// The global call limit and connection knobs.
    limits: LimitsSettings,
    /// The limiter both ports draw from; [`Application::limiter`] hands out a view.
    limiter: Limiter,
    /// The audit trail.
    audit: Audit,
    /// The plaintext health-only listener, when configured.
    health_listener: Option<TcpListener>,
    /// Checks credentials on the API and the CDS Hooks routes (built, and checked, in `build`).
    auth: Authenticator,
}

impl Application {
    /// Binds the gRPC listener with the standard knowledge base.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound; [`ServerError::Auth`] when the
    /// `[auth]` settings cannot be used (checked before anything is bound).
    pub async fn build(settings: &Settings) -> Result<Self, ServerError> {
        let auth = Authenticator::new(&settings.auth, &settings.http)?;
        let addr = settings.server.grpc_addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let grpc_addr = listener.local_addr().map_err(ServerError::LocalAddr)?;
        let addr = settings.server.http_addr;
        let http_listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::BindHttp { addr, source })?;
        let http_addr = http_listener.local_addr().map_err(ServerError::LocalAddr)?;
        let health_listener = match settings.server.health_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| ServerError::BindHealth { addr, source })?,
            ),
            None => None,
        };
        Ok(Self {
            tls: ServerTls::load(&settings.tls)?,
            limits: settings.limits.clone(),
            limiter: Limiter::new(&settings.limits),
            audit: Audit::load(&settings.audit, settings.http.production)?,
            health_listener,
            listener,
            grpc_addr,
            settings: settings.server.clone(),
            kb: KnowledgeBase::standard(),
            http_listener,
            http_addr,
            http: settings.http.clone(),
            clock: Clock::system(),
            batch_limits: BatchLimits::from(&settings.batch),
            batch_gauge: BatchGauge::default(),
            auth,
        })
    }

    /// The same server with another request clock (tests fix the date ages are computed on).
    #[must_use]
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// The address the HTTP door is bound to.
    #[must_use]
    pub const fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Live counts of `AssessBatch` streams (in-flight records, peak, totals); stays valid
    /// after [`Application::run_until_stopped`] takes the application.
    #[must_use]
    pub fn batch_gauge(&self) -> BatchGauge {
        self.batch_gauge.clone()
    }

    /// The address the server is bound to.
    #[must_use]
    pub const fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The plaintext health-only address, when `server.health_addr` is set.
    #[must_use]
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The global call limiter (calls in progress, capacity); stays valid while serving.
    #[must_use]
    pub fn limiter(&self) -> Limiter {
        self.limiter.clone()
    }

    /// Serves until `shutdown` resolves, then drains: health turns `NOT_SERVING` at once; after
    /// `server.drain_delay_seconds` both listeners close (new connections are refused); in-flight
    /// calls then have `server.shutdown_grace_seconds` to end, after which open batch streams are
    /// ended with `UNAVAILABLE` and given a moment to deliver it.
    ///
    /// # Errors
    /// [`ServerError`] when reflection cannot be built or the transport fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        let Self {
            listener,
            grpc_addr,
            settings,
            kb,
            http_listener,
            http_addr,
            http,
            clock,
            batch_limits,
            batch_gauge,
            tls,
            limits,
            limiter,
            audit,
            health_listener,
            auth,
        } = self;

        let (reporter, health) = tonic_health::server::health_reporter();
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
        // Turns true at the end of the grace period: open batch streams end with UNAVAILABLE.
        let (streams_stop_tx, streams_stop_rx) = tokio::sync::watch::channel(false);
        let mut builder = Server::builder();
        if let Some(tls) = &tls {
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
            .http2_max_pending_accept_reset_streams(Some(
                limits.http2_max_pending_accept_reset_streams,
            ))
            .http2_max_local_error_reset_streams(Some(limits.http2_max_local_error_reset_streams))
            .max_connection_age(
                seconds_or_off(limits.max_connection_age_seconds).unwrap_or(Duration::MAX),
            )
            .max_connection_age_grace(Duration::from_secs(limits.max_connection_age_grace_seconds))
            .layer(grpc_web_cors)
            .layer(tonic_web::GrpcWebLayer::new())
            // A server span per call (the caller's trace continued) and RPC metrics; inside
            // gRPC-Web so browser calls count as gRPC, outside the limits so refused calls count
            // too. Nothing from the message reaches either.
            .layer(crate::telemetry::grpc::GrpcTelemetryLayer)
            .layer(ClientCertificateLayer::default())
            .layer(GrpcLimitLayer::new(limiter.clone()))
            .add_service(health.clone())
            .add_service(
                auth.grpc(
                    AssessmentService::new(kb)
                        .with_batch(batch_limits, batch_gauge)
                        .with_audit(audit.clone())
                        .with_shutdown(streams_stop_rx)
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

        set_status(&reporter, ServingStatus::Serving).await;
        reporter
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;
        tracing::info!(
            grpc_addr = %grpc_addr,
            http_addr = %http_addr,
            health_addr = %health_listener
                .as_ref()
                .and_then(|l| l.local_addr().ok())
                .map_or_else(|| "-".to_owned(), |a| a.to_string()),
            tls = tls.is_some(),
            reflection = settings.reflection,
            max_concurrent_calls = limiter.capacity(),
            knowledge_base_version = kb.version(),
            rules = kb.rules().len(),
            "serving"
        );

        let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
        let (http_stop_tx, http_stop_rx) = tokio::sync::watch::channel(false);
        let drain_reporter = reporter.clone();
        let drain_delay = Duration::from_secs(settings.drain_delay_seconds);
        let signal = async move {
            shutdown.await;
            tracing::info!(
                drain_delay_seconds = settings.drain_delay_seconds,
                "shutdown requested: health NOT_SERVING; listeners close after the drain delay"
            );
            set_status(&drain_reporter, ServingStatus::NotServing).await;
            // Load balancers and endpoint controllers need a moment to notice NOT_SERVING;
            // until then new connections are still accepted and served.
            tokio::time::sleep(drain_delay).await;
            tracing::info!("listeners closed; draining in-flight calls");
            // The HTTP door stops accepting at the same moment.
            let _ = http_stop_tx.send(true);
            // Removing the statuses ends open health Watch streams (after they have seen
            // NOT_SERVING); otherwise those endless streams would hold the drain open.
            let mut drain_reporter = drain_reporter;
            drain_reporter.clear_service_status(SERVICE_NAME).await;
            drain_reporter.clear_service_status(WHOLE_SERVER).await;
            // The receiver only goes away once serving has already ended.
            let _ = draining_tx.send(());
        };
        let incoming = TcpIncoming::from(listener)
            .with_nodelay(Some(true))
            .with_keepalive(seconds_or_off(limits.tcp_keepalive_seconds));
        let serve = router.serve_with_incoming_shutdown(incoming, signal);
        let http_router = crate::http::router(Arc::new(HttpState {
            assessor: crate::assess::Assessor::new(kb, audit),
            settings: http,
            clock,
            limiter,
            auth,
        }));
        let http_listener = HttpListener::start(http_listener, tls, http_stop_rx.clone())
            .map_err(ServerError::LocalAddr)?;
        let mut http_stop = http_stop_rx.clone();
        let serve_http = axum::serve(
            http_listener,
            http_router.into_make_service_with_connect_info::<PeerInfo>(),
        )
        .with_graceful_shutdown(async move {
            let _ = http_stop.wait_for(|stop| *stop).await;
        })
        .into_future();
        // The plaintext health port lives until the process stops, so probes see NOT_SERVING
        // (then NOT_FOUND) through the whole drain.
        let (health_stop_tx, health_stop_rx) = tokio::sync::oneshot::channel::<()>();
        let serve_health = async move {
            match health_listener {
                Some(listener) => Server::builder()
                    .add_service(health)
                    .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                        let _ = health_stop_rx.await;
                    })
                    .await
                    .map_err(ServerError::Serve),
                None => Ok(()),
            }
        };
        let health_task = tokio::spawn(serve_health);

        let serve_both = async {
            let grpc = async { serve.await.map_err(ServerError::Serve) };
            let http = async { serve_http.await.map_err(ServerError::ServeHttp) };
            tokio::try_join!(grpc, http)
        };
        let grace = Duration::from_secs(settings.shutdown_grace_seconds);
        let deadline = async move {
            match draining_rx.await {
                Ok(()) => tokio::time::sleep(grace).await,
                // The server ended before any shutdown request: no deadline applies.
                Err(_) => std::future::pending().await,
            }
        };
        let mut serve_both = std::pin::pin!(serve_both);
        let outcome = tokio::select! {
            result = &mut serve_both => result.map(|_| ()),
            () = deadline => {
                // Streams are told first and get a moment to deliver their final status; calls
                // still running after that are cut off.
                let _ = streams_stop_tx.send(true);
                match tokio::time::timeout(FINAL_FLUSH, &mut serve_both).await {
                    Ok(result) => result.map(|_| ()),
                    Err(_) => {
                        tracing::warn!(
                            grace_seconds = settings.shutdown_grace_seconds,
                            "grace period over; stopping with calls still in flight"
                        );
                        Ok(())
                    }
                }
            }
        };
        let _ = health_stop_tx.send(());
        if let Ok(Err(error)) = health_task.await {
            tracing::warn!(%error, "the health port failed");
        }
        outcome?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// After the grace period: how long ended batch streams get to deliver their final status.
const FINAL_FLUSH: Duration = Duration::from_secs(2);
/// The health service name liveness probes ask for: `SERVING` until the process exits, so a
/// draining replica is taken out of rotation (readiness) without being restarted (liveness).
pub const LIVENESS: &str = "liveness";

/// Health's name for the whole server.
const WHOLE_SERVER: &str = "";
/// Health's name for the API service (`cramp.v1.CrampAssessmentService`).
const SERVICE_NAME: &str =
    <CrampAssessmentServiceServer<AssessmentService> as tonic::server::NamedService>::NAME;

async fn set_status(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status(WHOLE_SERVER, status).await;
    reporter.set_service_status(SERVICE_NAME, status).await;
}

/// Resolves on the first SIGINT or SIGTERM.
///
/// The handlers are installed when this is called, not when the future is first polled, so a
/// signal that arrives during start-up is not lost to the default handler (which would kill the
/// process without a drain). Must be called inside a Tokio runtime.
///
/// # Errors
/// The OS error when a handler cannot be installed.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!(signal = "SIGINT", "signal received"),
            _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "signal received"),
        }
    })
}
