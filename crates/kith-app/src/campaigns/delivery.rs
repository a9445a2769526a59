//! Rendering and sending the messages of a send log: a slice of due sends is claimed
//! with a lease, spread over up to [`LANES`] SMTP connections, each message personalised
//! with its unsubscribe link, tracked links and open pixel, and marked sent in the
//! moment the server is ready for it (see [`crate::mail::Session`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use kith_core::campaigns::{pace, sign, track_links, LinkPurpose};
use kith_store::email_sends::{self as sends, EmailSend, Outcome};
use kith_store::WorkspaceId;
use uuid::Uuid;

use crate::mail::{Mailer, Outgoing, Parsed, SendError, Session};
use crate::{App, Error};

/// SMTP connections one slice uses at most.
const LANES: usize = 8;
/// Attempts before a send that keeps failing temporarily is given up.
const MAX_ATTEMPTS: i64 = 6;

/// How long a claimed send stays claimed (a node that dies leaves it to others after
/// this): `KITH_EMAIL_LEASE_SECS`, default 60.
pub(crate) fn lease() -> Duration {
    let secs = std::env::var("KITH_EMAIL_LEASE_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(60);
    Duration::seconds(secs)
}

/// What every message of a slice shares.
struct Shared {
    app: App,
    ws: WorkspaceId,
    mailer: Mailer,
    from_name: String,
    from_email: String,
    reply_to: String,
    public_url: String,
    key: Vec<u8>,
    templates: HashMap<Uuid, Arc<Parsed>>,
    workspace_name: String,
    /// Addresses suppressed when the slice began.
    suppressed: std::collections::HashSet<String>,
    /// Companies and owners as templates see them, looked up once per slice.
    companies: Mutex<HashMap<Uuid, Option<serde_json::Value>>>,
    owners: Mutex<HashMap<Uuid, Option<(String, String)>>>,
}

fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Shared {
    fn unsubscribe_url(&self, send: Uuid) -> String {
        format!(
            "{}/u/{}",
            self.public_url,
            sign(&self.key, send, LinkPurpose::Unsubscribe, "")
        )
    }

    /// The template data of one contact; its company and owner come from the slice's
    /// caches (many recipients share them).
    async fn context(&self, contact_id: Uuid) -> Result<serde_json::Value, Error> {
        use kith_core::objects::ObjectKind;
        let mut db = self.app.db.clone();
        let contact =
            kith_store::records::get(&mut db, self.ws, ObjectKind::Contact, contact_id, false)
                .await?
                .ok_or(Error::NotFound("contact"))?;
        let company = match contact.uuid("company_id") {
            None => None,
            Some(id) => {
                let cached = self
                    .companies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&id)
                    .cloned();
                match cached {
                    Some(c) => c,
                    None => {
                        let c = kith_store::records::get(
                            &mut db,
                            self.ws,
                            ObjectKind::Company,
                            id,
                            false,
                        )
                        .await?
                        .map(|c| c.to_json());
                        self.companies
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(id, c.clone());
                        c
                    }
                }
            }
        };
        let owner = match contact.uuid("owner_id") {
            None => None,
            Some(id) => {
                let cached = self
                    .owners
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&id)
                    .cloned();
                match cached {
                    Some(o) => o,
                    None => {
                        let o = kith_store::accounts::user_by_id(&self.app.db, id)
                            .await?
                            .filter(|u| u.workspace_id == self.ws)
                            .map(|u| (u.name.unwrap_or_default(), u.email));
                        self.owners
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(id, o.clone());
                        o
                    }
                }
            }
        };
        Ok(crate::mail::context(
            &contact,
            company,
            owner,
            &self.workspace_name,
        ))
    }

    /// The message for one send, personalised and with its links.
    async fn render(&self, s: &EmailSend) -> Result<Outgoing, Error> {
        let template = self
            .templates
            .get(&s.template_id)
            .ok_or(Error::NotFound("email template"))?;
        let unsubscribe = self.unsubscribe_url(s.id);
        let mut ctx = self.context(s.contact_id).await?;
        ctx["unsubscribe_url"] = serde_json::Value::String(unsubscribe.clone());
        let (subject, html, mut text) = template.render(&ctx);
        let html = html.map(|h| {
            let tracked = track_links(&h, |url| {
                (!url.starts_with(&self.public_url)).then(|| {
                    let token = sign(&self.key, s.id, LinkPurpose::Click, url);
                    format!("{}/t/c/{token}?u={}", self.public_url, percent(url))
                })
            });
            let pixel = format!(
                "<img src=\"{}/t/o/{}\" width=\"1\" height=\"1\" alt=\"\">",
                self.public_url,
                sign(&self.key, s.id, LinkPurpose::Open, "")
            );
            match tracked.rfind("</body>") {
                Some(i) => format!("{}{pixel}{}", &tracked[..i], &tracked[i..]),
                None => format!("{tracked}{pixel}"),
            }
        });
        if !text.contains(&unsubscribe) {
            text.push_str(&format!("\n\n--\nUnsubscribe: {unsubscribe}\n"));
        }
        let mut headers = vec![
            ("List-Unsubscribe".to_string(), format!("<{unsubscribe}>")),
            (
                "List-Unsubscribe-Post".to_string(),
                "List-Unsubscribe=One-Click".to_string(),
            ),
        ];
        if !self.reply_to.is_empty() {
            headers.push(("Reply-To".to_string(), self.reply_to.clone()));
        }
        Ok(Outgoing {
            from_name: self.from_name.clone(),
            from_email: self.from_email.clone(),
            to: s.email.clone(),
            subject,
            text,
            html,
            headers,
            message_id: s.message_id.clone(),
        })
    }
}

/// Sends up to `limit` due sends of one source; returns how many it tried.
pub(crate) async fn deliver(
    app: &App,
    ws: WorkspaceId,
    source_id: Uuid,
    rate_per_minute: i64,
    limit: i64,
) -> Result<usize, Error> {
    let now = Utc::now();
    let claimed = sends::claim(app.db(), ws, source_id, limit, now, now + lease()).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let settings = kith_store::mail::settings(&mut app.db.clone(), ws)
        .await?
        .unwrap_or_default();
    let (public_url, key) = app.link_settings(ws).await?;
    let mailer = app.mailer(ws).await?;
    let mut templates = HashMap::new();
    for s in &claimed {
        if let std::collections::hash_map::Entry::Vacant(e) = templates.entry(s.template_id) {
            let t = app.template_in(ws, s.template_id).await?;
            e.insert(Arc::new(crate::mail::parse_parts(
                &t.subject, &t.html, &t.text,
            )?));
        }
    }
    let workspace_name = kith_store::accounts::workspace(app.db(), ws)
        .await?
        .map(|w| w.name)
        .unwrap_or_default();
    let emails: Vec<String> = claimed.iter().map(|s| s.email.clone()).collect();
    let suppressed =
        kith_store::campaigns::suppressed_among(&mut app.db.clone(), ws, &emails).await?;
    let shared = Arc::new(Shared {
        app: app.clone(),
        workspace_name,
        suppressed,
        companies: Mutex::default(),
        owners: Mutex::default(),
        ws,
        mailer,
        from_name: settings.from_name,
        from_email: settings.from_email,
        reply_to: settings.reply_to,
        public_url,
        key,
        templates,
    });
    let tried = claimed.len();
    // A paced campaign goes through one connection, one message per interval.
    let lanes = if pace(rate_per_minute).is_some() {
        1
    } else {
        LANES.min(tried)
    };
    let mut lists: Vec<Vec<EmailSend>> = (0..lanes).map(|_| Vec::new()).collect();
    for (i, s) in claimed.into_iter().enumerate() {
        lists[i % lanes].push(s);
    }
    let mut set = tokio::task::JoinSet::new();
    for list in lists {
        let shared = shared.clone();
        set.spawn(async move { lane(&shared, list, pace(rate_per_minute)).await });
    }
    let mut first_error = None;
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(e) => {
                first_error = first_error.or(Some(Error::MailServer(format!(
                    "a sending task stopped: {e}"
                ))))
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(tried),
    }
}

/// Sends a list one after another over one connection, reconnecting after errors.
async fn lane(
    shared: &Shared,
    list: Vec<EmailSend>,
    pause: Option<std::time::Duration>,
) -> Result<(), Error> {
    let mut session: Option<Session> = None;
    for s in list {
        let started = std::time::Instant::now();
        let outcome = match send_one(shared, &mut session, &s).await {
            Ok(None) => None,
            Ok(Some(outcome)) => Some(outcome),
            Err(e) => Some(Outcome::Failed(e.to_string())),
        };
        if let Some(outcome) = outcome {
            let mut db = shared.app.db.clone();
            if let Outcome::Bounced(_) = outcome {
                kith_store::campaigns::suppress(
                    &mut db,
                    shared.ws,
                    &s.email,
                    "bounced",
                    Utc::now(),
                )
                .await?;
            }
            sends::finish(&mut db, s.id, &outcome, Utc::now()).await?;
        }
        if let Some(p) = pause {
            tokio::time::sleep(p.saturating_sub(started.elapsed())).await;
        }
    }
    if let Some(s) = session {
        s.close().await;
    }
    Ok(())
}

/// Sends one message; `Ok(None)` when it went out (already marked sent), otherwise the
/// outcome to record. A session that saw an error is dropped.
async fn send_one(
    shared: &Shared,
    session: &mut Option<Session>,
    s: &EmailSend,
) -> Result<Option<Outcome>, Error> {
    if shared.suppressed.contains(&s.email.trim().to_lowercase()) {
        return Ok(Some(Outcome::Skipped("on the suppression list".into())));
    }
    let msg = shared.render(s).await?;
    let (envelope, bytes) = match shared.mailer.wire(&msg) {
        Ok(w) => w,
        Err(e) => return Ok(Some(Outcome::Failed(e))),
    };
    if session.is_none() {
        match shared.mailer.session().await {
            Ok(sess) => *session = Some(sess),
            Err(e) => return Ok(Some(retry_or_fail(s, &e))),
        }
    }
    let conn = session.as_mut().expect("opened above");
    let app = shared.app.clone();
    let id = s.id;
    let result = conn
        .send(&envelope, &bytes, || async move {
            sends::finish(&mut app.db.clone(), id, &Outcome::Sent, Utc::now())
                .await
                .map_err(|e| e.to_string())
        })
        .await;
    match result {
        Ok(()) => Ok(None),
        Err(e) => {
            *session = None;
            Ok(Some(retry_or_fail(s, &e)))
        }
    }
}

fn retry_or_fail(s: &EmailSend, e: &SendError) -> Outcome {
    match e {
        SendError::Rejected(m) if m.starts_with(crate::mail::RECIPIENT_REFUSED) => {
            Outcome::Bounced(m.clone())
        }
        SendError::Rejected(m) => Outcome::Failed(m.clone()),
        SendError::Transient(m) if s.attempts >= MAX_ATTEMPTS => {
            Outcome::Failed(format!("gave up after {} attempts: {m}", s.attempts))
        }
        SendError::Transient(m) => {
            let wait = 30i64 << (s.attempts.clamp(1, MAX_ATTEMPTS) - 1);
            Outcome::Retry(Utc::now() + Duration::seconds(wait), m.clone())
        }
    }
}
