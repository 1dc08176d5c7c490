//! The tower layer both doors use: one service type over `http::Request`, so the same code guards
//! axum routes (route layers) and the tonic API service (a wrapper keeping its gRPC name).
//!
//! It is async (a key lookup may fetch a JWKS), which `tonic::service::Interceptor` cannot be.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::http::{HeaderValue, Request, Response, StatusCode, header::WWW_AUTHENTICATE};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};
use tower_layer::Layer;
use tower_service::Service;

use super::{
    Authenticator,
    verify::{Denial, Door},
};
use crate::grpc::status::ERROR_DOMAIN;

/// `ErrorInfo.reason` of a gRPC call refused for missing or invalid credentials.
pub const UNAUTHENTICATED_REASON: &str = "UNAUTHENTICATED";
/// `ErrorInfo.reason` of a gRPC call whose token lacks the required scope.
pub const INSUFFICIENT_SCOPE_REASON: &str = "INSUFFICIENT_SCOPE";

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
    let mut details = ErrorDetails::new();
    match denial {
        Denial::Unauthenticated => {
            details.set_error_info(UNAUTHENTICATED_REASON, ERROR_DOMAIN, HashMap::new());
            Status::with_error_details(
                Code::Unauthenticated,
                "a valid bearer token is required",
                details,
            )
        }
        Denial::Forbidden { scope } => {
            details.set_error_info(
                INSUFFICIENT_SCOPE_REASON,
                ERROR_DOMAIN,
                HashMap::from([("required_scope".to_owned(), scope.clone())]),
            );
            Status::with_error_details(
                Code::PermissionDenied,
                format!("the token does not grant the scope `{scope}`"),
                details,
            )
        }
    }
}
