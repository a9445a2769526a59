//! Reading and saving a workspace's mail settings (admins only); passwords go in and
//! never come out.

use chrono::Utc;
use kith_core::FieldErrors;
use kith_store::mail::{self as store, MailSettings};
use serde::{Deserialize, Serialize};

use super::{new_message_id, Mailer, Outgoing, SendError};
use crate::{App, Caller, Error, Role};

/// Mail settings as the API shows them: everything but the passwords, which are only
/// reported as set or not.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MailSettingsView {
    /// SMTP host.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: Option<u16>,
    /// none, starttls or tls.
    pub smtp_security: String,
    /// SMTP login.
    pub smtp_username: String,
    /// Whether an SMTP password is stored.
    pub smtp_password_set: bool,
    /// Sender's name.
    pub from_name: String,
    /// Sender's address.
    pub from_email: String,
    /// Reply-To.
    pub reply_to: String,
    /// IMAP host.
    pub imap_host: String,
    /// IMAP port.
    pub imap_port: Option<u16>,
    /// none, starttls or tls.
    pub imap_security: String,
    /// IMAP login.
    pub imap_username: String,
    /// Whether an IMAP password is stored.
    pub imap_password_set: bool,
    /// IMAP folder.
    pub imap_folder: String,
}

/// Mail settings as a client sends them; an empty or missing password keeps the stored one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettingsInput {
    /// SMTP host.
    #[serde(default)]
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: Option<u16>,
    /// none, starttls or tls.
    pub smtp_security: Option<String>,
    /// SMTP login.
    #[serde(default)]
    pub smtp_username: String,
    /// New SMTP password; empty keeps the stored one.
    pub smtp_password: Option<String>,
    /// Sender's name.
    #[serde(default)]
    pub from_name: String,
    /// Sender's address.
    #[serde(default)]
    pub from_email: String,
    /// Reply-To.
    #[serde(default)]
    pub reply_to: String,
    /// IMAP host.
    #[serde(default)]
    pub imap_host: String,
    /// IMAP port.
    pub imap_port: Option<u16>,
    /// none, starttls or tls.
    pub imap_security: Option<String>,
    /// IMAP login.
    #[serde(default)]
    pub imap_username: String,
    /// New IMAP password; empty keeps the stored one.
    pub imap_password: Option<String>,
    /// IMAP folder (default INBOX).
    pub imap_folder: Option<String>,
}

/// The security choices of SMTP and IMAP connections.
pub const SECURITY: &[&str] = &["none", "starttls", "tls"];

fn view(s: &MailSettings) -> MailSettingsView {
    MailSettingsView {
        smtp_host: s.smtp_host.clone(),
        smtp_port: s.smtp_port,
        smtp_security: s.smtp_security.clone(),
        smtp_username: s.smtp_username.clone(),
        smtp_password_set: !s.smtp_password.is_empty(),
        from_name: s.from_name.clone(),
        from_email: s.from_email.clone(),
        reply_to: s.reply_to.clone(),
        imap_host: s.imap_host.clone(),
        imap_port: s.imap_port,
        imap_security: s.imap_security.clone(),
        imap_username: s.imap_username.clone(),
        imap_password_set: !s.imap_password.is_empty(),
        imap_folder: s.imap_folder.clone(),
    }
}

fn defaults() -> MailSettings {
    MailSettings {
        smtp_security: "starttls".into(),
        imap_security: "tls".into(),
        imap_folder: "INBOX".into(),
        ..MailSettings::default()
    }
}

fn admin(caller: &Caller) -> Result<(), Error> {
    if caller.role() == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only admins can see and change mail settings",
        ))
    }
}

/// An email address as settings accept it (normalised), or why not.
fn address(errors: &mut FieldErrors, field: &str, raw: &str, required: bool) -> String {
    let raw = raw.trim();
    if raw.is_empty() {
        if required {
            errors.add(field, "is required when an SMTP server is set");
        }
        return String::new();
    }
    match kith_core::normalise_email(raw) {
        Ok(e) => e,
        Err(why) => {
            errors.add(field, why);
            raw.to_string()
        }
    }
}

fn merge(before: MailSettings, input: MailSettingsInput) -> Result<MailSettings, Error> {
    let mut errors = FieldErrors::default();
    let mut security = |field: &str, v: Option<String>, old: String| {
        let v = v.map(|v| v.trim().to_ascii_lowercase()).unwrap_or(old);
        if !SECURITY.contains(&v.as_str()) {
            errors.add(field, "must be none, starttls or tls");
        }
        v
    };
    let smtp_security = security("smtp_security", input.smtp_security, before.smtp_security);
    let imap_security = security("imap_security", input.imap_security, before.imap_security);
    let keep = |new: Option<String>, old: String| new.filter(|p| !p.is_empty()).unwrap_or(old);
    let smtp_host = input.smtp_host.trim().to_string();
    let imap_host = input.imap_host.trim().to_string();
    let s = MailSettings {
        from_email: address(
            &mut errors,
            "from_email",
            &input.from_email,
            !smtp_host.is_empty(),
        ),
        reply_to: address(&mut errors, "reply_to", &input.reply_to, false),
        smtp_host,
        smtp_port: input.smtp_port,
        smtp_security,
        smtp_username: input.smtp_username.trim().to_string(),
        smtp_password: keep(input.smtp_password, before.smtp_password),
        from_name: input.from_name.trim().to_string(),
        imap_username: input.imap_username.trim().to_string(),
        imap_password: keep(input.imap_password, before.imap_password),
        imap_port: input.imap_port,
        imap_security,
        imap_folder: input
            .imap_folder
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| "INBOX".into()),
        imap_host,
    };
    for (field, port) in [("smtp_port", s.smtp_port), ("imap_port", s.imap_port)] {
        if port == Some(0) {
            errors.add(field, "must be 1-65535");
        }
    }
    if !s.imap_host.is_empty() && s.imap_username.is_empty() {
        errors.add("imap_username", "is required when an IMAP server is set");
    }
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(kith_core::Error::fields(errors).into())
    }
}

impl App {
    /// The caller's workspace's mail settings without passwords (admins only).
    pub async fn mail_settings(&self, caller: &Caller) -> Result<MailSettingsView, Error> {
        admin(caller)?;
        let s = store::settings(&mut self.db.clone(), caller.workspace.id)
            .await?
            .unwrap_or_else(defaults);
        Ok(view(&s))
    }

    /// Saves the caller's workspace's mail settings (admins only) and schedules IMAP
    /// fetching when an IMAP server is set.
    pub async fn save_mail_settings(
        &self,
        caller: &Caller,
        input: MailSettingsInput,
    ) -> Result<MailSettingsView, Error> {
        admin(caller)?;
        let ws = caller.workspace.id;
        let mut tx = self.db.begin().await?;
        let before = store::settings(&mut tx, ws).await?.unwrap_or_else(defaults);
        let s = merge(before, input)?;
        store::save_settings(&mut tx, ws, &s, Utc::now()).await?;
        tx.commit().await?;
        self.save_schedule(ws, &super::fetch::schedule(!s.imap_host.is_empty()))
            .await?;
        tracing::info!(workspace = %ws.0, settings = ?s, "mail settings saved");
        Ok(view(&s))
    }

    /// Sends a test message to `to` (default: the caller) through the saved settings
    /// and waits for the server's answer (admins only).
    pub async fn send_test_email(
        &self,
        caller: &Caller,
        to: Option<&str>,
    ) -> Result<String, Error> {
        admin(caller)?;
        let ws = caller.workspace.id;
        let s = store::settings(&mut self.db.clone(), ws)
            .await?
            .unwrap_or_else(defaults);
        let mailer: Mailer = self.mailer(ws).await?;
        let to = match to.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => kith_core::normalise_email(t)
                .map_err(|why| Error::Invalid(kith_core::Error::field("to", why)))?,
            None => caller.user.email.clone(),
        };
        let msg = Outgoing {
            from_name: s.from_name.clone(),
            from_email: s.from_email.clone(),
            to: to.clone(),
            subject: format!("Kith test message for {}", caller.workspace.name),
            text: "This is a test message from Kith: sending mail works.".into(),
            html: None,
            headers: Vec::new(),
            message_id: new_message_id(&s.from_email),
        };
        match mailer.send(&msg).await {
            Ok(()) => Ok(to),
            Err(SendError::Transient(e)) | Err(SendError::Rejected(e)) => Err(Error::MailServer(e)),
        }
    }
}
