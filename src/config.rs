//! Service settings, layered: embedded defaults, then an optional file, then `CRAMP__` environment
//! variables.
//!
//! Settings are read once at start and fail fast: an unknown key, a value of the wrong type or an
//! address that does not parse stops the process with a message naming the key, instead of
//! serving with a setting the operator did not mean.

mod sections;

use std::{
    collections::HashMap,
    net::SocketAddr,
    num::{NonZeroU64, NonZeroUsize},
    path::Path,
};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

pub use self::sections::{
    ApiAuthSettings, AuditSettings, AuthSettings, CdsHooksAuthSettings, IssuerSettings,
    LimitsSettings, TelemetrySettings, TlsSettings,
};

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
    /// The HTTP door (CDS Hooks, FHIR, `/about`) and browser access (CORS, gRPC-Web).
    pub http: HttpSettings,
    /// Limits of `AssessBatch` streams.
    pub batch: BatchSettings,
    /// TLS and mutual TLS on both ports.
    pub tls: TlsSettings,
    /// Concurrency, deadlines, sizes and HTTP/2 connection limits.
    pub limits: LimitsSettings,
    /// The audit trail.
    pub audit: AuditSettings,
    /// OpenTelemetry export and Prometheus metrics.
    pub telemetry: TelemetrySettings,
    /// Who may call the CDS Hooks routes and the API (off by default, for local use).
    pub auth: AuthSettings,
    /// How FHIR chart data is read (the operator's value sets).
    #[serde(default)]
    pub fhir: FhirSettings,
}

/// How FHIR chart data is read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FhirSettings {
    /// A directory of FHIR ValueSet JSON files (VSAC expansions the site downloaded under its
    /// own UMLS licence), read once at startup. Unset: only the clinical reference's verified
    /// codes are read (`crates/cramp-ehr/valuesets/README.md`).
    pub value_set_dir: Option<std::path::PathBuf>,
}

/// The HTTP door and browser access.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// The public base URL of the HTTP door (no trailing slash): every absolute URL the service
    /// writes (card links, `source.url`, the Questionnaire canonical) starts with it.
    pub base_url: String,
    /// Browser origins allowed to call either port (CORS); each is echoed back, never `*`.
    pub allowed_origins: Vec<String>,
    /// Production mode: a CDS Hooks `fhirServer` must be `https`.
    pub production: bool,
    /// Fetching from a CDS Hooks `fhirServer` what the prefetch left out.
    #[serde(default)]
    pub fhir_server: FhirServerSettings,
}

/// Bounds of the queries the service runs against an EHR's `fhirServer` when a prefetch key is
/// missing: CDS Hooks expects an answer in about 500 ms, so the queries of one call run at once
/// and share one deadline, and an answer cannot grow without bound.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FhirServerSettings {
    /// The time all of one call's queries together may take (connect included); past it the
    /// keys still missing are treated as data that cannot be had (412 for a required one).
    pub timeout_ms: u64,
    /// The largest answer body read from one query; a bigger one counts as a failed query.
    pub max_response_bytes: usize,
}

impl Default for FhirServerSettings {
    fn default() -> Self {
        Self {
            timeout_ms: 400,
            max_response_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Listener and protocol options.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Where gRPC (API, health, reflection) listens; port 0 picks a free port (tests).
    pub grpc_addr: SocketAddr,
    /// Where the HTTP door (CDS Hooks, FHIR, `/about`) listens; port 0 picks a free port.
    pub http_addr: SocketAddr,
    /// Whether server reflection (v1 and v1alpha) is served; off hides the schema from strangers.
    pub reflection: bool,
    /// A plaintext port serving only `grpc.health.v1` (probes that cannot speak TLS); none by
    /// default.
    #[serde(default)]
    pub health_addr: Option<SocketAddr>,
    /// After a shutdown signal: how long health reports `NOT_SERVING` while new connections are
    /// still accepted, so load balancers and Kubernetes endpoints stop routing here first.
    pub drain_delay_seconds: u64,
    /// How long in-flight calls may take to finish once the listeners are closed; open batch
    /// streams are ended with `UNAVAILABLE` at this deadline.
    pub shutdown_grace_seconds: u64,
    /// Largest request message the API decodes (a unary request or one batch record); bigger
    /// ones are refused with `OUT_OF_RANGE` before decoding, which bounds what one message can
    /// cost.
    pub max_message_bytes: NonZeroUsize,
    /// Serve the `loadgen` baseline `cramp.bench.v1.Canned` beside the API (see
    /// `bench_canned`); never in production, where loading refuses it.
    #[serde(default)]
    pub bench_canned_service: bool,
}

/// Limits of `AssessBatch` streams: what one stream may hold and how long it may idle.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSettings {
    /// Records the server reads ahead of what the client has read back. This, not the stream
    /// length, bounds a stream's memory; it is also how far evaluation can run in parallel.
    pub window: NonZeroUsize,
    /// Records one stream may carry; past it the stream ends with `RESOURCE_EXHAUSTED` so that
    /// no single caller holds a stream forever.
    pub max_records_per_stream: NonZeroU64,
    /// How long the server waits for the next record before ending the stream with
    /// `DEADLINE_EXCEEDED`; tonic's own timeout does not cover streams.
    pub idle_timeout_seconds: NonZeroU64,
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
            .list_separator(",")
            .with_list_parse_key("http.allowed_origins")
            .source(env);
        let settings: Self = builder.add_source(environment).build()?.try_deserialize()?;
        settings.http.check()?;
        if settings.http.production && settings.server.bench_canned_service {
            return Err(config::ConfigError::Message(
                "key `server.bench_canned_service`: must be false when `http.production` is true"
                    .into(),
            )
            .into());
        }
        settings
            .limits
            .check()
            .map_err(config::ConfigError::Message)?;
        Ok(settings)
    }
}

impl HttpSettings {
    /// Rejects a base URL or origin that is not an absolute http(s) URL, naming the key.
    fn check(&self) -> Result<(), config::ConfigError> {
        let absolute = |u: &str| {
            (u.starts_with("https://") || u.starts_with("http://"))
                && !u.ends_with('/')
                && !u.contains(char::is_whitespace)
        };
        if !absolute(&self.base_url) {
            return Err(config::ConfigError::Message(
                "key `http.base_url`: must be an absolute http(s) URL without a trailing slash"
                    .into(),
            ));
        }
        if self.production && !self.base_url.starts_with("https://") {
            return Err(config::ConfigError::Message(
                "key `http.base_url`: must be https in production".into(),
            ));
        }
        if let Some(bad) = self
            .allowed_origins
            .iter()
            .find(|o| !absolute(o) || o.as_str() == "*")
        {
            return Err(config::ConfigError::Message(format!(
                "key `http.allowed_origins`: `{bad}` is not an origin (scheme://host[:port])"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    /// Dotted paths of every key in a TOML document (arrays of tables by their first element).
    fn keys(document: &str) -> std::collections::BTreeSet<String> {
        fn walk(prefix: &str, table: &toml::Table, out: &mut std::collections::BTreeSet<String>) {
            for (key, value) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                if let toml::Value::Table(inner) = value {
                    walk(&path, inner, out);
                    continue;
                }
                if let Some(toml::Value::Table(first)) = value.as_array().and_then(|a| a.first()) {
                    walk(&path, first, out);
                }
                out.insert(path);
            }
        }
        let mut out = std::collections::BTreeSet::new();
        walk("", &document.parse::<toml::Table>().unwrap(), &mut out);
        out
    }

    /// Keys the defaults leave unset (shown commented out in `config/default.toml`).
    const UNSET_BY_DEFAULT: &[&str] = &[
        "server.health_addr",
        "tls.cert_path",
        "tls.key_path",
        "tls.client_ca_path",
        "audit.pseudonym_key_file",
        "auth.cds_hooks.issuers.iss",
        "auth.cds_hooks.issuers.jwks_url",
        "auth.cds_hooks.issuers.allowed_jku",
        "auth.cds_hooks.issuers.tenants",
        "auth.api.issuer",
        "auth.api.audience",
        "auth.api.jwks_url",
    ];

    #[test]
    fn the_kubernetes_configs_load_with_the_real_settings_types() {
        // The ConfigMaps' files: a typo'd key or a bad value would crash-loop every pod.
        for file in [
            "deploy/k8s/base/config.toml",
            "deploy/k8s/overlays/production/config.toml",
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            let settings = Settings::load(Some(&path), env(&[]))
                .unwrap_or_else(|err| panic!("{file}: {err:?}"));
            assert!(
                settings.server.health_addr.is_some(),
                "{file}: probes need health_addr"
            );
            assert!(settings.server.grpc_addr.ip().is_unspecified(), "{file}");
        }
        let production = Settings::load(
            Some(
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("deploy/k8s/overlays/production/config.toml"),
            ),
            env(&[]),
        )
        .unwrap();
        assert!(production.tls.enabled && production.auth.enabled && production.http.production);
        assert!(!production.server.reflection);
    }

    #[test]
    fn the_production_config_sets_every_knob_and_loads() {
        let production_text = include_str!("../config/production.toml");
        let production = keys(production_text);
        let mut expected = keys(DEFAULTS);
        expected.extend(UNSET_BY_DEFAULT.iter().map(|k| (*k).to_owned()));
        let missing: Vec<&String> = expected.difference(&production).collect();
        assert!(
            missing.is_empty(),
            "config/production.toml lacks {missing:?}"
        );
        for key in UNSET_BY_DEFAULT {
            let leaf = key.rsplit('.').next().unwrap();
            assert!(
                DEFAULTS.contains(&format!("# {leaf}"))
                    || DEFAULTS.contains(&format!("#   {leaf}")),
                "config/default.toml documents {key}"
            );
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/production.toml");
        let settings = Settings::load(Some(&path), env(&[])).unwrap();
        assert!(settings.http.production && settings.tls.enabled && settings.auth.enabled);
        assert!(!settings.server.reflection);
        assert!(settings.audit.pseudonym_key_file.is_some());
        assert!(settings.server.health_addr.is_some());
    }

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
        assert_eq!(s.server.http_addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.http.base_url, "http://127.0.0.1:8080");
        assert!(s.http.allowed_origins.is_empty());
        assert!(!s.http.production);
        assert_eq!(
            s.telemetry.otlp_endpoint, "",
            "no export unless a collector is named"
        );
        assert_eq!(s.telemetry.service_name, "cramp-cds");
        assert_eq!(s.telemetry.metrics_export_interval_seconds.get(), 60);
        assert!(s.telemetry.prometheus);
    }

    #[test]
    fn telemetry_settings_come_from_the_environment() {
        let s = load_env(&[
            ("CRAMP__TELEMETRY__OTLP_ENDPOINT", "http://collector:4317"),
            ("CRAMP__TELEMETRY__PROMETHEUS", "false"),
        ])
        .unwrap();
        assert_eq!(s.telemetry.otlp_endpoint, "http://collector:4317");
        assert!(!s.telemetry.prometheus);
        let err = chain(&load_env(&[("CRAMP__TELEMETRY__OTLP_ENDPIONT", "x")]).unwrap_err());
        assert!(err.contains("otlp_endpiont"), "{err}");
    }

    #[test]
    fn http_settings_are_checked() {
        let s = load_env(&[(
            "CRAMP__HTTP__ALLOWED_ORIGINS",
            "https://ehr.example.org,http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            s.http.allowed_origins,
            ["https://ehr.example.org", "http://localhost:3000"]
        );
        for (key, value) in [
            ("CRAMP__HTTP__BASE_URL", "cds.example.org"),
            ("CRAMP__HTTP__BASE_URL", "https://cds.example.org/"),
            ("CRAMP__HTTP__ALLOWED_ORIGINS", "*"),
        ] {
            let err = chain(&load_env(&[(key, value)]).unwrap_err());
            assert!(err.contains("http."), "{key}={value}: {err}");
        }
        let err = chain(&load_env(&[("CRAMP__HTTP__PRODUCTION", "true")]).unwrap_err());
        assert!(err.contains("http.base_url"), "{err}");
    }

    #[test]
    fn the_canned_bench_service_is_off_by_default_and_refused_in_production() {
        assert!(!load_env(&[]).unwrap().server.bench_canned_service);
        let on = [("CRAMP__SERVER__BENCH_CANNED_SERVICE", "true")];
        assert!(load_env(&on).unwrap().server.bench_canned_service);
        let err = chain(
            &load_env(&[
                on[0],
                ("CRAMP__HTTP__PRODUCTION", "true"),
                ("CRAMP__HTTP__BASE_URL", "https://cds.example.org"),
            ])
            .unwrap_err(),
        );
        assert!(err.contains("server.bench_canned_service"), "{err}");
    }

    #[test]
    fn batch_limits_have_bounded_defaults() {
        let s = load_env(&[]).unwrap();
        assert_eq!(s.server.max_message_bytes.get(), 4 * 1024 * 1024);
        assert_eq!(s.batch.window.get(), 64);
        assert_eq!(s.batch.max_records_per_stream.get(), 1_000_000);
        assert_eq!(s.batch.idle_timeout_seconds.get(), 30);
    }

    #[test]
    fn batch_limits_come_from_the_environment_and_zero_is_refused() {
        let s = load_env(&[
            ("CRAMP__BATCH__WINDOW", "8"),
            ("CRAMP__BATCH__MAX_RECORDS_PER_STREAM", "100"),
            ("CRAMP__BATCH__IDLE_TIMEOUT_SECONDS", "2"),
            ("CRAMP__SERVER__MAX_MESSAGE_BYTES", "1024"),
        ])
        .unwrap();
        assert_eq!(s.batch.window.get(), 8);
        assert_eq!(s.batch.max_records_per_stream.get(), 100);
        assert_eq!(s.batch.idle_timeout_seconds.get(), 2);
        assert_eq!(s.server.max_message_bytes.get(), 1024);
        for key in [
            "batch.window",
            "batch.max_records_per_stream",
            "batch.idle_timeout_seconds",
            "server.max_message_bytes",
        ] {
            let var = format!("CRAMP__{}", key.to_uppercase().replace('.', "__"));
            let err = chain(&load_env(&[(&var, "0")]).unwrap_err());
            assert!(err.contains(key), "{var}=0: {err}");
        }
    }

    #[test]
    fn http2_windows_must_keep_a_stalled_stream_under_h2s_frame_budget() {
        let s = load_env(&[]).unwrap();
        assert_eq!(s.limits.http2_stream_window_bytes.get(), 65_536);
        assert_eq!(s.limits.http2_connection_window_bytes.get(), 16_777_216);
        assert_eq!(
            crate::limits::stalled_streams_absorbed(65_536, 16_777_216),
            2
        );
        // 65,536 / 5 frames x 251 = 3,290,108 charged; the budget is half the connection window.
        load_env(&[("CRAMP__LIMITS__HTTP2_CONNECTION_WINDOW_BYTES", "6580216")]).unwrap();
        for (key, value) in [
            ("CRAMP__LIMITS__HTTP2_CONNECTION_WINDOW_BYTES", "6580215"),
            // hyper's own defaults (1 MiB each): the ratio that cut grpcio streams off.
            ("CRAMP__LIMITS__HTTP2_CONNECTION_WINDOW_BYTES", "1048576"),
            ("CRAMP__LIMITS__HTTP2_STREAM_WINDOW_BYTES", "1048576"),
            ("CRAMP__LIMITS__HTTP2_CONNECTION_WINDOW_BYTES", "2147483648"),
        ] {
            let err = chain(&load_env(&[(key, value)]).unwrap_err());
            assert!(err.contains("limits.http2_"), "{key}={value}: {err}");
        }
        let err =
            chain(&load_env(&[("CRAMP__LIMITS__HTTP2_ADAPTIVE_WINDOW", "true")]).unwrap_err());
        assert!(err.contains("http2_adaptive_window"), "{err}");
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
