//! Shutdown as one type with explicit phases, which every door registers with.
//!
//! A door (the gRPC port, the HTTP port, the plaintext health port, and whatever comes next)
//! hands [`Shutdown`] its serving future, built to stop accepting when [`Shutdown::closing`]
//! resolves; long-lived streams also watch [`Shutdown::streams_ending`]. [`Shutdown::run`] then
//! walks the phases in order, the same for every door, so a new door cannot be left out of the
//! drain or spliced into it wrongly:
//!
//! 1. [`Phase::Serving`] until the signal (or until a door fails).
//! 2. [`Phase::NotServing`]: health says `NOT_SERVING` (liveness stays `SERVING`); for
//!    `server.drain_delay_seconds` new connections are still accepted and served, while load
//!    balancers notice.
//! 3. [`Phase::Closed`]: every listener closes and the health statuses are removed (ending
//!    health `Watch` streams); in-flight calls get `server.shutdown_grace_seconds`.
//! 4. [`Phase::StreamsEnding`], only if calls outlive the grace: open batch streams end with
//!    `UNAVAILABLE` (`SERVER_SHUTTING_DOWN`) and get [`FINAL_FLUSH`] to deliver it; whatever
//!    is still running then is cut off.
//! 5. [`Phase::Stopped`]: the probes (the health port, which answers through the whole drain)
//!    stop, `stopped` is logged, and the exit flushes run (telemetry), so the last spans and
//!    points are exported rather than lost.

use std::{future::Future, pin::Pin, time::Duration};

use tokio::{sync::watch, task::JoinSet};
use tonic_health::{ServingStatus, server::HealthReporter};

use super::ServerError;
use crate::config::ServerSettings;

/// After the grace period: how long ended batch streams get to deliver their final status.
pub const FINAL_FLUSH: Duration = Duration::from_secs(2);

/// Where the server is in its life; the phases only move forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Health `SERVING`; every door accepts.
    Serving,
    /// Health `NOT_SERVING`, doors still accepting during the drain delay.
    NotServing,
    /// Listeners closed; in-flight calls finishing within the grace period.
    Closed,
    /// The grace is over: open streams told to end, a last moment to deliver that.
    StreamsEnding,
    /// Everything stopped; exit flushes run.
    Stopped,
}

/// Something to run once everything has stopped (flushing telemetry).
type ExitFlush = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The shutdown sequence and the doors it stops. Build it, register the doors, then
/// [`Shutdown::run`].
pub struct Shutdown {
    phase: Phase,
    health: HealthReporter,
    drain_delay: Duration,
    grace: Duration,
    /// Flips at [`Phase::Closed`]: listeners stop accepting.
    closed: watch::Sender<bool>,
    /// Flips at [`Phase::StreamsEnding`]: batch streams end with `UNAVAILABLE`.
    streams: watch::Sender<bool>,
    /// Flips at [`Phase::Stopped`]: probes stop.
    stopped: watch::Sender<bool>,
    /// Doors drained by the sequence: their end is awaited within the grace.
    doors: JoinSet<(&'static str, Result<(), ServerError>)>,
    /// Doors that answer until the end (the health port); their failure is logged.
    probes: JoinSet<(&'static str, Result<(), ServerError>)>,
    exit_flushes: Vec<ExitFlush>,
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("phase", &self.phase)
            .field("doors", &self.doors.len())
            .field("probes", &self.probes.len())
            .finish_non_exhaustive()
    }
}

impl Shutdown {
    /// A sequence timed by `settings`, reporting readiness through `health`.
    pub fn new(health: HealthReporter, settings: &ServerSettings) -> Self {
        Self {
            phase: Phase::Serving,
            health,
            drain_delay: Duration::from_secs(settings.drain_delay_seconds),
            grace: Duration::from_secs(settings.shutdown_grace_seconds),
            closed: watch::channel(false).0,
            streams: watch::channel(false).0,
            stopped: watch::channel(false).0,
            doors: JoinSet::new(),
            probes: JoinSet::new(),
            exit_flushes: Vec::new(),
        }
    }

    /// Resolves when the listeners close: a door's graceful-shutdown future.
    pub fn closing(&self) -> impl Future<Output = ()> + Send + 'static {
        reached(self.closed.subscribe())
    }

    /// `true` once the listeners close, for a listener that watches the flag itself.
    pub fn closed_flag(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// `true` once open streams are to end with `UNAVAILABLE`.
    pub fn streams_ending(&self) -> watch::Receiver<bool> {
        self.streams.subscribe()
    }

    /// Resolves when everything has stopped: a probe's shutdown future.
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        reached(self.stopped.subscribe())
    }

    /// Registers a door: `serve` runs from now on, and the sequence waits for it to end (within
    /// the grace) after [`Shutdown::closing`] has resolved.
    pub fn door(
        &mut self,
        name: &'static str,
        serve: impl Future<Output = Result<(), ServerError>> + Send + 'static,
    ) {
        self.doors.spawn(async move { (name, serve.await) });
    }

    /// Registers a probe door, which answers through the whole drain and stops last (on
    /// [`Shutdown::stopping`]).
    pub fn probe(
        &mut self,
        name: &'static str,
        serve: impl Future<Output = Result<(), ServerError>> + Send + 'static,
    ) {
        self.probes.spawn(async move { (name, serve.await) });
    }

    /// Runs `flush` after everything has stopped, whether serving ended well or not.
    pub fn on_exit(&mut self, flush: impl Future<Output = ()> + Send + 'static) {
        self.exit_flushes.push(Box::pin(flush));
    }

    /// Health `SERVING` (and liveness): the doors are registered and take work.
    pub async fn serving(&mut self) {
        set_health(&self.health, ServingStatus::Serving).await;
        self.health
            .set_service_status(super::LIVENESS, ServingStatus::Serving)
            .await;
    }

    /// Serves until `signal` resolves, then walks the phases.
    ///
    /// # Errors
    /// The first door failure, before or during the drain.
    pub async fn run(mut self, signal: impl Future<Output = ()> + Send) -> Result<(), ServerError> {
        let outcome = match self.serve_until(signal).await {
            Ok(()) => self.drain().await,
            Err(error) => Err(error),
        };
        self.enter(Phase::Stopped).await;
        outcome
    }

    /// [`Phase::Serving`]: until the signal, or the first door failure.
    async fn serve_until(
        &mut self,
        signal: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        let mut signal = std::pin::pin!(signal);
        loop {
            tokio::select! {
                () = &mut signal => return Ok(()),
                Some(ended) = self.doors.join_next() => door_outcome(ended)?,
            }
        }
    }

    /// [`Phase::NotServing`] → [`Phase::Closed`] → (if the grace runs out)
    /// [`Phase::StreamsEnding`].
    async fn drain(&mut self) -> Result<(), ServerError> {
        self.enter(Phase::NotServing).await;
        // Load balancers and endpoint controllers need a moment to notice NOT_SERVING; until
        // then new connections are still accepted and served.
        tokio::time::sleep(self.drain_delay).await;
        self.enter(Phase::Closed).await;
        if let Ok(outcome) = tokio::time::timeout(self.grace, all_ended(&mut self.doors)).await {
            return outcome;
        }
        self.enter(Phase::StreamsEnding).await;
        match tokio::time::timeout(FINAL_FLUSH, all_ended(&mut self.doors)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::warn!(
                    grace_seconds = self.grace.as_secs(),
                    "grace period over; stopping with calls still in flight"
                );
                self.doors.abort_all();
                Ok(())
            }
        }
    }

    /// Moves to `phase` and does what entering it means; the one place the phases act.
    async fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        match phase {
            Phase::Serving => {}
            Phase::NotServing => {
                tracing::info!(
                    drain_delay_seconds = self.drain_delay.as_secs(),
                    "shutdown requested: health NOT_SERVING; listeners close after the drain delay"
                );
                set_health(&self.health, ServingStatus::NotServing).await;
            }
            Phase::Closed => {
                tracing::info!("listeners closed; draining in-flight calls");
                self.closed.send_replace(true);
                // Removing the statuses ends open health Watch streams (after they have seen
                // NOT_SERVING); otherwise those endless streams would hold the drain open.
                self.health.clear_service_status(super::SERVICE_NAME).await;
                self.health.clear_service_status(super::WHOLE_SERVER).await;
            }
            Phase::StreamsEnding => {
                // Streams are told first and get a moment to deliver their final status; calls
                // still running after that are cut off.
                self.streams.send_replace(true);
            }
            Phase::Stopped => {
                self.stopped.send_replace(true);
                while let Some(ended) = self.probes.join_next().await {
                    if let Err(error) = door_outcome(ended) {
                        tracing::warn!(%error, "a probe door failed");
                    }
                }
                tracing::info!("stopped");
                for flush in self.exit_flushes.drain(..) {
                    flush.await;
                }
            }
        }
    }
}

/// Readiness of the whole server and of the API service (liveness is left alone).
async fn set_health(health: &HealthReporter, status: ServingStatus) {
    health.set_service_status(super::WHOLE_SERVER, status).await;
    health.set_service_status(super::SERVICE_NAME, status).await;
}

/// Resolves once `flag` turns true (or its sender is gone, which means the sequence ended).
async fn reached(mut flag: watch::Receiver<bool>) {
    let _ = flag.wait_for(|reached| *reached).await;
}

/// Waits for every door to end; the first failure wins.
async fn all_ended(
    doors: &mut JoinSet<(&'static str, Result<(), ServerError>)>,
) -> Result<(), ServerError> {
    while let Some(ended) = doors.join_next().await {
        door_outcome(ended)?;
    }
    Ok(())
}

/// A door's end as a result: its own error, or its task's panic.
fn door_outcome(
    ended: Result<(&'static str, Result<(), ServerError>), tokio::task::JoinError>,
) -> Result<(), ServerError> {
    match ended {
        Ok((_, Ok(()))) => Ok(()),
        Ok((door, Err(error))) => {
            tracing::warn!(door, "a door stopped with an error");
            Err(error)
        }
        Err(error) => Err(ServerError::Door(error)),
    }
}
