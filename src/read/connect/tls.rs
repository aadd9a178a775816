//! TLS for `rediss://`, with rustls (the cargo feature `tls`; a default build has none of it).
//!
//! The server's certificate is checked against the system's roots, or the CA file of
//! `--tls-ca`, for the host of the URL or the name of `--sni` (which is also the name sent as
//! SNI); `--tls-cert`/`--tls-key` give a client certificate; `--tls-insecure` skips the check of
//! the server's certificate (signatures are still verified, so the session is encrypted, but to
//! whoever answers). The handshake is made at once on connecting, so that a certificate refused
//! is said as such, with what to do, before any command is sent.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme, StreamOwned};

use super::TlsOptions;

/// A TLS stream over TCP.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The TLS settings of a run, built once.
#[derive(Debug)]
pub struct Tls {
    config: Arc<ClientConfig>,
    sni: Option<String>,
}

impl Tls {
    /// The client configuration the options ask for; the error names the file or setting.
    pub fn new(options: &TlsOptions) -> Result<Tls, String> {
        // ring: the smaller build of the two providers rustls has.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = if options.insecure {
            let algorithms = provider.signature_verification_algorithms;
            builder.dangerous().with_custom_certificate_verifier(Arc::new(Unchecked { algorithms }))
        } else {
            builder.with_root_certificates(roots(options)?)
        };
        let config = match (&options.cert, &options.key) {
            (Some(cert), Some(key)) => {
                let shown = |p: &std::ffi::OsString| crate::format::escape::escaped(p.as_encoded_bytes());
                let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                    .and_then(|certs| certs.collect())
                    .map_err(|e| format!("--tls-cert: '{}': {e}", shown(cert)))?;
                if chain.is_empty() {
                    return Err(format!("--tls-cert: '{}' holds no PEM certificate", shown(cert)));
                }
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("--tls-key: '{}': {e}", shown(key)))?;
                builder.with_client_auth_cert(chain, key).map_err(|e| format!("--tls-cert/--tls-key: {e}"))?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err("--tls-cert and --tls-key go together".into()),
        };
        Ok(Tls { config: Arc::new(config), sni: options.sni.clone() })
    }

    /// TLS over `socket` to `host`, through the handshake.
    pub fn connect(&self, host: &str, mut socket: TcpStream) -> Result<TlsStream, String> {
        let name = self.sni.as_deref().unwrap_or(host);
        let server = ServerName::try_from(name.to_string()).map_err(|_| {
            format!(
                "TLS: '{}' is no name to check a certificate against",
                crate::format::escape::escaped(name.as_bytes())
            )
        })?;
        let mut conn = ClientConnection::new(self.config.clone(), server).map_err(|e| format!("TLS: {e}"))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut socket)
                .map_err(|e| refusal(&e, name).unwrap_or_else(|| format!("the TLS handshake failed: {e}")))?;
        }
        Ok(StreamOwned::new(conn, socket))
    }
}

/// The roots a server's certificate is checked against: the CA file, or the system's.
fn roots(options: &TlsOptions) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match &options.ca {
        Some(path) => {
            let shown = crate::format::escape::escaped(path.as_encoded_bytes());
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| format!("--tls-ca: '{shown}': {e}"))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("--tls-ca: '{shown}': {e}"))?;
                roots.add(cert).map_err(|e| format!("--tls-ca: '{shown}': {e}"))?;
            }
            if roots.is_empty() {
                return Err(format!("--tls-ca: '{shown}' holds no PEM certificate"));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err("TLS: no CA certificate found on this system: give the server's with --tls-ca FILE".into());
            }
        }
    }
    Ok(roots)
}

/// What a TLS error means to the operator, and what to do, when it is a refusal (retrying
/// would not help); `None` for errors of the connection itself.
pub fn refusal(e: &io::Error, name: &str) -> Option<String> {
    let inner = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>())?;
    let name = crate::format::escape::escaped(name.as_bytes());
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error as E};
    Some(match inner {
        E::InvalidCertificate(Cert::UnknownIssuer) => {
            "TLS: the server's certificate is signed by no CA trusted here: give its CA with --tls-ca FILE".into()
        }
        E::InvalidCertificate(Cert::NotValidForName | Cert::NotValidForNameContext { .. }) => format!(
            "TLS: the server's certificate is not for '{name}': connect by a name it has, or give that name with --sni NAME"
        ),
        E::InvalidCertificate(Cert::Expired | Cert::ExpiredContext { .. }) => "TLS: the server's certificate has expired".into(),
        E::AlertReceived(Alert::CertificateRequired | Alert::HandshakeFailure | Alert::BadCertificate) => {
            "TLS: the server refused the handshake; if it wants a client certificate, give it with --tls-cert FILE --tls-key FILE"
                .into()
        }
        E::AlertReceived(Alert::UnknownCA) => "TLS: the server does not trust the client certificate's CA".into(),
        other => format!("the TLS handshake failed: {other}"),
    })
}

/// `--tls-insecure`: any certificate is taken; the handshake's signatures are still checked.
#[derive(Debug)]
struct Unchecked {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
