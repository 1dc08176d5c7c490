//! Telemetry of the gRPC listener: one server span and one `rpc.server.call.duration` point per
//! call, as a tower layer on the tonic server.
//!
//! The span adopts the caller's W3C `traceparent` (gRPC metadata are HTTP/2 headers), so it joins
//! the caller's trace. A call ends when its response body ends, not when its headers are sent:
//! a streamed call (`AssessBatch`) reports its status in the trailers after the last answer, and
//! reading the headers alone would report every failed stream as `OK`. Unary failures usually
//! come as trailers-only responses, with the status in the headers; both are read here. A call
//! whose response is dropped before it ends (the client went away) is `CANCELLED`.
//!
//! The layer sits inside gRPC-Web translation, so browser calls are measured as native gRPC.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Instant,
};

use axum::http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Code;
use tracing::{Span, field::Empty};

use super::Instruments;

/// Methods reported by name; any other path is `_OTHER` (semantic conventions: bounded
/// cardinality, and a scanner's made-up paths never become metric series).
pub const KNOWN_METHODS: &[&str] = &[
    "cramp.v1.CrampAssessmentService/Assess",
    "cramp.v1.CrampAssessmentService/GetKnowledgeBase",
    "cramp.v1.CrampAssessmentService/AssessBatch",
    "grpc.health.v1.Health/Check",
    "grpc.health.v1.Health/List",
    "grpc.health.v1.Health/Watch",
    "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// `rpc.method` of a method not in [`KNOWN_METHODS`].
pub const OTHER_METHOD: &str = "_OTHER";

/// Longest unknown path kept in `rpc.method_original`, in bytes.
const MAX_ORIGINAL_METHOD: usize = 128;

/// The tower layer: `Server::builder().layer(GrpcTelemetryLayer)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcTelemetryLayer;

impl<S> tower_layer::Layer<S> for GrpcTelemetryLayer {
    type Service = GrpcTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcTelemetry { inner }
    }
}

/// The service [`GrpcTelemetryLayer`] wraps around the gRPC routes.
#[derive(Clone, Debug)]
pub struct GrpcTelemetry<S> {
    /// The routes.
    inner: S,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for GrpcTelemetry<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ObservedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let call = Call::start(request.uri().path(), request.headers());
        let future = call.span.in_scope(|| self.inner.call(request));
        ResponseFuture {
            future,
            guard: Some(CallGuard {
                call: Some(call),
                status: None,
            }),
        }
    }
}

/// One call in flight: its span, method and start.
struct Call {
    /// The server span; closes when the call ends.
    span: Span,
    /// A known method or `_OTHER`.
    method: &'static str,
    /// When the request arrived.
    started: Instant,
    /// Where the duration is recorded (the subscriber's at the start of the call).
    instruments: Option<Instruments>,
}

impl Call {
    fn start(path: &str, headers: &HeaderMap) -> Self {
        let name = path.strip_prefix('/').unwrap_or(path);
        let method = KNOWN_METHODS
            .iter()
            .copied()
            .find(|known| *known == name)
            .unwrap_or(OTHER_METHOD);
        let span = tracing::info_span!(
            "grpc",
            otel.name = if method == OTHER_METHOD {
                "grpc"
            } else {
                method
            },
            otel.kind = "server",
            otel.status_code = Empty,
            rpc.system.name = "grpc",
            rpc.method = method,
            rpc.method_original = Empty,
            rpc.response.status_code = Empty,
            "error.type" = Empty,
        );
        if method == OTHER_METHOD {
            span.record("rpc.method_original", truncate(name, MAX_ORIGINAL_METHOD));
        }
        super::adopt_remote_parent(&span, headers);
        Self {
            span,
            method,
            started: Instant::now(),
            instruments: Instruments::current(),
        }
    }

    fn finish(self, code: Code) {
        let status = code_name(code);
        self.span.record("rpc.response.status_code", status);
        if code != Code::Ok {
            self.span.record("error.type", status);
        }
        if is_server_error(code) {
            self.span.record("otel.status_code", "ERROR");
        }
        if let Some(instruments) = &self.instruments {
            instruments.record_rpc(self.method, status, self.started.elapsed().as_secs_f64());
        }
    }
}

/// Ends the call exactly once: when the body ends, or when whatever holds it is dropped.
struct CallGuard {
    /// `None` once finished.
    call: Option<Call>,
    /// The status seen so far (headers of a trailers-only response, or trailers).
    status: Option<Code>,
}

impl CallGuard {
    /// Finishes with the status seen, or `CANCELLED` when the response never got that far.
    fn finish(&mut self) {
        if let Some(call) = self.call.take() {
            call.finish(self.status.unwrap_or(Code::Cancelled));
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.finish();
    }
}

pin_project! {
    /// The routes' response future, run inside the call's span.
    pub struct ResponseFuture<F> {
        #[pin]
        future: F,
        guard: Option<CallGuard>,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ObservedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let span = this
            .guard
            .as_ref()
            .and_then(|guard| guard.call.as_ref())
            .map(|call| call.span.clone());
        let result = {
            let _entered = span.as_ref().map(Span::enter);
            ready!(this.future.poll(cx))
        };
        let mut guard = this.guard.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(guard) = guard.as_mut() {
                    guard.status = status_in(response.headers());
                }
                Ok(response.map(|inner| ObservedBody { inner, guard }))
            }
            Err(error) => {
                if let Some(guard) = guard.as_mut() {
                    guard.status = Some(Code::Unknown);
                }
                Err(error)
            }
        })
    }
}

pin_project! {
    /// A response body that ends its call when it ends, reading the status from the trailers.
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        guard: Option<CallGuard>,
    }
}

impl<B> std::fmt::Debug for ObservedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObservedBody")
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(guard) = this.guard.as_mut() {
            match &frame {
                Some(Ok(frame)) => {
                    if let Some(code) = frame.trailers_ref().and_then(status_in) {
                        guard.status = Some(code);
                    }
                }
                // The stream broke off: the client never sees a status.
                Some(Err(_)) => {
                    guard.status = Some(Code::Unknown);
                    guard.finish();
                }
                // A response that ends without a status is a protocol error.
                None => {
                    guard.status.get_or_insert(Code::Unknown);
                    guard.finish();
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The `grpc-status` in headers or trailers, if any.
fn status_in(headers: &HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .map(|value| Code::from_bytes(value.as_bytes()))
}

/// Statuses that mean the server failed (gRPC semantic conventions); the span's status is set to
/// error only for these, while every non-`OK` status is an `error.type`.
const fn is_server_error(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

/// The status code's name as the semantic conventions spell it (`INVALID_ARGUMENT`).
#[must_use]
pub const fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    #[test]
    fn every_method_of_the_api_is_known_by_its_fully_qualified_name() {
        let set = prost_types::FileDescriptorSet::decode(crate::pb::FILE_DESCRIPTOR_SET).unwrap();
        let mut api = Vec::new();
        for file in set.file.iter().filter(|f| f.package() == "cramp.v1") {
            for service in &file.service {
                for method in &service.method {
                    api.push(format!("cramp.v1.{}/{}", service.name(), method.name()));
                }
            }
        }
        assert_eq!(api.len(), 3, "{api:?}");
        for method in &api {
            assert!(KNOWN_METHODS.contains(&method.as_str()), "{method}");
        }
    }

    #[test]
    fn status_names_follow_the_grpc_spelling() {
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
        assert_eq!(code_name(Code::from_bytes(b"8")), "RESOURCE_EXHAUSTED");
        assert_eq!(code_name(Code::from_bytes(b"99")), "UNKNOWN");
        assert!(is_server_error(Code::Internal));
        assert!(!is_server_error(Code::InvalidArgument));
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("ééé", 3), "é");
        assert_eq!(truncate("ab", 8), "ab");
    }
}
