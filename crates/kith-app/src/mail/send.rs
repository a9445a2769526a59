//! One-off emails from a contact's page: checked and rendered when asked, sent by the
//! `email.send` job (retried while the server is unreachable), logged on the timeline.

use chrono::Utc;
use kith_core::objects::ObjectKind;
use kith_store::mail as store;
use kith_store::WorkspaceId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::activity::{self, EmailActivity};
use super::templates::parse_parts;
use super::{new_message_id, Outgoing, SendError};
use crate::jobs::{enqueue_in, Enqueued, JobContext, JobError, JobOptions};
use crate::{App, Caller, Error, Role};

/// The job kind that sends one one-off email.
pub const EMAIL_SEND: &str = "email.send";

/// A one-off email as a client asks for it: a stored template, or a subject with an
/// HTML and/or text body (themselves templates, personalised for the contact).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// A stored template to use instead of subject and body.
    pub template_id: Option<Uuid>,
    /// Subject.
    #[serde(default)]
    pub subject: String,
    /// HTML body.
    #[serde(default)]
    pub html: String,
    /// Plain-text body (derived from the HTML when empty).
    #[serde(default)]
    pub text: String,
}

/// What the job carries: the message as rendered when it was asked for.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Payload {
    contact_id: Uuid,
    sender_id: Uuid,
    to: String,
    subject: String,
    html: Option<String>,
    text: String,
    message_id: String,
}

fn bad(field: &str, reason: &str) -> Error {
    Error::Invalid(kith_core::Error::field(field, reason))
}

impl App {
    /// Renders an email for a contact and queues it for sending; the same
    /// `idempotency_key` again (a double click) gives the first job instead of a second email.
    pub async fn send_email(
        &self,
        caller: &Caller,
        contact_id: Uuid,
        req: EmailRequest,
        idempotency_key: Option<&str>,
    ) -> Result<Enqueued, Error> {
        if caller.role() == Role::ReadOnly {
            return Err(Error::Forbidden("read-only users cannot send email"));
        }
        let ws = caller.workspace.id;
        let contact = kith_store::records::get(
            &mut self.db.clone(),
            ws,
            ObjectKind::Contact,
            contact_id,
            false,
        )
        .await?
        .ok_or(Error::NotFound("contact"))?;
        let to = contact
            .text("email")
            .map(str::to_string)
            .ok_or_else(|| bad("to", "the contact has no email address"))?;
        let (subject, html, text) = match req.template_id {
            Some(id) => {
                let t = self.template_in(ws, id).await.map_err(|e| match e {
                    Error::NotFound(_) => bad("template_id", "no such email template"),
                    other => other,
                })?;
                (t.subject, t.html, t.text)
            }
            None => {
                if req.subject.trim().is_empty() {
                    return Err(bad("subject", "is required"));
                }
                if req.html.trim().is_empty() && req.text.trim().is_empty() {
                    return Err(bad("text", "write a message (text or html)"));
                }
                let text = if req.text.trim().is_empty() {
                    kith_core::templates::html_to_text(&req.html)
                } else {
                    req.text
                };
                (req.subject, req.html, text)
            }
        };
        let parsed = parse_parts(&subject, &html, &text)?;
        // Settings are checked now so a missing SMTP server is said at once, not later.
        let mailer_settings = store::settings(&mut self.db.clone(), ws)
            .await?
            .unwrap_or_default();
        self.mailer(ws).await?;
        let ctx = self.template_context(ws, contact_id).await?;
        let (subject, html, text) = parsed.render(&ctx);
        let payload = Payload {
            contact_id,
            sender_id: caller.user.id,
            to,
            subject,
            html,
            text,
            message_id: new_message_id(&mailer_settings.from_email),
        };
        let opts = JobOptions {
            idempotency_key: idempotency_key
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| format!("{contact_id}:{}", k.chars().take(120).collect::<String>())),
            max_attempts: Some(8),
            ..JobOptions::default()
        };
        let mut tx = self.db.begin().await?;
        let payload = serde_json::to_value(&payload)
            .map_err(|e| Error::Store(kith_store::Error::Corrupt(e.to_string())))?;
        let e = enqueue_in(&mut tx, ws, EMAIL_SEND, payload, opts).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(e)
    }
}

/// The `email.send` handler: sends once (a logged sent email with this Message-ID is
/// not sent again), logs the result on the timeline, retries while the server is away.
pub(crate) async fn handle(cx: JobContext) -> Result<(), JobError> {
    let ws = cx.job.workspace;
    let p: Payload = serde_json::from_value(cx.job.payload.clone())
        .map_err(|e| JobError::Permanent(format!("bad email.send payload: {e}")))?;
    let app = &cx.app;
    if store::email_logged(&mut app.db.clone(), ws, &p.message_id, "outbound")
        .await
        .map_err(Error::from)?
    {
        return Ok(());
    }
    let settings = store::settings(&mut app.db.clone(), ws)
        .await
        .map_err(Error::from)?
        .unwrap_or_default();
    let result = match app.mailer(ws).await {
        Ok(mailer) => {
            let mut headers = Vec::new();
            if !settings.reply_to.is_empty() {
                headers.push(("Reply-To".to_string(), settings.reply_to.clone()));
            }
            let msg = Outgoing {
                from_name: settings.from_name.clone(),
                from_email: settings.from_email.clone(),
                to: p.to.clone(),
                subject: p.subject.clone(),
                text: p.text.clone(),
                html: p.html.clone(),
                headers,
                message_id: p.message_id.clone(),
            };
            mailer.send(&msg).await
        }
        Err(e) => Err(SendError::Rejected(e.to_string())),
    };
    let last_attempt = cx.job.attempts >= cx.job.max_attempts;
    let (status, error) = match &result {
        Ok(()) => ("sent", None),
        Err(SendError::Transient(e)) if !last_attempt => return Err(JobError::Retry(e.clone())),
        Err(SendError::Transient(e)) | Err(SendError::Rejected(e)) => ("failed", Some(e.as_str())),
    };
    log_outbound(app, ws, &p, status, error).await?;
    match error {
        Some(e) => Err(JobError::Permanent(e.to_string())),
        None => Ok(()),
    }
}

async fn log_outbound(
    app: &App,
    ws: WorkspaceId,
    p: &Payload,
    status: &str,
    error: Option<&str>,
) -> Result<(), JobError> {
    let mut tx = app.db.begin().await.map_err(Error::from)?;
    activity::log(
        &mut tx,
        ws,
        &EmailActivity {
            contact_id: p.contact_id,
            owner_id: Some(p.sender_id),
            direction: "outbound",
            status,
            subject: &p.subject,
            body: &p.text,
            message_id: &p.message_id,
            in_reply_to: None,
            error,
            at: Utc::now(),
        },
    )
    .await?;
    tx.commit().await.map_err(Error::from)?;
    Ok(())
}
