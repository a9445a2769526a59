//! The HTTP client workflow webhooks go out with, and whom it trusts on `https://`: the
//! public web PKI (Mozilla's roots, compiled in through webpki-roots, so no system
//! certificate store is read) and, for operators with an internal CA, the certificates
//! of one PEM file ([`ExtraCa`]; `KITH_EXTRA_CA` in the binary).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::App;

/// How long one webhook may take, connecting and the answer included.
const TIMEOUT: Duration = Duration::from_secs(15);

/// An extra CA file that cannot be used: which file, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot trust the CA certificates in {}: {reason}", path.display())]
pub struct ExtraCaError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// One client for every webhook of this process, so connections are pooled. Without an
/// extra CA it is built on first use.
#[derive(Clone, Debug, Default)]
pub(crate) struct WebhookClient(Arc<OnceCell<reqwest::Client>>);

/// CA certificates from a PEM file that webhooks trust besides the public roots, read
/// and checked: hand it to [`App::with_extra_ca`].
#[derive(Clone, Debug)]
pub struct ExtraCa(WebhookClient);

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(TIMEOUT)
}

impl ExtraCa {
    /// Reads the CA certificates (one or more) of the PEM file at `path` now, so that a
    /// file that cannot be read or holds no usable certificate is named at start.
    pub fn from_pem_file(path: &Path) -> Result<ExtraCa, ExtraCaError> {
        let fail = |reason: String| ExtraCaError {
            path: path.to_owned(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| fail(format!("not a PEM certificate bundle ({})", causes(&e))))?;
        if certs.is_empty() {
            return Err(fail(
                "no certificate in it (expected one or more -----BEGIN CERTIFICATE----- blocks)"
                    .into(),
            ));
        }
        let mut b = builder();
        for cert in certs {
            b = b.add_root_certificate(cert);
        }
        // rustls parses each certificate as a trust anchor here: a block that is not an
        // X.509 certificate fails now rather than at the first webhook.
        let client = b.build().map_err(|e| {
            fail(format!(
                "a certificate in it is not usable as a CA ({})",
                causes(&e)
            ))
        })?;
        let ready = OnceCell::new_with(Some(client));
        Ok(ExtraCa(WebhookClient(Arc::new(ready))))
    }
}

impl WebhookClient {
    /// The client.
    pub(crate) async fn get(&self) -> Result<&reqwest::Client, String> {
        self.0
            .get_or_try_init(|| async { builder().build() })
            .await
            .map_err(|e| format!("cannot set up the webhook client: {}", causes(&e)))
    }
}

/// An error and its causes on one line: reqwest's own message alone ("error sending
/// request") hides the reason a person can act on, such as an untrusted certificate.
pub(crate) fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let s = cause.to_string();
        // Some layers repeat their inner error's text.
        if !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        next = cause.source();
    }
    out
}

impl App {
    /// Workflow webhooks over `https://` also trust `ca`, besides the public roots built
    /// in (`None` keeps those alone).
    pub fn with_extra_ca(mut self, ca: Option<ExtraCa>) -> App {
        if let Some(ExtraCa(client)) = ca {
            self.webhooks = client;
        }
        self
    }
}
