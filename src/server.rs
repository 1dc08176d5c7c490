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
    auth::{AuthConfigError, Authenticator},
    batch::{BatchGauge, BatchLimits},
    config::{HttpSettings, ServerSettings, Settings},
    grpc::AssessmentService,
    http::{Clock, HttpState},
    pb::{self, cramp_assessment_service_server::CrampAssessmentServiceServer},
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
        Ok(Self {
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

    /// Serves until `shutdown` resolves, then drains: health turns `NOT_SERVING`, no new
    /// connections are accepted, and in-flight calls have `server.shutdown_grace_seconds` to end.
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
        let router = Server::builder()
            .accept_http1(true)
            // The path names the method; nothing from the message reaches the span.
            .trace_fn(|request| tracing::info_span!("grpc", method = %request.uri().path()))
            .layer(grpc_web_cors)
            .layer(tonic_web::GrpcWebLayer::new())
            .add_service(health)
            .add_service(
                auth.grpc(
                    AssessmentService::new(kb)
                        .with_batch(batch_limits, batch_gauge)
                        .into_server()
                        .max_decoding_message_size(settings.max_message_bytes.get()),
                ),
            )
            .add_optional_service(reflection_v1)
            .add_optional_service(reflection_v1alpha);

        set_status(&reporter, ServingStatus::Serving).await;
        tracing::info!(
            grpc_addr = %grpc_addr,
            http_addr = %http_addr,
            reflection = settings.reflection,
            knowledge_base_version = kb.version(),
            rules = kb.rules().len(),
            "serving"
        );

        let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
        let (http_stop_tx, mut http_stop_rx) = tokio::sync::watch::channel(false);
        let mut drain_reporter = reporter.clone();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutdown requested: health NOT_SERVING, draining in-flight calls");
            // The HTTP door stops accepting at the same moment.
            let _ = http_stop_tx.send(true);
            set_status(&drain_reporter, ServingStatus::NotServing).await;
            // Removing the statuses ends open health Watch streams (after they have seen
            // NOT_SERVING); otherwise those endless streams would hold the drain open.
            drain_reporter.clear_service_status(SERVICE_NAME).await;
            drain_reporter.clear_service_status(WHOLE_SERVER).await;
            // The receiver only goes away once serving has already ended.
            let _ = draining_tx.send(());
        };
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let serve = router.serve_with_incoming_shutdown(incoming, signal);
        let http_router = crate::http::router(Arc::new(HttpState {
            kb,
            settings: http,
            clock,
            auth,
        }));
        let serve_http = axum::serve(http_listener, http_router)
            .with_graceful_shutdown(async move {
                let _ = http_stop_rx.wait_for(|stop| *stop).await;
            })
            .into_future();
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
        tokio::select! {
            result = serve_both => {
                result?;
            }
            () = deadline => tracing::warn!(
                grace_seconds = settings.shutdown_grace_seconds,
                "grace period over; stopping with calls still in flight"
            ),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

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
