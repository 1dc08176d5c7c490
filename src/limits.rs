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

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use tokio::sync::Semaphore;
use tonic::Status;

pub use crate::config::LimitsSettings;
use crate::status::{self, HttpError};

/// h2's threshold: a DATA frame with a smaller payload is charged `256 - payload` against the
/// connection's budget until the application reads it.
const H2_FRAME_CHARGE_THRESHOLD: u64 = 256;
/// The smallest DATA frame a gRPC message can travel in: the 5-byte prefix of an empty message.
const SMALLEST_GRPC_FRAME: u64 = 5;
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

/// The global call limiter: one semaphore both ports draw from.
#[derive(Clone, Debug)]
pub struct Limiter {
    slots: Arc<Semaphore>,
    capacity: usize,
    retry_after: Duration,
    call_timeout: Duration,
    max_http_body: usize,
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

    fn overloaded(&self) -> Status {
        status::overloaded(self.retry_after)
    }
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

impl<S, B> tower::Service<axum::http::Request<B>> for GrpcLimit<S>
where
    S: tower::Service<axum::http::Request<B>, Response = axum::http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        // The service that was polled ready handles this call; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !is_api(request.uri().path()) {
            return Box::pin(inner.call(request));
        }
        let Ok(permit) = Arc::clone(&self.limiter.slots).try_acquire_owned() else {
            tracing::warn!(
                limit = self.limiter.capacity,
                "call shed: concurrent-call limit reached"
            );
            let status = self.limiter.overloaded();
            return Box::pin(async move { Ok(status.into_http()) });
        };
        let deadline = grpc_deadline(request.headers(), self.limiter.call_timeout);
        let call = inner.call(request);
        Box::pin(async move {
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

/// HTTP door middleware: the same global limit (503 + `Retry-After`), the body size (413) and the
/// call deadline (408: with evaluation taking microseconds, a request that runs out of time is
/// one whose body did not arrive in time). Errors are `OperationOutcome`s like every other.
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
    // Scrapes are never shed: an overloaded replica is exactly when its metrics matter.
    if request.uri().path() == "/metrics" {
        return next.run(request).await;
    }
    let Ok(_permit) = Arc::clone(&limiter.slots).try_acquire_owned() else {
        tracing::warn!(
            limit = limiter.capacity,
            "request shed: concurrent-call limit reached"
        );
        let mut response = HttpError::Overloaded.into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(limiter.retry_after.as_secs().max(1)),
        );
        return response;
    };
    // Chunked bodies carry no length; the limit is enforced while reading them.
    let request = request.map(|body| {
        axum::body::Body::new(http_body_util::Limited::new(body, limiter.max_http_body))
    });
    match tokio::time::timeout(limiter.call_timeout, next.run(request)).await {
        Ok(response) if response.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            HttpError::PayloadTooLarge.into_response()
        }
        Ok(response) => response,
        Err(_) => HttpError::Timeout.into_response(),
    }
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
    fn only_the_api_is_limited() {
        assert!(is_api("/cramp.v1.CrampAssessmentService/Assess"));
        assert!(!is_api("/grpc.health.v1.Health/Check"));
        assert!(!is_api(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
    }
}
