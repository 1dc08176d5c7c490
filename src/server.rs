//! The composition root: the gRPC port (API, grpc.health.v1, server reflection, gRPC-Web) and
//! the HTTP door (CDS Hooks, FHIR, `/about`), and optionally a plaintext health port; one
//! [`Shutdown`] stops them all.
//!
//! Start-up is split in two (zero2prod, mini-redis): [`Application::build`] binds and loads
//! everything that can fail, so a caller (a test binding port 0, the binary logging its address)
//! knows the real address before anything is served and a bad setting stops the start;
//! [`Application::run_until_stopped`] builds each door (`doors`), registers it with the
//! [`Shutdown`] sequence and serves until the given shutdown future resolves. The phases of the
//! drain are `shutdown`'s.

mod doors;
pub mod shutdown;

pub use shutdown::{Phase, Shutdown};

use std::{future::Future, net::SocketAddr};

use cramp_core::KnowledgeBase;
use tokio::net::TcpListener;

use crate::{
    audit::Audit,
    auth::{AuthConfigError, Authenticator},
    batch::{BatchGauge, BatchLimits},
    config::{HttpSettings, ServerSettings, Settings},
    grpc::AssessmentService,
    http::Clock,
    limits::{Limiter, LimitsSettings},
    pb::cramp_assessment_service_server::CrampAssessmentServiceServer,
    tls::ServerTls,
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
    /// The client for CDS Hooks `fhirServer` queries cannot be built.
    #[error(transparent)]
    FhirServer(#[from] crate::http::fhir_server::FhirServerClientError),
    /// A file of `fhir.value_set_dir` cannot be used (the message names it).
    #[error(transparent)]
    ValueSets(#[from] crate::fhir::valuesets::ValueSetError),
    /// A door's serving task panicked or was cancelled.
    #[error("a serving task ended abnormally")]
    Door(#[source] tokio::task::JoinError),
}

/// A bound, not yet serving, cramp-cds server.
pub struct Application {
    /// Bound in [`Application::build`] so that port 0 resolves before serving starts.
    listeners: Listeners,
    /// Everything the doors are built from.
    parts: Parts,
    /// Run after everything has stopped (the binary's telemetry flush).
    exit_flushes: Vec<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("listeners", &self.listeners)
            .field("parts", &self.parts)
            .field("exit_flushes", &self.exit_flushes.len())
            .finish()
    }
}

/// The bound sockets and their actual addresses (they differ from the settings for port 0).
#[derive(Debug)]
struct Listeners {
    grpc: TcpListener,
    grpc_addr: SocketAddr,
    http: TcpListener,
    http_addr: SocketAddr,
    /// The plaintext health-only listener, when configured.
    health: Option<TcpListener>,
}

/// What the doors are built from, loaded (and checked) in [`Application::build`].
#[derive(Debug)]
struct Parts {
    /// Protocol options: reflection on or off, message size, drain timing.
    settings: ServerSettings,
    /// The immutable rule set, shared by every call.
    kb: KnowledgeBase,
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
    /// Checks credentials on the API and the CDS Hooks routes (built, and checked, in `build`).
    auth: Authenticator,
    /// Queries a CDS Hooks client's `fhirServer` for what its prefetch left out.
    fhir_server: crate::http::fhir_server::FhirServerClient,
    /// The value sets the chart is read by, loaded once from `fhir.value_set_dir`.
    value_sets: std::sync::Arc<crate::fhir::valuesets::ValueSets>,
}

impl Application {
    /// Binds the gRPC listener with the standard knowledge base.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound; [`ServerError::Auth`] when the
    /// `[auth]` settings cannot be used (checked before anything is bound).
    pub async fn build(settings: &Settings) -> Result<Self, ServerError> {
        let auth = Authenticator::new(&settings.auth, &settings.http)?;
        let fhir_server = crate::http::fhir_server::FhirServerClient::new(&settings.http)?;
        let value_sets = load_value_sets(settings.fhir.value_set_dir.as_deref())?;
        Ok(Self {
            listeners: Listeners::bind(&settings.server).await?,
            parts: Parts {
                tls: ServerTls::load(&settings.tls)?,
                limits: settings.limits.clone(),
                limiter: Limiter::new(&settings.limits)
                    .with_max_message_bytes(settings.server.max_message_bytes.get()),
                audit: Audit::load(&settings.audit, settings.http.production)?,
                settings: settings.server.clone(),
                kb: KnowledgeBase::standard(),
                http: settings.http.clone(),
                clock: Clock::system(),
                batch_limits: BatchLimits::from(&settings.batch),
                batch_gauge: BatchGauge::default(),
                auth,
                fhir_server,
                value_sets,
            },
            exit_flushes: Vec::new(),
        })
    }

    /// The same server with another request clock (tests fix the date ages are computed on).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.parts.clock = clock;
        self
    }

    /// The same server, running `flush` once everything has stopped, whether serving ended well
    /// or not (the binary flushes telemetry so the last spans and points are not lost).
    #[must_use]
    pub fn flush_on_exit(mut self, flush: impl Future<Output = ()> + Send + 'static) -> Self {
        self.exit_flushes.push(Box::pin(flush));
        self
    }

    /// The address the HTTP door is bound to.
    #[must_use]
    pub const fn http_addr(&self) -> SocketAddr {
        self.listeners.http_addr
    }

    /// Live counts of `AssessBatch` streams (in-flight records, peak, totals); stays valid
    /// after [`Application::run_until_stopped`] takes the application.
    #[must_use]
    pub fn batch_gauge(&self) -> BatchGauge {
        self.parts.batch_gauge.clone()
    }

    /// The address the server is bound to.
    #[must_use]
    pub const fn grpc_addr(&self) -> SocketAddr {
        self.listeners.grpc_addr
    }

    /// The plaintext health-only address, when `server.health_addr` is set.
    #[must_use]
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.listeners
            .health
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The global call limiter (calls in progress, capacity); stays valid while serving.
    #[must_use]
    pub fn limiter(&self) -> Limiter {
        self.parts.limiter.clone()
    }

    /// Serves every door until `shutdown` resolves, then drains them through the phases of
    /// [`Shutdown`]: health `NOT_SERVING` at once; after `server.drain_delay_seconds` the
    /// listeners close; in-flight calls then have `server.shutdown_grace_seconds`, after which
    /// open batch streams end with `UNAVAILABLE` and get a moment to deliver it.
    ///
    /// # Errors
    /// [`ServerError`] when a door cannot be built or fails while serving.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        let Self {
            listeners,
            parts,
            exit_flushes,
        } = self;
        let (reporter, health) = tonic_health::server::health_reporter();
        let mut stop = Shutdown::new(reporter.clone(), &parts.settings);
        for flush in exit_flushes {
            stop.on_exit(flush);
        }
        let grpc = doors::grpc(&parts, listeners.grpc, health.clone(), &stop)?;
        let http = doors::http(&parts, listeners.http, &stop)?;
        stop.door("grpc", grpc);
        stop.door("http", http);
        let health_addr = listeners.health.as_ref().and_then(|l| l.local_addr().ok());
        if let Some(listener) = listeners.health {
            stop.probe("health", doors::health_port(listener, health, &stop));
        }
        stop.serving().await;
        // NOT_SERVING while every call slot is taken or a listener is at its cap (issue 14); the
        // watcher stops at the shutdown signal, so the drain's NOT_SERVING is never undone.
        parts
            .limiter
            .watch_readiness(reporter, &[WHOLE_SERVER, SERVICE_NAME]);
        crate::edge::check_open_files(&[
            &parts.limiter.grpc_connections(),
            &parts.limiter.http_connections(),
        ]);
        tracing::info!(
            grpc_addr = %listeners.grpc_addr,
            http_addr = %listeners.http_addr,
            health_addr = %health_addr.map_or_else(|| "-".to_owned(), |a| a.to_string()),
            tls = parts.tls.is_some(),
            reflection = parts.settings.reflection,
            max_concurrent_calls = parts.limiter.capacity(),
            knowledge_base_version = parts.kb.version(),
            rules = parts.kb.rules().len(),
            "serving"
        );
        let limiter = parts.limiter.clone();
        stop.run(async move {
            shutdown.await;
            limiter.begin_draining().await;
        })
        .await
    }
}

impl Listeners {
    /// Binds every configured port, so port 0 resolves and a taken port stops the start.
    async fn bind(settings: &ServerSettings) -> Result<Self, ServerError> {
        let addr = settings.grpc_addr;
        let grpc = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let addr = settings.http_addr;
        let http = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::BindHttp { addr, source })?;
        let health = match settings.health_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| ServerError::BindHealth { addr, source })?,
            ),
            None => None,
        };
        Ok(Self {
            grpc_addr: grpc.local_addr().map_err(ServerError::LocalAddr)?,
            http_addr: http.local_addr().map_err(ServerError::LocalAddr)?,
            grpc,
            http,
            health,
        })
    }
}

/// The health service name liveness probes ask for: `SERVING` until the process exits, so a
/// draining replica is taken out of rotation (readiness) without being restarted (liveness).
pub const LIVENESS: &str = "liveness";

/// Health's name for the whole server.
const WHOLE_SERVER: &str = "";
/// Health's name for the API service (`cramp.v1.CrampAssessmentService`).
const SERVICE_NAME: &str =
    <CrampAssessmentServiceServer<AssessmentService> as tonic::server::NamedService>::NAME;

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

/// Loads the operator's value sets and logs what was found: URLs and counts only.
fn load_value_sets(
    dir: Option<&std::path::Path>,
) -> Result<std::sync::Arc<crate::fhir::valuesets::ValueSets>, ServerError> {
    let (value_sets, report) = crate::fhir::valuesets::ValueSets::load(dir)?;
    for used in &report.used {
        tracing::info!(
            url = %used.url,
            version = %used.version,
            reviewed = used.reviewed,
            concepts = used.concepts,
            kept = used.kept,
            "value set loaded"
        );
    }
    for unbound in &report.unbound {
        tracing::warn!(
            url = %unbound.url,
            file = %unbound.file.display(),
            concepts = unbound.concepts,
            "value set not bound; not used"
        );
    }
    if !report.missing.is_empty() {
        tracing::info!(
            missing = report.missing.len(),
            urls = %report.missing.join(" "),
            "no value set configured for these bound URLs (fhir.value_set_dir); chart codes only they hold are listed as not used"
        );
    }
    Ok(std::sync::Arc::new(value_sets))
}
