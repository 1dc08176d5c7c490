//! The service's metric instruments, and `/metrics` for Prometheus.
//!
//! RED metrics follow the current OpenTelemetry semantic conventions (1.42): the duration
//! histograms `rpc.server.call.duration` and `http.server.request.duration` in seconds, whose
//! counts split by status give rate and errors. Two counters describe what the service decided,
//! in aggregate: `cramp.assessments` by `cramp.urgency` and `cramp.flags` by `cramp.flag`.
//!
//! Every attribute value comes from a closed vocabulary (a known method or `_OTHER`, a route
//! template, a status code, an urgency or flag contract name): no request id, path value or
//! answer can become a label, which keeps both cardinality and PHI out of the metrics.
//!
//! [`Instruments`] is a `tracing` layer that handles no span or event: it rides in the subscriber
//! so that any door finds the instruments of the current dispatcher ([`Instruments::current`]).
//! Without it (no telemetry configured, or a subscriber built without it) recording does nothing.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use cramp_core::Assessment;
use opentelemetry::{
    KeyValue,
    metrics::{Counter, Histogram, Meter},
};
use opentelemetry_semantic_conventions::{attribute as attr, metric as semconv};
use tracing::Subscriber;

/// Attribute naming an assessment's overall urgency (`URGENCY_ROUTINE`, ...).
pub const URGENCY: &str = "cramp.urgency";
/// Attribute naming a raised flag (`FLAG_PAD_PATTERN`, ...).
pub const FLAG: &str = "cramp.flag";
/// Counter of completed assessments.
pub const ASSESSMENTS: &str = "cramp.assessments";
/// Counter of raised flags.
pub const FLAGS: &str = "cramp.flags";

/// Bucket boundaries of both duration histograms, in seconds.
///
/// The SDK's default boundaries (0, 5, 10, 25, ... 10000) assume milliseconds; with unit `s`
/// every call would land in the first bucket. An assessment takes tens of microseconds, a CDS
/// Hooks call a few milliseconds, and a batch stream can last minutes, hence the span.
pub const DURATION_BOUNDARIES_SECONDS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The instruments every door records into, and the Prometheus registry `/metrics` serves.
///
/// Cheap to clone (each instrument is a handle). As a `tracing` layer it does nothing but be
/// findable through the dispatcher.
#[derive(Clone, Debug)]
pub struct Instruments {
    /// `rpc.server.call.duration` (s).
    rpc_duration: Histogram<f64>,
    /// `http.server.request.duration` (s).
    http_duration: Histogram<f64>,
    /// `cramp.assessments` by urgency.
    assessments: Counter<u64>,
    /// `cramp.flags` by flag.
    flags: Counter<u64>,
    /// What `/metrics` renders; `None` when `telemetry.prometheus` is off.
    registry: Option<prometheus::Registry>,
}

impl Instruments {
    /// Creates the instruments on `meter`; `registry` is the one the meter provider's Prometheus
    /// reader fills, if any.
    #[must_use]
    pub fn new(meter: &Meter, registry: Option<prometheus::Registry>) -> Self {
        let boundaries = DURATION_BOUNDARIES_SECONDS.to_vec();
        Self {
            rpc_duration: meter
                .f64_histogram(semconv::RPC_SERVER_CALL_DURATION)
                .with_unit("s")
                .with_description("Duration of incoming RPCs, to the end of the response stream.")
                .with_boundaries(boundaries.clone())
                .build(),
            http_duration: meter
                .f64_histogram(semconv::HTTP_SERVER_REQUEST_DURATION)
                .with_unit("s")
                .with_description("Duration of HTTP server requests.")
                .with_boundaries(boundaries)
                .build(),
            assessments: meter
                .u64_counter(ASSESSMENTS)
                .with_unit("{assessment}")
                .with_description("Completed assessments, by overall urgency.")
                .build(),
            flags: meter
                .u64_counter(FLAGS)
                .with_unit("{flag}")
                .with_description("Risk flags raised, by flag.")
                .build(),
            registry,
        }
    }

    /// The instruments of the current subscriber, if it carries them.
    #[must_use]
    pub fn current() -> Option<Self> {
        tracing::dispatcher::get_default(|dispatch| dispatch.downcast_ref::<Self>().cloned())
    }

    /// Records one finished RPC: `method` is a known fully-qualified method or `_OTHER`,
    /// `status` a gRPC status name.
    pub(crate) fn record_rpc(&self, method: &'static str, status: &'static str, seconds: f64) {
        let mut attributes = vec![
            KeyValue::new(attr::RPC_SYSTEM_NAME, "grpc"),
            KeyValue::new(attr::RPC_METHOD, method),
            KeyValue::new(attr::RPC_RESPONSE_STATUS_CODE, status),
        ];
        if status != "OK" {
            attributes.push(KeyValue::new(attr::ERROR_TYPE, status));
        }
        self.rpc_duration.record(seconds, &attributes);
    }

    /// Records one finished HTTP request: `method` is a known method or `_OTHER`, `route` the
    /// matched route template (absent when nothing matched).
    pub(crate) fn record_http(
        &self,
        method: &'static str,
        route: Option<&str>,
        status: StatusCode,
        seconds: f64,
    ) {
        let mut attributes = vec![
            KeyValue::new(attr::HTTP_REQUEST_METHOD, method),
            KeyValue::new(attr::HTTP_RESPONSE_STATUS_CODE, i64::from(status.as_u16())),
        ];
        if let Some(route) = route {
            attributes.push(KeyValue::new(attr::HTTP_ROUTE, route.to_owned()));
        }
        if status.is_server_error() {
            attributes.push(KeyValue::new(attr::ERROR_TYPE, status.as_u16().to_string()));
        }
        self.http_duration.record(seconds, &attributes);
    }

    /// Counts one assessment by its urgency and each of its flags by name.
    fn record_assessment(&self, assessment: &Assessment) {
        self.assessments
            .add(1, &[KeyValue::new(URGENCY, assessment.urgency.name())]);
        for flag in &assessment.flags {
            self.flags.add(1, &[KeyValue::new(FLAG, flag.flag.name())]);
        }
    }

    /// The Prometheus text exposition of everything recorded so far, if Prometheus is on.
    ///
    /// # Errors
    /// The encoder's error (only on a malformed metric family, which the exporter does not make).
    pub fn render(&self) -> Option<Result<String, prometheus::Error>> {
        let registry = self.registry.as_ref()?;
        Some(prometheus::TextEncoder::new().encode_to_string(&registry.gather()))
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for Instruments {}

/// Counts a completed assessment into the current subscriber's instruments; every door reaches
/// it through [`crate::assess::Assessor`].
pub fn record_assessment(assessment: &Assessment) {
    tracing::dispatcher::get_default(|dispatch| {
        if let Some(instruments) = dispatch.downcast_ref::<Instruments>() {
            instruments.record_assessment(assessment);
        }
    });
}

/// `GET /metrics`: the Prometheus text exposition, unauthenticated (it holds aggregates of closed
/// vocabularies only). Not found when `telemetry.prometheus` is off.
pub async fn scrape() -> Response {
    match Instruments::current()
        .as_ref()
        .and_then(Instruments::render)
    {
        Some(Ok(text)) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Some(Err(_)) => {
            tracing::error!("cannot encode the Prometheus exposition");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        None => crate::status::HttpError::NotFound.into_response(),
    }
}
