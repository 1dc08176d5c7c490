//! Service settings, layered: embedded defaults, then an optional file, then `CRAMP__` environment
//! variables.
//!
//! Settings are read once at start and fail fast: an unknown key, a value of the wrong type or an
//! address that does not parse stops the process with a message naming the key, instead of
//! serving with a setting the operator did not mean.

use std::{collections::HashMap, net::SocketAddr, path::Path};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

/// The embedded defaults; also the reference for every key the service reads.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Prefix of environment variables that override settings (`CRAMP__SERVER__GRPC_ADDR`).
pub const ENV_PREFIX: &str = "CRAMP";

/// Everything `serve` can be configured with.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Listener and protocol options.
    pub server: ServerSettings,
    /// Log format and filtering.
    pub log: LogSettings,
}

/// Listener and protocol options.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Where gRPC (API, health, reflection) listens; port 0 picks a free port (tests).
    pub grpc_addr: SocketAddr,
    /// Whether server reflection (v1 and v1alpha) is served; off hides the schema from strangers.
    pub reflection: bool,
    /// How long in-flight calls may take to finish after a shutdown signal.
    pub shutdown_grace_seconds: u64,
}

/// Log format and filtering.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Human-readable or machine-readable lines.
    pub format: LogFormat,
    /// `tracing_subscriber::EnvFilter` directives.
    pub filter: String,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable; coloured when writing to a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A source could not be read or a key holds an unusable value; the message names the key.
    #[error("invalid configuration")]
    Invalid(#[from] config::ConfigError),
}

impl Settings {
    /// Loads the embedded defaults, then `file` if given (it must exist and be TOML), then the
    /// `CRAMP__` variables of `env`, or of the process environment when `env` is `None` (tests
    /// pass a map, because changing the process environment races with parallel tests).
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] naming the source or key at fault.
    pub fn load(
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self, SettingsError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        let environment = Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .source(env);
        Ok(builder.add_source(environment).build()?.try_deserialize()?)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn load_env(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::load(None, env(pairs))
    }

    /// The error and its causes, as `main` prints them.
    fn chain(err: &SettingsError) -> String {
        let mut text = err.to_string();
        let mut cause = std::error::Error::source(err);
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        text
    }

    #[test]
    fn defaults_are_complete_and_local() {
        let s = load_env(&[]).unwrap();
        assert_eq!(s.server.grpc_addr, "127.0.0.1:50051".parse().unwrap());
        assert!(s.server.reflection);
        assert_eq!(s.log.format, LogFormat::Text);
        assert_eq!(s.log.filter, "info");
    }

    #[test]
    fn environment_overrides_with_double_underscores() {
        let s = load_env(&[
            ("CRAMP__SERVER__GRPC_ADDR", "0.0.0.0:6000"),
            ("CRAMP__SERVER__REFLECTION", "false"),
            ("CRAMP__LOG__FORMAT", "json"),
            ("UNRELATED", "x"),
        ])
        .unwrap();
        assert_eq!(s.server.grpc_addr, "0.0.0.0:6000".parse().unwrap());
        assert!(!s.server.reflection);
        assert_eq!(s.log.format, LogFormat::Json);
    }

    #[test]
    fn a_file_sits_between_defaults_and_environment() {
        let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        writeln!(
            file,
            "[server]\ngrpc_addr = \"127.0.0.1:7000\"\n[log]\nfilter = \"debug\""
        )
        .unwrap();
        let s = Settings::load(Some(file.path()), env(&[("CRAMP__LOG__FILTER", "warn")])).unwrap();
        assert_eq!(s.server.grpc_addr.port(), 7000);
        assert!(
            s.server.reflection,
            "keys the file leaves out keep their defaults"
        );
        assert_eq!(s.log.filter, "warn");
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let err = chain(
            &Settings::load(Some(Path::new("/nonexistent/cramp.toml")), env(&[])).unwrap_err(),
        );
        assert!(err.contains("cramp.toml"), "{err}");
    }

    #[test]
    fn bad_values_fail_naming_the_key() {
        for (key, value, named) in [
            ("CRAMP__SERVER__REFLECTION", "maybe", "server.reflection"),
            (
                "CRAMP__SERVER__GRPC_ADDR",
                "not-an-address",
                "server.grpc_addr",
            ),
            ("CRAMP__LOG__FORMAT", "xml", "log.format"),
            (
                "CRAMP__SERVER__SHUTDOWN_GRACE_SECONDS",
                "-1",
                "server.shutdown_grace_seconds",
            ),
        ] {
            let err = chain(&load_env(&[(key, value)]).unwrap_err());
            assert!(err.contains(named), "{key}={value}: {err}");
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = chain(&load_env(&[("CRAMP__SERVER__GRPC_ADRR", "127.0.0.1:1")]).unwrap_err());
        assert!(err.contains("grpc_adrr"), "{err}");
    }
}
