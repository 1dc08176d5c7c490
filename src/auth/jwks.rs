//! JSON Web Key Sets: parsing, and a cache per key source that is refreshed on an unknown `kid`
//! at most once per interval.
//!
//! Keys are looked up by `kid` only (integration.md §1.5: "`kid` unique in its JWKS"). A key with
//! a `kid` that appears twice is dropped, since it is not known which one the token means. Only
//! signature keys the service can verify with survive parsing: EC P-256/P-384 and RSA of at least
//! 2048 bits. Symmetric (`oct`) keys are never accepted, so HMAC is impossible whatever the
//! token's header says.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// Largest JWKS document read (file or URL); real ones are a few KiB.
pub(crate) const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// Why a JWKS could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The file could not be read.
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// The document is not a JWK Set (`{"keys": [...]}`).
    #[error("not a JSON Web Key Set")]
    Parse(#[source] serde_json::Error),
    /// The set holds no key this service can verify signatures with.
    #[error("no usable signature key (EC P-256/P-384 or RSA of 2048 bits or more, with a `kid`)")]
    NoUsableKey,
    /// The document is larger than [`MAX_JWKS_BYTES`].
    #[error("larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    /// The HTTP request failed (connection, TLS, timeout).
    #[error("the request failed")]
    Fetch(#[source] reqwest::Error),
    /// The server answered with a non-success status.
    #[error("the server answered HTTP {0}")]
    Status(u16),
}

/// The curve of an EC key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

/// What kind of key a [`VerificationKey`] is; decides which `alg`s it can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyKind {
    Ec(Curve),
    Rsa,
}

/// One public key from a JWKS, ready to verify signatures.
#[derive(Clone)]
pub(crate) struct VerificationKey {
    /// The key in `jsonwebtoken`'s form.
    pub(crate) key: DecodingKey,
    kind: KeyKind,
    /// The JWK's own `alg`, when it names one: the key may then verify that algorithm only.
    alg: Option<String>,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// Whether this key may verify a token signed with `alg`: the key type and curve must match
    /// (ES384 needs P-384), and so must the JWK's `alg` when it has one.
    pub(crate) fn supports(&self, alg: Algorithm) -> bool {
        let kind_fits = match self.kind {
            KeyKind::Ec(Curve::P256) => alg == Algorithm::ES256,
            KeyKind::Ec(Curve::P384) => alg == Algorithm::ES384,
            KeyKind::Rsa => matches!(
                alg,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ),
        };
        kind_fits
            && self
                .alg
                .as_deref()
                .is_none_or(|named| named.parse::<Algorithm>().is_ok_and(|a| a == alg))
    }
}

/// The usable keys of one JWKS, by `kid`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Keys(HashMap<String, Arc<VerificationKey>>);

impl Keys {
    /// The key with this `kid`.
    pub(crate) fn get(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        self.0.get(kid).cloned()
    }

    /// How many usable keys there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// A JWK as published; only the members this service reads.
#[derive(Deserialize)]
struct RawKey {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    key_use: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

/// Parses a JWKS, keeping the signature keys this service can use. Keys it cannot use (other
/// types, encryption keys, malformed members, no `kid`, a `kid` used twice) are skipped, not
/// errors: an EHR's set may well hold keys meant for others.
///
/// # Errors
/// [`JwksError::Parse`] when the document is not a JWK Set at all.
pub(crate) fn parse_jwks(bytes: &[u8]) -> Result<Keys, JwksError> {
    let set: RawSet = serde_json::from_slice(bytes).map_err(JwksError::Parse)?;
    let mut keys: HashMap<String, Arc<VerificationKey>> = HashMap::new();
    let mut duplicated = Vec::new();
    for value in set.keys {
        let Ok(raw) = serde_json::from_value::<RawKey>(value) else {
            continue;
        };
        let Some(kid) = raw.kid.clone().filter(|k| !k.is_empty()) else {
            continue;
        };
        let Some(key) = usable_key(&raw) else {
            continue;
        };
        if keys.insert(kid.clone(), Arc::new(key)).is_some() {
            duplicated.push(kid);
        }
    }
    for kid in &duplicated {
        keys.remove(kid);
    }
    if !duplicated.is_empty() {
        tracing::warn!(
            duplicated_kids = duplicated.len(),
            "a JWKS names a kid twice; those keys are ignored"
        );
    }
    Ok(Keys(keys))
}

/// The verification key of a signature JWK, when the service can use it.
fn usable_key(raw: &RawKey) -> Option<VerificationKey> {
    if raw.key_use.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    if raw
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return None;
    }
    let decode = |b64: &str| URL_SAFE_NO_PAD.decode(b64).ok();
    let (kind, key) = match raw.kty.as_str() {
        "EC" => {
            let (curve, size) = match raw.crv.as_deref()? {
                "P-256" => (Curve::P256, 32),
                "P-384" => (Curve::P384, 48),
                _ => return None,
            };
            let (x, y) = (raw.x.as_deref()?, raw.y.as_deref()?);
            let coordinates_fit = [x, y]
                .iter()
                .all(|c| decode(c).is_some_and(|bytes| bytes.len() == size));
            if !coordinates_fit {
                return None;
            }
            (
                KeyKind::Ec(curve),
                DecodingKey::from_ec_components(x, y).ok()?,
            )
        }
        "RSA" => {
            let (n, e) = (raw.n.as_deref()?, raw.e.as_deref()?);
            let modulus = decode(n)?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return None;
            }
            (KeyKind::Rsa, DecodingKey::from_rsa_components(n, e).ok()?)
        }
        _ => return None,
    };
    Some(VerificationKey {
        key,
        kind,
        alg: raw.alg.clone(),
    })
}

/// Where one JWKS comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeySource {
    /// A file shared out of band.
    File(PathBuf),
    /// An https (http outside production) URL.
    Url(String),
}

/// Reads JWKS documents from files and URLs.
#[derive(Clone, Debug)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
}

impl Fetcher {
    /// A fetcher over `client` (built with timeouts and no redirects by the authenticator).
    pub(crate) const fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// Reads and parses the set at `source`.
    pub(crate) async fn fetch(&self, source: &KeySource) -> Result<Keys, JwksError> {
        let bytes = match source {
            // Small and rare (start-up, then rate-limited refreshes), so a blocking read is fine.
            KeySource::File(path) => read_file(path)?,
            KeySource::Url(url) => self.get(url).await?,
        };
        parse_jwks(&bytes)
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, JwksError> {
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(JwksError::Fetch)?;
        if !response.status().is_success() {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(JwksError::Fetch)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(JwksError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Reads a JWKS file, refusing one larger than [`MAX_JWKS_BYTES`].
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>, JwksError> {
    let bytes = std::fs::read(path).map_err(JwksError::Read)?;
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(JwksError::TooLarge);
    }
    Ok(bytes)
}

/// When key sets are fetched again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FetchPolicy {
    /// Least time between two fetches after the first successful load.
    pub(crate) min_interval: Duration,
    /// Age after which loaded keys are fetched again before use.
    pub(crate) max_age: Duration,
}

/// Why no key was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// The set is loaded but has no key with this `kid` (even after a refresh, or a refresh was
    /// not allowed yet).
    UnknownKid,
    /// The set could never be loaded.
    Unavailable,
}

/// The cached state of one key set.
#[derive(Debug, Default)]
struct CacheState {
    keys: Option<Arc<Keys>>,
    loaded_at: Option<Instant>,
    /// The last fetch that counts against the rate limit: every fetch except the first
    /// successful load (so a key rotated just after start-up is still picked up at once).
    last_attempt: Option<Instant>,
}

/// What a lookup does next.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Answer from the cache.
    Use,
    /// Fetch the set, then answer.
    Fetch,
}

impl CacheState {
    fn plan(&self, kid: &str, now: Instant, policy: FetchPolicy) -> Plan {
        let may_fetch = self
            .last_attempt
            .is_none_or(|t| now.saturating_duration_since(t) >= policy.min_interval);
        let fresh = self
            .loaded_at
            .is_some_and(|t| now.saturating_duration_since(t) < policy.max_age);
        let known = self.keys.as_ref().is_some_and(|k| k.get(kid).is_some());
        if (known && fresh) || !may_fetch {
            Plan::Use
        } else {
            Plan::Fetch
        }
    }

    fn lookup(&self, kid: &str) -> Result<Arc<VerificationKey>, KeyError> {
        match &self.keys {
            None => Err(KeyError::Unavailable),
            Some(keys) => keys.get(kid).ok_or(KeyError::UnknownKid),
        }
    }
}

/// One JWKS with its cache: loaded once, refreshed on an unknown `kid` or when older than the
/// cache age, never more than once per minimum interval (a failed fetch keeps the old keys).
#[derive(Debug)]
pub(crate) struct KeySet {
    source: KeySource,
    state: RwLock<CacheState>,
    /// Held while fetching, so concurrent lookups of a new `kid` cause one fetch, not many.
    fetching: tokio::sync::Mutex<()>,
}

impl KeySet {
    /// A set not loaded yet (URLs: the first token loads it).
    pub(crate) fn new(source: KeySource) -> Self {
        Self {
            source,
            state: RwLock::new(CacheState::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// A set already loaded (files, read at start-up).
    pub(crate) fn loaded(source: KeySource, keys: Keys) -> Self {
        Self {
            source,
            state: RwLock::new(CacheState {
                keys: Some(Arc::new(keys)),
                loaded_at: Some(Instant::now()),
                last_attempt: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The key named `kid`, fetching the set first when the rules allow.
    pub(crate) async fn key(
        &self,
        kid: &str,
        fetcher: &Fetcher,
        policy: FetchPolicy,
    ) -> Result<Arc<VerificationKey>, KeyError> {
        {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            if state.plan(kid, Instant::now(), policy) == Plan::Use {
                return state.lookup(kid);
            }
        }
        let _one_fetch_at_a_time = self.fetching.lock().await;
        // Another lookup may have fetched while this one waited.
        let now = Instant::now();
        {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            if state.plan(kid, now, policy) == Plan::Use {
                return state.lookup(kid);
            }
        }
        let fetched = fetcher.fetch(&self.source).await;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let first_load = state.keys.is_none();
        match fetched {
            Ok(keys) => {
                tracing::info!(
                    source = %self.source_name(),
                    keys = keys.len(),
                    "JWKS loaded"
                );
                state.keys = Some(Arc::new(keys));
                state.loaded_at = Some(now);
                state.last_attempt = if first_load { None } else { Some(now) };
            }
            Err(err) => {
                tracing::warn!(
                    source = %self.source_name(),
                    error = %err,
                    "JWKS fetch failed; keeping the keys already loaded"
                );
                state.last_attempt = Some(now);
            }
        }
        state.lookup(kid)
    }

    /// The file path or URL, for logs.
    fn source_name(&self) -> &str {
        match &self.source {
            KeySource::File(path) => path.to_str().unwrap_or("(non-UTF-8 path)"),
            KeySource::Url(url) => url,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// An EC JWK whose coordinates have `size` bytes (parsing checks lengths and the curve; the
    /// point itself is only checked when a signature is verified).
    fn ec_jwk(kid: &str, crv: &str, size: usize) -> serde_json::Value {
        let coordinate = URL_SAFE_NO_PAD.encode(vec![7_u8; size]);
        json!({"kty": "EC", "kid": kid, "crv": crv, "x": coordinate, "y": coordinate})
    }

    fn rsa_jwk(kid: &str, bits: usize) -> serde_json::Value {
        let mut modulus = vec![0xC5_u8; bits / 8];
        modulus[0] = 0xE1;
        json!({"kty": "RSA", "kid": kid, "n": URL_SAFE_NO_PAD.encode(modulus), "e": "AQAB"})
    }

    fn parse(keys: &[serde_json::Value]) -> Keys {
        parse_jwks(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn keeps_ec_and_rsa_signature_keys_by_kid() {
        let keys = parse(&[
            ec_jwk("ec384", "P-384", 48),
            ec_jwk("ec256", "P-256", 32),
            rsa_jwk("rsa", 2048),
        ]);
        assert_eq!(keys.len(), 3);
        let ec384 = keys.get("ec384").unwrap();
        assert!(ec384.supports(Algorithm::ES384));
        assert!(!ec384.supports(Algorithm::ES256), "the curve decides");
        assert!(!ec384.supports(Algorithm::RS384));
        assert!(keys.get("ec256").unwrap().supports(Algorithm::ES256));
        let rsa = keys.get("rsa").unwrap();
        assert!(rsa.supports(Algorithm::RS384));
        assert!(!rsa.supports(Algorithm::ES384));
        assert!(!rsa.supports(Algorithm::HS256));
    }

    #[test]
    fn a_jwk_alg_restricts_its_key() {
        let mut jwk = rsa_jwk("rsa", 2048);
        jwk["alg"] = json!("RS384");
        let key = parse(&[jwk]).get("rsa").unwrap();
        assert!(key.supports(Algorithm::RS384));
        assert!(!key.supports(Algorithm::RS256));
    }

    #[test]
    fn skips_keys_it_cannot_or_must_not_use() {
        let mut encryption = ec_jwk("enc", "P-384", 48);
        encryption["use"] = json!("enc");
        let mut sign_only = ec_jwk("sign-only", "P-384", 48);
        sign_only["key_ops"] = json!(["sign"]);
        let mut no_kid = ec_jwk("x", "P-384", 48);
        no_kid.as_object_mut().unwrap().remove("kid");
        let keys = parse(&[
            json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
            json!({"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"}),
            ec_jwk("short", "P-384", 32),
            ec_jwk("k1", "secp256k1", 32),
            rsa_jwk("rsa1024", 1024),
            json!({"kty": "RSA", "kid": "no-n", "e": "AQAB"}),
            json!({"kty": 7, "kid": "bad-member"}),
            encryption,
            sign_only,
            no_kid,
            ec_jwk("good", "P-384", 48),
        ]);
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert!(keys.get("good").is_some());
    }

    #[test]
    fn a_kid_used_twice_is_dropped() {
        let keys = parse(&[
            ec_jwk("twice", "P-384", 48),
            rsa_jwk("twice", 2048),
            ec_jwk("once", "P-384", 48),
        ]);
        assert!(keys.get("twice").is_none());
        assert!(keys.get("once").is_some());
    }

    #[test]
    fn a_document_that_is_not_a_key_set_is_an_error() {
        for doc in ["", "[]", "{\"keys\": 3}", "{\"kty\": \"EC\"}"] {
            assert!(
                matches!(parse_jwks(doc.as_bytes()), Err(JwksError::Parse(_))),
                "{doc}"
            );
        }
        assert_eq!(parse_jwks(b"{\"keys\": []}").unwrap().len(), 0);
    }

    fn policy() -> FetchPolicy {
        FetchPolicy {
            min_interval: Duration::from_secs(60),
            max_age: Duration::from_secs(3600),
        }
    }

    #[test]
    fn an_unknown_kid_fetches_at_most_once_per_interval() {
        let t0 = Instant::now();
        let mut state = CacheState::default();
        assert_eq!(state.plan("a", t0, policy()), Plan::Fetch, "never loaded");
        // The first load does not count against the limit.
        state.keys = Some(Arc::new(parse(&[ec_jwk("a", "P-384", 48)])));
        state.loaded_at = Some(t0);
        assert_eq!(state.plan("a", t0, policy()), Plan::Use);
        assert_eq!(state.plan("new", t0, policy()), Plan::Fetch, "one refresh");
        state.last_attempt = Some(t0);
        let soon = t0 + Duration::from_secs(59);
        assert_eq!(
            state.plan("other", soon, policy()),
            Plan::Use,
            "rate-limited"
        );
        assert_eq!(state.lookup("other").unwrap_err(), KeyError::UnknownKid);
        let later = t0 + Duration::from_secs(60);
        assert_eq!(state.plan("other", later, policy()), Plan::Fetch);
    }

    #[test]
    fn old_keys_are_fetched_again_and_kept_when_that_is_not_allowed() {
        let t0 = Instant::now();
        let state = CacheState {
            keys: Some(Arc::new(parse(&[ec_jwk("a", "P-384", 48)]))),
            loaded_at: Some(t0),
            last_attempt: Some(t0 + Duration::from_secs(3599)),
        };
        let stale = t0 + Duration::from_secs(3600);
        assert_eq!(state.plan("a", stale, policy()), Plan::Use, "rate-limited");
        assert!(state.lookup("a").is_ok());
        let later = t0 + Duration::from_secs(3700);
        assert_eq!(state.plan("a", later, policy()), Plan::Fetch);
    }

    #[test]
    fn a_set_never_loaded_is_unavailable() {
        let t0 = Instant::now();
        let state = CacheState {
            last_attempt: Some(t0),
            ..CacheState::default()
        };
        assert_eq!(state.plan("a", t0, policy()), Plan::Use);
        assert_eq!(state.lookup("a").unwrap_err(), KeyError::Unavailable);
    }
}
