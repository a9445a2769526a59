//! The send log of campaigns and sequences: one row per source, step and contact,
//! written before anything is sent (unique, so a restart or a second node never queues
//! a step twice), claimed with a lease, and finished with what the SMTP server said.

use chrono::{DateTime, Utc};
use kith_core::{Scalar, ScalarType};
use uuid::Uuid;

use crate::db::Dialect;
use crate::{Db, Error, Exec, Row, Sql, WorkspaceId};

fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

/// One message of a campaign or sequence to one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailSend {
    /// Id (UUIDv7); also signs its tracking links.
    pub id: Uuid,
    /// Its workspace.
    pub workspace: WorkspaceId,
    /// `campaign` or `sequence`.
    pub source: String,
    /// The campaign's or sequence's id.
    pub source_id: Uuid,
    /// The step (0 for a campaign).
    pub step: i64,
    /// The recipient.
    pub contact_id: Uuid,
    /// The address it goes to, as it was when queued.
    pub email: String,
    /// The template rendered for it.
    pub template_id: Uuid,
    /// Message-ID with angle brackets, fixed when queued.
    pub message_id: String,
    /// queued, sending, sent, failed, bounced or skipped.
    pub status: String,
    /// The server's reason for a failure, or why it was skipped.
    pub error: Option<String>,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Handed to the SMTP server.
    pub sent_at: Option<DateTime<Utc>>,
    /// First open (tracking pixel).
    pub opened_at: Option<DateTime<Utc>>,
    /// First click on a tracked link.
    pub clicked_at: Option<DateTime<Utc>>,
    /// When the recipient unsubscribed through it.
    pub unsubscribed_at: Option<DateTime<Utc>>,
    /// Queued.
    pub created_at: DateTime<Utc>,
}

impl EmailSend {
    fn from_row(r: &Row) -> Result<EmailSend, Error> {
        let c = || Error::Corrupt("email send without a required column".into());
        Ok(EmailSend {
            id: r.uuid("id")?.ok_or_else(c)?,
            workspace: WorkspaceId(r.uuid("workspace_id")?.ok_or_else(c)?),
            source: r.text("source")?.unwrap_or_default(),
            source_id: r.uuid("source_id")?.ok_or_else(c)?,
            step: r.int("step")?.unwrap_or(0),
            contact_id: r.uuid("contact_id")?.ok_or_else(c)?,
            email: r.text("email")?.unwrap_or_default(),
            template_id: r.uuid("template_id")?.ok_or_else(c)?,
            message_id: r.text("message_id")?.unwrap_or_default(),
            status: r.text("status")?.unwrap_or_default(),
            error: r.text("error")?,
            attempts: r.int("attempts")?.unwrap_or(0),
            sent_at: r.time("sent_at")?,
            opened_at: r.time("opened_at")?,
            clicked_at: r.time("clicked_at")?,
            unsubscribed_at: r.time("unsubscribed_at")?,
            created_at: r.time("created_at")?.ok_or_else(c)?,
        })
    }
}

const COLUMNS: &str = "id, workspace_id, source, source_id, step, contact_id, email, template_id, message_id, status, error, attempts, sent_at, opened_at, clicked_at, unsubscribed_at, created_at";

/// A row to queue: `status` is `queued`, or `skipped` with the reason in `error`.
#[derive(Debug, Clone)]
pub struct NewSend {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// The recipient.
    pub contact_id: Uuid,
    /// Their address.
    pub email: String,
    /// Message-ID.
    pub message_id: String,
    /// `queued` or `skipped`.
    pub status: &'static str,
    /// Why it was skipped.
    pub error: Option<String>,
}

/// Queues sends of one source and step; rows for contacts queued before are left as
/// they are. Returns how many were new.
#[allow(clippy::too_many_arguments)]
pub async fn queue(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    source: &str,
    source_id: Uuid,
    step: i64,
    template_id: Uuid,
    rows: &[NewSend],
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let mut added = 0;
    for chunk in rows.chunks(400) {
        let mut sql = Sql::new("INSERT INTO email_sends (id, workspace_id, source, source_id, step, contact_id, email, template_id, message_id, status, error, attempts, next_at, created_at) VALUES ");
        for (i, r) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(Scalar::Uuid(r.id))
                .push(", ")
                .bind(ws_arg(ws))
                .push(", ");
            sql.bind(Scalar::Text(source.into())).push(", ");
            sql.bind(Scalar::Uuid(source_id))
                .push(", ")
                .bind(Scalar::Int(step));
            sql.push(", ").bind(Scalar::Uuid(r.contact_id));
            sql.push(", ").bind(Scalar::Text(r.email.clone()));
            sql.push(", ").bind(Scalar::Uuid(template_id));
            sql.push(", ").bind(Scalar::Text(r.message_id.clone()));
            sql.push(", ").bind(Scalar::Text(r.status.into()));
            sql.push(", ").bind(
                r.error
                    .clone()
                    .map_or(Scalar::Null(ScalarType::Text), Scalar::Text),
            );
            sql.push(", 0, ").bind(Scalar::Time(now));
            sql.push(", ").bind(Scalar::Time(now)).push(")");
        }
        sql.push(" ON CONFLICT DO NOTHING");
        added += ex.execute(sql).await?;
    }
    Ok(added)
}

/// Claims up to `limit` due sends of a source until `lease_until`: queued ones whose
/// time has come, and `sending` ones whose lease ran out (a node died before the
/// message was handed over). No two claimers get the same send.
pub async fn claim(
    db: &Db,
    ws: WorkspaceId,
    source_id: Uuid,
    limit: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<EmailSend>, Error> {
    let mut sql = Sql::new(
        "UPDATE email_sends SET status = 'sending', attempts = attempts + 1, lease_until = ",
    );
    sql.bind(Scalar::Time(lease_until));
    sql.push(" WHERE id IN (SELECT id FROM email_sends WHERE source_id = ")
        .bind(Scalar::Uuid(source_id));
    sql.push(" AND workspace_id = ").bind(ws_arg(ws));
    sql.push(" AND ((status = 'queued' AND next_at <= ")
        .bind(Scalar::Time(now));
    sql.push(") OR (status = 'sending' AND lease_until < ")
        .bind(Scalar::Time(now));
    sql.push(")) ORDER BY next_at LIMIT ")
        .push(&limit.max(1).to_string());
    let rows = match db {
        Db::Postgres(_) => {
            sql.push(" FOR UPDATE SKIP LOCKED) RETURNING ")
                .push(COLUMNS);
            db.clone().fetch_all(sql).await?
        }
        Db::Sqlite { .. } => {
            sql.push(") RETURNING ").push(COLUMNS);
            let mut tx = db.begin().await?;
            let rows = tx.fetch_all(sql).await?;
            tx.commit().await?;
            rows
        }
    };
    rows.iter().map(EmailSend::from_row).collect()
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Handed to the SMTP server.
    Sent,
    /// Try again at this time (the server was away or said 4xx).
    Retry(DateTime<Utc>, String),
    /// The server refused it for good, or the attempts ran out.
    Failed(String),
    /// The server refused the recipient's address (5xx): it is suppressed too.
    Bounced(String),
    /// Not sent on purpose (consent withdrawn, suppressed since it was queued).
    Skipped(String),
}

/// Records a delivery attempt's outcome.
pub async fn finish(
    ex: &mut impl Exec,
    id: Uuid,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (status, error) = match outcome {
        Outcome::Sent => ("sent", None),
        Outcome::Retry(_, e) => ("queued", Some(e)),
        Outcome::Failed(e) => ("failed", Some(e)),
        Outcome::Bounced(e) => ("bounced", Some(e)),
        Outcome::Skipped(e) => ("skipped", Some(e)),
    };
    let mut sql = Sql::new("UPDATE email_sends SET status = ");
    sql.bind(Scalar::Text(status.into()));
    sql.push(", lease_until = NULL, error = ").bind(
        error.map_or(Scalar::Null(ScalarType::Text), |e| {
            Scalar::Text(e.chars().take(500).collect())
        }),
    );
    match outcome {
        Outcome::Sent => {
            sql.push(", sent_at = ").bind(Scalar::Time(now));
        }
        Outcome::Retry(at, _) => {
            sql.push(", sent_at = NULL, next_at = ")
                .bind(Scalar::Time(*at));
        }
        _ => {
            sql.push(", sent_at = NULL");
        }
    }
    sql.push(" WHERE id = ").bind(Scalar::Uuid(id));
    ex.execute(sql).await?;
    Ok(())
}

/// Sends of a source not finished yet (queued or being sent).
pub async fn pending(ex: &mut impl Exec, ws: WorkspaceId, source_id: Uuid) -> Result<i64, Error> {
    let sql = Sql::new("SELECT COUNT(*) AS n FROM email_sends WHERE workspace_id = ")
        .arg(ws_arg(ws))
        .and(" AND source_id = ")
        .arg(Scalar::Uuid(source_id))
        .and(" AND status IN ('queued', 'sending')");
    Ok(ex
        .fetch_optional(sql)
        .await?
        .map(|r| r.int("n"))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// Sources (campaigns or sequences) of the workspace with sends due now.
pub async fn due_sources(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, Error> {
    let mut sql = Sql::new("SELECT DISTINCT source_id FROM email_sends WHERE workspace_id = ");
    sql.bind(ws_arg(ws))
        .push(" AND source = ")
        .bind(Scalar::Text(source.into()));
    sql.push(" AND ((status = 'queued' AND next_at <= ")
        .bind(Scalar::Time(now));
    sql.push(") OR (status = 'sending' AND lease_until < ")
        .bind(Scalar::Time(now))
        .push("))");
    ex.fetch_all(sql)
        .await?
        .iter()
        .map(|r| {
            r.uuid("source_id")?
                .ok_or_else(|| Error::Corrupt("source".into()))
        })
        .collect()
}

/// Puts a source's queued sends to `skipped` with `reason` (a cancelled campaign).
pub async fn skip_queued(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    source_id: Uuid,
    reason: &str,
) -> Result<u64, Error> {
    let mut sql = Sql::new("UPDATE email_sends SET status = 'skipped', error = ");
    sql.bind(Scalar::Text(reason.into()));
    sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
    sql.push(" AND source_id = ").bind(Scalar::Uuid(source_id));
    sql.push(" AND status = 'queued'");
    ex.execute(sql).await
}

/// A send by id, in any workspace (tracking links carry only the id).
pub async fn get(ex: &mut impl Exec, id: Uuid) -> Result<Option<EmailSend>, Error> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM email_sends WHERE id = "));
    sql.bind(Scalar::Uuid(id));
    ex.fetch_optional(sql)
        .await?
        .as_ref()
        .map(EmailSend::from_row)
        .transpose()
}

/// The send with this Message-ID in the workspace (a bounce names it).
pub async fn by_message_id(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    message_id: &str,
) -> Result<Option<EmailSend>, Error> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS} FROM email_sends WHERE workspace_id = "
    ));
    sql.bind(ws_arg(ws))
        .push(" AND message_id = ")
        .bind(Scalar::Text(message_id.into()));
    ex.fetch_optional(sql)
        .await?
        .as_ref()
        .map(EmailSend::from_row)
        .transpose()
}

/// Sends of a source (by status if given) or of a contact, newest first.
pub async fn list(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    source_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<EmailSend>, Error> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS} FROM email_sends WHERE workspace_id = "
    ));
    sql.bind(ws_arg(ws));
    if let Some(s) = source_id {
        sql.push(" AND source_id = ").bind(Scalar::Uuid(s));
    }
    if let Some(c) = contact_id {
        sql.push(" AND contact_id = ").bind(Scalar::Uuid(c));
    }
    if let Some(s) = status {
        sql.push(" AND status = ").bind(Scalar::Text(s.into()));
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push(&limit.clamp(1, 1000).to_string());
    sql.push(" OFFSET ").push(&offset.max(0).to_string());
    ex.fetch_all(sql)
        .await?
        .iter()
        .map(EmailSend::from_row)
        .collect()
}

/// Something a recipient did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engagement {
    /// Loaded the tracking pixel.
    Opened,
    /// Followed a tracked link (which implies an open).
    Clicked,
    /// Unsubscribed through its link.
    Unsubscribed,
}

/// Stamps the first time of an engagement; true if this was the first.
pub async fn engage(
    ex: &mut impl Exec,
    id: Uuid,
    what: Engagement,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let col = match what {
        Engagement::Opened => "opened_at",
        Engagement::Clicked => "clicked_at",
        Engagement::Unsubscribed => "unsubscribed_at",
    };
    let mut sql = Sql::new(&format!("UPDATE email_sends SET {col} = "));
    sql.bind(Scalar::Time(now));
    if what == Engagement::Clicked {
        sql.push(", opened_at = COALESCE(opened_at, ")
            .bind(Scalar::Time(now))
            .push(")");
    }
    sql.push(" WHERE id = ").bind(Scalar::Uuid(id));
    sql.push(&format!(" AND {col} IS NULL"));
    Ok(ex.execute(sql).await? > 0)
}

/// A source's figures: sends by outcome, engagement, and orders attributed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    /// Every send queued or skipped.
    pub total: i64,
    /// Waiting or being sent.
    pub pending: i64,
    /// Accepted by the SMTP server.
    pub sent: i64,
    /// Accepted and not bounced (the server's acceptance is all SMTP tells).
    pub delivered: i64,
    /// Failed for good.
    pub failed: i64,
    /// Refused recipient addresses.
    pub bounced: i64,
    /// Not sent: no consent, suppressed, no address, cancelled.
    pub skipped: i64,
    /// Opened at least once.
    pub opened: i64,
    /// Clicked at least once.
    pub clicked: i64,
    /// Unsubscribed through it.
    pub unsubscribed: i64,
    /// Orders by recipients within the attribution window after their send.
    pub orders: i64,
    /// Their total, in minor units.
    pub revenue: i64,
}

/// Figures of one source; orders count when placed within `days` after a send.
pub async fn figures(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    source_id: Uuid,
    days: i64,
) -> Result<Figures, Error> {
    let sql = Sql::new(
        "SELECT COUNT(*) AS total, \
         SUM(CASE WHEN status IN ('queued', 'sending') THEN 1 ELSE 0 END) AS pending, \
         SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent, \
         SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, \
         SUM(CASE WHEN status = 'bounced' THEN 1 ELSE 0 END) AS bounced, \
         SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END) AS skipped, \
         SUM(CASE WHEN opened_at IS NOT NULL THEN 1 ELSE 0 END) AS opened, \
         SUM(CASE WHEN clicked_at IS NOT NULL THEN 1 ELSE 0 END) AS clicked, \
         SUM(CASE WHEN unsubscribed_at IS NOT NULL THEN 1 ELSE 0 END) AS unsubscribed \
         FROM email_sends WHERE workspace_id = ",
    )
    .arg(ws_arg(ws))
    .and(" AND source_id = ")
    .arg(Scalar::Uuid(source_id));
    let r = ex.fetch_optional(sql).await?;
    let n = |c: &str| -> Result<i64, Error> {
        Ok(r.as_ref()
            .map(|r| r.int(c))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    };
    let days = days.clamp(0, 3650);
    let window = match ex.dialect() {
        Dialect::Postgres => format!("s.sent_at + INTERVAL '{days} days'"),
        Dialect::Sqlite => {
            format!("strftime('%Y-%m-%dT%H:%M:%f', s.sent_at, '+{days} days') || '000Z'")
        }
    };
    let sql = Sql::new(
        "SELECT COUNT(*) AS orders, CAST(SUM(o.total) AS BIGINT) AS revenue FROM orders o \
         JOIN email_sends s ON s.contact_id = o.contact_id \
         WHERE s.workspace_id = ",
    )
    .arg(ws_arg(ws))
    .and(" AND s.source_id = ")
    .arg(Scalar::Uuid(source_id))
    .and(&format!(
        " AND s.status = 'sent' AND o.workspace_id = s.workspace_id AND o.deleted_at IS NULL \
         AND (o.status IS NULL OR o.status NOT IN ('cancelled', 'refunded')) \
         AND o.ordered_at >= s.sent_at AND o.ordered_at < {window}"
    ));
    let o = ex.fetch_optional(sql).await?;
    let on = |c: &str| -> Result<i64, Error> {
        Ok(o.as_ref()
            .map(|r| r.int(c))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    };
    let sent = n("sent")?;
    let bounced = n("bounced")?;
    Ok(Figures {
        total: n("total")?,
        pending: n("pending")?,
        sent,
        delivered: sent,
        failed: n("failed")?,
        bounced,
        skipped: n("skipped")?,
        opened: n("opened")?,
        clicked: n("clicked")?,
        unsubscribed: n("unsubscribed")?,
        orders: on("orders")?,
        revenue: on("revenue")?,
    })
}
