//! TLS and mutual TLS for both ports, from PEM files named in the configuration.
//!
//! The gRPC port uses tonic's own rustls acceptor (`tls-ring`); the HTTP door gets the same
//! certificate through [`HttpListener`], an axum listener that finishes each handshake on its own
//! task so that one slow or hostile client cannot hold up the accept loop. Only TLS 1.2 and 1.3 are
//! offered (rustls implements nothing older). With a client CA bundle configured, a client
//! certificate is verified against it (required or optional by configuration) and its subject is
//! handed to the request as a [`ClientCertificate`], which the authentication layer may accept in
//! place of a token.
//!
//! Files are read once at start-up; a missing or malformed file stops the process with the key
//! that names it, rather than serving plaintext by accident.

use std::{
    collections::VecDeque,
    fmt, io,
    net::SocketAddr,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self, RootCertStore, ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _},
        server::WebPkiClientVerifier,
    },
};

pub use crate::config::TlsSettings;
use crate::{
    caller::ClientCertificate,
    edge::{ConnectionCap, Guarded},
};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// TLS is on but a required path is not configured.
    #[error("invalid configuration: key `{key}` is required when `tls.enabled` is true")]
    Missing {
        /// The configuration key.
        key: &'static str,
    },
    /// `require_client_certificate` without a CA bundle to verify against.
    #[error(
        "invalid configuration: key `tls.require_client_certificate` needs `tls.client_ca_path`"
    )]
    RequireWithoutCa,
    /// A PEM file could not be read or holds nothing usable.
    #[error("invalid configuration: key `{key}`: cannot use `{path}`")]
    Pem {
        /// The configuration key.
        key: &'static str,
        /// The file named by it.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// A PEM file parsed but held no certificate.
    #[error("invalid configuration: key `{key}`: `{path}` holds no certificate")]
    NoCertificate {
        /// The configuration key.
        key: &'static str,
        /// The file named by it.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("invalid configuration: key `{key}`: cannot read `{path}`")]
    Read {
        /// The configuration key.
        key: &'static str,
        /// The file named by it.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// rustls refused the certificate, key or CA bundle (e.g. the key does not match).
    #[error("invalid TLS configuration")]
    Rustls(#[from] rustls::Error),
    /// The client CA bundle could not be turned into a verifier.
    #[error("invalid configuration: key `tls.client_ca_path`: unusable CA bundle")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// The loaded TLS material: tonic's configuration for gRPC and an acceptor for HTTP.
#[derive(Clone)]
pub struct ServerTls {
    /// For `tonic::transport::Server::tls_config`.
    pub grpc: tonic::transport::ServerTlsConfig,
    /// For the HTTP door's listener.
    pub http: TlsAcceptor,
    /// Bounds each handshake on the HTTP door (tonic applies the same bound on gRPC).
    pub handshake_timeout: Duration,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Reads the configured files; `None` when TLS is off.
    ///
    /// # Errors
    /// [`TlsError`] naming the key whose file is missing, unreadable or unusable.
    pub fn load(settings: &TlsSettings) -> Result<Option<Self>, TlsError> {
        if !settings.enabled {
            return Ok(None);
        }
        let cert_path = settings.cert_path.as_deref().ok_or(TlsError::Missing {
            key: "tls.cert_path",
        })?;
        let key_path = settings.key_path.as_deref().ok_or(TlsError::Missing {
            key: "tls.key_path",
        })?;
        if settings.require_client_certificate && settings.client_ca_path.is_none() {
            return Err(TlsError::RequireWithoutCa);
        }
        let cert_pem = read("tls.cert_path", cert_path)?;
        let key_pem = read("tls.key_path", key_path)?;
        let chain = certificates("tls.cert_path", cert_path, &cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|source| TlsError::Pem {
            key: "tls.key_path",
            path: key_path.to_owned(),
            source,
        })?;
        let handshake_timeout = Duration::from_secs(settings.handshake_timeout_seconds.max(1));

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
        let mut grpc = tonic::transport::ServerTlsConfig::new()
            .identity(tonic::transport::Identity::from_pem(&cert_pem, &key_pem))
            .timeout(handshake_timeout);
        let builder = match settings.client_ca_path.as_deref() {
            None => builder.with_no_client_auth(),
            Some(ca_path) => {
                let ca_pem = read("tls.client_ca_path", ca_path)?;
                let mut roots = RootCertStore::empty();
                for cert in certificates("tls.client_ca_path", ca_path, &ca_pem)? {
                    roots.add(cert)?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if settings.require_client_certificate {
                    verifier.build()?
                } else {
                    verifier.allow_unauthenticated().build()?
                };
                grpc = grpc
                    .client_ca_root(tonic::transport::Certificate::from_pem(&ca_pem))
                    .client_auth_optional(!settings.require_client_certificate);
                builder.with_client_cert_verifier(verifier)
            }
        };
        // Building the HTTP side checks that the key matches the certificate, at start-up.
        let mut config = builder.with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(Self {
            grpc,
            http: TlsAcceptor::from(Arc::new(config)),
            handshake_timeout,
        }))
    }
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        key,
        path: path.to_owned(),
        source,
    })
}

fn certificates(
    key: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            key,
            path: path.to_owned(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            key,
            path: path.to_owned(),
        });
    }
    Ok(chain)
}

/// The identity in a verified client certificate: its subject, or its first URI/DNS SAN when the
/// subject is empty (SPIFFE workload certificates carry only a URI SAN). `None` when the
/// certificate does not parse (rustls has already verified it, so this does not happen in
/// practice; the caller is then treated as presenting no certificate).
#[must_use]
pub fn certificate_identity(der: &[u8]) -> Option<ClientCertificate> {
    use x509_parser::{extensions::GeneralName, prelude::FromDer as _};

    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    let subject = cert.subject().to_string();
    if !subject.is_empty() {
        return Some(ClientCertificate::new(subject));
    }
    let san = cert.subject_alternative_name().ok().flatten()?;
    san.value.general_names.iter().find_map(|name| {
        if let GeneralName::URI(uri) | GeneralName::DNSName(uri) = name {
            Some(ClientCertificate::new(*uri))
        } else {
            None
        }
    })
}

/// What the HTTP door knows about a connection: the peer address and, over mutual TLS, the
/// verified client certificate.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    /// The remote socket address.
    pub remote: SocketAddr,
    /// The client certificate's identity, when one was presented and verified.
    pub client_certificate: Option<ClientCertificate>,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, HttpListener>>
    for PeerInfo
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, HttpListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A plaintext or TLS connection, behind one type so the HTTP server is the same either way.
pub trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

/// A connection of the HTTP door.
pub struct HttpConnection(Box<dyn Connection>);

impl fmt::Debug for HttpConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HttpConnection")
    }
}

impl AsyncRead for HttpConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for HttpConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// The HTTP door's listener: accepts on its own task (TLS handshakes each on a task of their
/// own, bounded by the handshake timeout) and closes the listening socket the moment `stop` turns
/// true, so that new connections are refused while those already open drain.
#[derive(Debug)]
pub struct HttpListener {
    /// Finished connections, in the order their handshakes completed.
    ready: mpsc::Receiver<(HttpConnection, PeerInfo)>,
    /// The bound address.
    local: SocketAddr,
}

/// Connections accepted but not yet taken by the server; a full queue pauses accepting, which
/// pushes back on the kernel's listen backlog instead of growing memory.
const ACCEPT_QUEUE: usize = 64;

impl HttpListener {
    /// Starts accepting on `listener`, with TLS when `tls` is given, until `stop` is true.
    ///
    /// # Errors
    /// The OS error when the listener has no local address.
    pub fn start(
        listener: TcpListener,
        tls: Option<ServerTls>,
        mut stop: watch::Receiver<bool>,
        cap: ConnectionCap,
    ) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(ACCEPT_QUEUE);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stop.wait_for(|stop| *stop) => break,
                    accepted = listener.accept() => accepted,
                };
                let (stream, remote) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // EMFILE and friends: back off briefly instead of spinning.
                        tracing::warn!(%error, "cannot accept an HTTP connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // Over the cap: closed at once (see `crate::edge`).
                let Some(stream) = cap.admit(stream) else {
                    continue;
                };
                match &tls {
                    None => {
                        let peer = PeerInfo {
                            remote,
                            client_certificate: None,
                        };
                        if tx
                            .send((HttpConnection(Box::new(stream)), peer))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                    Some(tls) => {
                        let tls = tls.clone();
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            if let Some(ready) = handshake(&tls, stream, remote).await {
                                let _ = tx.send(ready).await;
                            }
                        });
                    }
                }
            }
            tracing::debug!("HTTP listener closed");
        });
        Ok(Self { ready, local })
    }
}

async fn handshake(
    tls: &ServerTls,
    stream: Guarded<TcpStream>,
    remote: SocketAddr,
) -> Option<(HttpConnection, PeerInfo)> {
    match tokio::time::timeout(tls.handshake_timeout, tls.http.accept(stream)).await {
        Ok(Ok(stream)) => {
            let client_certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|leaf| certificate_identity(leaf));
            Some((
                HttpConnection(Box::new(stream)),
                PeerInfo {
                    remote,
                    client_certificate,
                },
            ))
        }
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}

impl axum::serve::Listener for HttpListener {
    type Io = HttpConnection;
    type Addr = PeerInfo;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept task has stopped (shutdown): nothing more will come. The server's own
            // graceful-shutdown signal, which fires at the same moment, ends its accept loop.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(PeerInfo {
            remote: self.local,
            client_certificate: None,
        })
    }
}

/// A tower layer for the gRPC server: turns tonic's record of the TLS peer certificates into a
/// [`ClientCertificate`] in the request's extensions, the same shape the HTTP door produces.
#[derive(Clone, Debug, Default)]
pub struct ClientCertificateLayer {
    identities: Arc<IdentityCache>,
}

impl<S> tower::Layer<S> for ClientCertificateLayer {
    type Service = ClientCertificateService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientCertificateService {
            inner,
            identities: Arc::clone(&self.identities),
        }
    }
}

/// See [`ClientCertificateLayer`].
#[derive(Clone, Debug)]
pub struct ClientCertificateService<S> {
    inner: S,
    identities: Arc<IdentityCache>,
}

/// How many connections' identities [`IdentityCache`] keeps.
const IDENTITY_CACHE_CONNECTIONS: usize = 64;

/// The identities of the last few connections' client certificates, so the x509 parse (about half
/// the cost of an in-process assessment, `cargo bench --bench evaluate -- client_certificate`)
/// happens once per connection, not once per call. tonic gives every request of a connection a
/// clone of one `Arc` of the peer chain, so a pointer comparison finds the connection's entry;
/// the entry holds that `Arc`, so its address cannot be reused by another chain while it lives.
#[derive(Debug, Default)]
pub struct IdentityCache {
    recent: Mutex<VecDeque<(PeerChain, Option<ClientCertificate>)>>,
}

/// A connection's verified peer chain, leaf first, as tonic hands it to each request.
pub type PeerChain = Arc<Vec<CertificateDer<'static>>>;

impl IdentityCache {
    /// The identity in `chain`'s leaf, parsed on the connection's first call only. A poisoned lock
    /// only costs the cache: the certificate is parsed again.
    #[must_use]
    pub fn identity(&self, chain: PeerChain) -> Option<ClientCertificate> {
        if let Ok(recent) = self.recent.lock()
            && let Some((_, identity)) = recent.iter().find(|(seen, _)| Arc::ptr_eq(seen, &chain))
        {
            return identity.clone();
        }
        let identity = chain.first().and_then(|leaf| certificate_identity(leaf));
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() >= IDENTITY_CACHE_CONNECTIONS {
                recent.pop_front();
            }
            recent.push_back((chain, identity.clone()));
        }
        identity
    }
}

impl<S, B> tower::Service<axum::http::Request<B>> for ClientCertificateService<S>
where
    S: tower::Service<axum::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> Self::Future {
        use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

        let identity = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(TlsConnectInfo::peer_certs)
            .and_then(|chain| self.identities.identity(chain));
        if let Some(identity) = identity {
            request.extensions_mut().insert(identity);
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TlsSettings {
        TlsSettings {
            enabled: true,
            cert_path: None,
            key_path: None,
            client_ca_path: None,
            require_client_certificate: false,
            handshake_timeout_seconds: 5,
        }
    }

    #[test]
    fn off_loads_nothing() {
        let mut off = settings();
        off.enabled = false;
        assert!(ServerTls::load(&off).unwrap().is_none());
    }

    #[test]
    fn missing_paths_name_their_key() {
        let err = ServerTls::load(&settings()).unwrap_err();
        assert!(err.to_string().contains("tls.cert_path"), "{err}");
        let mut no_ca = settings();
        no_ca.cert_path = Some("c.pem".into());
        no_ca.key_path = Some("k.pem".into());
        no_ca.require_client_certificate = true;
        let err = ServerTls::load(&no_ca).unwrap_err();
        assert!(err.to_string().contains("tls.client_ca_path"), "{err}");
    }

    #[test]
    fn an_unreadable_file_names_its_key() {
        let mut s = settings();
        s.cert_path = Some("/nonexistent/cert.pem".into());
        s.key_path = Some("/nonexistent/key.pem".into());
        let err = ServerTls::load(&s).unwrap_err();
        assert!(err.to_string().contains("tls.cert_path"), "{err}");
    }

    #[test]
    fn the_identity_is_the_subject_or_else_the_san() {
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "intake-worker");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            certificate_identity(cert.der()).unwrap().subject,
            "CN=intake-worker"
        );

        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.subject_alt_names = vec![rcgen::SanType::URI(
            "spiffe://cluster.local/ns/intake/sa/worker"
                .try_into()
                .unwrap(),
        )];
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            certificate_identity(cert.der()).unwrap().subject,
            "spiffe://cluster.local/ns/intake/sa/worker"
        );
        assert!(certificate_identity(b"not a certificate").is_none());
    }

    /// Connections never get each other's identity, however many come and go, and the cache stays
    /// bounded while they do.
    #[test]
    fn each_connection_gets_its_own_identity_from_a_bounded_cache() {
        let key = rcgen::KeyPair::generate().unwrap();
        let chain = |name: &str| -> PeerChain {
            let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            Arc::new(vec![params.self_signed(&key).unwrap().der().clone()])
        };
        let cache = IdentityCache::default();
        let connections: Vec<(String, PeerChain)> = (0..IDENTITY_CACHE_CONNECTIONS + 16)
            .map(|i| {
                let name = format!("client-{i}");
                let chain = chain(&name);
                (format!("CN={name}"), chain)
            })
            .collect();
        for round in 0..3 {
            for (subject, chain) in &connections {
                let identity = cache.identity(Arc::clone(chain)).unwrap();
                assert_eq!(&identity.subject, subject, "round {round}");
            }
            assert!(cache.recent.lock().unwrap().len() <= IDENTITY_CACHE_CONNECTIONS);
        }
        // The same certificate on a new connection (another `Arc`) is read again, not confused.
        let again = chain("client-0");
        assert_eq!(cache.identity(again).unwrap().subject, "CN=client-0");
        // A chain that does not parse is remembered as "no identity", not as someone else's.
        let garbage: PeerChain = Arc::new(vec![CertificateDer::from(b"garbage".to_vec())]);
        assert!(cache.identity(Arc::clone(&garbage)).is_none());
        assert!(cache.identity(garbage).is_none());
    }
}
