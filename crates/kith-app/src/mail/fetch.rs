//! Replies by IMAP: new messages in the workspace's folder are matched to contacts by
//! their sender's address and logged once each (the last UID, under its UIDVALIDITY,
//! is remembered per workspace), each with an `email.replied` event in the same
//! transaction, so sequences can stop when a contact answers.

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use kith_core::jobs::Cadence;
use kith_core::objects::ObjectKind;
use kith_store::mail::{self as store, MailSettings};
use kith_store::WorkspaceId;
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::activity::{self, EmailActivity};
use crate::jobs::{Definition, JobContext, JobError};
use crate::trust::ExtraRoots;
use crate::{App, Error};

/// The job kind (and schedule name) that fetches replies.
pub const MAIL_FETCH: &str = "mail.fetch";

/// What one fetch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FetchReport {
    /// New messages read from the folder.
    pub seen: u32,
    /// Logged on a contact's timeline.
    pub logged: u32,
    /// From senders who are no contact of the workspace.
    pub unknown_sender: u32,
    /// Logged before (same Message-ID).
    pub duplicate: u32,
    /// Delivery failure reports for campaign or sequence messages (marked bounced).
    pub bounced: u32,
}

/// The fetch schedule of a workspace: every two minutes while IMAP is set up.
pub(crate) fn schedule(enabled: bool) -> Definition {
    Definition {
        name: MAIL_FETCH.into(),
        kind: MAIL_FETCH.into(),
        payload: json!({}),
        cadence: Cadence::Every(120),
        enabled,
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

type Client = async_imap::Client<Box<dyn Io>>;

fn server(e: impl std::fmt::Display) -> Error {
    Error::MailServer(crate::trust::with_hint(format!("IMAP: {e}")))
}

async fn tls(host: &str, tcp: Box<dyn Io>, roots: &ExtraRoots) -> Result<Box<dyn Io>, Error> {
    let config = roots.rustls_config().map_err(server)?;
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| Error::Invalid(kith_core::Error::field("imap_host", e.to_string())))?;
    let stream = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(server)?;
    Ok(Box::new(stream))
}

async fn connect(s: &MailSettings, roots: &ExtraRoots) -> Result<Client, Error> {
    let host = s.imap_host.trim();
    let port = s
        .imap_port
        .unwrap_or(if s.imap_security == "tls" { 993 } else { 143 });
    let tcp: Box<dyn Io> = Box::new(TcpStream::connect((host, port)).await.map_err(server)?);
    let mut client = match s.imap_security.as_str() {
        "tls" => Client::new(tls(host, tcp, roots).await?),
        "starttls" => {
            let mut plain = Client::new(tcp);
            plain.read_response().await.map_err(server)?;
            plain
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(server)?;
            // The greeting was read before STARTTLS; none follows the handshake.
            return Ok(Client::new(tls(host, plain.into_inner(), roots).await?));
        }
        _ => Client::new(tcp),
    };
    client.read_response().await.map_err(server)?;
    Ok(client)
}

/// `<id>` as stored (mail-parser gives Message-IDs without their angle brackets).
fn bracketed(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

impl App {
    /// Fetches new messages from the workspace's IMAP folder and logs replies from
    /// known contacts; fetching twice never logs a message twice.
    pub async fn fetch_replies(&self, ws: WorkspaceId) -> Result<FetchReport, Error> {
        let s = store::settings(&mut self.db.clone(), ws)
            .await?
            .unwrap_or_default();
        if s.imap_host.trim().is_empty() {
            return Err(Error::Invalid(kith_core::Error::field(
                "imap_host",
                "no IMAP server is set up for this workspace (Settings → Mail)",
            )));
        }
        tokio::time::timeout(Duration::from_secs(300), self.fetch_with(ws, &s))
            .await
            .map_err(|_| server("no answer within 5 minutes"))?
    }

    async fn fetch_with(&self, ws: WorkspaceId, s: &MailSettings) -> Result<FetchReport, Error> {
        let client = tokio::time::timeout(Duration::from_secs(30), connect(s, &self.extra_roots))
            .await
            .map_err(|_| server("connection timed out"))??;
        let mut session = client
            .login(&s.imap_username, &s.imap_password)
            .await
            .map_err(|(e, _)| server(e))?;
        let mailbox = session.select(&s.imap_folder).await.map_err(server)?;
        let validity = mailbox.uid_validity.unwrap_or(0);
        let last = match store::imap_cursor(&mut self.db.clone(), ws).await? {
            Some((v, uid)) if v == validity => uid,
            _ => 0,
        };
        let mut messages = Vec::new();
        // An empty folder has nothing to fetch (and some servers refuse `1:*` there).
        if mailbox.exists > 0 {
            let mut fetches = session
                .uid_fetch(format!("{}:*", last.saturating_add(1)), "(UID BODY.PEEK[])")
                .await
                .map_err(server)?;
            while let Some(f) = fetches.next().await {
                let f = f.map_err(server)?;
                // `N:*` names the newest message even when its UID is below N.
                if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                    if uid > last {
                        messages.push((uid, body.to_vec()));
                    }
                }
            }
        }
        let _ = session.logout().await;
        messages.sort_by_key(|(uid, _)| *uid);
        let mut report = FetchReport::default();
        for (uid, raw) in &messages {
            report.seen += 1;
            self.log_reply(ws, validity, *uid, raw, &mut report).await?;
        }
        if messages.is_empty() {
            store::set_imap_cursor(&mut self.db.clone(), ws, validity, last).await?;
        }
        tracing::info!(workspace = %ws.0, ?report, "mail fetched");
        Ok(report)
    }

    /// Logs one fetched message (or counts why not) and moves the cursor past it, in one
    /// transaction.
    async fn log_reply(
        &self,
        ws: WorkspaceId,
        validity: u32,
        uid: u32,
        raw: &[u8],
        report: &mut FetchReport,
    ) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        if crate::campaigns::bounces::record(&mut tx, ws, raw).await? {
            report.bounced += 1;
            store::set_imap_cursor(&mut tx, ws, validity, uid).await?;
            tx.commit().await?;
            return Ok(());
        }
        let parsed = mail_parser::MessageParser::default().parse(raw);
        let sender = parsed
            .as_ref()
            .and_then(|m| m.from())
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .and_then(|a| kith_core::normalise_email(a).ok());
        let contact = match &sender {
            Some(email) => store::contact_by_email(&mut tx, ws, email).await?,
            None => None,
        };
        match (parsed, contact) {
            (Some(m), Some(contact_id)) => {
                let message_id = m
                    .message_id()
                    .map(bracketed)
                    .unwrap_or_else(|| format!("<{validity}.{uid}@imap.kith.invalid>"));
                if store::email_logged(&mut tx, ws, &message_id, "inbound").await? {
                    report.duplicate += 1;
                } else {
                    let in_reply_to = m.in_reply_to().as_text().map(bracketed);
                    let subject = m.subject().unwrap_or_default().to_string();
                    let body = m
                        .body_text(0)
                        .map(|t| t.into_owned())
                        .or_else(|| {
                            m.body_html(0)
                                .map(|h| kith_core::templates::html_to_text(&h))
                        })
                        .unwrap_or_default();
                    let now = Utc::now();
                    activity::log(
                        &mut tx,
                        ws,
                        &EmailActivity {
                            contact_id,
                            owner_id: None,
                            direction: "inbound",
                            status: "received",
                            subject: &subject,
                            body: &body,
                            message_id: &message_id,
                            in_reply_to: in_reply_to.as_deref(),
                            error: None,
                            at: m
                                .date()
                                .and_then(|d| chrono::DateTime::from_timestamp(d.to_timestamp(), 0))
                                .unwrap_or(now),
                        },
                    )
                    .await?;
                    kith_store::records::emit(
                        &mut tx,
                        ws,
                        now,
                        "email.replied",
                        ObjectKind::Contact,
                        contact_id,
                        json!({"message_id": message_id, "in_reply_to": in_reply_to, "subject": subject}),
                    )
                    .await?;
                    report.logged += 1;
                }
            }
            _ => report.unknown_sender += 1,
        }
        store::set_imap_cursor(&mut tx, ws, validity, uid).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The `mail.fetch` handler: a server that is away is tried again at the next tick.
pub(crate) async fn handle(cx: JobContext) -> Result<(), JobError> {
    match cx.app.fetch_replies(cx.job.workspace).await {
        Ok(_) => Ok(()),
        Err(Error::MailServer(e)) => Err(JobError::Retry(e)),
        Err(e) => Err(e.into()),
    }
}
