//! Queries against a CDS Hooks client's `fhirServer` for what its prefetch left out.
//!
//! CDS Hooks lets a client satisfy any subset of the prefetch; a service that needs more is
//! expected to run the same query against `fhirServer` with the `fhirAuthorization` token
//! (CDS Hooks 2.0 "Prefetch" and "FHIR Resource Access"). The queries are the discovery's own
//! templates, so the service never asks for more than it advertised. Every query of one call runs
//! at once under one deadline (`http.fhir_server.timeout_ms`): the hook still answers in about
//! the time CDS Hooks expects, and a key that is not back by then is data that cannot be had.
//!
//! The client holds no credentials of its own: it sends the call's bearer token to the call's
//! server and nowhere else. A redirect is followed only on the same origin (scheme, host, port),
//! at most three times, so a token never leaves the server the EHR named; in production only
//! https is spoken. Answers larger than `http.fhir_server.max_response_bytes` are not read.
//! Logs get the key and an outcome code, never the URL (it holds the patient id), the token or
//! the body.

use std::{sync::Arc, time::Duration};

use reqwest::{StatusCode, Url, header};
use serde_json::Value;

use crate::config::{FhirServerSettings, HttpSettings};

/// The client for `fhirServer` queries, built once at start.
#[derive(Clone, Debug)]
pub struct FhirServerClient {
    client: reqwest::Client,
    settings: FhirServerSettings,
}

/// The client could not be built (no usable TLS roots, or the HTTP stack refused the options).
#[derive(Debug, thiserror::Error)]
pub enum FhirServerClientError {
    /// The platform's certificate roots could not be loaded.
    #[error("cannot load TLS roots for fhirServer queries")]
    TlsRoots(#[source] rustls::Error),
    /// reqwest refused the configuration.
    #[error("cannot build the fhirServer client")]
    Build(#[source] reqwest::Error),
}

/// Why one query gave no usable answer; a closed set of codes, so it can be logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchFailure {
    /// The call's deadline passed first.
    Timeout,
    /// The server answered with a status other than 200 (401, 403, 404, 5xx, a refused redirect).
    Status(u16),
    /// The answer is larger than `max_response_bytes`.
    TooLarge,
    /// The answer is not a JSON object.
    NotJson,
    /// No connection, TLS failure, a reset, or a URL that cannot be built.
    Transport,
}

impl FetchFailure {
    /// The code logged for this failure.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Status(_) => "status",
            Self::TooLarge => "too_large",
            Self::NotJson => "not_json",
            Self::Transport => "transport",
        }
    }
}

/// One prefetch key to fetch: its key and its template with the tokens already filled in.
#[derive(Clone, Debug)]
pub struct Query {
    /// The prefetch key the answer stands in for.
    pub key: String,
    /// The query relative to the FHIR base (`Condition?patient=Patient/123&...`).
    pub relative: String,
}

impl FhirServerClient {
    /// Builds the client: rustls on ring with the platform's roots, https only in production,
    /// same-origin redirects only, no proxy from the environment.
    ///
    /// # Errors
    /// When the TLS roots or the client cannot be set up.
    pub fn new(http: &HttpSettings) -> Result<Self, FhirServerClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
            .map_err(FhirServerClientError::TlsRoots)?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(FhirServerClientError::TlsRoots)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let timeout = Duration::from_millis(http.fhir_server.timeout_ms.max(1));
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(http.production)
            .redirect(reqwest::redirect::Policy::custom(same_origin_only))
            .no_proxy()
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("cramp-cds/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(FhirServerClientError::Build)?;
        Ok(Self {
            client,
            settings: http.fhir_server.clone(),
        })
    }

    /// Runs every query against `base` at once, with `token` as the bearer token, and gives each
    /// key its answer or why there is none, in the order asked. Never longer than the deadline.
    pub async fn fetch(
        &self,
        base: &str,
        token: Option<&str>,
        queries: Vec<Query>,
    ) -> Vec<(String, Result<Value, FetchFailure>)> {
        let deadline = Duration::from_millis(self.settings.timeout_ms.max(1));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, query) in queries.into_iter().enumerate() {
            let client = self.client.clone();
            let limit = self.settings.max_response_bytes;
            let url = join(base, &query.relative);
            let token = token.map(str::to_owned);
            tasks.spawn(async move {
                let answer = match url {
                    Some(url) => {
                        tokio::time::timeout(deadline, get(&client, url, token.as_deref(), limit))
                            .await
                            .unwrap_or(Err(FetchFailure::Timeout))
                    }
                    None => Err(FetchFailure::Transport),
                };
                (index, query.key, answer)
            });
        }
        let mut answers = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok(answer) = joined {
                answers.push(answer);
            }
        }
        answers.sort_by_key(|(index, _, _)| *index);
        answers
            .into_iter()
            .map(|(_, key, answer)| {
                match &answer {
                    Ok(_) => tracing::info!(key = %key, outcome = "ok", "fhirServer query"),
                    Err(failure) => tracing::info!(
                        key = %key,
                        outcome = failure.code(),
                        status = if let FetchFailure::Status(status) = failure {
                            *status
                        } else {
                            0
                        },
                        "fhirServer query"
                    ),
                }
                (key, answer)
            })
            .collect()
    }
}

/// `base` and a relative query, as a URL on `base`'s origin; `None` if that cannot be.
fn join(base: &str, relative: &str) -> Option<Url> {
    let base_url = Url::parse(base).ok()?;
    let url = Url::parse(&format!(
        "{}/{}",
        base.trim_end_matches('/'),
        relative.trim_start_matches('/')
    ))
    .ok()?;
    (url.origin() == base_url.origin()).then_some(url)
}

/// Follows a redirect only to the origin the first request went to, at most three times.
fn same_origin_only(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let first = attempt.previous().first().map(Url::origin);
    if attempt.previous().len() > 3 || first.as_ref() != Some(&attempt.url().origin()) {
        attempt.stop()
    } else {
        attempt.follow()
    }
}

async fn get(
    client: &reqwest::Client,
    url: Url,
    token: Option<&str>,
    limit: usize,
) -> Result<Value, FetchFailure> {
    let mut request = client.get(url).header(
        header::ACCEPT,
        "application/fhir+json, application/json;q=0.9",
    );
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let mut response = request.send().await.map_err(|err| {
        if err.is_timeout() {
            FetchFailure::Timeout
        } else {
            FetchFailure::Transport
        }
    })?;
    if response.status() != StatusCode::OK {
        return Err(FetchFailure::Status(response.status().as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|length| usize::try_from(length).map_or(true, |length| length > limit))
    {
        return Err(FetchFailure::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| FetchFailure::Transport)?
    {
        if body.len() + chunk.len() > limit {
            return Err(FetchFailure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(FetchFailure::NotJson),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_stays_on_the_servers_origin() {
        let url = join("https://ehr.example.org/fhir/r4/", "Patient/123").unwrap();
        assert_eq!(url.as_str(), "https://ehr.example.org/fhir/r4/Patient/123");
        let url = join(
            "https://ehr.example.org/fhir",
            "Condition?patient=Patient/1&clinical-status=active",
        )
        .unwrap();
        assert_eq!(url.path(), "/fhir/Condition");
        assert_eq!(url.host_str(), Some("ehr.example.org"));
        assert!(join("not a url", "Patient/1").is_none());
        // A relative part cannot move the query to another host.
        assert!(
            join("https://ehr.example.org", "@evil.example.com/Patient/1")
                .is_some_and(|url| url.host_str() == Some("ehr.example.org"))
        );
    }
}
