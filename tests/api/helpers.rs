//! Shared fixtures: the real server on a free port (in-process or as the real binary), clients and
//! request builders.
//!
//! Tests talk to the service only through its public address, as a client would, so internal
//! refactors do not break them (zero2prod's `spawn_app`).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use cramp_cds::{
    config::Settings,
    pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient},
    server::{Application, ServerError},
};
use tokio::{
    io::{AsyncBufReadExt as _, BufReader},
    process::{Child, Command},
    sync::oneshot,
    task::JoinHandle,
};
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Logs go to stdout when `TEST_LOG` is set, nowhere otherwise; installed once per test binary.
///
/// A global subscriber is installed even when silent: with only one dispatcher registered,
/// tracing caches each callsite's interest from whichever thread hits it first, so a callsite
/// first reached by a parallel test (no subscriber) would stay disabled for the log-capture
/// test's scoped subscriber too. With two dispatchers it asks both.
///
/// `TEST_LOG=1` logs at DEBUG; any other value is the filter itself (`.ci/run` runs the whole suite
/// with `TEST_LOG=trace` and searches everything it logged for tokens and patient values).
static TRACING: LazyLock<()> = LazyLock::new(|| {
    let filter = match std::env::var("TEST_LOG") {
        Ok(value) if !value.is_empty() && value != "1" => value,
        _ => "debug".to_owned(),
    };
    let settings = cramp_cds::config::LogSettings {
        format: cramp_cds::config::LogFormat::Json,
        filter,
    };
    let installed = match cramp_cds::telemetry::subscriber(&settings, std::io::stdout, false) {
        Ok(subscriber) if std::env::var_os("TEST_LOG").is_some() => {
            tracing::subscriber::set_global_default(subscriber)
        }
        _ => tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default()),
    };
    installed.expect("no other global subscriber in the test binary");
});

/// Installs the test binary's global subscriber (idempotent).
pub(crate) fn init_tracing() {
    LazyLock::force(&TRACING);
}

/// An HTTP client for the tests. reqwest is built without a bundled TLS provider (the service
/// hands its JWKS client a rustls config on ring, keeping aws-lc out), so a plain `Client::new()`
/// needs ring installed as the process default first; installing twice is a no-op.
pub(crate) fn http_client() -> reqwest::Client {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// How long a test waits for anything network-shaped before failing instead of hanging.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// The base URL tests configure (an https one, as production would have).
pub(crate) const BASE_URL: &str = "https://cds.example.org";
/// The one browser origin tests allow.
pub(crate) const ALLOWED_ORIGIN: &str = "https://ehr.example.org";

/// Settings for tests: the defaults with port 0 on loopback for both listeners, an https base
/// URL and one allowed browser origin.
pub(crate) fn test_settings() -> Settings {
    let mut settings = Settings::load(None, Some(std::collections::HashMap::new())).unwrap();
    settings.server.grpc_addr = "127.0.0.1:0".parse().unwrap();
    settings.server.http_addr = "127.0.0.1:0".parse().unwrap();
    settings.http.base_url = BASE_URL.into();
    settings.http.allowed_origins = vec![ALLOWED_ORIGIN.into()];
    settings
}

/// A server running inside the test process.
pub(crate) struct TestApp {
    /// Where gRPC listens.
    pub(crate) addr: SocketAddr,
    /// Where the HTTP door listens.
    pub(crate) http_addr: SocketAddr,
    /// Resolves the server's shutdown future.
    shutdown: oneshot::Sender<()>,
    /// The serving task, to check it stopped cleanly.
    handle: JoinHandle<Result<(), ServerError>>,
}

/// Starts the real server with test settings.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings()).await
}

/// Starts the real server with `settings`.
pub(crate) async fn spawn_app_with(settings: Settings) -> TestApp {
    spawn_app_at(settings, None).await
}

/// Starts the real server with `settings` and hands out its call limiter, to watch calls in
/// progress.
pub(crate) async fn spawn_app_with_limiter(
    settings: Settings,
) -> (TestApp, cramp_cds::limits::Limiter) {
    init_tracing();
    let app = Application::build(&settings).await.expect("binds port 0");
    let limiter = app.limiter();
    (run(app), limiter)
}

/// Starts the real server with `settings` and, when given, a request clock fixed at `now`.
pub(crate) async fn spawn_app_at(settings: Settings, now: Option<time::OffsetDateTime>) -> TestApp {
    init_tracing();
    let mut app = Application::build(&settings).await.expect("binds port 0");
    if let Some(now) = now {
        app = app.with_clock(cramp_cds::http::Clock::fixed(now));
    }
    run(app)
}

/// Serves `app` on a task until the returned handle is stopped.
pub(crate) fn run(app: Application) -> TestApp {
    let addr = app.grpc_addr();
    let http_addr = app.http_addr();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        http_addr,
        shutdown,
        handle,
    }
}

impl TestApp {
    /// A connected channel (one HTTP/2 connection).
    pub(crate) async fn channel(&self) -> Channel {
        connect(self.addr).await
    }

    /// The generated API client.
    pub(crate) async fn client(&self) -> CrampAssessmentServiceClient<Channel> {
        CrampAssessmentServiceClient::new(self.channel().await)
    }

    /// Calls `Assess`.
    pub(crate) async fn assess(
        &self,
        request: pb::AssessRequest,
    ) -> Result<pb::AssessResponse, tonic::Status> {
        self.client()
            .await
            .assess(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// Triggers shutdown and waits for the server to stop, asserting it stopped cleanly.
    pub(crate) async fn stop(self) {
        let _ = self.shutdown.send(());
        let stopped = tokio::time::timeout(PATIENCE, self.handle)
            .await
            .expect("server stops in time");
        stopped
            .expect("server task did not panic")
            .expect("server stopped without error");
    }
}

/// Connects to `addr`, retrying briefly while the listener comes up.
pub(crate) async fn connect(addr: SocketAddr) -> Channel {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap();
    tokio::time::timeout(PATIENCE, async {
        loop {
            match endpoint.connect().await {
                Ok(channel) => return channel,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("server accepts connections")
}

/// Asks grpc.health.v1 for `service` ("" is the whole server).
pub(crate) async fn health(
    channel: Channel,
    service: &str,
) -> Result<ServingStatus, tonic::Status> {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await?;
    Ok(response.into_inner().status())
}

/// A request with a valid minimal history (age is the only required field).
pub(crate) fn minimal_request(request_id: &str) -> pb::AssessRequest {
    pb::AssessRequest {
        request_id: request_id.into(),
        input: Some(pb::assess_request::Input::History(pb::CrampHistory {
            patient: Some(pb::Patient {
                age_years: Some(50),
                ..pb::Patient::default()
            }),
            ..pb::CrampHistory::default()
        })),
    }
}

/// The repository root, where `tests/data` and `examples` live.
pub(crate) fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The `BadRequest` field paths of an `INVALID_ARGUMENT` status (panics on any other outcome).
pub(crate) fn bad_fields(outcome: Result<pb::AssessResponse, tonic::Status>) -> Vec<String> {
    use tonic_types::StatusExt as _;

    let status = outcome.expect_err("request should be rejected");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let bad = status
        .get_details_bad_request()
        .expect("BadRequest details");
    bad.field_violations.into_iter().map(|v| v.field).collect()
}

/// The real `cramp-cds` binary serving on a free port, with its stdout captured line by line.
pub(crate) struct RunningBinary {
    /// The process.
    pub(crate) child: Child,
    /// The gRPC address it reported in its `serving` log line.
    pub(crate) addr: SocketAddr,
    /// The HTTP address it reported in the same line.
    pub(crate) http_addr: SocketAddr,
    /// Every stdout line so far (JSON log lines).
    pub(crate) stdout: Arc<Mutex<Vec<String>>>,
    /// The task copying stdout into `stdout`; ends when the process closes it.
    reader: JoinHandle<()>,
}

/// Starts `cramp-cds serve` on `127.0.0.1:0` with JSON logs at `filter` and waits until it logs
/// the address it bound.
pub(crate) async fn spawn_binary(filter: &str) -> RunningBinary {
    spawn_binary_with(filter, &[]).await
}

/// [`spawn_binary`] with extra `CRAMP__…` settings (or `OTEL_*` variables) in its environment.
pub(crate) async fn spawn_binary_with(filter: &str, env: &[(&str, &str)]) -> RunningBinary {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .args([
            "serve",
            "--grpc-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .env("CRAMP__LOG__FORMAT", "json")
        .env("CRAMP__LOG__FILTER", filter)
        // The base URL the in-process apps use too: the tests' QuestionnaireResponses name the
        // Questionnaire at it, and the HTTP doors accept only this deployment's canonical.
        .env("CRAMP__HTTP__BASE_URL", BASE_URL)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let (addr_tx, addr_rx) = oneshot::channel();
    let reader = {
        let stdout = Arc::clone(&stdout);
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        tokio::spawn(async move {
            let mut addr_tx = Some(addr_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addrs) = serving_addrs(&line)
                    && let Some(tx) = addr_tx.take()
                {
                    let _ = tx.send(addrs);
                }
                stdout.lock().unwrap().push(line);
            }
        })
    };
    let (addr, http_addr) = tokio::time::timeout(PATIENCE, addr_rx)
        .await
        .expect("the binary logs its address in time")
        .expect("the binary logs its address before exiting");
    RunningBinary {
        child,
        addr,
        http_addr,
        stdout,
        reader,
    }
}

/// The bound gRPC and HTTP addresses from a JSON `serving` log line.
fn serving_addrs(line: &str) -> Option<(SocketAddr, SocketAddr)> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = value.get("fields")?;
    if fields.get("message")?.as_str()? != "serving" {
        return None;
    }
    let addr = |key: &str| fields.get(key)?.as_str()?.parse().ok();
    Some((addr("grpc_addr")?, addr("http_addr")?))
}

impl RunningBinary {
    /// Sends SIGTERM without waiting for the exit.
    pub(crate) fn signal_terminate(&self) {
        let pid = self.child.id().expect("still running");
        let pid = rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .expect("SIGTERM delivered");
    }

    /// Waits for the exit (after a signal); returns the exit code and every stdout line.
    pub(crate) async fn wait(mut self) -> (Option<i32>, Vec<String>) {
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("exits in time")
            .unwrap();
        tokio::time::timeout(PATIENCE, self.reader)
            .await
            .expect("stdout closes")
            .unwrap();
        let lines = self.stdout.lock().unwrap().clone();
        (status.code(), lines)
    }

    /// Sends SIGTERM and waits for the exit; returns the exit code and every stdout line.
    pub(crate) async fn terminate(self) -> (Option<i32>, Vec<String>) {
        self.signal_terminate();
        self.wait().await
    }
}

/// A shared in-memory log sink for the PHI log-capture tests.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `run` under a scoped JSON subscriber at TRACE and returns everything it logged.
///
/// A current-thread runtime polls the server, its tasks and the client on this thread, where the
/// scoped subscriber is installed, so every event of the run is captured.
pub(crate) fn capture_trace_logs<F, Fut>(run: F) -> String
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    init_tracing();
    let capture = Capture::default();
    let settings = cramp_cds::config::LogSettings {
        format: cramp_cds::config::LogFormat::Json,
        filter: "trace".into(),
    };
    let sink = capture.clone();
    let subscriber =
        cramp_cds::telemetry::subscriber(&settings, move || sink.clone(), false).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || runtime.block_on(run()));
    let logs = capture.0.lock().unwrap().clone();
    String::from_utf8(logs).unwrap()
}
