//! Who is calling: the identity the authentication layers establish and the audit trail records.
//!
//! Both doors (gRPC and HTTP) put one [`Caller`] into the request's extensions once the caller is
//! authenticated; handlers and the audit log read it from there instead of re-parsing headers.
//! A request without one was served with authentication off ([`Caller::Anonymous`]).
//!
//! Only identifiers safe to log live here (`iss`, `sub`, client id, `tenant`, `jti`, a certificate
//! subject); never the token itself (integration.md §1.5, §4.3).

/// The authenticated identity behind one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller {
    /// Authentication is off (local use); nothing is known about the caller.
    #[default]
    Anonymous,
    /// A verified bearer JWT (a CDS Hooks EHR token or an API access token).
    Token(TokenCaller),
    /// A TLS client certificate verified against the configured CA bundle.
    Certificate(ClientCertificate),
}

/// The loggable claims of a verified JWT.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCaller {
    /// `iss`: the EHR or authorization server that signed the token.
    pub issuer: String,
    /// `sub`, when present (the OAuth client id for CDS Hooks and SMART backend tokens).
    pub subject: Option<String>,
    /// `client_id` or `azp`, when present.
    pub client_id: Option<String>,
    /// `tenant` (CDS Hooks), when present.
    pub tenant: Option<String>,
    /// `jti`, when present: lets the audit trail point at the exact token used.
    pub jti: Option<String>,
}

impl TokenCaller {
    /// A caller known only by its issuer; the other claims are added with the `with_` methods.
    #[must_use]
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            ..Self::default()
        }
    }
}

/// A verified TLS client certificate, as the TLS layer of either port found it.
///
/// The TLS acceptor inserts this into the request's extensions whenever the peer presented a
/// certificate that chained to the configured client CA; the authentication layer accepts it in
/// place of a bearer token where the configuration allows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientCertificate {
    /// The certificate's subject (RFC 4514 string), or its first DNS/URI SAN when that is all it
    /// carries (SPIFFE ids live in a URI SAN).
    pub subject: String,
}

impl ClientCertificate {
    /// A certificate identity from its subject.
    #[must_use]
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
        }
    }
}

impl Caller {
    /// One string naming the caller for the audit trail (`agent.who`): `iss|sub` for tokens, the
    /// certificate subject, or `anonymous`.
    #[must_use]
    pub fn identity(&self) -> String {
        match self {
            Self::Anonymous => "anonymous".to_owned(),
            Self::Token(token) => match token.subject.as_deref().or(token.client_id.as_deref()) {
                Some(subject) => format!("{}|{subject}", token.issuer),
                None => token.issuer.clone(),
            },
            Self::Certificate(cert) => cert.subject.clone(),
        }
    }

    /// The caller a request carries: the one the authentication layer established, else the
    /// verified client certificate of its connection (mutual TLS with authentication off), else
    /// anonymous.
    #[must_use]
    pub fn resolve(caller: Option<&Self>, certificate: Option<&ClientCertificate>) -> Self {
        match (caller, certificate) {
            (Some(caller), _) => caller.clone(),
            (None, Some(certificate)) => Self::Certificate(certificate.clone()),
            (None, None) => Self::Anonymous,
        }
    }

    /// How the caller proved who it is: `none`, `jwt` or `mtls`.
    #[must_use]
    pub const fn method(&self) -> &'static str {
        match self {
            Self::Anonymous => "none",
            Self::Token(_) => "jwt",
            Self::Certificate(_) => "mtls",
        }
    }
}

/// The HTTP handlers take the resolved caller as an argument, so each door resolves it the same
/// way ([`Caller::resolve`] over the request's extensions) and none can forget the certificate.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::resolve(
            parts.extensions.get::<Self>(),
            parts.extensions.get::<ClientCertificate>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_name_issuer_and_subject_or_the_certificate() {
        assert_eq!(Caller::Anonymous.identity(), "anonymous");
        let mut token = TokenCaller::new("https://ehr.example.org");
        assert_eq!(
            Caller::Token(token.clone()).identity(),
            "https://ehr.example.org"
        );
        token.subject = Some("client-1".into());
        assert_eq!(
            Caller::Token(token).identity(),
            "https://ehr.example.org|client-1"
        );
        assert_eq!(
            Caller::Certificate(ClientCertificate::new("CN=intake")).identity(),
            "CN=intake"
        );
        assert_eq!(
            Caller::Certificate(ClientCertificate::new("x")).method(),
            "mtls"
        );
    }
}
