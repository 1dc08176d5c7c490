//! Auth fixtures: signing keys minted at test time (EC P-384 and P-256, one RSA 2048 key per test
//! binary), tokens, and a real JWKS server on loopback whose sets the tests can rotate and whose
//! fetches they can count.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, LazyLock, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// One RSA key for the whole test binary: generating 2048-bit keys is the slow part.
static RSA_KEY: LazyLock<rsa::RsaPrivateKey> =
    LazyLock::new(|| rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("an RSA key"));

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A private key with its `kid`, signing tokens with one algorithm.
#[derive(Clone)]
pub(crate) struct Signer {
    pub(crate) kid: String,
    pub(crate) alg: Algorithm,
    key: EncodingKey,
    jwk: Value,
}

impl Signer {
    /// A fresh EC P-384 key (ES384).
    pub(crate) fn es384(kid: &str) -> Self {
        use p384::{elliptic_curve::sec1::ToEncodedPoint as _, pkcs8::EncodePrivateKey as _};
        let secret = p384::SecretKey::random(&mut rand::thread_rng());
        let point = secret.public_key().to_encoded_point(false);
        Self {
            kid: kid.into(),
            alg: Algorithm::ES384,
            key: EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes()),
            jwk: json!({"kty": "EC", "crv": "P-384", "kid": kid, "use": "sig",
                "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}),
        }
    }

    /// A fresh EC P-256 key (ES256).
    pub(crate) fn es256(kid: &str) -> Self {
        use p256::{elliptic_curve::sec1::ToEncodedPoint as _, pkcs8::EncodePrivateKey as _};
        let secret = p256::SecretKey::random(&mut rand::thread_rng());
        let point = secret.public_key().to_encoded_point(false);
        Self {
            kid: kid.into(),
            alg: Algorithm::ES256,
            key: EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes()),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid,
                "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}),
        }
    }

    /// The binary's RSA key under `kid`, signing with `alg` (RS384, RS256, PS256...).
    pub(crate) fn rsa(kid: &str, alg: Algorithm) -> Self {
        use rsa::{pkcs1::EncodeRsaPrivateKey as _, traits::PublicKeyParts as _};
        let key = &*RSA_KEY;
        Self {
            kid: kid.into(),
            alg,
            key: EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes()),
            jwk: json!({"kty": "RSA", "kid": kid, "use": "sig",
                "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())}),
        }
    }

    /// The public JWK.
    pub(crate) fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// A token over `claims` with the header `{alg, kid, typ: JWT}`.
    pub(crate) fn token(&self, claims: &Value) -> String {
        self.token_with(claims, |_| {})
    }

    /// A token whose header `edit` changes first (drop the `kid`, add a `jku`...).
    pub(crate) fn token_with(&self, claims: &Value, edit: impl FnOnce(&mut Header)) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        edit(&mut header);
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

/// A JWK Set of these keys.
pub(crate) fn jwks(signers: &[&Signer]) -> Value {
    json!({"keys": signers.iter().map(|s| s.jwk()).collect::<Vec<_>>()})
}

/// An unsigned token (`alg: none`), as an attacker would send it.
pub(crate) fn unsigned_token(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// A token MACed with a shared secret (HS256): what an attacker sends hoping the server treats
/// the public key as an HMAC secret.
pub(crate) fn hs256_token(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(b"public-key-bytes"),
    )
    .unwrap()
}

/// Now, in Unix seconds.
pub(crate) fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Valid claims for `iss` and `aud`: issued now, expiring in five minutes, a fresh `jti`.
pub(crate) fn claims(iss: &str, aud: &str) -> Value {
    let now = unix_now();
    json!({"iss": iss, "sub": "client-1", "aud": aud, "iat": now, "exp": now + 300,
        "jti": uuid::Uuid::new_v4().to_string()})
}

/// `Bearer <token>`.
pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// What the JWKS server publishes and how often each path was fetched.
#[derive(Clone, Default)]
struct Published {
    documents: Arc<Mutex<HashMap<String, Value>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

/// A real HTTP server on loopback publishing JWK Sets by path.
pub(crate) struct JwksServer {
    addr: SocketAddr,
    published: Published,
}

impl JwksServer {
    /// Starts serving on `127.0.0.1:0` (nothing published yet: every path is 404).
    pub(crate) async fn start() -> Self {
        use axum::{
            http::{StatusCode, Uri, header::CONTENT_TYPE},
            response::IntoResponse as _,
        };

        let published = Published::default();
        let state = published.clone();
        let router = axum::Router::new().fallback(move |uri: Uri| {
            let state = state.clone();
            async move {
                let path = uri.path().to_owned();
                *state.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
                match state.documents.lock().unwrap().get(&path) {
                    Some(document) => {
                        ([(CONTENT_TYPE, "application/json")], document.to_string()).into_response()
                    }
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { addr, published }
    }

    /// The URL of `path` (plain http: allowed because the test settings are not production).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Publishes (or replaces: a rotation) the set at `path`.
    pub(crate) fn publish(&self, path: &str, jwks: Value) {
        self.published
            .documents
            .lock()
            .unwrap()
            .insert(path.into(), jwks);
    }

    /// How many times `path` was fetched.
    pub(crate) fn hits(&self, path: &str) -> usize {
        self.published
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or_default()
    }
}
