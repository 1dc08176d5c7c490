//! The OpenTelemetry providers: OTLP over gRPC for traces and metrics, and the Prometheus reader.
//!
//! Export is off unless a collector is named, by `telemetry.otlp_endpoint` or by the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `_TRACES_` / `_METRICS_ENDPOINT`) variables, so a laptop or a
//! test never tries to reach `localhost:4317`. The standard `OTEL_*` variables win over the
//! `[telemetry]` settings, because that is how platforms (operators, sidecar injection) configure
//! every service alike: endpoint, headers and timeout are read by the exporter itself,
//! `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name the resource, `OTEL_SDK_DISABLED=true`
//! turns everything off (`/metrics` included), `OTEL_TRACES_EXPORTER=none` and
//! `OTEL_METRICS_EXPORTER=none` turn one signal's export off, and `OTEL_METRIC_EXPORT_INTERVAL`
//! replaces `telemetry.metrics_export_interval_seconds`.
//!
//! [`Otel`] owns the providers; whoever serves owns it and calls [`Otel::shutdown`] after the
//! server stops, so the last spans and metric points are flushed rather than lost.

use std::{collections::HashMap, time::Duration};

use opentelemetry::{
    InstrumentationScope, KeyValue, metrics::MeterProvider as _, trace::TracerProvider as _,
};
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::{
    Resource,
    error::OTelSdkError,
    metrics::{PeriodicReader, SdkMeterProvider},
    resource::TelemetryResourceDetector,
    trace::{SdkTracer, SdkTracerProvider},
};
use opentelemetry_semantic_conventions::resource::{SERVICE_NAME, SERVICE_VERSION};

use super::{Instruments, TelemetryError};
pub use crate::config::TelemetrySettings;

/// The standard `OTEL_*` environment variables, read once.
///
/// Decisions (on or off, which endpoint, the service name) are taken from this snapshot, so tests
/// pass their own instead of changing the process environment, which races with parallel tests.
/// The exporter reads headers and timeouts from the process environment itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OtelEnv(HashMap<String, String>);

impl OtelEnv {
    /// The `OTEL_*` variables of this process (variables that are not Unicode are skipped).
    #[must_use]
    pub fn from_process() -> Self {
        Self(
            std::env::vars_os()
                .filter_map(|(key, value)| {
                    Some((key.into_string().ok()?, value.into_string().ok()?))
                })
                .filter(|(key, _)| key.starts_with("OTEL_"))
                .collect(),
        )
    }

    /// Exactly these variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A variable's value; empty counts as unset, as the specification asks.
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn is(&self, key: &str, value: &str) -> bool {
        self.get(key).is_some_and(|v| v.eq_ignore_ascii_case(value))
    }
}

/// One signal's OTLP endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Endpoint {
    /// An `OTEL_EXPORTER_OTLP_*ENDPOINT` variable names it; the exporter reads it.
    FromEnvironment,
    /// `telemetry.otlp_endpoint`.
    Configured(String),
}

/// What the settings and the environment ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Plan {
    /// Where spans go, if anywhere.
    traces: Option<Endpoint>,
    /// Where metrics are pushed, if anywhere.
    metrics: Option<Endpoint>,
    /// Whether `/metrics` is served.
    prometheus: bool,
    /// `service.name`.
    service_name: String,
    /// Export interval, unless `OTEL_METRIC_EXPORT_INTERVAL` sets it.
    interval: Option<Duration>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, parsed.
    resource_attributes: Vec<(String, String)>,
}

/// One signal's variables.
struct Signal {
    endpoint: &'static str,
    protocol: &'static str,
    exporter: &'static str,
}

const TRACES: Signal = Signal {
    endpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    exporter: "OTEL_TRACES_EXPORTER",
};

const METRICS: Signal = Signal {
    endpoint: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    exporter: "OTEL_METRICS_EXPORTER",
};

fn plan(settings: &TelemetrySettings, env: &OtelEnv) -> Result<Plan, TelemetryError> {
    let disabled = env.is("OTEL_SDK_DISABLED", "true");
    let endpoint = |signal: &Signal| -> Result<Option<Endpoint>, TelemetryError> {
        if disabled || env.is(signal.exporter, "none") {
            return Ok(None);
        }
        let endpoint = if env.get(signal.endpoint).is_some()
            || env.get("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        {
            Endpoint::FromEnvironment
        } else if settings.otlp_endpoint.trim().is_empty() {
            return Ok(None);
        } else {
            Endpoint::Configured(settings.otlp_endpoint.trim().to_owned())
        };
        let protocol = env
            .get(signal.protocol)
            .or_else(|| env.get("OTEL_EXPORTER_OTLP_PROTOCOL"));
        if protocol.is_some_and(|p| !p.eq_ignore_ascii_case("grpc")) {
            return Err(TelemetryError::Unsupported(
                "OTEL_EXPORTER_OTLP_PROTOCOL: this service exports OTLP over gRPC only (`grpc`)",
            ));
        }
        Ok(Some(endpoint))
    };
    let resource_attributes: Vec<(String, String)> = env
        .get("OTEL_RESOURCE_ATTRIBUTES")
        .map(parse_resource_attributes)
        .unwrap_or_default();
    let service_name = env
        .get("OTEL_SERVICE_NAME")
        .map(str::to_owned)
        .or_else(|| {
            resource_attributes
                .iter()
                .find(|(k, _)| k == SERVICE_NAME)
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| settings.service_name.clone());
    Ok(Plan {
        traces: endpoint(&TRACES)?,
        metrics: endpoint(&METRICS)?,
        prometheus: settings.prometheus && !disabled,
        service_name,
        interval: env
            .get("OTEL_METRIC_EXPORT_INTERVAL")
            .is_none()
            .then(|| Duration::from_secs(settings.metrics_export_interval_seconds.get())),
        resource_attributes,
    })
}

/// `key1=value1,key2=value2`, as the SDK's own detector reads it (malformed entries skipped).
fn parse_resource_attributes(text: &str) -> Vec<(String, String)> {
    text.split_terminator(',')
        .filter_map(|entry| entry.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// The instrumentation scope of every span and instrument the service makes.
fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// The OpenTelemetry providers of one server; shut them down after it stops.
#[derive(Debug)]
pub struct Otel {
    /// Exports spans, when traces are on.
    tracer_provider: Option<SdkTracerProvider>,
    /// Feeds the OTLP periodic reader and the Prometheus registry, when either is on.
    meter_provider: Option<SdkMeterProvider>,
    /// The instruments on `meter_provider`.
    instruments: Option<Instruments>,
}

impl Otel {
    /// No export, no metrics.
    #[must_use]
    pub const fn disabled() -> Self {
        Self {
            tracer_provider: None,
            meter_provider: None,
            instruments: None,
        }
    }

    /// Builds the providers `settings` and `env` ask for. Must run inside a Tokio runtime when
    /// OTLP export is on: the exporter's gRPC channel runs its connection on it.
    ///
    /// # Errors
    /// [`TelemetryError::Exporter`] for an unusable endpoint or header,
    /// [`TelemetryError::Unsupported`] for a non-gRPC OTLP protocol,
    /// [`TelemetryError::NoRuntime`] outside a runtime, [`TelemetryError::Prometheus`] when the
    /// Prometheus reader cannot be built.
    pub fn start(settings: &TelemetrySettings, env: &OtelEnv) -> Result<Self, TelemetryError> {
        let plan = plan(settings, env)?;
        if (plan.traces.is_some() || plan.metrics.is_some())
            && tokio::runtime::Handle::try_current().is_err()
        {
            return Err(TelemetryError::NoRuntime);
        }
        let resource = Resource::builder_empty()
            .with_detector(Box::new(TelemetryResourceDetector))
            .with_attribute(KeyValue::new(SERVICE_VERSION, env!("CARGO_PKG_VERSION")))
            .with_attributes(
                plan.resource_attributes
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
            )
            .with_service_name(plan.service_name.clone())
            .build();

        let tracer_provider = match &plan.traces {
            None => None,
            Some(endpoint) => {
                let mut exporter = SpanExporter::builder().with_tonic();
                if let Endpoint::Configured(url) = endpoint {
                    exporter = exporter.with_endpoint(url.clone());
                }
                Some(
                    SdkTracerProvider::builder()
                        .with_resource(resource.clone())
                        .with_batch_exporter(exporter.build()?)
                        .build(),
                )
            }
        };

        let registry = plan.prometheus.then(prometheus::Registry::new);
        let meter_provider = if plan.metrics.is_some() || registry.is_some() {
            let mut provider = SdkMeterProvider::builder().with_resource(resource);
            if let Some(registry) = &registry {
                let reader = opentelemetry_prometheus::exporter()
                    .with_registry(registry.clone())
                    .build()
                    .map_err(TelemetryError::Prometheus)?;
                provider = provider.with_reader(reader);
            }
            if let Some(endpoint) = &plan.metrics {
                let mut exporter = MetricExporter::builder().with_tonic();
                if let Endpoint::Configured(url) = endpoint {
                    exporter = exporter.with_endpoint(url.clone());
                }
                let mut reader = PeriodicReader::builder(exporter.build()?);
                if let Some(interval) = plan.interval {
                    reader = reader.with_interval(interval);
                }
                provider = provider.with_reader(reader.build());
            }
            Some(provider.build())
        } else {
            None
        };
        let instruments = meter_provider
            .as_ref()
            .map(|provider| Instruments::new(&provider.meter_with_scope(scope()), registry));
        Ok(Self {
            tracer_provider,
            meter_provider,
            instruments,
        })
    }

    /// The tracer spans are exported through, when traces are on.
    #[must_use]
    pub fn tracer(&self) -> Option<SdkTracer> {
        self.tracer_provider
            .as_ref()
            .map(|provider| provider.tracer_with_scope(scope()))
    }

    /// The metric instruments, when metrics are on (OTLP or Prometheus).
    #[must_use]
    pub const fn instruments(&self) -> Option<&Instruments> {
        self.instruments.as_ref()
    }

    /// Whether spans are exported (for the start-up log line).
    #[must_use]
    pub const fn exports_traces(&self) -> bool {
        self.tracer_provider.is_some()
    }

    /// Flushes and stops both providers, trying both even when the first fails.
    ///
    /// Flushing blocks until the exporters have sent or timed out, and the OTLP channel is driven
    /// by the runtime, so the blocking part runs on a blocking thread, never on a runtime worker
    /// (on a single-threaded runtime that would wait for itself).
    ///
    /// # Errors
    /// [`TelemetryError::Shutdown`] with the first failure (e.g. an unreachable collector).
    pub async fn shutdown(self) -> Result<(), TelemetryError> {
        let Self {
            tracer_provider,
            meter_provider,
            instruments: _,
        } = self;
        if tracer_provider.is_none() && meter_provider.is_none() {
            return Ok(());
        }
        let stop = move || {
            let traces = tracer_provider.map_or(Ok(()), |p| p.shutdown());
            let metrics = meter_provider.map_or(Ok(()), |p| p.shutdown());
            traces.and(metrics)
        };
        let result = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(stop)
                .await
                .unwrap_or_else(|e| Err(OTelSdkError::InternalFailure(e.to_string()))),
            Err(_) => stop(),
        };
        result.map_err(TelemetryError::Shutdown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: &str) -> TelemetrySettings {
        TelemetrySettings {
            otlp_endpoint: endpoint.into(),
            service_name: "cramp-cds".into(),
            metrics_export_interval_seconds: std::num::NonZeroU64::MIN,
            prometheus: true,
        }
    }

    fn env(pairs: &[(&str, &str)]) -> OtelEnv {
        OtelEnv::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn export_is_off_without_an_endpoint_and_prometheus_stays_on() {
        let plan = plan(&settings(""), &env(&[])).unwrap();
        assert_eq!((plan.traces, plan.metrics), (None, None));
        assert!(plan.prometheus);
        assert_eq!(plan.service_name, "cramp-cds");
        assert_eq!(plan.interval, Some(Duration::from_secs(1)));
    }

    #[test]
    fn a_configured_endpoint_exports_both_signals() {
        let plan = plan(&settings("http://collector:4317"), &env(&[])).unwrap();
        let expected = Some(Endpoint::Configured("http://collector:4317".into()));
        assert_eq!(
            (plan.traces.clone(), plan.metrics),
            (expected.clone(), expected)
        );
    }

    #[test]
    fn standard_variables_turn_export_on_and_win_over_the_settings() {
        let generic = plan(
            &settings("http://configured:4317"),
            &env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4317")]),
        )
        .unwrap();
        assert_eq!(generic.traces, Some(Endpoint::FromEnvironment));
        assert_eq!(generic.metrics, Some(Endpoint::FromEnvironment));

        let traces_only = plan(
            &settings(""),
            &env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env:4317")]),
        )
        .unwrap();
        assert_eq!(traces_only.traces, Some(Endpoint::FromEnvironment));
        assert_eq!(traces_only.metrics, None);

        let named = plan(
            &settings(""),
            &env(&[
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "service.name=from-attrs,team=cds",
                ),
                ("OTEL_METRIC_EXPORT_INTERVAL", "5000"),
            ]),
        )
        .unwrap();
        assert_eq!(named.service_name, "from-attrs");
        assert_eq!(named.interval, None, "the exporter reads the variable");
        let named = plan(
            &settings(""),
            &env(&[
                ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"),
                ("OTEL_SERVICE_NAME", "from-name"),
            ]),
        )
        .unwrap();
        assert_eq!(named.service_name, "from-name");
    }

    #[test]
    fn the_sdk_or_one_exporter_can_be_switched_off() {
        let configured = settings("http://collector:4317");
        let off = plan(&configured, &env(&[("OTEL_SDK_DISABLED", "TRUE")])).unwrap();
        assert_eq!(
            (off.traces, off.metrics, off.prometheus),
            (None, None, false)
        );
        let no_traces = plan(&configured, &env(&[("OTEL_TRACES_EXPORTER", "none")])).unwrap();
        assert_eq!(no_traces.traces, None);
        assert!(no_traces.metrics.is_some());
        let empty = plan(&configured, &env(&[("OTEL_SDK_DISABLED", "")])).unwrap();
        assert!(empty.traces.is_some(), "empty counts as unset");
    }

    #[test]
    fn a_non_grpc_protocol_is_refused_by_name() {
        let err = plan(
            &settings("http://collector:4317"),
            &env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("OTEL_EXPORTER_OTLP_PROTOCOL"),
            "{err}"
        );
        assert!(
            plan(
                &settings(""),
                &env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")])
            )
            .is_ok(),
            "irrelevant while export is off"
        );
    }

    #[test]
    fn export_outside_a_runtime_is_an_error_not_a_panic() {
        let err = Otel::start(&settings("http://127.0.0.1:4317"), &env(&[])).unwrap_err();
        assert!(matches!(err, TelemetryError::NoRuntime), "{err}");
        let prometheus_only = Otel::start(&settings(""), &env(&[])).unwrap();
        assert!(prometheus_only.instruments().is_some());
        assert!(!prometheus_only.exports_traces());
    }
}
