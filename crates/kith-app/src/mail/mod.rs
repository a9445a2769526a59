//! Email: each workspace's SMTP and IMAP settings, a pooled [`Mailer`] built from them,
//! stored templates with safe personalisation, one-off emails from a contact's page
//! (sent by the `email.send` job and logged on the timeline) and replies fetched by
//! IMAP (the `mail.fetch` job) that land on the timeline with an `email.replied` event.

mod activity;
mod fetch;
mod send;
mod session;
mod settings;
mod templates;

use std::time::Duration;

use kith_store::mail::MailSettings;
use kith_store::WorkspaceId;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::Tls;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::trust::ExtraRoots;
use crate::{App, Error};

pub use fetch::{FetchReport, MAIL_FETCH};
pub use kith_store::mail::EmailTemplate;
pub use send::{EmailRequest, EMAIL_SEND};
pub use session::{Endpoint, Session, RECIPIENT_REFUSED};
pub use settings::{MailSettingsInput, MailSettingsView};
pub(crate) use templates::{parse_parts, Parsed};
pub use templates::{EmailTemplateInput, Preview};

/// One message ready to send: rendered, addressed, with its Message-ID chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Sender's display name.
    pub from_name: String,
    /// Sender's address.
    pub from_email: String,
    /// The one recipient's address.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part, if any.
    pub html: Option<String>,
    /// Further headers (`List-Unsubscribe`, `Reply-To`, `In-Reply-To` …).
    pub headers: Vec<(String, String)>,
    /// Message-ID with its angle brackets, e.g. `<0190…@kith>`.
    pub message_id: String,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying later: connection refused, timeout, or a 4xx answer.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The server refused this message or recipient for good (5xx): do not retry.
    #[error("rejected: {0}")]
    Rejected(String),
}

/// Sends mail through a workspace's SMTP server, reusing pooled connections. Cheap to
/// clone; [`App::mailer`] keeps one per workspace until its settings change.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// Reply-To from the settings, added to every message that sets none.
    reply_to: Option<String>,
    /// The server, for [`Session`]s that send command by command.
    endpoint: Endpoint,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").finish_non_exhaustive()
    }
}

/// A fresh Message-ID for a message sent from `from_email`'s domain.
pub fn new_message_id(from_email: &str) -> String {
    let domain = from_email
        .rsplit_once('@')
        .map_or("kith.invalid", |(_, d)| d);
    format!("<{}@{}>", uuid::Uuid::now_v7().simple(), domain)
}

fn bad(field: &str, reason: impl Into<String>) -> Error {
    Error::Invalid(kith_core::Error::field(field, reason))
}

impl Mailer {
    /// Builds a mailer from settings, its TLS trusting the public roots; an error names
    /// the missing or bad setting.
    pub fn from_settings(s: &MailSettings) -> Result<Mailer, Error> {
        Mailer::trusting(s, &ExtraRoots::default())
    }

    /// [`Mailer::from_settings`] whose TLS also trusts `roots`.
    pub(crate) fn trusting(s: &MailSettings, roots: &ExtraRoots) -> Result<Mailer, Error> {
        if s.smtp_host.trim().is_empty() {
            return Err(bad(
                "smtp_host",
                "no SMTP server is set up for this workspace (Settings → Mail)",
            ));
        }
        let host = s.smtp_host.trim();
        let params = || roots.smtp_tls(host).map_err(|e| bad("smtp_host", e));
        // Built once, for the pooled transport and for sessions alike.
        let (tls, default_port) = match s.smtp_security.as_str() {
            "tls" => (Some(params()?), 465),
            "starttls" => (Some(params()?), 587),
            "none" => (None, 25),
            other => {
                return Err(bad(
                    "smtp_security",
                    format!("`{other}` is not none, starttls or tls"),
                ))
            }
        };
        let credentials = (!s.smtp_username.is_empty())
            .then(|| Credentials::new(s.smtp_username.clone(), s.smtp_password.clone()));
        let endpoint = Endpoint {
            host: host.to_string(),
            port: s.smtp_port.unwrap_or(default_port),
            security: s.smtp_security.clone(),
            credentials: credentials.clone(),
            tls: tls.clone(),
        };
        let tls = match tls {
            Some(p) if s.smtp_security == "tls" => Tls::Wrapper(p),
            Some(p) => Tls::Required(p),
            None => Tls::None,
        };
        // "Dangerous" only for its default of no TLS, which `tls` replaces.
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(endpoint.port)
            .tls(tls);
        let mut builder = builder.timeout(Some(Duration::from_secs(30))).pool_config(
            PoolConfig::new()
                .max_size(8)
                .idle_timeout(Duration::from_secs(60)),
        );
        if let Some(c) = credentials {
            builder = builder.credentials(c);
        }
        Ok(Mailer {
            transport: builder.build(),
            reply_to: Some(s.reply_to.trim().to_string()).filter(|r| !r.is_empty()),
            endpoint,
        })
    }

    /// Sends one message; a 5xx answer is [`SendError::Rejected`], anything else that
    /// fails (refused connection, timeout, 4xx) is [`SendError::Transient`].
    pub async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let message = self.build(msg).map_err(SendError::Rejected)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Rejected(e.to_string())),
            Err(e) => Err(SendError::Transient(crate::trust::with_hint(e.to_string()))),
        }
    }

    /// Opens a connection of its own for [`Session::send`].
    pub async fn session(&self) -> Result<Session, SendError> {
        Session::open(&self.endpoint).await
    }

    /// The message as it goes over the wire: its envelope and its bytes.
    pub fn wire(&self, msg: &Outgoing) -> Result<(lettre::address::Envelope, Vec<u8>), String> {
        let m = self.build(msg)?;
        Ok((m.envelope().clone(), m.formatted()))
    }

    fn build(&self, msg: &Outgoing) -> Result<Message, String> {
        let mailbox = |name: Option<&str>, addr: &str, what: &str| -> Result<Mailbox, String> {
            let email = addr
                .trim()
                .parse()
                .map_err(|e| format!("{what} address `{addr}`: {e}"))?;
            Ok(Mailbox::new(
                name.filter(|n| !n.is_empty()).map(str::to_string),
                email,
            ))
        };
        let mut b = Message::builder()
            .from(mailbox(Some(&msg.from_name), &msg.from_email, "sender")?)
            .to(mailbox(None, &msg.to, "recipient")?)
            .subject(msg.subject.clone())
            .message_id(Some(msg.message_id.clone()));
        let mut has_reply_to = false;
        for (name, value) in &msg.headers {
            has_reply_to |= name.eq_ignore_ascii_case("reply-to");
            let name = HeaderName::new_from_ascii(name.clone())
                .map_err(|e| format!("header `{name}`: {e}"))?;
            b = b.raw_header(HeaderValue::new(name, value.clone()));
        }
        if let (Some(r), false) = (&self.reply_to, has_reply_to) {
            b = b.reply_to(mailbox(None, r, "reply-to")?);
        }
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(msg.text.clone());
        let built = match &msg.html {
            Some(html) => b.multipart(
                MultiPart::alternative().singlepart(text).singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html.clone()),
                ),
            ),
            None => b.singlepart(text),
        };
        built.map_err(|e| e.to_string())
    }
}

impl App {
    /// The workspace's mailer, reused while its settings stay the same (so connections
    /// are pooled across jobs); an error names the missing setting.
    pub async fn mailer(&self, ws: WorkspaceId) -> Result<Mailer, Error> {
        let s = kith_store::mail::settings(&mut self.db.clone(), ws)
            .await?
            .unwrap_or_default();
        let mut cache = self.mailers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((cached, m)) = cache.get(&ws) {
            if *cached == s {
                return Ok(m.clone());
            }
        }
        let m = Mailer::trusting(&s, &self.extra_roots)?;
        cache.insert(ws, (s, m.clone()));
        Ok(m)
    }

    /// The data templates are rendered with for one contact: its fields, its company,
    /// its owner as `user`, the workspace, and an `unsubscribe_url` (empty until
    /// campaigns provide one).
    pub async fn template_context(
        &self,
        ws: WorkspaceId,
        contact_id: uuid::Uuid,
    ) -> Result<serde_json::Value, Error> {
        use kith_core::objects::ObjectKind;
        let mut db = self.db.clone();
        let contact = kith_store::records::get(&mut db, ws, ObjectKind::Contact, contact_id, false)
            .await?
            .ok_or(Error::NotFound("contact"))?;
        let company = match contact.uuid("company_id") {
            Some(id) => kith_store::records::get(&mut db, ws, ObjectKind::Company, id, false)
                .await?
                .map(|c| c.to_json()),
            None => None,
        };
        let owner = match contact.uuid("owner_id") {
            Some(id) => kith_store::accounts::user_by_id(&self.db, id)
                .await?
                .filter(|u| u.workspace_id == ws),
            None => None,
        };
        let workspace = kith_store::accounts::workspace(&self.db, ws)
            .await?
            .ok_or(Error::NotFound("workspace"))?;
        Ok(context(
            &contact,
            company,
            owner.map(|u| (u.name.unwrap_or_default(), u.email)),
            &workspace.name,
        ))
    }
}

/// The data a template is rendered with, from its parts (campaigns look the company,
/// owner and workspace up once per slice instead of once per message).
pub(crate) fn context(
    contact: &kith_store::records::Record,
    company: Option<serde_json::Value>,
    owner: Option<(String, String)>,
    workspace_name: &str,
) -> serde_json::Value {
    serde_json::json!({
        "contact": contact.to_json(),
        "company": company.unwrap_or_else(|| serde_json::json!({})),
        "user": owner.map_or_else(
            || serde_json::json!({}),
            |(name, email)| serde_json::json!({"name": name, "email": email}),
        ),
        "workspace": {"name": workspace_name},
        "unsubscribe_url": "",
    })
}

/// Mailers by workspace, with the settings each was built from.
pub(crate) type MailerCache = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<WorkspaceId, (MailSettings, Mailer)>>,
>;

/// Registers the mail jobs: `email.send` and `mail.fetch`.
pub(crate) fn register(h: &mut crate::jobs::Handlers) {
    h.on(EMAIL_SEND, send::handle);
    h.on(MAIL_FETCH, fetch::handle);
}
