//! Telemetry of the HTTP door: one server span and one `http.server.request.duration` point per
//! request, started and finished by the door's request middleware ([`crate::http`]).
//!
//! The span is named by the route template (`POST /cds-services/{id}`), never by the path, whose
//! values are the caller's; it adopts the caller's W3C `traceparent` header.

use std::time::Instant;

use axum::http::{HeaderMap, Method, StatusCode};
use tracing::{Span, field::Empty};

use super::Instruments;

/// One HTTP request in flight.
#[derive(Debug)]
pub struct HttpCall {
    /// The server span.
    span: Span,
    /// A known method or `_OTHER`.
    method: &'static str,
    /// The matched route template, if any route matched.
    route: Option<String>,
    /// When the request arrived.
    started: Instant,
    /// Where the duration is recorded.
    instruments: Option<Instruments>,
}

impl HttpCall {
    /// Starts the span of a request for `route` (the matched template, `None` when nothing
    /// matched), as a child of the caller's span when `headers` carry a `traceparent`.
    #[must_use]
    pub fn start(method: &Method, route: Option<String>, headers: &HeaderMap) -> Self {
        let method = known_method(method);
        let name = route
            .as_deref()
            .map_or_else(|| method.to_owned(), |route| format!("{method} {route}"));
        let span = tracing::info_span!(
            "http",
            otel.name = %name,
            otel.kind = "server",
            otel.status_code = Empty,
            http.request.method = method,
            http.route = route.as_deref(),
            http.response.status_code = Empty,
            "error.type" = Empty,
        );
        super::adopt_remote_parent(&span, headers);
        Self {
            span,
            method,
            route,
            started: Instant::now(),
            instruments: Instruments::current(),
        }
    }

    /// The request's span, to run the handler in.
    #[must_use]
    pub const fn span(&self) -> &Span {
        &self.span
    }

    /// Records the answer's status on the span and the request's duration.
    pub fn finish(self, status: StatusCode) {
        self.span
            .record("http.response.status_code", status.as_u16());
        if status.is_server_error() {
            self.span.record("error.type", status.as_str());
            self.span.record("otel.status_code", "ERROR");
        }
        if let Some(instruments) = &self.instruments {
            instruments.record_http(
                self.method,
                self.route.as_deref(),
                status,
                self.started.elapsed().as_secs_f64(),
            );
        }
    }
}

/// The method as the semantic conventions want it: a standard one by name, anything else
/// `_OTHER`, so a made-up method never becomes a metric series.
fn known_method(method: &Method) -> &'static str {
    const KNOWN: &[&str] = &[
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN
        .iter()
        .copied()
        .find(|known| *known == method.as_str())
        .unwrap_or("_OTHER")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_methods_are_named() {
        assert_eq!(known_method(&Method::POST), "POST");
        assert_eq!(known_method(&Method::from_bytes(b"get").unwrap()), "_OTHER");
        assert_eq!(
            known_method(&Method::from_bytes(b"PURGE").unwrap()),
            "_OTHER"
        );
    }
}
