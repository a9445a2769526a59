//! The HTTP client workflow webhooks go out with, and whom it trusts on `https://`: the
//! public web PKI (Mozilla's roots, compiled in through webpki-roots, so no system
//! certificate store is read) and, for operators with an internal CA, the certificates
//! of one PEM file (`crate::ExtraCa`; `KITH_EXTRA_CA` in the binary).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio_rustls::rustls::pki_types::CertificateDer;

/// How long one webhook may take, connecting and the answer included.
const TIMEOUT: Duration = Duration::from_secs(15);

/// One client for every webhook of this process, so connections are pooled. Without an
/// extra CA it is built on first use.
#[derive(Clone, Debug, Default)]
pub(crate) struct WebhookClient(Arc<OnceCell<reqwest::Client>>);

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(TIMEOUT)
}

impl WebhookClient {
    /// A client that also trusts `roots` (DER), built now.
    pub(crate) fn trusting(roots: &[CertificateDer<'static>]) -> Result<Self, reqwest::Error> {
        let mut b = builder();
        for cert in roots {
            b = b.add_root_certificate(reqwest::Certificate::from_der(cert)?);
        }
        let ready = OnceCell::new_with(Some(b.build()?));
        Ok(WebhookClient(Arc::new(ready)))
    }

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
