//! Sending a campaign: the `campaign.start` job queues the send log from the segment
//! (consent and suppression checked per contact), then `campaign.send` jobs send it in
//! slices, each queueing the next, until nothing is left.

use chrono::{DateTime, Utc};
use kith_core::campaigns::may_mail;
use kith_core::Scalar;
use kith_store::campaigns::{self as store, Campaign};
use kith_store::email_sends::{self as sends, NewSend};
use kith_store::{Exec, Sql, WorkspaceId};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{delivery, CAMPAIGN_SEND};
use crate::jobs::{enqueue_in, JobContext, JobError, JobOptions};
use crate::{App, Error};

impl App {
    /// Queues the send log of a campaign: one row per member of its segment, `skipped`
    /// with the reason where consent, the suppression list or the address says no.
    pub(crate) async fn queue_campaign(&self, ws: WorkspaceId, c: &Campaign) -> Result<u64, Error> {
        let settings = kith_store::mail::settings(&mut self.db.clone(), ws)
            .await?
            .unwrap_or_default();
        let rows = recipients(
            &mut self.db.clone(),
            ws,
            c.segment_id,
            &c.consent_mode,
            &settings.from_email,
        )
        .await?;
        let mut tx = self.db.begin().await?;
        let n = sends::queue(
            &mut tx,
            ws,
            "campaign",
            c.id,
            0,
            c.template_id,
            &rows,
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// The members of a segment as rows of a send log.
async fn recipients(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    segment_id: Uuid,
    consent_mode: &str,
    from_email: &str,
) -> Result<Vec<NewSend>, Error> {
    let sql = Sql::new(
        "SELECT c.id, c.email, c.consent, s.email AS suppressed FROM segment_members m \
         JOIN contacts c ON c.id = m.record_id AND c.workspace_id = m.workspace_id \
         LEFT JOIN email_suppressions s ON s.workspace_id = c.workspace_id AND s.email = c.email \
         WHERE c.deleted_at IS NULL AND m.workspace_id = ",
    )
    .arg(Scalar::Uuid(ws.0))
    .and(" AND m.segment_id = ")
    .arg(Scalar::Uuid(segment_id))
    .and(" ORDER BY c.id");
    let rows = ex.fetch_all(sql).await.map_err(Error::from)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = Uuid::now_v7();
        let email = r.text("email").map_err(Error::from)?.unwrap_or_default();
        let consent = r.json("consent").map_err(Error::from)?;
        let why = if email.is_empty() {
            Err("no email address")
        } else if r.text("suppressed").map_err(Error::from)?.is_some() {
            Err("on the suppression list")
        } else {
            may_mail(consent.as_ref(), consent_mode)
        };
        out.push(NewSend {
            id,
            contact_id: r
                .uuid("id")
                .map_err(Error::from)?
                .ok_or(Error::NotFound("contact"))?,
            email,
            message_id: crate::mail::new_message_id(from_email),
            status: if why.is_ok() { "queued" } else { "skipped" },
            error: why.err().map(str::to_string),
        });
    }
    Ok(out)
}

/// Enqueues slice `n` of the campaign's current run (idempotent per run and slice).
pub(super) async fn enqueue_slice(
    tx: &mut kith_store::Tx,
    ws: WorkspaceId,
    c: &Campaign,
    n: i64,
    at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let opts = JobOptions {
        run_at: at,
        idempotency_key: Some(format!("{}:{}:{n}", c.id, c.run)),
        ..JobOptions::default()
    };
    enqueue_in(
        tx,
        ws,
        CAMPAIGN_SEND,
        json!({"campaign_id": c.id, "run": c.run, "slice": n}),
        opts,
    )
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct SlicePayload {
    campaign_id: Uuid,
    #[serde(default)]
    slice: i64,
}

/// Messages one slice sends at most before handing over to the next (a fresh job, so
/// a pause or a cancel takes effect and other work gets its turn).
const SLICE: i64 = 500;

/// The campaign, if it is (still) sending: a pause or cancel stops its jobs here.
async fn sending(
    db: &mut kith_store::Db,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Option<Campaign>, Error> {
    Ok(store::campaign(db, ws, id)
        .await?
        .filter(|c| c.status == "sending"))
}

pub(super) async fn start(cx: JobContext) -> Result<(), JobError> {
    let ws = cx.job.workspace;
    let p: SlicePayload = serde_json::from_value(cx.job.payload.clone())
        .map_err(|e| JobError::Permanent(format!("bad campaign payload: {e}")))?;
    let app = &cx.app;
    let mut db = app.db.clone();
    store::set_status(
        &mut db,
        ws,
        p.campaign_id,
        &["scheduled"],
        "sending",
        Utc::now(),
    )
    .await
    .map_err(Error::from)?;
    let Some(c) = sending(&mut db, ws, p.campaign_id).await? else {
        return Ok(());
    };
    app.queue_campaign(ws, &c).await?;
    let mut tx = app.db.begin().await.map_err(Error::from)?;
    enqueue_slice(&mut tx, ws, &c, 0, None).await?;
    tx.commit().await.map_err(Error::from)?;
    Ok(())
}

pub(super) async fn send_slice(cx: JobContext) -> Result<(), JobError> {
    let ws = cx.job.workspace;
    let p: SlicePayload = serde_json::from_value(cx.job.payload.clone())
        .map_err(|e| JobError::Permanent(format!("bad campaign payload: {e}")))?;
    let app = &cx.app;
    let mut db = app.db.clone();
    let Some(c) = sending(&mut db, ws, p.campaign_id).await? else {
        return Ok(());
    };
    // A paced slice stays well inside the lease of the sends it claims.
    let limit = match c.rate_per_minute {
        0 => SLICE,
        r => (r * delivery::lease().num_seconds() / 120).clamp(1, SLICE),
    };
    let done = delivery::deliver(app, ws, c.id, c.rate_per_minute, limit).await?;
    let pending = sends::pending(&mut db, ws, c.id)
        .await
        .map_err(Error::from)?;
    let mut tx = app.db.begin().await.map_err(Error::from)?;
    if pending == 0 {
        store::set_status(&mut tx, ws, c.id, &["sending"], "sent", Utc::now())
            .await
            .map_err(Error::from)?;
    } else {
        // Nothing was due (only retries waiting): look again in a while.
        let at = (done == 0).then(|| Utc::now() + chrono::Duration::seconds(10));
        enqueue_slice(&mut tx, ws, &c, p.slice + 1, at).await?;
    }
    tx.commit().await.map_err(Error::from)?;
    app.wake_workers();
    Ok(())
}
