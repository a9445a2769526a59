//! Whom Kith trusts on the TLS connections it opens (workflow webhooks over `https://`,
//! SMTP and IMAP with TLS or STARTTLS): the public web PKI (Mozilla's roots, compiled in
//! through webpki-roots, so no system certificate store is read) and, for operators with
//! an internal CA, the certificates of one PEM file ([`ExtraCa`]; `KITH_EXTRA_CA` in the
//! binary).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lettre::transport::smtp::client::{Certificate, TlsParameters};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::workflows::{causes, WebhookClient};
use crate::App;

/// An extra CA file that cannot be used: which file, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot trust the CA certificates in {}: {reason}", path.display())]
pub struct ExtraCaError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// CA certificates from a PEM file that webhooks and mail servers are trusted by besides
/// the public roots, read and checked: hand it to [`App::with_extra_ca`].
#[derive(Clone, Debug)]
pub struct ExtraCa {
    roots: ExtraRoots,
    webhooks: WebhookClient,
}

/// The extra trust anchors (none without an extra CA), as DER.
#[derive(Clone, Debug, Default)]
pub(crate) struct ExtraRoots(Arc<[CertificateDer<'static>]>);

impl ExtraCa {
    /// Reads the CA certificates (one or more) of the PEM file at `path` now, so that a
    /// file that cannot be read or holds no usable certificate is named at start.
    pub fn from_pem_file(path: &Path) -> Result<ExtraCa, ExtraCaError> {
        let fail = |reason: String| ExtraCaError {
            path: path.to_owned(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(format!("not a PEM certificate bundle ({e})")))?;
        if certs.is_empty() {
            return Err(fail(
                "no certificate in it (expected one or more -----BEGIN CERTIFICATE----- blocks)"
                    .into(),
            ));
        }
        let roots = ExtraRoots(certs.into());
        // Each certificate is parsed as a trust anchor here: a block that is not an X.509
        // certificate fails now rather than at the first webhook or mail.
        roots
            .store()
            .map_err(|e| fail(format!("a certificate in it is not usable as a CA ({e})")))?;
        let webhooks = WebhookClient::trusting(&roots.0).map_err(|e| {
            fail(format!(
                "a certificate in it is not usable as a CA ({})",
                causes(&e)
            ))
        })?;
        Ok(ExtraCa { roots, webhooks })
    }
}

impl ExtraRoots {
    /// The public roots and the extra ones.
    fn store(&self) -> Result<RootCertStore, String> {
        let mut store = RootCertStore::empty();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for (i, cert) in self.0.iter().enumerate() {
            store
                .add(cert.clone())
                .map_err(|e| format!("certificate {}: {e}", i + 1))?;
        }
        Ok(store)
    }

    /// A rustls client configuration (for IMAP) trusting these roots and the public ones.
    pub(crate) fn rustls_config(&self) -> Result<ClientConfig, String> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        Ok(ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(self.store()?)
            .with_no_client_auth())
    }

    /// SMTP TLS parameters for `host` trusting these roots and the public ones.
    pub(crate) fn smtp_tls(&self, host: &str) -> Result<TlsParameters, String> {
        let mut b = TlsParameters::builder(host.to_string());
        for cert in self.0.iter() {
            let c = Certificate::from_der(cert.to_vec()).map_err(|e| e.to_string())?;
            b = b.add_root_certificate(c);
        }
        b.build_rustls().map_err(|e| e.to_string())
    }
}

/// `message` (an error of a TLS connection, with its causes) and, when the reason is a
/// certificate problem an operator can fix, what to do: rustls names the problem
/// (`UnknownIssuer`) but not the remedy.
pub(crate) fn with_hint(message: String) -> String {
    let hint = if message.contains("UnknownIssuer") {
        "the server's certificate is not signed by a CA Kith trusts; if it is your own CA, \
         name its certificate in KITH_EXTRA_CA"
    } else if message.contains("NotValidForName") || message.contains("not valid for name") {
        "the server's certificate is for another host name; use the name it was issued for"
    } else {
        return message;
    };
    format!("{message} ({hint})")
}

impl App {
    /// Webhooks over `https://` and mail servers over TLS also trust `ca`, besides the
    /// public roots built in (`None` keeps those alone).
    pub fn with_extra_ca(mut self, ca: Option<ExtraCa>) -> App {
        if let Some(ca) = ca {
            self.webhooks = ca.webhooks;
            self.extra_roots = ca.roots;
            // Mailers built before trusted less.
            self.mailers = Default::default();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::with_hint;

    #[test]
    fn certificate_problems_say_what_to_do() {
        let unknown = with_hint("invalid peer certificate: UnknownIssuer".into());
        assert!(unknown.starts_with("invalid peer certificate: UnknownIssuer ("));
        assert!(unknown.contains("KITH_EXTRA_CA"));
        let name = with_hint("invalid peer certificate: NotValidForName".into());
        assert!(name.contains("host name"));
        let refused = "Connection refused (os error 111)".to_string();
        assert_eq!(with_hint(refused.clone()), refused);
    }
}
