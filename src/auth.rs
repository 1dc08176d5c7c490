//! Authentication of both doors: EHR-signed JWTs on the CDS Hooks routes, access tokens (or a TLS
//! client certificate) on the API (gRPC `CrampAssessmentService` and FHIR `$cramp-assess`).
//!
//! Routes opt in: [`Authenticator::cds_hooks_layer`] and [`Authenticator::api_layer`] are put on
//! the routes that need them in `http.rs`, and [`Authenticator::grpc`] wraps the API service in
//! `server.rs`; anything not wrapped (health, reflection, metadata, the Questionnaire, `/about`,
//! metrics) stays open, so a probe or a scraper never needs a token.
//!
//! A verified request carries a [`Caller`] in its extensions for handlers and the audit trail.
//! A refused one gets a bare 401 (or 403 for an API token without the scope; gRPC
//! `UNAUTHENTICATED` / `PERMISSION_DENIED`) that says nothing about why: the reason goes to the
//! log as a code, with `iss`, `tenant` and `jti`, never the token (integration.md §1.5).
//!
//! Off by default (`auth.enabled = false`): the layers then pass every request through untouched.

mod jwks;
mod layer;
mod replay;
mod settings;
mod verify;

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use axum::http::{Extensions, HeaderMap};

pub use jwks::JwksError;
pub use layer::{AuthLayer, Authenticated};
pub use settings::{
    ApiAuthSettings, AuthConfigError, AuthSettings, CdsHooksAuthSettings, IssuerSettings,
};

use crate::{
    caller::{Caller, ClientCertificate},
    config::HttpSettings,
};
use jwks::{FetchPolicy, Fetcher, KeySet, KeySource};
use replay::ReplayCache;
use settings::invalid;
use verify::{Denial, Door};

/// Whether the bearer token in `headers` passes what both doors check before any key is looked
/// up or any signature verified (`[cds_hooks, api]`): the header's `alg`, `typ` and `kid`, and
/// the unverified claims read for the refusal log. It verifies nothing; it is public so that the
/// `jwt_header` fuzz target drives the very decoding an unauthenticated caller reaches.
#[must_use]
pub fn precheck_bearer(headers: &HeaderMap) -> [bool; 2] {
    verify::precheck(headers)
}

/// Checks credentials for the guarded routes; cheap to clone (one shared state).
#[derive(Clone)]
pub struct Authenticator {
    /// `None` when authentication is off.
    inner: Option<Arc<Inner>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("enabled", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

/// The state behind an enabled authenticator.
struct Inner {
    /// `http.base_url`: a CDS Hooks token's `aud` must be this plus the path called.
    base_url: String,
    /// Clock skew allowed, seconds.
    leeway: u64,
    /// Longest token lifetime (now to `exp`) accepted on the CDS Hooks routes, seconds.
    replay_window: u64,
    /// CDS Hooks issuers by `iss`.
    issuers: HashMap<String, Issuer>,
    /// The API token issuer, when tokens are accepted there.
    api: Option<ApiIssuer>,
    /// The scope API tokens must grant.
    required_scope: String,
    /// Whether a verified client certificate is enough on the API.
    accept_client_certificates: bool,
    /// Accepted CDS Hooks `jti`s.
    replay: ReplayCache,
    /// Reads key sets from files and URLs.
    fetcher: Fetcher,
    /// When key sets are fetched again.
    policy: FetchPolicy,
}

/// One allowed CDS Hooks issuer and its key sets.
struct Issuer {
    iss: String,
    /// Keys for tokens without `jku` (`jwks_file` or `jwks_url`).
    default_keys: Option<Arc<KeySet>>,
    /// Keys for each allowed `jku`.
    jku: HashMap<String, Arc<KeySet>>,
    /// Allowed tenants; empty = any.
    tenants: HashSet<String>,
}

/// The API's token issuer.
struct ApiIssuer {
    issuer: String,
    audience: String,
    keys: Arc<KeySet>,
}

impl Authenticator {
    /// An authenticator that lets everything through (authentication off).
    #[must_use]
    pub const fn disabled() -> Self {
        Self { inner: None }
    }

    /// Builds the authenticator from `[auth]`, checking it and reading every JWKS file now so
    /// that a bad configuration stops the server at start-up.
    ///
    /// # Errors
    /// [`AuthConfigError`] naming the key at fault.
    pub fn new(settings: &AuthSettings, http: &HttpSettings) -> Result<Self, AuthConfigError> {
        if !settings.enabled {
            return Ok(Self::disabled());
        }
        settings.check(http)?;
        let fetcher = Fetcher::new(http_client(settings, http)?);
        let mut issuers = HashMap::new();
        for (i, issuer) in settings.cds_hooks.issuers.iter().enumerate() {
            let key = |field: &str| format!("auth.cds_hooks.issuers[{i}].{field}");
            let default_keys = match (&issuer.jwks_file, &issuer.jwks_url) {
                (Some(path), _) => Some(load_file(&key("jwks_file"), path)?),
                (None, Some(url)) => Some(Arc::new(KeySet::new(KeySource::Url(url.clone())))),
                (None, None) => None,
            };
            let jku = issuer
                .allowed_jku
                .iter()
                .map(|url| {
                    (
                        url.clone(),
                        Arc::new(KeySet::new(KeySource::Url(url.clone()))),
                    )
                })
                .collect();
            issuers.insert(
                issuer.iss.clone(),
                Issuer {
                    iss: issuer.iss.clone(),
                    default_keys,
                    jku,
                    tenants: issuer.tenants.iter().cloned().collect(),
                },
            );
        }
        let api = &settings.api;
        let api_issuer = match (&api.issuer, &api.audience) {
            (Some(issuer), Some(audience)) => {
                let keys = match (&api.jwks_file, &api.jwks_url) {
                    (Some(path), _) => load_file("auth.api.jwks_file", path)?,
                    (None, Some(url)) => Arc::new(KeySet::new(KeySource::Url(url.clone()))),
                    (None, None) => {
                        return Err(invalid("auth.api.jwks_url", "required"));
                    }
                };
                Some(ApiIssuer {
                    issuer: issuer.clone(),
                    audience: audience.clone(),
                    keys,
                })
            }
            _ => None,
        };
        Ok(Self {
            inner: Some(Arc::new(Inner {
                base_url: http.base_url.clone(),
                leeway: settings.leeway_seconds,
                replay_window: settings.replay_window_seconds.get(),
                issuers,
                api: api_issuer,
                required_scope: api.required_scope.clone(),
                accept_client_certificates: api.accept_client_certificates,
                replay: ReplayCache::new(settings.replay_cache_capacity.get()),
                fetcher,
                policy: FetchPolicy {
                    min_interval: Duration::from_secs(settings.jwks_refresh_min_interval_seconds),
                    max_age: Duration::from_secs(settings.jwks_cache_seconds.get()),
                },
            })),
        })
    }

    /// Whether requests are checked at all.
    #[must_use]
    pub const fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The layer for the CDS Hooks routes (discovery, services, feedback).
    #[must_use]
    pub fn cds_hooks_layer(&self) -> AuthLayer {
        AuthLayer::new(self.clone(), Door::CdsHooks)
    }

    /// The layer for API routes on the HTTP door (`$cramp-assess`).
    #[must_use]
    pub fn api_layer(&self) -> AuthLayer {
        AuthLayer::new(self.clone(), Door::ApiHttp)
    }

    /// `service` (a tonic server) guarded by API authentication; keeps its gRPC service name.
    #[must_use]
    pub fn grpc<S>(&self, service: S) -> Authenticated<S> {
        Authenticated::new(service, self.clone(), Door::ApiGrpc)
    }

    /// Checks one request's credentials; `path` is the path called (the CDS Hooks `aud`).
    async fn authenticate(
        &self,
        door: Door,
        path: &str,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Option<Caller>, Denial> {
        let Some(inner) = &self.inner else {
            return Ok(None);
        };
        let caller = match door {
            Door::CdsHooks => inner.cds_hooks(path, headers).await?,
            Door::ApiHttp | Door::ApiGrpc => {
                if inner.accept_client_certificates
                    && let Some(certificate) = extensions.get::<ClientCertificate>()
                {
                    tracing::debug!(door = door.name(), "authenticated by client certificate");
                    return Ok(Some(Caller::Certificate(certificate.clone())));
                }
                inner.api(door, headers).await?
            }
        };
        Ok(Some(caller))
    }
}

/// Reads a JWKS file at start-up; it must hold at least one usable key.
fn load_file(key: &str, path: &std::path::Path) -> Result<Arc<KeySet>, AuthConfigError> {
    let error = |source| AuthConfigError::JwksFile {
        key: key.to_owned(),
        path: path.to_owned(),
        source,
    };
    let keys = jwks::read_file(path)
        .and_then(|bytes| jwks::parse_jwks(&bytes))
        .map_err(error)?;
    if keys.len() == 0 {
        return Err(error(JwksError::NoUsableKey));
    }
    Ok(Arc::new(KeySet::loaded(
        KeySource::File(path.to_owned()),
        keys,
    )))
}

/// The client for JWKS URLs: rustls on ring (no aws-lc), the platform's CA roots when any key
/// URL is https, https only in production, no redirects (a redirect could lead anywhere), no
/// proxy from the environment, and the configured time limit.
fn http_client(
    settings: &AuthSettings,
    http: &HttpSettings,
) -> Result<reqwest::Client, AuthConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(AuthConfigError::TlsRoots)?;
    let tls = if settings.key_urls().any(|url| url.starts_with("https://")) {
        let verifier =
            rustls_platform_verifier::Verifier::new(provider).map_err(AuthConfigError::TlsRoots)?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        // Only plain-http URLs (local tests): no roots needed, and none may be missing.
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    };
    let timeout = Duration::from_secs(settings.jwks_fetch_timeout_seconds.get());
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .https_only(http.production)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("cramp-cds/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(AuthConfigError::HttpClient)
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap as Map, io::Write as _};

    use super::*;
    use crate::config::Settings;

    fn settings_with_file(path: &std::path::Path) -> Settings {
        let mut settings = Settings::load(None, Some(Map::new())).unwrap();
        settings.auth.enabled = true;
        settings.auth.cds_hooks.issuers = vec![IssuerSettings {
            iss: "https://ehr.example.org".into(),
            jwks_file: Some(path.to_owned()),
            ..IssuerSettings::default()
        }];
        settings.auth.api.accept_client_certificates = true;
        settings
    }

    #[test]
    fn off_by_default_and_then_nothing_is_read() {
        let settings = Settings::load(None, Some(Map::new())).unwrap();
        let auth = Authenticator::new(&settings.auth, &settings.http).unwrap();
        assert!(!auth.enabled());
    }

    #[test]
    fn an_unreadable_or_empty_jwks_file_stops_start_up_naming_the_key() {
        let settings = settings_with_file(std::path::Path::new("/nonexistent/jwks.json"));
        let err = Authenticator::new(&settings.auth, &settings.http).unwrap_err();
        assert!(
            err.to_string()
                .contains("auth.cds_hooks.issuers[0].jwks_file"),
            "{err}"
        );
        assert!(matches!(
            err,
            AuthConfigError::JwksFile {
                source: JwksError::Read(_),
                ..
            }
        ));

        let mut file = tempfile::NamedTempFile::new().unwrap();
        write!(
            file,
            r#"{{"keys": [{{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}}]}}"#
        )
        .unwrap();
        let settings = settings_with_file(file.path());
        let err = Authenticator::new(&settings.auth, &settings.http).unwrap_err();
        assert!(matches!(
            err,
            AuthConfigError::JwksFile {
                source: JwksError::NoUsableKey,
                ..
            }
        ));
    }

    #[test]
    fn a_shape_problem_stops_start_up() {
        let mut settings = Settings::load(None, Some(Map::new())).unwrap();
        settings.auth.enabled = true;
        let err = Authenticator::new(&settings.auth, &settings.http).unwrap_err();
        assert!(err.to_string().contains("auth.cds_hooks.issuers"), "{err}");
    }
}
