//! Token checks, in the order that spends nothing on a token that cannot pass: the header
//! (algorithm, `kid`, `typ`) before any key is looked up, the issuer and `jku` allow-lists before
//! any key is fetched, the signature and registered claims next, and the replay store last, so
//! only fully verified tokens take a place in it.

use axum::http::{HeaderMap, header::AUTHORIZATION};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde::Deserialize;

use super::{
    Inner,
    jwks::{KeyError, KeySet, VerificationKey},
    replay::ReplayError,
};
use crate::caller::{Caller, TokenCaller};

/// Longest bearer token read; real ones are a few KiB.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Longest claim value written to a log line (they are unverified when a token fails).
const MAX_LOGGED_CLAIM_CHARS: usize = 128;
/// Longest `jti` accepted (it is kept in memory for the replay window).
const MAX_JTI_CHARS: usize = 256;

/// CDS Hooks: the algorithms integration.md §1.5 recommends, and nothing else.
const CDS_HOOKS_ALGORITHMS: [Algorithm; 2] = [Algorithm::ES384, Algorithm::RS384];
/// API access tokens: the asymmetric algorithms authorization servers commonly sign with
/// (RS256 is the default of most; SMART backend services name RS384 and ES384). Never HMAC or
/// `none`: the key is public, so a symmetric algorithm would let anyone mint tokens.
const API_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::PS256,
    Algorithm::PS384,
];

/// Which routes a check guards; decides the token rules and the failure answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Door {
    /// CDS Hooks discovery, services and feedback: EHR-signed JWTs.
    CdsHooks,
    /// `$cramp-assess` on the HTTP door: API access tokens or a client certificate.
    ApiHttp,
    /// gRPC `CrampAssessmentService`: API access tokens or a client certificate.
    ApiGrpc,
}

impl Door {
    /// The name logs use.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::CdsHooks => "cds-hooks",
            Self::ApiHttp => "fhir-api",
            Self::ApiGrpc => "grpc-api",
        }
    }
}

/// Why a request was refused; logged as its code, never told to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    NoToken,
    Malformed,
    AlgorithmNotAllowed,
    KidMissing,
    TypNotAllowed,
    IssuerNotAllowed,
    JkuNotAllowed,
    NoKeySource,
    UnknownKid,
    KeysUnavailable,
    KeyDoesNotFitAlgorithm,
    BadSignature,
    Expired,
    NotYetValid,
    AudienceMismatch,
    ClaimMissing,
    IatMissing,
    IatInFuture,
    LifetimeTooLong,
    JtiMissing,
    TenantNotAllowed,
    Replayed,
    ReplayStoreFull,
    InsufficientScope,
}

impl Reason {
    /// The code in the log line.
    pub(crate) const fn code(self) -> &'static str {
        match self {
            Self::NoToken => "no_token",
            Self::Malformed => "malformed",
            Self::AlgorithmNotAllowed => "alg_not_allowed",
            Self::KidMissing => "kid_missing",
            Self::TypNotAllowed => "typ_not_allowed",
            Self::IssuerNotAllowed => "iss_not_allowed",
            Self::JkuNotAllowed => "jku_not_allowed",
            Self::NoKeySource => "no_key_source",
            Self::UnknownKid => "kid_unknown",
            Self::KeysUnavailable => "jwks_unavailable",
            Self::KeyDoesNotFitAlgorithm => "key_alg_mismatch",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::AudienceMismatch => "aud_mismatch",
            Self::ClaimMissing => "claim_missing",
            Self::IatMissing => "iat_missing",
            Self::IatInFuture => "iat_in_future",
            Self::LifetimeTooLong => "lifetime_too_long",
            Self::JtiMissing => "jti_missing",
            Self::TenantNotAllowed => "tenant_not_allowed",
            Self::Replayed => "jti_replayed",
            Self::ReplayStoreFull => "replay_store_full",
            Self::InsufficientScope => "insufficient_scope",
        }
    }
}

/// A refused request: unauthenticated, or (API only) authenticated without the scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Denial {
    /// No valid credentials: 401 / `UNAUTHENTICATED`.
    Unauthenticated,
    /// A valid token that does not grant this scope: 403 / `PERMISSION_DENIED`.
    Forbidden {
        /// The scope that was needed.
        scope: String,
    },
}

/// The loggable claims of a token under test (unverified until the checks pass).
#[derive(Debug, Default)]
struct Seen {
    iss: Option<String>,
    tenant: Option<String>,
    jti: Option<String>,
}

impl Seen {
    /// Reads `iss`, `tenant` and `jti` without verifying anything, for the log line only.
    fn from_token(token: &str) -> Self {
        let Ok(claims) =
            jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(token)
        else {
            return Self::default();
        };
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(|s| s.chars().take(MAX_LOGGED_CLAIM_CHARS).collect::<String>())
        };
        Self {
            iss: text("iss"),
            tenant: text("tenant"),
            jti: text("jti"),
        }
    }

    /// Logs a refusal and turns it into a denial.
    fn refuse(&self, door: Door, reason: Reason) -> Denial {
        let message = "request refused by authentication";
        if reason == Reason::NoToken {
            tracing::info!(door = door.name(), reason = reason.code(), "{message}");
        } else {
            tracing::warn!(
                door = door.name(),
                reason = reason.code(),
                iss = self.iss.as_deref(),
                tenant = self.tenant.as_deref(),
                jti = self.jti.as_deref(),
                "{message}"
            );
        }
        Denial::Unauthenticated
    }
}

/// The claims this service reads from a verified token.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    iat: Option<f64>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Scopes>,
}

/// `scp` as a list or as one space-separated string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Text(String),
}

impl Claims {
    fn grants(&self, scope: &str) -> bool {
        let in_text = |text: &str| text.split_ascii_whitespace().any(|s| s == scope);
        self.scope.as_deref().is_some_and(in_text)
            || match &self.scp {
                Some(Scopes::List(list)) => list.iter().any(|s| s == scope),
                Some(Scopes::Text(text)) => in_text(text),
                None => false,
            }
    }

    fn into_caller(self) -> TokenCaller {
        TokenCaller {
            issuer: self.iss,
            subject: self.sub,
            client_id: self.client_id.or(self.azp),
            tenant: self.tenant,
            jti: self.jti,
        }
    }
}

/// The bearer token of a request: exactly one `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Result<&str, Reason> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(AUTHORIZATION) {
            Reason::Malformed
        } else {
            Reason::NoToken
        });
    };
    let value = value.to_str().map_err(|_| Reason::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(Reason::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(Reason::Malformed);
    }
    Ok(token)
}

/// Why a header `jsonwebtoken` cannot read was refused: an `alg` it does not know (`none`, an
/// encryption algorithm) is named as such in the log; anything else is malformed.
fn header_problem(token: &str) -> Reason {
    let alg = token
        .split('.')
        .next()
        .and_then(|segment| URL_SAFE_NO_PAD.decode(segment).ok())
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|header| header.get("alg")?.as_str().map(str::to_owned));
    if alg.is_some() {
        Reason::AlgorithmNotAllowed
    } else {
        Reason::Malformed
    }
}

/// What both token checks read before they part ways: the bearer token, what it says of itself
/// unverified (for the refusal log only), and its header, once the header's `alg` is one the door
/// allows, its `typ` fits the door and it names a `kid`.
struct Presented<'h> {
    token: &'h str,
    seen: Seen,
    header: jsonwebtoken::Header,
    kid: String,
}

fn presented<'h>(
    headers: &'h HeaderMap,
    door: Door,
    algorithms: &[Algorithm],
    typ_fits: impl Fn(Option<&str>) -> bool,
) -> Result<Presented<'h>, Denial> {
    let token = bearer(headers).map_err(|reason| Seen::default().refuse(door, reason))?;
    let seen = Seen::from_token(token);
    let mut header = match jsonwebtoken::decode_header(token) {
        Ok(header) => header,
        Err(_) => return Err(seen.refuse(door, header_problem(token))),
    };
    if !algorithms.contains(&header.alg) {
        return Err(seen.refuse(door, Reason::AlgorithmNotAllowed));
    }
    if !typ_fits(header.typ.as_deref()) {
        return Err(seen.refuse(door, Reason::TypNotAllowed));
    }
    let Some(kid) = header.kid.take().filter(|kid| !kid.is_empty()) else {
        return Err(seen.refuse(door, Reason::KidMissing));
    };
    Ok(Presented {
        token,
        seen,
        header,
        kid,
    })
}

/// CDS Hooks tokens are typed `JWT` (integration.md §1.5).
fn cds_hooks_typ_fits(typ: Option<&str>) -> bool {
    typ.is_some_and(|typ| typ.eq_ignore_ascii_case("JWT"))
}

/// RFC 9068 access tokens are typed `at+jwt`; many servers still write `JWT` or nothing.
fn api_typ_fits(typ: Option<&str>) -> bool {
    typ.is_none_or(|typ| {
        ["JWT", "at+jwt", "application/at+jwt"]
            .iter()
            .any(|allowed| typ.eq_ignore_ascii_case(allowed))
    })
}

/// Whether a request's bearer token passes the checks made before any key is looked up (the
/// header, the unverified claims read for the log), on the CDS Hooks door and on the API door.
pub(crate) fn precheck(headers: &HeaderMap) -> [bool; 2] {
    [
        presented(
            headers,
            Door::CdsHooks,
            &CDS_HOOKS_ALGORITHMS,
            cds_hooks_typ_fits,
        )
        .is_ok(),
        presented(headers, Door::ApiHttp, &API_ALGORITHMS, api_typ_fits).is_ok(),
    ]
}

/// The reason behind a `jsonwebtoken` failure.
fn reason_for(kind: &ErrorKind) -> Reason {
    if matches!(kind, ErrorKind::ExpiredSignature) {
        Reason::Expired
    } else if matches!(kind, ErrorKind::ImmatureSignature) {
        Reason::NotYetValid
    } else if matches!(kind, ErrorKind::InvalidAudience) {
        Reason::AudienceMismatch
    } else if matches!(kind, ErrorKind::InvalidIssuer) {
        Reason::IssuerNotAllowed
    } else if matches!(kind, ErrorKind::InvalidSignature) {
        Reason::BadSignature
    } else if matches!(kind, ErrorKind::InvalidAlgorithm) {
        Reason::AlgorithmNotAllowed
    } else if matches!(kind, ErrorKind::MissingRequiredClaim(_)) {
        Reason::ClaimMissing
    } else {
        Reason::Malformed
    }
}

/// The current Unix time in seconds (the clock `jsonwebtoken` checks `exp` against).
fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

impl Inner {
    /// Verifies a CDS Hooks request's JWT (integration.md §1.5) for the URL `base_url + path`.
    pub(super) async fn cds_hooks(
        &self,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Caller, Denial> {
        let door = Door::CdsHooks;
        let Presented {
            token,
            seen,
            header,
            kid,
        } = presented(headers, door, &CDS_HOOKS_ALGORITHMS, cds_hooks_typ_fits)?;
        let kid = kid.as_str();
        let refuse = |reason| seen.refuse(door, reason);

        let issuer = seen
            .iss
            .as_deref()
            .and_then(|iss| self.issuers.get(iss))
            .ok_or_else(|| refuse(Reason::IssuerNotAllowed))?;
        let keys = match &header.jku {
            Some(jku) => issuer
                .jku
                .get(jku)
                .ok_or_else(|| refuse(Reason::JkuNotAllowed))?,
            None => issuer
                .default_keys
                .as_ref()
                .ok_or_else(|| refuse(Reason::NoKeySource))?,
        };
        let key = self.key(keys, kid, header.alg).await.map_err(refuse)?;

        let mut validation = self.validation(header.alg);
        validation.set_audience(&[format!("{}{path}", self.base_url)]);
        validation.set_issuer(&[&issuer.iss]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|err| refuse(reason_for(err.kind())))?
            .claims;

        let now = now();
        let iat = claims.iat.ok_or_else(|| refuse(Reason::IatMissing))?;
        if iat > (now + self.leeway) as f64 {
            return Err(refuse(Reason::IatInFuture));
        }
        let exp = claims.exp.ok_or_else(|| refuse(Reason::ClaimMissing))?;
        // Longer-lived tokens could outlive their replay-store entry.
        if exp > (now + self.replay_window) as f64 {
            return Err(refuse(Reason::LifetimeTooLong));
        }
        let jti = claims
            .jti
            .as_deref()
            .filter(|j| !j.is_empty() && j.chars().count() <= MAX_JTI_CHARS)
            .ok_or_else(|| refuse(Reason::JtiMissing))?;
        if !issuer.tenants.is_empty()
            && !claims
                .tenant
                .as_ref()
                .is_some_and(|t| issuer.tenants.contains(t))
        {
            return Err(refuse(Reason::TenantNotAllowed));
        }
        // `exp` passed the checks above: finite, between now - leeway and now + window.
        let remember_until = exp.ceil() as u64 + self.leeway;
        self.replay
            .remember(&issuer.iss, jti, remember_until, now)
            .map_err(|err| {
                refuse(match err {
                    ReplayError::Replayed => Reason::Replayed,
                    ReplayError::Full => Reason::ReplayStoreFull,
                })
            })?;
        let caller = claims.into_caller();
        tracing::debug!(
            door = door.name(),
            iss = %caller.issuer,
            tenant = caller.tenant.as_deref(),
            jti = caller.jti.as_deref(),
            "authenticated"
        );
        Ok(Caller::Token(caller))
    }

    /// Verifies an API access token: the configured issuer and audience, then the scope.
    pub(super) async fn api(&self, door: Door, headers: &HeaderMap) -> Result<Caller, Denial> {
        let Presented {
            token,
            seen,
            header,
            kid,
        } = presented(headers, door, &API_ALGORITHMS, api_typ_fits)?;
        let kid = kid.as_str();
        let refuse = |reason| seen.refuse(door, reason);

        let api = self
            .api
            .as_ref()
            .ok_or_else(|| refuse(Reason::NoKeySource))?;
        if seen.iss.as_deref() != Some(api.issuer.as_str()) {
            return Err(refuse(Reason::IssuerNotAllowed));
        }
        let key = self.key(&api.keys, kid, header.alg).await.map_err(refuse)?;

        let mut validation = self.validation(header.alg);
        validation.set_audience(&[&api.audience]);
        validation.set_issuer(&[&api.issuer]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|err| refuse(reason_for(err.kind())))?
            .claims;
        if claims
            .iat
            .is_some_and(|iat| iat > (now() + self.leeway) as f64)
        {
            return Err(refuse(Reason::IatInFuture));
        }
        if !claims.grants(&self.required_scope) {
            tracing::warn!(
                door = door.name(),
                reason = Reason::InsufficientScope.code(),
                iss = %claims.iss,
                jti = claims.jti.as_deref(),
                "request refused by authorization"
            );
            return Err(Denial::Forbidden {
                scope: self.required_scope.clone(),
            });
        }
        let caller = claims.into_caller();
        tracing::debug!(door = door.name(), iss = %caller.issuer, jti = caller.jti.as_deref(), "authenticated");
        Ok(Caller::Token(caller))
    }

    /// The key `kid` from `keys`, which must be able to verify `alg`.
    async fn key(
        &self,
        keys: &KeySet,
        kid: &str,
        alg: Algorithm,
    ) -> Result<std::sync::Arc<VerificationKey>, Reason> {
        let key = keys
            .key(kid, &self.fetcher, self.policy)
            .await
            .map_err(|err| match err {
                KeyError::UnknownKid => Reason::UnknownKid,
                KeyError::Unavailable => Reason::KeysUnavailable,
            })?;
        if key.supports(alg) {
            Ok(key)
        } else {
            Err(Reason::KeyDoesNotFitAlgorithm)
        }
    }

    /// Exactly the header's algorithm (already allow-listed and matched to the key), `exp`,
    /// `iss` and `aud` required, `nbf` checked when present, with the configured leeway.
    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn exactly_one_bearer_header_is_read() {
        assert_eq!(bearer(&headers(&["Bearer a.b.c"])), Ok("a.b.c"));
        assert_eq!(bearer(&headers(&["bearer  a.b.c "])), Ok("a.b.c"));
        assert_eq!(bearer(&headers(&[])), Err(Reason::NoToken));
        for bad in [
            &["Basic dXNlcjpwYXNz"][..],
            &["Bearer"],
            &["Bearer "],
            &["Bearer a", "Bearer b"],
        ] {
            assert_eq!(bearer(&headers(bad)), Err(Reason::Malformed), "{bad:?}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(bearer(&headers(&[&long])), Err(Reason::Malformed));
    }

    #[test]
    fn scopes_are_read_from_scope_or_scp() {
        let claims = |json: &str| serde_json::from_str::<Claims>(json).unwrap();
        let scope = "system/cramp.assess";
        assert!(claims(r#"{"iss": "i", "scope": "openid system/cramp.assess"}"#).grants(scope));
        assert!(claims(r#"{"iss": "i", "scp": ["system/cramp.assess"]}"#).grants(scope));
        assert!(claims(r#"{"iss": "i", "scp": "a system/cramp.assess"}"#).grants(scope));
        assert!(!claims(r#"{"iss": "i", "scope": "system/cramp.assess.read"}"#).grants(scope));
        assert!(!claims(r#"{"iss": "i"}"#).grants(scope));
    }
}
