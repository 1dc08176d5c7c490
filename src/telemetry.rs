//! Structured logging with `tracing`: human-readable text on a terminal, JSON for collectors.
//!
//! PHI rule: no log line carries patient data. Handlers are instrumented with `skip_all` and name
//! only safe fields (request id, rule ids, flag codes, counts, urgency, timings), and the messages
//! that hold patient answers print nothing through `Debug` (see [`crate::pb`]). The subscriber is
//! built separately from being installed so that tests can capture what the service writes.

use std::io::IsTerminal as _;

use tracing::Subscriber;
use tracing_subscriber::{
    EnvFilter, fmt::MakeWriter, layer::SubscriberExt as _, registry::LookupSpan,
};

use crate::config::{LogFormat, LogSettings};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// `log.filter` is not a valid `EnvFilter` directive list.
    #[error("invalid configuration: key `log.filter` is not a valid filter")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// A global subscriber was already installed.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled(#[from] tracing::subscriber::SetGlobalDefaultError),
}

/// Builds a subscriber writing to `sink` in the configured format; `ansi` colours text output.
///
/// # Errors
/// [`TelemetryError::Filter`] when `log.filter` does not parse.
pub fn subscriber<W>(
    settings: &LogSettings,
    sink: W,
    ansi: bool,
) -> Result<impl Subscriber + Send + Sync + for<'a> LookupSpan<'a>, TelemetryError>
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
                    .with_writer(sink),
            ),
            None,
        ),
        LogFormat::Text => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(sink),
            ),
        ),
    };
    Ok(tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(text))
}

/// Installs the process-wide subscriber, writing to stdout.
///
/// # Errors
/// [`TelemetryError`] when the filter is invalid or a subscriber is already installed.
pub fn init(settings: &LogSettings) -> Result<(), TelemetryError> {
    let ansi = std::io::stdout().is_terminal();
    tracing::subscriber::set_global_default(subscriber(settings, std::io::stdout, ansi)?)?;
    Ok(())
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
}
