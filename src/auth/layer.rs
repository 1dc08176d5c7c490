//! The tower layer both doors use: one service type over `http::Request`, so the same code guards
//! axum routes (route layers) and the tonic API service (a wrapper keeping its gRPC name).
//!
//! It is async (a key lookup may fetch a JWKS), which `tonic::service::Interceptor` cannot be.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::http::{HeaderValue, Request, Response, StatusCode, header::WWW_AUTHENTICATE};
use tonic::Status;
use tower_layer::Layer;
use tower_service::Service;

use super::{
    Authenticator,
    verify::{Denial, Door},
};
use crate::status;

/// Guards the routes it is applied to (see [`Authenticator::cds_hooks_layer`] and
/// [`Authenticator::api_layer`]).
#[derive(Clone, Debug)]
pub struct AuthLayer {
    auth: Authenticator,
    door: Door,
}

impl AuthLayer {
    pub(super) const fn new(auth: Authenticator, door: Door) -> Self {
        Self { auth, door }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticated<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticated::new(inner, self.auth.clone(), self.door)
    }
}

/// A service that runs only for authenticated requests, with their [`crate::caller::Caller`] in
/// the request extensions; others are answered here.
#[derive(Clone, Debug)]
pub struct Authenticated<S> {
    inner: S,
    auth: Authenticator,
    door: Door,
}

impl<S> Authenticated<S> {
    pub(super) const fn new(inner: S, auth: Authenticator, door: Door) -> Self {
        Self { inner, auth, door }
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B, R> Service<Request<B>> for Authenticated<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<R>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone is not necessarily ready; keep the one that is (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        let door = self.door;
        Box::pin(async move {
            let checked = auth
                .authenticate(
                    door,
                    request.uri().path(),
                    request.headers(),
                    request.extensions(),
                )
                .await;
            match checked {
                Ok(Some(caller)) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Ok(None) => inner.call(request).await,
                Err(denial) => Ok(refusal(door, &denial)),
            }
        })
    }
}

/// The answer to a refused request: a bare 401 (403 without the scope) with a
/// `WWW-Authenticate` challenge on HTTP, `UNAUTHENTICATED` / `PERMISSION_DENIED` on gRPC. Neither
/// says why, so a caller probing the checks learns nothing.
fn refusal<R: Default>(door: Door, denial: &Denial) -> Response<R> {
    if door == Door::ApiGrpc {
        return grpc_status(denial).into_http();
    }
    let (status, challenge) = match denial {
        Denial::Unauthenticated => (StatusCode::UNAUTHORIZED, "Bearer".to_owned()),
        Denial::Forbidden { scope } => (
            StatusCode::FORBIDDEN,
            format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
        ),
    };
    let mut response = Response::new(R::default());
    *response.status_mut() = status;
    let challenge =
        HeaderValue::from_str(&challenge).unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
    response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    response
}

/// The gRPC status of a refusal, with an `ErrorInfo` (AIP-193) a client can switch on.
fn grpc_status(denial: &Denial) -> Status {
    match denial {
        Denial::Unauthenticated => status::unauthenticated(),
        Denial::Forbidden { scope } => status::insufficient_scope(scope),
    }
}

#[cfg(test)]
mod tests {
    use std::{
        collections::HashMap as Map,
        convert::Infallible,
        future::{Ready, ready},
        sync::{Arc, Mutex},
    };

    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use p384::{elliptic_curve::sec1::ToEncodedPoint as _, pkcs8::EncodePrivateKey as _};
    use serde_json::json;

    use super::*;
    use crate::{
        auth::IssuerSettings,
        caller::{Caller, ClientCertificate, TokenCaller},
        config::Settings,
    };

    /// Stands in for the handler behind the layer: records what reached it.
    #[derive(Clone, Default)]
    struct Probe(Arc<Mutex<Vec<Option<Caller>>>>);

    impl Service<Request<String>> for Probe {
        type Response = Response<String>;
        type Error = Infallible;
        type Future = Ready<Result<Response<String>, Infallible>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request<String>) -> Self::Future {
            self.0
                .lock()
                .unwrap()
                .push(request.extensions().get::<Caller>().cloned());
            ready(Ok(Response::new("handled".into())))
        }
    }

    /// An API issuer whose one P-384 key is in a JWKS file; returns the signing key too.
    fn setup(accept_certificates: bool) -> (Authenticator, EncodingKey, tempfile::NamedTempFile) {
        let secret = p384::SecretKey::random(&mut rand::thread_rng());
        let point = secret.public_key().to_encoded_point(false);
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-384", "kid": "k1",
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}]});
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), jwks.to_string()).unwrap();
        let mut settings = Settings::load(None, Some(Map::new())).unwrap();
        settings.auth.enabled = true;
        settings.auth.cds_hooks.issuers = vec![IssuerSettings {
            iss: "https://ehr.example.org".into(),
            jwks_file: Some(file.path().to_owned()),
            ..IssuerSettings::default()
        }];
        settings.auth.api.issuer = Some("https://auth.example.org".into());
        settings.auth.api.audience = Some("cramp".into());
        settings.auth.api.jwks_file = Some(file.path().to_owned());
        settings.auth.api.accept_client_certificates = accept_certificates;
        let auth = Authenticator::new(&settings.auth, &settings.http).unwrap();
        let key = EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes());
        (auth, key, file)
    }

    fn token(key: &EncodingKey) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let mut header = Header::new(Algorithm::ES384);
        header.kid = Some("k1".into());
        let claims = json!({"iss": "https://auth.example.org", "aud": "cramp", "sub": "svc-7",
            "azp": "intake-backend", "jti": "t-1", "iat": now, "exp": now + 60,
            "scope": "system/cramp.assess"});
        jsonwebtoken::encode(&header, &claims, key).unwrap()
    }

    async fn send(
        service: &mut Authenticated<Probe>,
        authorization: Option<&str>,
        certificate: Option<ClientCertificate>,
    ) -> Response<String> {
        let mut request = Request::new(String::new());
        if let Some(value) = authorization {
            request.headers_mut().insert(
                axum::http::header::AUTHORIZATION,
                HeaderValue::from_str(value).unwrap(),
            );
        }
        if let Some(certificate) = certificate {
            request.extensions_mut().insert(certificate);
        }
        service.call(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_verified_token_puts_its_caller_into_the_request() {
        let (auth, key, _file) = setup(false);
        let probe = Probe::default();
        let mut service = auth.api_layer().layer(probe.clone());
        let answer = send(&mut service, Some(&format!("Bearer {}", token(&key))), None).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let mut expected = TokenCaller::new("https://auth.example.org");
        expected.subject = Some("svc-7".into());
        expected.client_id = Some("intake-backend".into());
        expected.jti = Some("t-1".into());
        assert_eq!(*probe.0.lock().unwrap(), [Some(Caller::Token(expected))]);
    }

    #[tokio::test]
    async fn a_client_certificate_replaces_the_token_only_when_configured() {
        let certificate = || Some(ClientCertificate::new("CN=intake-backend"));
        let (auth, _key, _file) = setup(true);
        let probe = Probe::default();
        let mut service = auth.api_layer().layer(probe.clone());
        let answer = send(&mut service, None, certificate()).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let expected = Caller::Certificate(ClientCertificate::new("CN=intake-backend"));
        assert_eq!(*probe.0.lock().unwrap(), [Some(expected)]);

        let (auth, _key, _file) = setup(false);
        let probe = Probe::default();
        let mut service = auth.api_layer().layer(probe.clone());
        let answer = send(&mut service, None, certificate()).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert!(answer.body().is_empty());
        assert!(probe.0.lock().unwrap().is_empty(), "the handler never ran");

        // CDS Hooks always needs the EHR's JWT.
        let (auth, _key, _file) = setup(true);
        let mut service = auth.cds_hooks_layer().layer(Probe::default());
        let answer = send(&mut service, None, certificate()).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn grpc_refusals_are_unauthenticated_statuses() {
        let (auth, _key, _file) = setup(false);
        let mut service = auth.grpc(Probe::default());
        let answer = send(&mut service, Some("Bearer x.y.z"), None).await;
        assert_eq!(
            answer.status(),
            StatusCode::OK,
            "gRPC errors travel as grpc-status"
        );
        let status = Status::from_header_map(answer.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(
            <Authenticated<
                crate::pb::cramp_assessment_service_server::CrampAssessmentServiceServer<
                    crate::grpc::AssessmentService,
                >,
            > as tonic::server::NamedService>::NAME,
            "cramp.v1.CrampAssessmentService"
        );
    }

    #[tokio::test]
    async fn with_auth_off_requests_pass_untouched() {
        let probe = Probe::default();
        let mut service = Authenticator::disabled().api_layer().layer(probe.clone());
        let answer = send(&mut service, None, None).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(*probe.0.lock().unwrap(), [None]);
    }
}
