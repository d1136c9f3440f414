//! A certificate pinned by its SHA-256 fingerprint: how `count --from`
//! trusts a watch serving a self-signed certificate, which the watch prints
//! at start (`certificate sha256 AB:CD:...`), as `openssl x509 -fingerprint
//! -sha256` writes it. The handshake's signatures are still checked.

use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};

/// A SHA-256 fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Of a DER certificate.
    pub fn of(der: &[u8]) -> Fingerprint {
        let d = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0; 32];
        out.copy_from_slice(d.as_ref());
        Fingerprint(out)
    }

    /// 64 hex digits, in either case, with or without `:` between bytes
    /// (and an optional `sha256:` or `SHA256 Fingerprint=` prefix).
    pub fn parse(s: &str) -> Result<Fingerprint, String> {
        let s = s.trim();
        let s = s.rsplit_once('=').map_or(s, |(_, v)| v);
        let s = s.strip_prefix("sha256:").unwrap_or(s);
        let hex: String = s.chars().filter(|&c| c != ':').collect();
        let bad = || format!("expected a SHA-256 fingerprint (64 hex digits, as the watch prints it), not {s:?}");
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(out))
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        f.write_str(&parts.join(":"))
    }
}

/// A client TLS configuration that accepts exactly the certificate with
/// this fingerprint (whatever its names or issuer), and checks that the
/// server holds its key.
pub fn client_config(pin: Fingerprint) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Pinned { pin, algorithms: provider.signature_verification_algorithms };
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth()
}

#[derive(Debug)]
struct Pinned {
    pin: Fingerprint,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = Fingerprint::of(end_entity);
        if got == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!("the certificate's sha256 is {got}, not the pinned {}", self.pin)))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_as_openssl_and_the_watch_write_them() {
        let f = Fingerprint::of(b"x");
        let shown = f.to_string();
        assert_eq!(shown.len(), 95);
        assert_eq!(Fingerprint::parse(&shown), Ok(f));
        assert_eq!(Fingerprint::parse(&shown.replace(':', "").to_lowercase()), Ok(f));
        assert_eq!(Fingerprint::parse(&format!("sha256 Fingerprint={shown}")), Ok(f));
        assert!(Fingerprint::parse("AB:CD").unwrap_err().contains("64 hex digits"));
        assert!(Fingerprint::parse(&"g".repeat(64)).is_err());
    }
}
