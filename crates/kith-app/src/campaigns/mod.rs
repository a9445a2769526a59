//! Email campaigns: one template to the contacts of a segment, now or at a time,
//! throttled, consent checked, every message logged before it is sent so that each
//! recipient gets it exactly once, with unsubscribe, open and click tracking and a
//! report. Sequences (steps with waits) are in [`sequences`].

pub(crate) mod bounces;
mod delivery;
mod sending;
pub mod sequences;
mod tracking;

use chrono::{DateTime, Utc};
use kith_core::campaigns::CONSENT_MODES;
use kith_core::objects::ObjectKind;
use kith_core::FieldErrors;
use kith_core::Scalar;
use kith_store::campaigns::{self as store, Campaign};
use kith_store::email_sends::{self as sends, EmailSend, Figures};
use kith_store::{Exec, Sql, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::jobs::{enqueue_in, JobOptions};
use crate::{App, Caller, Error, Role};

pub use kith_store::sequences::{Enrolment, Sequence};
pub use tracking::Unsubscribed;

/// The job that starts a campaign: queues its send log, then its first slice.
pub const CAMPAIGN_START: &str = "campaign.start";
/// The job that sends one slice of a campaign and queues the next.
pub const CAMPAIGN_SEND: &str = "campaign.send";

/// A campaign as a client writes it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The contact segment it goes to.
    pub segment_id: Option<Uuid>,
    /// The template it sends.
    pub template_id: Option<Uuid>,
    /// `opted_in` (default) or `not_denied`.
    pub consent_mode: Option<String>,
    /// Messages per minute at most; 0 or absent: no limit.
    pub rate_per_minute: Option<i64>,
    /// Orders within this many days of a send are attributed (default 7).
    pub attribution_days: Option<i64>,
    /// The version the change is based on (updates only).
    pub version: Option<i64>,
}

/// A campaign's report: its settings and its figures.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The campaign.
    pub campaign: Value,
    /// Its figures.
    pub figures: Figures,
}

fn bad(field: &str, reason: impl Into<String>) -> Error {
    Error::Invalid(kith_core::Error::field(field, reason))
}

/// Only admins and members run campaigns; read-only users look.
pub(crate) fn check_marketer(caller: &Caller) -> Result<(), Error> {
    if caller.role() == Role::ReadOnly {
        return Err(Error::Forbidden(
            "read-only users cannot change campaigns or sequences",
        ));
    }
    Ok(())
}

/// A campaign as JSON for the API.
pub fn campaign_json(c: &Campaign) -> Value {
    json!({
        "id": c.id, "name": c.name, "segment_id": c.segment_id, "template_id": c.template_id,
        "consent_mode": c.consent_mode, "rate_per_minute": c.rate_per_minute,
        "attribution_days": c.attribution_days, "scheduled_at": c.scheduled_at,
        "status": c.status, "started_at": c.started_at, "finished_at": c.finished_at,
        "created_by": c.created_by, "version": c.version, "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

/// A send as JSON for the API.
pub fn send_json(s: &EmailSend) -> Value {
    json!({
        "id": s.id, "source": s.source, "source_id": s.source_id, "step": s.step,
        "contact_id": s.contact_id, "email": s.email, "message_id": s.message_id,
        "status": s.status, "error": s.error, "attempts": s.attempts, "sent_at": s.sent_at,
        "opened_at": s.opened_at, "clicked_at": s.clicked_at,
        "unsubscribed_at": s.unsubscribed_at, "created_at": s.created_at,
    })
}

impl App {
    async fn check_campaign_input(
        &self,
        ws: WorkspaceId,
        input: &CampaignInput,
        c: &mut Campaign,
    ) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.add("name", "must be 1-200 characters");
        }
        c.name = name.to_string();
        match input.segment_id {
            None => errors.add("segment_id", "is required"),
            Some(id) => {
                let seg = kith_store::records::get(
                    &mut self.db.clone(),
                    ws,
                    ObjectKind::Segment,
                    id,
                    false,
                )
                .await?;
                match seg {
                    None => errors.add("segment_id", "no such segment"),
                    Some(s) if s.text("object") != Some("contact") => {
                        errors.add("segment_id", "must be a segment of contacts")
                    }
                    Some(_) => c.segment_id = id,
                }
            }
        }
        match input.template_id {
            None => errors.add("template_id", "is required"),
            Some(id) => match self.template_in(ws, id).await {
                Ok(_) => c.template_id = id,
                Err(Error::NotFound(_)) => errors.add("template_id", "no such email template"),
                Err(e) => return Err(e),
            },
        }
        let mode = input.consent_mode.as_deref().unwrap_or("opted_in");
        if CONSENT_MODES.contains(&mode) {
            c.consent_mode = mode.to_string();
        } else {
            errors.add(
                "consent_mode",
                format!("must be one of {}", CONSENT_MODES.join(", ")),
            );
        }
        match input.rate_per_minute.unwrap_or(0) {
            r @ 0..=100_000 => c.rate_per_minute = r,
            _ => errors.add("rate_per_minute", "must be between 0 (no limit) and 100000"),
        }
        match input.attribution_days.unwrap_or(7) {
            d @ 0..=365 => c.attribution_days = d,
            _ => errors.add("attribution_days", "must be between 0 and 365"),
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(kith_core::Error::fields(errors).into())
        }
    }

    /// The workspace's campaigns, newest first.
    pub async fn campaigns(&self, caller: &Caller) -> Result<Vec<Campaign>, Error> {
        Ok(store::campaigns(&mut self.db.clone(), caller.workspace.id).await?)
    }

    /// One campaign.
    pub async fn campaign(&self, caller: &Caller, id: Uuid) -> Result<Campaign, Error> {
        store::campaign(&mut self.db.clone(), caller.workspace.id, id)
            .await?
            .ok_or(Error::NotFound("campaign"))
    }

    /// Creates a draft campaign.
    pub async fn create_campaign(
        &self,
        caller: &Caller,
        input: CampaignInput,
    ) -> Result<Campaign, Error> {
        check_marketer(caller)?;
        let now = Utc::now();
        let mut c = Campaign {
            id: Uuid::now_v7(),
            name: String::new(),
            segment_id: Uuid::nil(),
            template_id: Uuid::nil(),
            consent_mode: String::new(),
            rate_per_minute: 0,
            attribution_days: 7,
            scheduled_at: None,
            status: "draft".into(),
            run: 0,
            started_at: None,
            finished_at: None,
            created_by: Some(caller.user.id),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.check_campaign_input(caller.workspace.id, &input, &mut c)
            .await?;
        store::insert_campaign(&mut self.db.clone(), caller.workspace.id, &c).await?;
        Ok(c)
    }

    /// Changes a draft (or still scheduled) campaign; refuses a stale version.
    pub async fn update_campaign(
        &self,
        caller: &Caller,
        id: Uuid,
        input: CampaignInput,
    ) -> Result<Campaign, Error> {
        check_marketer(caller)?;
        let ws = caller.workspace.id;
        let mut c = self.campaign(caller, id).await?;
        if !["draft", "scheduled"].contains(&c.status.as_str()) {
            return Err(bad(
                "status",
                format!("a {} campaign cannot be changed", c.status),
            ));
        }
        let expected = input.version.unwrap_or(c.version);
        if expected != c.version {
            return Err(bad(
                "version",
                format!(
                    "the campaign changed since version {expected}; it is now at version {}",
                    c.version
                ),
            ));
        }
        self.check_campaign_input(ws, &input, &mut c).await?;
        c.updated_at = Utc::now();
        if !store::update_campaign(
            &mut self.db.clone(),
            ws,
            &c,
            expected,
            &["draft", "scheduled"],
        )
        .await?
        {
            return Err(Error::Conflict);
        }
        self.campaign(caller, id).await
    }

    /// Deletes a campaign that never started sending.
    pub async fn delete_campaign(&self, caller: &Caller, id: Uuid) -> Result<(), Error> {
        check_marketer(caller)?;
        let c = self.campaign(caller, id).await?;
        let mut tx = self.db.begin().await?;
        if !store::delete_campaign(
            &mut tx,
            caller.workspace.id,
            id,
            &["draft", "scheduled", "cancelled"],
        )
        .await?
        {
            return Err(bad(
                "status",
                format!("a {} campaign cannot be deleted; cancel it first", c.status),
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sends a draft campaign now, or at `at`.
    pub async fn send_campaign(
        &self,
        caller: &Caller,
        id: Uuid,
        at: Option<DateTime<Utc>>,
    ) -> Result<Campaign, Error> {
        check_marketer(caller)?;
        let ws = caller.workspace.id;
        let c = self.campaign(caller, id).await?;
        if c.status != "draft" {
            return Err(bad(
                "status",
                format!("only a draft can be sent; this campaign is {}", c.status),
            ));
        }
        // Said now rather than at the first message: the links need the public URL, the
        // messages a mail server.
        self.link_settings(ws).await?;
        self.mailer(ws).await?;
        let now = Utc::now();
        let run_at = at.filter(|t| *t > now).unwrap_or(now);
        let mut tx = self.db.begin().await?;
        let mut sql = Sql::new(
            "UPDATE campaigns SET status = 'scheduled', version = version + 1, scheduled_at = ",
        );
        sql.bind(Scalar::Time(run_at))
            .push(", updated_at = ")
            .bind(Scalar::Time(now));
        sql.push(" WHERE workspace_id = ").bind(Scalar::Uuid(ws.0));
        sql.push(" AND id = ")
            .bind(Scalar::Uuid(id))
            .push(" AND status = 'draft'");
        if tx.execute(sql).await? == 0 {
            return Err(Error::Conflict);
        }
        let opts = JobOptions {
            run_at: Some(run_at),
            idempotency_key: Some(format!("{id}:start")),
            ..JobOptions::default()
        };
        enqueue_in(
            &mut tx,
            ws,
            CAMPAIGN_START,
            json!({"campaign_id": id}),
            opts,
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        self.campaign(caller, id).await
    }

    /// Pauses a sending campaign (the slice in flight finishes its messages).
    pub async fn pause_campaign(&self, caller: &Caller, id: Uuid) -> Result<Campaign, Error> {
        self.move_campaign(caller, id, &["sending"], "paused").await
    }

    /// Resumes a paused campaign where it stopped.
    pub async fn resume_campaign(&self, caller: &Caller, id: Uuid) -> Result<Campaign, Error> {
        let c = self
            .move_campaign(caller, id, &["paused"], "sending")
            .await?;
        let mut tx = self.db.begin().await?;
        sending::enqueue_slice(&mut tx, caller.workspace.id, &c, 0, None).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(c)
    }

    /// Cancels a campaign: nothing more is sent; what was sent stays in the report.
    pub async fn cancel_campaign(&self, caller: &Caller, id: Uuid) -> Result<Campaign, Error> {
        let c = self
            .move_campaign(
                caller,
                id,
                &["draft", "scheduled", "sending", "paused"],
                "cancelled",
            )
            .await?;
        sends::skip_queued(
            &mut self.db.clone(),
            caller.workspace.id,
            id,
            "campaign cancelled",
        )
        .await?;
        Ok(c)
    }

    async fn move_campaign(
        &self,
        caller: &Caller,
        id: Uuid,
        from: &[&str],
        to: &str,
    ) -> Result<Campaign, Error> {
        check_marketer(caller)?;
        let c = self.campaign(caller, id).await?;
        if !store::set_status(
            &mut self.db.clone(),
            caller.workspace.id,
            id,
            from,
            to,
            Utc::now(),
        )
        .await?
        {
            return Err(bad(
                "status",
                format!("a {} campaign cannot become {to}", c.status),
            ));
        }
        self.campaign(caller, id).await
    }

    /// A campaign's report.
    pub async fn campaign_report(&self, caller: &Caller, id: Uuid) -> Result<Report, Error> {
        let c = self.campaign(caller, id).await?;
        let figures = sends::figures(
            &mut self.db.clone(),
            caller.workspace.id,
            id,
            c.attribution_days,
        )
        .await?;
        Ok(Report {
            campaign: campaign_json(&c),
            figures,
        })
    }

    /// Sends of a campaign or sequence (by status), or of a contact.
    pub async fn email_sends(
        &self,
        caller: &Caller,
        source_id: Option<Uuid>,
        contact_id: Option<Uuid>,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<EmailSend>, Error> {
        Ok(sends::list(
            &mut self.db.clone(),
            caller.workspace.id,
            source_id,
            contact_id,
            status,
            limit,
            offset,
        )
        .await?)
    }

    /// The suppression list: (email, reason, since).
    pub async fn suppressions(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(String, String, DateTime<Utc>)>, Error> {
        Ok(store::suppressions(&mut self.db.clone(), caller.workspace.id, 1000).await?)
    }

    /// Takes an address off the suppression list (admins only: it overrides a refusal).
    pub async fn unsuppress(&self, caller: &Caller, email: &str) -> Result<bool, Error> {
        if caller.role() != Role::Admin {
            return Err(Error::Forbidden("only admins edit the suppression list"));
        }
        Ok(store::unsuppress(&mut self.db.clone(), caller.workspace.id, email).await?)
    }

    /// The public base URL links in emails point to ("" until set).
    pub async fn public_url(&self, caller: &Caller) -> Result<String, Error> {
        let s = store::link_settings(&mut self.db.clone(), caller.workspace.id).await?;
        Ok(s.map(|(u, _)| u).unwrap_or_default())
    }

    /// Sets the public base URL (`https://crm.example.com`) of unsubscribe and tracking
    /// links; admins only.
    pub async fn set_public_url(&self, caller: &Caller, url: &str) -> Result<String, Error> {
        if caller.role() != Role::Admin {
            return Err(Error::Forbidden("only admins change campaign settings"));
        }
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.len() > 500
            || url.contains(char::is_whitespace)
        {
            return Err(bad(
                "public_url",
                "must be an http:// or https:// address, e.g. https://crm.example.com",
            ));
        }
        self.save_public_url(caller.workspace.id, url).await?;
        Ok(url.to_string())
    }

    /// Stores the public URL without a caller (`kith serve --demo`, tests' set-up).
    pub async fn save_public_url(&self, ws: WorkspaceId, url: &str) -> Result<(), Error> {
        store::save_link_settings(&mut self.db.clone(), ws, Some(url), &new_key(), Utc::now())
            .await?;
        Ok(())
    }

    /// The public URL and link key; an error names the missing setting.
    pub(crate) async fn link_settings(&self, ws: WorkspaceId) -> Result<(String, Vec<u8>), Error> {
        let mut db = self.db.clone();
        let (url, key) = match store::link_settings(&mut db, ws).await? {
            Some(s) => s,
            None => {
                store::save_link_settings(&mut db, ws, None, &new_key(), Utc::now()).await?;
                store::link_settings(&mut db, ws).await?.unwrap_or_default()
            }
        };
        if url.is_empty() {
            return Err(bad(
                "public_url",
                "set the address recipients reach Kith at (Settings → Campaigns) so unsubscribe links work",
            ));
        }
        Ok((url, key.into_bytes()))
    }
}

fn new_key() -> String {
    let mut k = [0u8; 32];
    getrandom::getrandom(&mut k).expect("the OS has randomness");
    k.iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers the campaign and sequence jobs.
pub(crate) fn register(h: &mut crate::jobs::Handlers) {
    h.on(CAMPAIGN_START, sending::start);
    h.on(CAMPAIGN_SEND, sending::send_slice);
    sequences::register(h);
}
