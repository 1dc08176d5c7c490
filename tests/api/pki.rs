//! Certificates minted at test time (rcgen): a CA, a server certificate for `localhost` and
//! 127.0.0.1, and client certificates, written as PEM files the server's `[tls]` keys name.

use std::path::PathBuf;

use cramp_cds::config::Settings;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls::rustls::{
    self,
    pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject as _},
};

/// A throwaway PKI in a temporary directory.
pub(crate) struct Pki {
    /// Holds the files for the test's lifetime.
    pub(crate) dir: tempfile::TempDir,
    /// The CA certificate (PEM), trusted by clients and, for mTLS, by the server.
    pub(crate) ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
pub(crate) struct Leaf {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

impl Pki {
    pub(crate) fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "cramp-cds test CA");
        let ca = params.self_signed(&key).unwrap();
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
            ca_pem: ca.pem(),
            issuer: Issuer::new(params, key),
        };
        std::fs::write(pki.path("ca.pem"), &pki.ca_pem).unwrap();
        let server = pki.leaf("localhost", true);
        std::fs::write(pki.path("server.pem"), &server.cert_pem).unwrap();
        std::fs::write(pki.path("server.key"), &server.key_pem).unwrap();
        pki
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A certificate signed by the CA: a server one (SANs localhost and 127.0.0.1) or a client
    /// one with `common_name` as its subject.
    pub(crate) fn leaf(&self, common_name: &str, server: bool) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        if server {
            params.subject_alt_names = vec![
                SanType::DnsName("localhost".try_into().unwrap()),
                SanType::IpAddress([127, 0, 0, 1].into()),
            ];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        } else {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// `settings` with TLS on, using this PKI's server certificate; with `client_ca`, client
    /// certificates are verified against the CA (and required when `require`).
    pub(crate) fn enable(&self, settings: &mut Settings, client_ca: bool, require: bool) {
        settings.tls.enabled = true;
        settings.tls.cert_path = Some(self.path("server.pem"));
        settings.tls.key_path = Some(self.path("server.key"));
        settings.tls.client_ca_path = client_ca.then(|| self.path("ca.pem"));
        settings.tls.require_client_certificate = require;
    }

    /// A gRPC channel over TLS trusting the CA, optionally presenting `client`.
    pub(crate) async fn grpc_channel(
        &self,
        addr: std::net::SocketAddr,
        client: Option<&Leaf>,
    ) -> Result<tonic::transport::Channel, tonic::transport::Error> {
        let mut tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(&self.ca_pem))
            .domain_name("localhost");
        if let Some(client) = client {
            tls = tls.identity(tonic::transport::Identity::from_pem(
                &client.cert_pem,
                &client.key_pem,
            ));
        }
        tonic::transport::Endpoint::from_shared(format!("https://{addr}"))
            .unwrap()
            .tls_config(tls)?
            .connect()
            .await
    }

    /// One HTTP/1.1 GET over TLS with rustls; the whole response (head and body) or the error.
    pub(crate) async fn https_get(
        &self,
        addr: std::net::SocketAddr,
        path: &str,
        client: Option<&Leaf>,
    ) -> std::io::Result<String> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match client {
            Some(leaf) => builder
                .with_client_auth_cert(
                    CertificateDer::pem_slice_iter(leaf.cert_pem.as_bytes())
                        .map(Result::unwrap)
                        .collect(),
                    PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap(),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let mut tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await?;
        tls.write_all(
            format!(
                "GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\
                 Connection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
        let mut response = Vec::new();
        tls.read_to_end(&mut response).await?;
        Ok(String::from_utf8_lossy(&response).into_owned())
    }
}
