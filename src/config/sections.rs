//! The sections of the settings that configure a feature (`[tls]`, `[limits]`, `[audit]`,
//! `[telemetry]`, `[auth]`): plain data, here rather than beside the feature so that the
//! settings import nothing from the features they configure. Each feature adds its start-up
//! checks to its section with an `impl` block of its own.

use std::{
    num::{NonZeroU32, NonZeroU64, NonZeroUsize},
    path::PathBuf,
};

use serde::Deserialize;

/// The `[tls]` section: one server identity for both ports, and optionally a client CA.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Serve both ports over TLS. Off by default for local use; on in production.
    pub enabled: bool,
    /// PEM certificate chain (leaf first) presented by both ports.
    #[serde(default)]
    pub cert_path: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of that certificate.
    #[serde(default)]
    pub key_path: Option<PathBuf>,
    /// PEM bundle of CAs that client certificates must chain to; none means no client
    /// certificates are asked for.
    #[serde(default)]
    pub client_ca_path: Option<PathBuf>,
    /// With a client CA: refuse clients that present no certificate (mutual TLS). Off, a
    /// certificate is verified when offered and the call may authenticate with a token instead.
    pub require_client_certificate: bool,
    /// Longest a TLS handshake may take before the connection is dropped.
    pub handshake_timeout_seconds: u64,
}

/// The `[limits]` section.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSettings {
    /// Calls in progress at once across both ports (gRPC unary calls, stream openings, HTTP
    /// requests); the next one is shed.
    pub max_concurrent_calls: NonZeroUsize,
    /// What a shed caller is told to wait before retrying (`Retry-After`, `RetryInfo`).
    pub retry_after_seconds: u64,
    /// Longest a call may take; the client's `grpc-timeout` wins when shorter.
    pub call_timeout_seconds: u64,
    /// Largest HTTP request body; bigger ones get 413.
    pub max_http_body_bytes: NonZeroUsize,
    /// HTTP/2 PING interval on idle gRPC connections (0 = off): finds dead peers behind NATs.
    pub http2_keepalive_interval_seconds: u64,
    /// How long a PING may go unanswered before the connection is closed.
    pub http2_keepalive_timeout_seconds: u64,
    /// TCP keepalive on accepted gRPC connections (0 = off).
    pub tcp_keepalive_seconds: u64,
    /// Concurrent HTTP/2 streams one gRPC connection may open.
    pub max_concurrent_streams: u32,
    /// HTTP/2 receive window of one stream (bytes): what a client may send on a stream ahead of
    /// what the server has read. While `batch.window` back-pressure holds a batch reader, up to
    /// this much sits unread in h2 as the client framed it, often one small DATA frame per record.
    pub http2_stream_window_bytes: NonZeroU32,
    /// HTTP/2 receive window of a whole connection (bytes). h2 sizes its budget for small DATA
    /// frames held unread (its RUSTSEC-2026-0258 guard, `GOAWAY ENHANCE_YOUR_CALM`) at half of
    /// it, so it must be large against the stream window: see [`LimitsSettings::check`].
    pub http2_connection_window_bytes: NonZeroU32,
    /// HTTP/2 rapid-reset (CVE-2023-44487) guard: streams reset by the client before the server
    /// accepted them that may pile up before the connection is closed with a GOAWAY.
    pub http2_max_pending_accept_reset_streams: usize,
    /// Streams the server may reset for protocol errors on one connection before closing it.
    pub http2_max_local_error_reset_streams: usize,
    /// A gRPC connection older than this is sent a GOAWAY (0 = never), so long-lived HTTP/2
    /// clients reconnect and spread over new replicas instead of pinning the old ones.
    pub max_connection_age_seconds: u64,
    /// Time calls on an aged connection get to finish after the GOAWAY.
    pub max_connection_age_grace_seconds: u64,
    /// Open connections one listener (the gRPC port, the HTTP door) holds at once; past it a new
    /// connection is closed as soon as it is accepted, so sockets can never use up the process's
    /// open files (and health stays reachable on the other listener and the health port).
    pub max_connections_per_listener: NonZeroUsize,
    /// A new connection that has sent nothing for this long is closed; also the HTTP/1.1
    /// header-read timeout of the HTTP door.
    pub header_read_timeout_seconds: NonZeroU64,
    /// A connection with no bytes moving either way for this long is closed.
    pub idle_connection_timeout_seconds: NonZeroU64,
    /// How long a request body (an HTTP body, a unary gRPC message) may take to arrive. Bodies
    /// are read before a call slot is taken, so slow senders cannot hold the slots.
    pub body_read_timeout_seconds: NonZeroU64,
    /// Request bytes read and not yet answered, over all requests: bounds what slow or
    /// concurrent bodies can hold in memory while they wait for a slot.
    pub max_buffered_body_bytes: NonZeroUsize,
    /// Most JSON values (objects, arrays, scalars) in one HTTP body, counted before it is parsed.
    pub max_json_values: NonZeroUsize,
    /// Most elements of any one JSON array (QuestionnaireResponse items, Parameters, Bundle
    /// entries), counted before the body is parsed.
    pub max_json_array_items: NonZeroUsize,
    /// Deepest nesting of JSON arrays and objects in one HTTP body.
    pub max_json_depth: NonZeroUsize,
}

/// The `[audit]` section.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Emit audit events at all.
    pub enabled: bool,
    /// File holding the HMAC key for patient pseudonyms (at least 32 bytes; shared by every
    /// replica). Without one a random per-process key is used, so pseudonyms do not correlate
    /// across restarts; production mode refuses to start without it.
    #[serde(default)]
    pub pseudonym_key_file: Option<PathBuf>,
}

/// The `[telemetry]` section: where traces and metrics go.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// OTLP/gRPC collector URL (`http://collector:4317`); empty is off unless an
    /// `OTEL_EXPORTER_OTLP_*ENDPOINT` variable names one.
    pub otlp_endpoint: String,
    /// `service.name` of the exported resource unless `OTEL_SERVICE_NAME` or
    /// `OTEL_RESOURCE_ATTRIBUTES` names it.
    pub service_name: String,
    /// How often metrics are pushed to the collector.
    pub metrics_export_interval_seconds: NonZeroU64,
    /// Whether the HTTP door serves `/metrics` in the Prometheus text format.
    pub prometheus: bool,
}

/// Authentication of the CDS Hooks routes (EHR-signed JWTs) and of the API (gRPC
/// `CrampAssessmentService` and FHIR `$cramp-assess`: access tokens or client certificates).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Off (the default) serves every route without credentials, for local use; production turns
    /// it on.
    pub enabled: bool,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: u64,
    /// How long a CDS Hooks `jti` is remembered. A token may not live longer than this (from now
    /// to `exp`), so a remembered `jti` outlives the token it names and a replay is always caught.
    pub replay_window_seconds: NonZeroU64,
    /// Most `jti`s remembered at once. When it is full of unexpired entries new tokens are
    /// refused (fail closed) rather than forgetting one that could then be replayed.
    pub replay_cache_capacity: NonZeroUsize,
    /// How long fetched keys are trusted before they are fetched again, so a key the EHR removed
    /// (revoked) stops working without a restart.
    pub jwks_cache_seconds: NonZeroU64,
    /// Least time between two fetches of one JWKS (after the first load), so tokens with random
    /// `kid`s cannot make the service hammer the EHR's key endpoint.
    pub jwks_refresh_min_interval_seconds: u64,
    /// Time limit of one JWKS fetch, connection included.
    pub jwks_fetch_timeout_seconds: NonZeroU64,
    /// The CDS Hooks door.
    pub cds_hooks: CdsHooksAuthSettings,
    /// The API door.
    pub api: ApiAuthSettings,
}

/// Which EHRs may call the CDS Hooks routes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdsHooksAuthSettings {
    /// The allow-list of token issuers, each with where its keys come from.
    pub issuers: Vec<IssuerSettings>,
}

/// One allowed CDS Hooks client (an EHR), named by its `iss`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerSettings {
    /// The exact `iss` claim the EHR puts in its tokens.
    pub iss: String,
    /// A JWKS file shared out of band (read at start; read again, rate-limited, on an unknown
    /// `kid`).
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// A JWKS URL configured here (used when a token carries no `jku`).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// `jku` header values this issuer may use; a token naming any other `jku` is refused.
    #[serde(default)]
    pub allowed_jku: Vec<String>,
    /// When not empty, the `tenant` claim must be present and one of these.
    #[serde(default)]
    pub tenants: Vec<String>,
}

/// Who may call the API (gRPC `CrampAssessmentService`, FHIR `$cramp-assess`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAuthSettings {
    /// The authorization server whose access tokens are accepted (`iss`).
    #[serde(default)]
    pub issuer: Option<String>,
    /// The `aud` those tokens must carry for this service.
    #[serde(default)]
    pub audience: Option<String>,
    /// The issuer's JWKS as a file.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// The issuer's JWKS URL.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The scope a token must grant (in `scope`, space-separated, or the `scp` array).
    pub required_scope: String,
    /// Accept a TLS client certificate verified by the TLS layer in place of a token.
    pub accept_client_certificates: bool,
}
