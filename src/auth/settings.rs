//! The `[auth]` settings and their start-up checks.
//!
//! Everything here is checked once, when the [`super::Authenticator`] is built in
//! `Application::build`: an inconsistent section (auth on without issuers, an unreadable JWKS
//! file, a plain-http key URL in production) stops the server with a message naming the key,
//! instead of serving with authentication that silently rejects, or accepts, everything.

use std::{collections::HashSet, path::PathBuf};

use super::jwks::JwksError;
use crate::config::HttpSettings;
pub use crate::config::{ApiAuthSettings, AuthSettings, CdsHooksAuthSettings, IssuerSettings};

/// Why the `[auth]` settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthConfigError {
    /// A key holds a value that cannot work (missing, contradictory, not a URL, not https).
    #[error("invalid configuration: key `{key}`: {problem}")]
    Invalid {
        /// The settings key, e.g. `auth.cds_hooks.issuers[0].jwks_url`.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A configured JWKS file cannot be read or holds no usable key.
    #[error("invalid configuration: key `{key}`: cannot use the JWKS file `{path}`")]
    JwksFile {
        /// The settings key.
        key: String,
        /// The configured path.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: JwksError,
    },
    /// The system's CA certificates (needed for https JWKS URLs) could not be loaded.
    #[error("cannot load the system's CA certificates for the https JWKS URLs")]
    TlsRoots(#[source] rustls::Error),
    /// The HTTP client for JWKS URLs could not be built.
    #[error("cannot build the HTTP client for JWKS URLs")]
    HttpClient(#[source] reqwest::Error),
}

/// A problem with `key`.
pub(super) fn invalid(key: impl Into<String>, problem: impl Into<String>) -> AuthConfigError {
    AuthConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

impl AuthSettings {
    /// Checks the shape of the section (without touching files or the network): what must be
    /// present when auth is on, URLs, https in production, duplicates.
    ///
    /// # Errors
    /// [`AuthConfigError::Invalid`] naming the first key at fault.
    pub fn check(&self, http: &HttpSettings) -> Result<(), AuthConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if self.cds_hooks.issuers.is_empty() {
            return Err(invalid(
                "auth.cds_hooks.issuers",
                "authentication is on but no CDS Hooks issuer is allowed",
            ));
        }
        let mut seen = HashSet::new();
        for (i, issuer) in self.cds_hooks.issuers.iter().enumerate() {
            let key = |field: &str| format!("auth.cds_hooks.issuers[{i}].{field}");
            if issuer.iss.trim().is_empty() {
                return Err(invalid(key("iss"), "must not be empty"));
            }
            if !seen.insert(issuer.iss.as_str()) {
                return Err(invalid(key("iss"), "is listed twice"));
            }
            if issuer.jwks_file.is_some() && issuer.jwks_url.is_some() {
                return Err(invalid(
                    key("jwks_url"),
                    "set either jwks_file or jwks_url, not both",
                ));
            }
            if issuer.jwks_file.is_none()
                && issuer.jwks_url.is_none()
                && issuer.allowed_jku.is_empty()
            {
                return Err(invalid(
                    key("jwks_url"),
                    "the issuer has no keys: set jwks_file, jwks_url or allowed_jku",
                ));
            }
            if let Some(url) = &issuer.jwks_url {
                check_url(&key("jwks_url"), url, http.production)?;
            }
            for jku in &issuer.allowed_jku {
                check_url(&key("allowed_jku"), jku, http.production)?;
            }
            if issuer.tenants.iter().any(|t| t.is_empty()) {
                return Err(invalid(key("tenants"), "a tenant must not be empty"));
            }
        }
        self.api.check(http)
    }

    /// Every URL keys may be fetched from (to know whether TLS roots are needed).
    pub(super) fn key_urls(&self) -> impl Iterator<Item = &str> {
        self.cds_hooks
            .issuers
            .iter()
            .flat_map(|i| i.jwks_url.iter().chain(i.allowed_jku.iter()))
            .chain(self.api.jwks_url.iter())
            .map(String::as_str)
    }
}

impl ApiAuthSettings {
    fn check(&self, http: &HttpSettings) -> Result<(), AuthConfigError> {
        if self.required_scope.is_empty() || self.required_scope.contains(char::is_whitespace) {
            return Err(invalid(
                "auth.api.required_scope",
                "must be one scope (no spaces)",
            ));
        }
        let Some(issuer) = &self.issuer else {
            if self.accept_client_certificates {
                return Ok(());
            }
            return Err(invalid(
                "auth.api.issuer",
                "authentication is on but the API accepts neither tokens (set issuer) nor \
                 client certificates",
            ));
        };
        if issuer.trim().is_empty() {
            return Err(invalid("auth.api.issuer", "must not be empty"));
        }
        if self.audience.as_deref().is_none_or(|a| a.trim().is_empty()) {
            return Err(invalid(
                "auth.api.audience",
                "required when auth.api.issuer is set",
            ));
        }
        match (&self.jwks_file, &self.jwks_url) {
            (Some(_), Some(_)) => Err(invalid(
                "auth.api.jwks_url",
                "set either jwks_file or jwks_url, not both",
            )),
            (None, None) => Err(invalid(
                "auth.api.jwks_url",
                "required (or jwks_file) when auth.api.issuer is set",
            )),
            (None, Some(url)) => check_url("auth.api.jwks_url", url, http.production),
            (Some(_), None) => Ok(()),
        }
    }
}

/// An absolute http(s) URL; https only in production (keys fetched over plain http could be
/// swapped by anyone on the path).
fn check_url(key: &str, url: &str, production: bool) -> Result<(), AuthConfigError> {
    let Ok(parsed) = url.parse::<axum::http::Uri>() else {
        return Err(invalid(key, "is not a URL"));
    };
    let scheme = parsed.scheme_str();
    if parsed.host().is_none() || !matches!(scheme, Some("https" | "http")) {
        return Err(invalid(key, "must be an absolute http(s) URL"));
    }
    if production && scheme != Some("https") {
        return Err(invalid(key, "must be https when http.production is true"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, io::Write as _};

    use super::*;
    use crate::config::Settings;

    fn defaults() -> Settings {
        Settings::load(None, Some(HashMap::new())).unwrap()
    }

    fn enabled() -> Settings {
        let mut settings = defaults();
        settings.auth.enabled = true;
        settings.auth.cds_hooks.issuers = vec![IssuerSettings {
            iss: "https://ehr.example.org".into(),
            jwks_url: Some("https://ehr.example.org/jwks".into()),
            ..IssuerSettings::default()
        }];
        settings.auth.api.issuer = Some("https://auth.example.org".into());
        settings.auth.api.audience = Some("cramp-cds".into());
        settings.auth.api.jwks_url = Some("https://auth.example.org/jwks".into());
        settings
    }

    fn problem(settings: &Settings) -> String {
        settings.auth.check(&settings.http).unwrap_err().to_string()
    }

    #[test]
    fn auth_is_off_by_default_with_documented_limits() {
        let s = defaults();
        assert!(!s.auth.enabled);
        assert_eq!(s.auth.leeway_seconds, 60);
        assert_eq!(s.auth.replay_window_seconds.get(), 3600);
        assert_eq!(s.auth.replay_cache_capacity.get(), 100_000);
        assert_eq!(s.auth.jwks_cache_seconds.get(), 3600);
        assert_eq!(s.auth.jwks_refresh_min_interval_seconds, 60);
        assert_eq!(s.auth.jwks_fetch_timeout_seconds.get(), 5);
        assert!(s.auth.cds_hooks.issuers.is_empty());
        assert_eq!(s.auth.api.issuer, None);
        assert_eq!(s.auth.api.required_scope, "system/cramp.assess");
        assert!(!s.auth.api.accept_client_certificates);
        s.auth.check(&s.http).unwrap();
        enabled().auth.check(&enabled().http).unwrap();
    }

    #[test]
    fn issuers_come_from_a_file_as_arrays_of_tables() {
        let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        writeln!(
            file,
            r#"[auth]
enabled = true
[[auth.cds_hooks.issuers]]
iss = "https://ehr.example.org"
jwks_url = "https://ehr.example.org/jwks"
allowed_jku = ["https://ehr.example.org/jku"]
tenants = ["t1"]
[[auth.cds_hooks.issuers]]
iss = "https://other.example.org"
jwks_file = "/etc/cramp/other.json"
[auth.api]
accept_client_certificates = true"#
        )
        .unwrap();
        let s = Settings::load(
            Some(file.path()),
            Some(HashMap::from([(
                "CRAMP__AUTH__API__REQUIRED_SCOPE".to_owned(),
                "system/x.read".to_owned(),
            )])),
        )
        .unwrap();
        assert!(s.auth.enabled);
        assert_eq!(s.auth.cds_hooks.issuers.len(), 2);
        assert_eq!(s.auth.cds_hooks.issuers[0].tenants, ["t1"]);
        assert_eq!(
            s.auth.cds_hooks.issuers[1].jwks_file.as_deref(),
            Some(std::path::Path::new("/etc/cramp/other.json"))
        );
        assert_eq!(s.auth.api.required_scope, "system/x.read");
        assert!(s.auth.api.accept_client_certificates);
        s.auth.check(&s.http).unwrap();
    }

    #[test]
    fn the_production_config_turns_auth_on_and_is_consistent() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/production.toml");
        let s = Settings::load(Some(&path), Some(HashMap::new())).unwrap();
        assert!(s.http.production);
        assert!(s.auth.enabled);
        assert_eq!(s.auth.cds_hooks.issuers.len(), 1);
        assert!(s.auth.api.issuer.is_some());
        s.auth.check(&s.http).unwrap();
    }

    #[test]
    fn unknown_auth_keys_are_rejected() {
        let err = Settings::load(
            None,
            Some(HashMap::from([(
                "CRAMP__AUTH__ENABLE".to_owned(),
                "true".to_owned(),
            )])),
        )
        .unwrap_err();
        let mut text = err.to_string();
        let mut cause = std::error::Error::source(&err);
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        assert!(text.contains("enable"), "{text}");
    }

    #[test]
    fn inconsistent_sections_name_the_key() {
        let mut s = enabled();
        s.auth.cds_hooks.issuers.clear();
        assert!(problem(&s).contains("auth.cds_hooks.issuers"));

        let mut s = enabled();
        s.auth.cds_hooks.issuers[0].jwks_url = None;
        assert!(problem(&s).contains("auth.cds_hooks.issuers[0].jwks_url"));

        let mut s = enabled();
        s.auth.cds_hooks.issuers[0].jwks_file = Some("/x.json".into());
        assert!(problem(&s).contains("not both"));

        let mut s = enabled();
        s.auth
            .cds_hooks
            .issuers
            .push(s.auth.cds_hooks.issuers[0].clone());
        assert!(problem(&s).contains("auth.cds_hooks.issuers[1].iss"));

        let mut s = enabled();
        s.auth.cds_hooks.issuers[0].allowed_jku = vec!["not a url".into()];
        assert!(problem(&s).contains("auth.cds_hooks.issuers[0].allowed_jku"));

        let mut s = enabled();
        s.auth.api.issuer = None;
        assert!(problem(&s).contains("auth.api.issuer"));
        s.auth.api.accept_client_certificates = true;
        s.auth.check(&s.http).unwrap();

        let mut s = enabled();
        s.auth.api.audience = None;
        assert!(problem(&s).contains("auth.api.audience"));

        let mut s = enabled();
        s.auth.api.jwks_url = None;
        assert!(problem(&s).contains("auth.api.jwks_url"));

        let mut s = enabled();
        s.auth.api.required_scope = "a b".into();
        assert!(problem(&s).contains("auth.api.required_scope"));
    }

    #[test]
    fn key_urls_must_be_https_in_production() {
        let mut s = enabled();
        s.http.production = true;
        s.auth.check(&s.http).unwrap();
        s.auth.cds_hooks.issuers[0].jwks_url = Some("http://ehr.example.org/jwks".into());
        assert!(problem(&s).contains("auth.cds_hooks.issuers[0].jwks_url"));
        s.http.production = false;
        s.auth.check(&s.http).unwrap();

        let mut s = enabled();
        s.http.production = true;
        s.auth.api.jwks_url = Some("http://auth.example.org/jwks".into());
        assert!(problem(&s).contains("auth.api.jwks_url"));
    }
}
