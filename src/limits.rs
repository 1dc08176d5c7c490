//! What one caller, one call and one connection may cost: a global concurrency limit with load
//! shedding shared by both ports, per-call deadlines, body sizes and the HTTP/2 connection knobs.
//!
//! Shedding, not queueing: when every slot is taken a call is refused at once
//! (`RESOURCE_EXHAUSTED` with a `RetryInfo`, or HTTP 503 with `Retry-After`) so that an overloaded
//! replica answers quickly and the caller (or its load balancer) retries elsewhere, instead of
//! letting latency and memory grow with the queue. Health, reflection and `/metrics` are never
//! shed or limited: probes and scrapes must see a busy replica as alive.
//!
//! Deadlines: a call ends with `DEADLINE_EXCEEDED` at the earlier of the client's `grpc-timeout`
//! and `limits.call_timeout_seconds`. tonic itself also enforces `grpc-timeout`, but answers
//! `CANCELLED`; this layer answers a little earlier (a tenth of the client's deadline, 5 ms to 1 s)
//! so the caller receives the code the gRPC conventions name. The deadline covers a unary call to its answer and a stream to its
//! response headers; `AssessBatch` streams also end at the client's deadline (see
//! [`crate::batch`]).

pub mod json;

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

pub use crate::config::LimitsSettings;
use crate::{
    edge::ConnectionCap,
    status::{self, HttpError},
};

/// h2's threshold: a DATA frame with a smaller payload is charged `256 - payload` against the
/// connection's budget until the application reads it.
const H2_FRAME_CHARGE_THRESHOLD: u64 = 256;
/// The smallest DATA frame a gRPC message can travel in: the 5-byte prefix of an empty message.
const SMALLEST_GRPC_FRAME: u64 = 5;
/// serde_json's recursion limit is 128; the JSON caps must refuse first so that the caller gets 413
/// naming the path, not a parse error.
const MAX_JSON_DEPTH: usize = 127;
/// h2's largest window (2^31 - 1); larger values make it panic.
const MAX_HTTP2_WINDOW: u32 = (1 << 31) - 1;

/// The HTTP/2 windows our own clients (`screen --server`, the batch bench) ask for: the server's
/// defaults, for the same reason (answers can arrive one small frame each while we write).
pub const CLIENT_STREAM_WINDOW_BYTES: u32 = 64 * 1024;
/// See [`CLIENT_STREAM_WINDOW_BYTES`].
pub const CLIENT_CONNECTION_WINDOW_BYTES: u32 = 16 * 1024 * 1024;

/// What h2 charges at most for one stream's window full of the smallest gRPC frames.
fn worst_stream_charge(stream_window: u32) -> u64 {
    u64::from(stream_window).div_ceil(SMALLEST_GRPC_FRAME)
        * (H2_FRAME_CHARGE_THRESHOLD - SMALLEST_GRPC_FRAME)
}

/// Streams whose whole window of the smallest gRPC frames (empty messages, one per frame) a
/// connection can hold unread before h2's budget (half the connection window) runs out.
#[must_use]
pub fn stalled_streams_absorbed(stream_window: u32, connection_window: u32) -> u64 {
    (u64::from(connection_window) / 2) / worst_stream_charge(stream_window).max(1)
}

impl LimitsSettings {
    /// Rejects HTTP/2 windows with which one stalled batch stream could be cut off.
    ///
    /// h2 keeps the budget at half the connection window; a stream holds at most its window
    /// unread. One stream's window of empty messages, one per frame (the worst any gRPC client
    /// can frame records), must fit in the budget, so however long back-pressure holds a
    /// stream, standard clients are never sent `GOAWAY ENHANCE_YOUR_CALM` while a flood of
    /// tinier frames still is.
    ///
    /// # Errors
    /// A message naming the key at fault.
    pub fn check(&self) -> Result<(), String> {
        let stream = self.http2_stream_window_bytes.get();
        let connection = self.http2_connection_window_bytes.get();
        for (key, value) in [
            ("http2_stream_window_bytes", stream),
            ("http2_connection_window_bytes", connection),
        ] {
            if value > MAX_HTTP2_WINDOW {
                return Err(format!(
                    "key `limits.{key}`: at most {MAX_HTTP2_WINDOW} (the HTTP/2 maximum)"
                ));
            }
        }
        if self.max_buffered_body_bytes < self.max_http_body_bytes {
            return Err(format!(
                "key `limits.max_buffered_body_bytes`: at least `limits.max_http_body_bytes` \
                 ({}), or a body of the largest size could never be read",
                self.max_http_body_bytes
            ));
        }
        if self.max_json_array_items.get() > self.max_json_values.get() {
            return Err(
                "key `limits.max_json_array_items`: at most `limits.max_json_values`".into(),
            );
        }
        if self.max_json_depth.get() > MAX_JSON_DEPTH {
            return Err(format!(
                "key `limits.max_json_depth`: at most {MAX_JSON_DEPTH} (the JSON parser's own limit)"
            ));
        }
        if stalled_streams_absorbed(stream, connection) < 1 {
            let needed = worst_stream_charge(stream) * 2;
            return Err(format!(
                "key `limits.http2_connection_window_bytes`: at least {needed} with a stream \
                 window of {stream}, or one stalled stream of one-message DATA frames could \
                 exhaust h2's small-frame budget (half the connection window)"
            ));
        }
        Ok(())
    }
}

/// Seconds to an optional duration, 0 meaning "off".
#[must_use]
pub const fn seconds_or_off(seconds: u64) -> Option<Duration> {
    if seconds == 0 {
        None
    } else {
        Some(Duration::from_secs(seconds))
    }
}

/// How much earlier than the client's own deadline the server answers, so that the caller
/// receives the server's `DEADLINE_EXCEEDED` (with its `ErrorInfo`) before its own timer fires
/// (tonic clients report their own timer as `CANCELLED`, and tonic's server-side timer also
/// answers `CANCELLED`): a tenth of the deadline, at least 5 ms (timer resolution) and at most
/// one second, which leaves the answer time to travel back on a loaded machine.
fn deadline_margin(client: Duration) -> Duration {
    (client / 10).clamp(Duration::from_millis(5), Duration::from_secs(1))
}

/// When the server gives up on a call whose client set `grpc-timeout` to `client`: early by
/// [`deadline_margin`], so the server's status reaches the client first.
#[must_use]
pub fn answer_by(client: Duration) -> Duration {
    client.saturating_sub(deadline_margin(client))
}

/// The global call limiter: one semaphore both ports draw from, the connection caps of both
/// listeners, the budget of request bytes held while bodies are read, and readiness.
#[derive(Clone, Debug)]
pub struct Limiter {
    slots: Arc<Semaphore>,
    capacity: usize,
    retry_after: Duration,
    call_timeout: Duration,
    max_http_body: usize,
    /// Largest unary gRPC message (`server.max_message_bytes`), read before a slot is taken.
    max_message: usize,
    body_read_timeout: Duration,
    /// Request bytes read and not yet answered, over all requests.
    body_budget: Arc<Semaphore>,
    json: json::JsonCaps,
    grpc_connections: ConnectionCap,
    http_connections: ConnectionCap,
    readiness: Arc<Readiness>,
}

/// Whether the server takes work: false while draining or at a limit.
#[derive(Debug, Default)]
struct Readiness {
    draining: AtomicBool,
    /// Held while the watcher decides and sets health, so that draining always has the last word.
    turn: tokio::sync::Mutex<()>,
}

impl Limiter {
    /// A limiter with the configured capacity and deadlines.
    #[must_use]
    pub fn new(settings: &LimitsSettings) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(settings.max_concurrent_calls.get())),
            capacity: settings.max_concurrent_calls.get(),
            retry_after: Duration::from_secs(settings.retry_after_seconds),
            call_timeout: Duration::from_secs(settings.call_timeout_seconds.max(1)),
            max_http_body: settings.max_http_body_bytes.get(),
            max_message: 4 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(settings.body_read_timeout_seconds.get()),
            body_budget: Arc::new(Semaphore::new(
                settings
                    .max_buffered_body_bytes
                    .get()
                    .min(Semaphore::MAX_PERMITS),
            )),
            json: json::JsonCaps {
                values: settings.max_json_values.get(),
                array_items: settings.max_json_array_items.get(),
                depth: settings.max_json_depth.get(),
            },
            grpc_connections: ConnectionCap::new(settings, "grpc"),
            http_connections: ConnectionCap::new(settings, "http"),
            readiness: Arc::default(),
        }
    }

    /// The same limiter reading unary gRPC messages of up to `bytes` before taking a slot.
    #[must_use]
    pub fn with_max_message_bytes(self, bytes: usize) -> Self {
        Self {
            max_message: bytes,
            ..self
        }
    }

    /// Calls in progress right now (for tests and operators).
    #[must_use]
    pub fn in_use(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    /// The configured capacity.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Largest HTTP request body.
    #[must_use]
    pub const fn max_http_body(&self) -> usize {
        self.max_http_body
    }

    /// The gRPC listener's connection cap.
    #[must_use]
    pub fn grpc_connections(&self) -> ConnectionCap {
        self.grpc_connections.clone()
    }

    /// The HTTP door's connection cap.
    #[must_use]
    pub fn http_connections(&self) -> ConnectionCap {
        self.http_connections.clone()
    }

    /// Whether a new call would be taken: not draining, a call slot free, and room on both
    /// listeners.
    #[must_use]
    pub fn ready(&self) -> bool {
        !self.readiness.draining.load(Ordering::Acquire)
            && self.slots.available_permits() > 0
            && !self.grpc_connections.is_full()
            && !self.http_connections.is_full()
    }

    /// Marks the server as draining: [`Limiter::ready`] is false from now on, and once this
    /// returns the readiness watcher will not set health again.
    pub async fn begin_draining(&self) {
        self.readiness.draining.store(true, Ordering::Release);
        drop(self.readiness.turn.lock().await);
    }

    /// Keeps `services` in health at `SERVING` while [`Limiter::ready`] and `NOT_SERVING` while
    /// not (all call slots taken, a listener at its connection cap), so that balancers stop
    /// routing to a replica that would refuse; ends once [`Limiter::begin_draining`] is called.
    pub fn watch_readiness(
        &self,
        reporter: tonic_health::server::HealthReporter,
        services: &'static [&'static str],
    ) {
        let limiter = self.clone();
        tokio::spawn(async move {
            let mut serving = true;
            let mut tick = tokio::time::interval(READINESS_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let _turn = limiter.readiness.turn.lock().await;
                if limiter.readiness.draining.load(Ordering::Acquire) {
                    break;
                }
                let ready = limiter.ready();
                if ready == serving {
                    continue;
                }
                serving = ready;
                tracing::warn!(
                    ready,
                    calls_in_progress = limiter.in_use(),
                    grpc_connections = limiter.grpc_connections.open(),
                    http_connections = limiter.http_connections.open(),
                    "readiness changed"
                );
                let status = if ready {
                    tonic_health::ServingStatus::Serving
                } else {
                    tonic_health::ServingStatus::NotServing
                };
                for service in services {
                    reporter.set_service_status(*service, status).await;
                }
            }
        });
    }

    fn overloaded(&self) -> Status {
        status::overloaded(self.retry_after)
    }

    /// A call slot held outside any call, for drills and tests that need a busy replica (every
    /// slot taken) without a caller holding them; `None` when none is free.
    #[must_use]
    pub fn try_reserve(&self) -> Option<CallSlot> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .ok()
            .map(CallSlot)
    }

    /// Reads `body` in full (at most `limit` bytes, within the body-read timeout) into the body
    /// budget, before any call slot is taken.
    async fn read_body<B>(
        &self,
        body: B,
        limit: usize,
        timeout: Duration,
    ) -> Result<Buffered, BodyRefusal>
    where
        B: http_body::Body<Data = Bytes>,
    {
        let read = async {
            let mut body = std::pin::pin!(body);
            let mut bytes = Vec::new();
            let mut held: Option<OwnedSemaphorePermit> = None;
            while let Some(frame) = body.frame().await {
                let Ok(frame) = frame else {
                    return Err(BodyRefusal::Broken);
                };
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if bytes.len() + data.len() > limit {
                    return Err(BodyRefusal::TooLarge);
                }
                let n = u32::try_from(data.len()).map_err(|_| BodyRefusal::TooLarge)?;
                let Ok(permit) = Arc::clone(&self.body_budget).try_acquire_many_owned(n) else {
                    return Err(BodyRefusal::Budget);
                };
                match held.as_mut() {
                    Some(held) => held.merge(permit),
                    None => held = Some(permit),
                }
                bytes.extend_from_slice(&data);
            }
            Ok(Buffered {
                bytes: Bytes::from(bytes),
                _held: held,
            })
        };
        tokio::time::timeout(timeout, read)
            .await
            .unwrap_or(Err(BodyRefusal::Slow))
    }
}

/// A call slot taken by [`Limiter::try_reserve`]; freed when dropped.
#[derive(Debug)]
pub struct CallSlot(#[expect(dead_code, reason = "held for its drop")] OwnedSemaphorePermit);

/// How often readiness is re-evaluated: fast enough for probes (seconds apart), cheap enough to
/// ignore.
const READINESS_TICK: Duration = Duration::from_millis(100);

/// A request body read in full, holding its share of the body budget until dropped.
struct Buffered {
    bytes: Bytes,
    _held: Option<OwnedSemaphorePermit>,
}

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyRefusal {
    /// It did not arrive within the body-read timeout.
    Slow,
    /// It is larger than the limit.
    TooLarge,
    /// The body budget is spent.
    Budget,
    /// The connection failed while reading it.
    Broken,
}

/// The deadline a gRPC call runs under: the earlier of the client's `grpc-timeout` (less the
/// margin that lets us answer before tonic's own timer) and the configured call timeout.
fn grpc_deadline(headers: &axum::http::HeaderMap, call_timeout: Duration) -> Duration {
    match headers
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
    {
        Some(client) => call_timeout.min(answer_by(client)),
        None => call_timeout,
    }
}

/// Parses a `grpc-timeout` value (at most 8 digits and a unit, per the gRPC HTTP/2 spec).
#[must_use]
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let split = value.len().checked_sub(1)?;
    let (digits, unit) = value.split_at_checked(split)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Whether a gRPC path belongs to the API (limited) rather than health or reflection (never).
fn is_api(path: &str) -> bool {
    path.starts_with("/cramp.v1.")
}

/// The gRPC server layer: sheds API calls past the limit and applies their deadline.
#[derive(Clone, Debug)]
pub struct GrpcLimitLayer {
    limiter: Limiter,
}

impl GrpcLimitLayer {
    /// A layer drawing on `limiter`.
    #[must_use]
    pub const fn new(limiter: Limiter) -> Self {
        Self { limiter }
    }
}

impl<S> tower::Layer<S> for GrpcLimitLayer {
    type Service = GrpcLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcLimit {
            inner,
            limiter: self.limiter.clone(),
        }
    }
}

/// See [`GrpcLimitLayer`].
#[derive(Clone, Debug)]
pub struct GrpcLimit<S> {
    inner: S,
    limiter: Limiter,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> tower::Service<axum::http::Request<tonic::body::Body>> for GrpcLimit<S>
where
    S: tower::Service<
            axum::http::Request<tonic::body::Body>,
            Response = axum::http::Response<tonic::body::Body>,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<tonic::body::Body>) -> Self::Future {
        // The service that was polled ready handles this call; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !is_api(request.uri().path()) {
            return Box::pin(inner.call(request));
        }
        let limiter = self.limiter.clone();
        let started = tokio::time::Instant::now();
        let deadline = grpc_deadline(request.headers(), limiter.call_timeout);
        Box::pin(async move {
            // A unary message is read before a slot is taken, so a caller sending it at 1 byte/s
            // holds a connection, not a slot. A stream's records are read under batch limits.
            let (request, _buffered) = if is_stream(request.uri().path()) {
                (request, None)
            } else {
                let (parts, body) = request.into_parts();
                // One message: the 5-byte gRPC prefix and at most `max_message_bytes`.
                let timeout = deadline.min(limiter.body_read_timeout);
                match limiter
                    .read_body(body, limiter.max_message + 5, timeout)
                    .await
                {
                    Ok(buffered) => {
                        let body = tonic::body::Body::new(http_body_util::Full::new(
                            buffered.bytes.clone(),
                        ));
                        (axum::http::Request::from_parts(parts, body), Some(buffered))
                    }
                    Err(refusal) => return Ok(grpc_refusal(&limiter, refusal).into_http()),
                }
            };
            let Ok(permit) = Arc::clone(&limiter.slots).try_acquire_owned() else {
                tracing::warn!(
                    limit = limiter.capacity,
                    "call shed: concurrent-call limit reached"
                );
                return Ok(limiter.overloaded().into_http());
            };
            // The client's deadline counts from the call's start, reading included.
            let deadline = deadline.saturating_sub(started.elapsed());
            let call = inner.call(request);
            let _permit = permit;
            match tokio::time::timeout(deadline, call).await {
                Ok(answer) => answer,
                Err(_) => {
                    tracing::info!(
                        deadline_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
                        "call deadline exceeded"
                    );
                    Ok(status::deadline_exceeded().into_http())
                }
            }
        })
    }
}

/// Whether an API method streams its request (records are read under the batch limits, not
/// buffered here).
fn is_stream(path: &str) -> bool {
    path.ends_with("/AssessBatch")
}

/// The status a gRPC call gets when its message could not be read.
fn grpc_refusal(limiter: &Limiter, refusal: BodyRefusal) -> Status {
    tracing::info!(
        ?refusal,
        "call refused before a slot: request message not read"
    );
    match refusal {
        BodyRefusal::Slow => status::deadline_exceeded(),
        BodyRefusal::Budget => limiter.overloaded(),
        // tonic's own answer to a message over `max_decoding_message_size`.
        BodyRefusal::TooLarge => Status::out_of_range(format!(
            "Error, decoded message length too large: the limit is: {} bytes",
            limiter.max_message
        )),
        BodyRefusal::Broken => Status::cancelled("the request message could not be read"),
    }
}

/// HTTP door middleware: the body is read in full first (the size, 413; the body-read timeout,
/// 408; the body budget, 503) and, when it is JSON, counted against the JSON caps (413) before
/// anything parses it; then the same global limit as gRPC (503 + `Retry-After`) and the call
/// deadline (408). Errors are `OperationOutcome`s like every other.
pub async fn http_limits(
    axum::extract::State(limiter): axum::extract::State<Limiter>,
    request: Request,
    next: Next,
) -> Response {
    let too_long = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > u64::try_from(limiter.max_http_body).unwrap_or(u64::MAX));
    if too_long {
        return HttpError::PayloadTooLarge.into_response();
    }
    // Scrapes and probes are never shed: an overloaded replica is exactly when they matter.
    if matches!(request.uri().path(), "/metrics" | READY_PATH) {
        return next.run(request).await;
    }
    // Read before a slot is taken, so slow senders hold connections (capped), not slots.
    let (parts, body) = request.into_parts();
    let timeout = limiter.body_read_timeout.min(limiter.call_timeout);
    let buffered = match limiter
        .read_body(body, limiter.max_http_body, timeout)
        .await
    {
        Ok(buffered) => buffered,
        Err(refusal) => {
            tracing::info!(?refusal, "request refused before a slot: body not read");
            return match refusal {
                BodyRefusal::TooLarge => HttpError::PayloadTooLarge.into_response(),
                BodyRefusal::Budget => overloaded(&limiter),
                BodyRefusal::Slow | BodyRefusal::Broken => HttpError::Timeout.into_response(),
            };
        }
    };
    if !buffered.bytes.is_empty()
        && let Err(exceeded) = json::scan(&buffered.bytes, limiter.json)
    {
        return HttpError::TooComplex {
            path: exceeded.path,
            limit: exceeded.limit,
        }
        .into_response();
    }
    let request = Request::from_parts(parts, axum::body::Body::from(buffered.bytes.clone()));
    let Ok(_permit) = Arc::clone(&limiter.slots).try_acquire_owned() else {
        tracing::warn!(
            limit = limiter.capacity,
            "request shed: concurrent-call limit reached"
        );
        return overloaded(&limiter);
    };
    let response = match tokio::time::timeout(limiter.call_timeout, next.run(request)).await {
        Ok(response) if response.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            HttpError::PayloadTooLarge.into_response()
        }
        Ok(response) => response,
        Err(_) => HttpError::Timeout.into_response(),
    };
    drop(buffered);
    response
}

/// The HTTP readiness probe's path (never shed, never authenticated).
pub const READY_PATH: &str = "/ready";

/// The HTTP readiness probe: 200 while the server takes work, 503 (`OperationOutcome`,
/// `Retry-After`) while draining or at a limit, the same answer gRPC health gives.
#[must_use]
pub fn readiness(limiter: &Limiter) -> Response {
    if limiter.ready() {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"SERVING"}"#,
        )
            .into_response()
    } else {
        overloaded(limiter)
    }
}

fn overloaded(limiter: &Limiter) -> Response {
    let mut response = HttpError::Overloaded.into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(limiter.retry_after.as_secs().max(1)),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_per_the_spec() {
        assert_eq!(parse_grpc_timeout("1S"), Some(Duration::from_secs(1)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("10n"), Some(Duration::from_nanos(10)));
        for bad in ["", "S", "123456789S", "1x", "-1S", "1.5S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_earlier_deadline_wins_and_the_client_one_is_answered_early() {
        let mut headers = axum::http::HeaderMap::new();
        let configured = Duration::from_secs(30);
        assert_eq!(grpc_deadline(&headers, configured), configured);
        headers.insert("grpc-timeout", HeaderValue::from_static("1S"));
        assert_eq!(
            grpc_deadline(&headers, configured),
            Duration::from_millis(900)
        );
        headers.insert("grpc-timeout", HeaderValue::from_static("100S"));
        assert_eq!(grpc_deadline(&headers, configured), configured);
    }

    #[test]
    fn the_limiter_is_not_ready_with_every_slot_taken_or_while_draining() {
        let mut settings = crate::config::Settings::load(None, Some(Default::default()))
            .unwrap()
            .limits;
        settings.max_concurrent_calls = std::num::NonZeroUsize::new(2).unwrap();
        let limiter = Limiter::new(&settings);
        assert!(limiter.ready());
        let one = limiter.try_reserve().unwrap();
        assert!(limiter.ready());
        let two = limiter.try_reserve().unwrap();
        assert!(!limiter.ready());
        assert!(limiter.try_reserve().is_none());
        drop((one, two));
        assert!(limiter.ready());
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(limiter.begin_draining());
        assert!(!limiter.ready());
    }

    #[test]
    fn edge_settings_that_could_not_work_are_refused_at_start_naming_the_key() {
        let load = |key: &str, value: &str| {
            let env = std::collections::HashMap::from([(key.to_owned(), value.to_owned())]);
            crate::config::Settings::load(None, Some(env)).map(|_| ())
        };
        for (key, value, named) in [
            (
                "CRAMP__LIMITS__MAX_BUFFERED_BODY_BYTES",
                "1000",
                "limits.max_buffered_body_bytes",
            ),
            (
                "CRAMP__LIMITS__MAX_JSON_ARRAY_ITEMS",
                "1000000",
                "limits.max_json_array_items",
            ),
            (
                "CRAMP__LIMITS__MAX_JSON_DEPTH",
                "128",
                "limits.max_json_depth",
            ),
            (
                "CRAMP__LIMITS__MAX_CONNECTIONS_PER_LISTENER",
                "0",
                "max_connections_per_listener",
            ),
        ] {
            let err = load(key, value).unwrap_err();
            let chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            assert!(chain.contains(named), "{key}={value}: {chain}");
        }
        load("CRAMP__LIMITS__MAX_JSON_DEPTH", "127").unwrap();
    }

    #[test]
    fn only_the_api_is_limited() {
        assert!(is_api("/cramp.v1.CrampAssessmentService/Assess"));
        assert!(!is_api("/grpc.health.v1.Health/Check"));
        assert!(!is_api(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
    }
}
