//! Observability: structured logs with `tracing`, and OpenTelemetry traces and metrics.
//!
//! Logs are human-readable text on a terminal or JSON for collectors. Traces and metrics go to an
//! OTLP collector over gRPC when one is configured ([`otel`]), and metrics are also served for
//! Prometheus on the HTTP door's `/metrics` ([`metrics`]). Both ride on the same `tracing`
//! subscriber: spans become OpenTelemetry spans through `tracing-opentelemetry`, and the metric
//! instruments are a layer of the subscriber that the doors find through the current dispatcher.
//! That keeps the doors free of telemetry plumbing, and lets a test give one server its own
//! providers with a scoped subscriber instead of process-wide globals.
//!
//! PHI rule: no log line, span, span event or metric carries patient data. Handlers are
//! instrumented with `skip_all` and name only safe fields (request id, rule ids, flag codes,
//! counts, urgency, timings), and the messages that hold patient answers print nothing through
//! `Debug` (see [`crate::pb`]). Metric attributes take values from closed vocabularies only
//! (method and route templates, status codes, urgency and flag names), so no request id or
//! answer can become a label. Only `cramp_cds` spans and events at INFO or above (and the DEBUG
//! `rules_evaluated` event of the assessment path) are exported, whatever the log filter lets
//! through; the audit trail (target `audit`: who, which patient pseudonym, which flags) never is. The subscriber is built separately from being installed so that tests can capture
//! what the service writes.

pub mod grpc;
pub mod http;
pub mod metrics;
pub mod otel;

use std::io::IsTerminal as _;

use opentelemetry::propagation::TextMapPropagator as _;
use tracing::{Level, Subscriber};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{
    EnvFilter, Layer as _,
    filter::{LevelFilter, Targets},
    fmt::MakeWriter,
    layer::SubscriberExt as _,
    registry::LookupSpan,
};

pub use metrics::Instruments;
pub use otel::{Otel, OtelEnv, TelemetrySettings};

use crate::config::{LogFormat, LogSettings};

/// Why logging or telemetry could not be set up or shut down.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// `log.filter` is not a valid `EnvFilter` directive list.
    #[error("invalid configuration: key `log.filter` is not a valid filter")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// A global subscriber was already installed.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled(#[from] tracing::subscriber::SetGlobalDefaultError),
    /// The OTLP exporter could not be built from `telemetry.otlp_endpoint` and `OTEL_*`.
    #[error(
        "cannot build the OTLP exporter (key `telemetry.otlp_endpoint` or OTEL_EXPORTER_OTLP_*)"
    )]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// An `OTEL_*` variable asks for something this build cannot do.
    #[error("unsupported OpenTelemetry setting: {0}")]
    Unsupported(&'static str),
    /// OTLP export needs a Tokio runtime (the gRPC channel's worker runs on it).
    #[error("OTLP export must be started inside a Tokio runtime")]
    NoRuntime,
    /// The Prometheus reader could not be built.
    #[error("cannot build the Prometheus exporter (key `telemetry.prometheus`)")]
    Prometheus(#[source] opentelemetry_sdk::error::OTelSdkError),
    /// Flushing or stopping a provider failed at shutdown (e.g. the collector is unreachable).
    #[error("cannot flush telemetry at shutdown")]
    Shutdown(#[source] opentelemetry_sdk::error::OTelSdkError),
}

/// Builds a subscriber writing logs to `sink` in the configured format; `ansi` colours text
/// output. No OpenTelemetry: what the CLI and the log-capture tests use.
///
/// # Errors
/// [`TelemetryError::Filter`] when `log.filter` does not parse.
pub fn subscriber<W>(
    settings: &LogSettings,
    sink: W,
    ansi: bool,
) -> Result<impl Subscriber + Send + Sync + for<'a> LookupSpan<'a> + use<W>, TelemetryError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    subscriber_with(settings, sink, ansi, &Otel::disabled())
}

/// [`subscriber`], also exporting spans through `otel`'s tracer and carrying its metric
/// instruments (when `otel` has them).
///
/// Every layer filters for itself: the log filter decides what is logged, and only `cramp_cds`
/// spans and events at INFO or above (and the assessment path's DEBUG `rules_evaluated`) are
/// exported, so a verbose log filter neither floods the collector nor exports dependency
/// internals, and a quiet one does not switch traces off.
///
/// # Errors
/// [`TelemetryError::Filter`] when `log.filter` does not parse.
pub fn subscriber_with<W>(
    settings: &LogSettings,
    sink: W,
    ansi: bool,
    otel: &Otel,
) -> Result<impl Subscriber + Send + Sync + for<'a> LookupSpan<'a> + use<W>, TelemetryError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.filter)?;
    // Exactly one of the two layers is `Some`; `Option<Layer>` is a no-op layer when `None`, which
    // keeps a single concrete subscriber type for both formats.
    let (json, text) = match settings.format {
        LogFormat::Json => (
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_writer(sink)
                    .with_filter(filter),
            ),
            None,
        ),
        LogFormat::Text => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(sink)
                    .with_filter(filter),
            ),
        ),
    };
    let traces = otel.tracer().map(|tracer| {
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(
                Targets::new()
                    .with_target(EXPORTED_TARGET, Level::INFO)
                    .with_target(EVALUATION_TARGET, Level::DEBUG),
            )
    });
    // The instruments only ride along to be found by the doors; they want no span or event, and
    // their own filter says so without switching anything off for the other layers.
    let instruments = otel
        .instruments()
        .cloned()
        .map(|instruments| instruments.with_filter(LevelFilter::OFF));
    Ok(tracing_subscriber::registry()
        .with(json)
        .with(text)
        .with(traces)
        .with(instruments))
}

/// The crate whose spans and events are exported (the module path `tracing` records).
const EXPORTED_TARGET: &str = "cramp_cds";
/// Also exported at DEBUG: the assessment path, whose `rules_evaluated` event times the rules
/// without adding a second log line per assessment at INFO.
const EVALUATION_TARGET: &str = "cramp_cds::assess";

/// Lines the log writer holds before a call that logs has to wait for it.
///
/// At about 1 KiB per assessment (the `assessed` line and the audit event) this is 64 MiB at
/// worst, and at tens of thousands of calls per second over a second of a slow stdout.
const LOG_BUFFER_LINES: usize = 65_536;

/// Keeps the log writer's thread alive; dropping it writes out every line still queued.
/// Hold it until the process ends.
#[must_use = "dropping the guard stops the log writer"]
#[derive(Debug)]
pub struct LogGuard(#[allow(dead_code, reason = "held for its Drop")] WorkerGuard);

/// Installs the process-wide subscriber, writing logs to stdout and exporting through `otel`.
///
/// Lines are formatted on the calling thread but written by a worker thread, so a call never
/// waits on stdout (a pipe to a collector, a terminal) unless the queue is full. The writer is
/// not lossy: the audit trail shares the stream and must never lose an event, so when
/// [`LOG_BUFFER_LINES`] lines are queued the calling thread waits for room (back-pressure,
/// as the synchronous writer always did) instead of dropping lines; an overloaded replica is
/// slowed, never made to forget who asked about whom. The worker writes through a buffer and
/// flushes about a millisecond after its queue runs empty ([`LOG_FLUSH_LINGER`]), so lines go
/// out in batches under load and are not held back while the service is idle.
///
/// # Errors
/// [`TelemetryError`] when the filter is invalid or a subscriber is already installed.
pub fn init(settings: &LogSettings, otel: &Otel) -> Result<LogGuard, TelemetryError> {
    let ansi = std::io::stdout().is_terminal();
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .thread_name("cramp-cds-log")
        .finish(LingeringFlush::new(std::io::BufWriter::with_capacity(
            256 * 1024,
            std::io::stdout(),
        )));
    tracing::subscriber::set_global_default(subscriber_with(settings, writer, ansi, otel)?)?;
    Ok(LogGuard(guard))
}

/// Codes joined by commas (`PAD_PATTERN,THIAZIDE`) as a log field, written straight into the
/// line: a field of every assessment's log line and audit event, which would otherwise build a
/// `Vec` and a `String` per call only to copy them into the line.
pub(crate) struct Listed<I>(pub(crate) I);

impl<I> std::fmt::Display for Listed<I>
where
    I: Iterator<Item = &'static str> + Clone,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, code) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(code)?;
        }
        Ok(())
    }
}

/// How long the log writer waits, once its queue has run empty, before it writes out what it
/// holds.
///
/// `tracing-appender`'s worker flushes whenever its queue runs empty. Under load that is after
/// almost every line: one `write` per line, and the worker parks and is woken again by the next
/// line (a futex wake on the calling thread, a context switch on a 2-core machine), which made the
/// log writer the largest per-record cost of an `AssessBatch` stream. Waiting a millisecond first
/// lets the lines of that millisecond queue up (senders do not wake a worker that is not parked)
/// and go out in one `write`; a line still leaves within about a millisecond of the queue running
/// empty, idle or not, and nothing is dropped or reordered.
const LOG_FLUSH_LINGER: std::time::Duration = std::time::Duration::from_millis(1);

/// The log worker's sink: writes as `W` does, but waits [`LOG_FLUSH_LINGER`] before each flush
/// (see there for why).
#[derive(Debug)]
struct LingeringFlush<W> {
    inner: W,
}

impl<W> LingeringFlush<W> {
    const fn new(inner: W) -> Self {
        Self { inner }
    }
}

impl<W: std::io::Write> std::io::Write for LingeringFlush<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::thread::sleep(LOG_FLUSH_LINGER);
        self.inner.flush()
    }
}

/// The caller's span context from a W3C `traceparent` (and `tracestate`) header, if valid.
///
/// gRPC metadata are HTTP/2 headers, so one function serves both doors. The W3C propagator is
/// used directly rather than through the global one, so nothing depends on process-wide state.
fn remote_parent(headers: &axum::http::HeaderMap) -> Option<opentelemetry::Context> {
    use opentelemetry::trace::TraceContextExt as _;

    let context = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&opentelemetry_http::HeaderExtractor(headers));
    context.span().span_context().is_valid().then_some(context)
}

/// Makes `span` a child of the caller's span when the request names one, so the caller's trace
/// id is kept across the hop.
fn adopt_remote_parent(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    if let Some(parent) = remote_parent(headers) {
        // Fails only when no OpenTelemetry layer is installed, and then there is nothing to link.
        let _ = span.set_parent(parent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_filter_names_the_key() {
        let settings = LogSettings {
            format: LogFormat::Json,
            filter: "info,=[".into(),
        };
        let err = subscriber(&settings, std::io::sink, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("log.filter"), "{err}");
    }

    #[test]
    fn a_valid_traceparent_is_the_remote_parent_and_a_bad_one_is_ignored() {
        use opentelemetry::trace::TraceContextExt as _;

        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "traceparent",
            axum::http::HeaderValue::from_static(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        );
        let parent = remote_parent(&headers).unwrap();
        let span = parent.span();
        let context = span.span_context();
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(context.span_id().to_string(), "00f067aa0ba902b7");
        assert!(context.is_remote());

        headers.insert(
            "traceparent",
            axum::http::HeaderValue::from_static("00-not-a-trace-01"),
        );
        assert!(remote_parent(&headers).is_none());
        assert!(remote_parent(&axum::http::HeaderMap::new()).is_none());
    }
}
