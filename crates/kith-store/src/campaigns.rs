//! Campaigns, the suppression list and the settings that sign tracking links. The send
//! log is in [`crate::email_sends`], sequences in [`crate::sequences`].

use chrono::{DateTime, Utc};
use kith_core::{Scalar, ScalarType};
use uuid::Uuid;

use crate::{Error, Exec, List, Row, Sql, WorkspaceId};

pub(crate) fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

pub(crate) fn time_or_null(t: Option<DateTime<Utc>>) -> Scalar {
    t.map_or(Scalar::Null(ScalarType::Time), Scalar::Time)
}

pub(crate) fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("{what} without a required column"))
}

/// `INSERT INTO table (cols…) VALUES (…)`.
pub(crate) fn insert(table: &str, cols: Vec<(&str, Scalar)>) -> Sql {
    let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
    let mut sql = Sql::new(&format!(
        "INSERT INTO {table} ({}) VALUES (",
        names.join(", ")
    ));
    for (i, (_, v)) in cols.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(v);
    }
    sql.push(")");
    sql
}

/// `UPDATE table SET col = …, … ` (the caller adds the WHERE).
pub(crate) fn update(table: &str, cols: Vec<(&str, Scalar)>) -> Sql {
    let mut sql = Sql::new(&format!("UPDATE {table} SET "));
    for (i, (c, v)) in cols.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push(c).push(" = ").bind(v);
    }
    sql
}

/// Every row of a workspace's `table` in `order`, read by `from_row`.
pub(crate) async fn all_of<T>(
    ex: &mut impl Exec,
    table: &str,
    ws: WorkspaceId,
    order: &str,
    from_row: fn(&Row) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let sql = Sql::new(&format!("SELECT * FROM {table} WHERE workspace_id = "))
        .arg(ws_arg(ws))
        .and(&format!(" ORDER BY {order}"));
    ex.fetch_all(sql).await?.iter().map(from_row).collect()
}

/// The row `id` of a workspace's `table`, read by `from_row`.
pub(crate) async fn one_of<T>(
    ex: &mut impl Exec,
    table: &str,
    ws: WorkspaceId,
    id: Uuid,
    from_row: fn(&Row) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    let sql = Sql::new(&format!("SELECT * FROM {table} WHERE workspace_id = "))
        .arg(ws_arg(ws))
        .and(" AND id = ")
        .arg(Scalar::Uuid(id));
    ex.fetch_optional(sql)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// One email to the members of a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Name shown in lists and reports.
    pub name: String,
    /// The contact segment it goes to.
    pub segment_id: Uuid,
    /// The email template it sends.
    pub template_id: Uuid,
    /// `opted_in` (only contacts who granted email consent) or `not_denied`.
    pub consent_mode: String,
    /// Messages per minute at most (0: as fast as the server takes them).
    pub rate_per_minute: i64,
    /// Orders within this many days of a send count for the campaign.
    pub attribution_days: i64,
    /// When a scheduled campaign starts.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// draft, scheduled, sending, paused, sent or cancelled.
    pub status: String,
    /// How many times sending was started or resumed (names each run's jobs).
    pub run: i64,
    /// When sending started.
    pub started_at: Option<DateTime<Utc>>,
    /// When the last message was sent (or the campaign cancelled).
    pub finished_at: Option<DateTime<Utc>>,
    /// Who made it.
    pub created_by: Option<Uuid>,
    /// Starts at 1, +1 per change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl Campaign {
    fn from_row(r: &Row) -> Result<Campaign, Error> {
        Ok(Campaign {
            id: r.uuid("id")?.ok_or_else(|| corrupt("campaign"))?,
            name: r.text("name")?.unwrap_or_default(),
            segment_id: r.uuid("segment_id")?.ok_or_else(|| corrupt("campaign"))?,
            template_id: r.uuid("template_id")?.ok_or_else(|| corrupt("campaign"))?,
            consent_mode: r.text("consent_mode")?.unwrap_or_default(),
            rate_per_minute: r.int("rate_per_minute")?.unwrap_or(0),
            attribution_days: r.int("attribution_days")?.unwrap_or(0),
            scheduled_at: r.time("scheduled_at")?,
            status: r.text("status")?.unwrap_or_default(),
            run: r.int("run")?.unwrap_or(0),
            started_at: r.time("started_at")?,
            finished_at: r.time("finished_at")?,
            created_by: r.uuid("created_by")?,
            version: r.int("version")?.unwrap_or(1),
            created_at: r.time("created_at")?.ok_or_else(|| corrupt("campaign"))?,
            updated_at: r.time("updated_at")?.ok_or_else(|| corrupt("campaign"))?,
        })
    }

    fn columns(&self) -> Vec<(&'static str, Scalar)> {
        vec![
            ("name", Scalar::Text(self.name.clone())),
            ("segment_id", Scalar::Uuid(self.segment_id)),
            ("template_id", Scalar::Uuid(self.template_id)),
            ("consent_mode", Scalar::Text(self.consent_mode.clone())),
            ("rate_per_minute", Scalar::Int(self.rate_per_minute)),
            ("attribution_days", Scalar::Int(self.attribution_days)),
            ("scheduled_at", time_or_null(self.scheduled_at)),
            ("updated_at", Scalar::Time(self.updated_at)),
        ]
    }
}

/// The workspace's campaigns, newest first.
pub async fn campaigns(ex: &mut impl Exec, ws: WorkspaceId) -> Result<Vec<Campaign>, Error> {
    all_of(
        ex,
        "campaigns",
        ws,
        "created_at DESC, id DESC",
        Campaign::from_row,
    )
    .await
}

/// One campaign of the workspace.
pub async fn campaign(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Option<Campaign>, Error> {
    one_of(ex, "campaigns", ws, id, Campaign::from_row).await
}

/// Inserts a campaign as given.
pub async fn insert_campaign(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    c: &Campaign,
) -> Result<(), Error> {
    let mut cols = c.columns();
    cols.extend([
        ("id", Scalar::Uuid(c.id)),
        ("workspace_id", ws_arg(ws)),
        ("version", Scalar::Int(c.version)),
        ("status", Scalar::Text(c.status.clone())),
        ("run", Scalar::Int(c.run)),
        (
            "created_by",
            c.created_by
                .map_or(Scalar::Null(ScalarType::Uuid), Scalar::Uuid),
        ),
        ("created_at", Scalar::Time(c.created_at)),
    ]);
    ex.execute(insert("campaigns", cols)).await?;
    Ok(())
}

/// Replaces a campaign's settings if it is still at `expected_version` and in one of
/// `statuses` (false if not).
pub async fn update_campaign(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    c: &Campaign,
    expected_version: i64,
    statuses: &[&str],
) -> Result<bool, Error> {
    let mut cols = c.columns();
    cols.push(("version", Scalar::Int(expected_version + 1)));
    cols.push(("status", Scalar::Text(c.status.clone())));
    let mut sql = update("campaigns", cols);
    sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
    sql.push(" AND id = ").bind(Scalar::Uuid(c.id));
    sql.push(" AND version = ")
        .bind(Scalar::Int(expected_version));
    sql.push(" AND status IN (")
        .bind_list(statuses.iter().map(|s| Scalar::Text((*s).into())))
        .push(")");
    Ok(ex.execute(sql).await? > 0)
}

/// Deletes a campaign in one of `statuses` with its send log; false if there was none.
pub async fn delete_campaign(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
    statuses: &[&str],
) -> Result<bool, Error> {
    let mut sql = Sql::new("DELETE FROM campaigns WHERE workspace_id = ");
    sql.bind(ws_arg(ws))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id));
    sql.push(" AND status IN (")
        .bind_list(statuses.iter().map(|s| Scalar::Text((*s).into())))
        .push(")");
    let n = ex.execute(sql).await?;
    if n > 0 {
        let sql = Sql::new("DELETE FROM email_sends WHERE workspace_id = ")
            .arg(ws_arg(ws))
            .and(" AND source_id = ")
            .arg(Scalar::Uuid(id));
        ex.execute(sql).await?;
    }
    Ok(n > 0)
}

/// Moves a campaign from one of `from` to `to` (compare-and-set; false if it was in
/// another state). `sending` counts a new run and stamps `started_at` once; `sent` and
/// `cancelled` stamp `finished_at`.
pub async fn set_status(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
    from: &[&str],
    to: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let mut sql = Sql::new("UPDATE campaigns SET status = ");
    sql.bind(Scalar::Text(to.into()));
    sql.push(", version = version + 1, updated_at = ")
        .bind(Scalar::Time(now));
    match to {
        "sending" => {
            sql.push(", run = run + 1, started_at = COALESCE(started_at, ")
                .bind(Scalar::Time(now))
                .push(")");
        }
        "sent" | "cancelled" => {
            sql.push(", finished_at = ").bind(Scalar::Time(now));
        }
        _ => {}
    }
    sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
    sql.push(" AND id = ").bind(Scalar::Uuid(id));
    sql.push(" AND status IN (")
        .bind_list(from.iter().map(|s| Scalar::Text((*s).into())))
        .push(")");
    Ok(ex.execute(sql).await? > 0)
}

/// Adds an address to the workspace's suppression list (kept as first suppressed).
pub async fn suppress(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    email: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut sql = insert(
        "email_suppressions",
        vec![
            ("workspace_id", ws_arg(ws)),
            ("email", Scalar::Text(email.trim().to_lowercase())),
            ("reason", Scalar::Text(reason.into())),
            ("created_at", Scalar::Time(now)),
        ],
    );
    sql.push(" ON CONFLICT DO NOTHING");
    ex.execute(sql).await?;
    Ok(())
}

/// Whether an address is on the suppression list.
pub async fn is_suppressed(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    email: &str,
) -> Result<bool, Error> {
    let sql = Sql::new("SELECT 1 AS x FROM email_suppressions WHERE workspace_id = ")
        .arg(ws_arg(ws))
        .and(" AND email = ")
        .arg(Scalar::Text(email.trim().to_lowercase()));
    Ok(ex.fetch_optional(sql).await?.is_some())
}

/// Which of these addresses are suppressed (lower-cased).
pub async fn suppressed_among(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    emails: &[String],
) -> Result<std::collections::HashSet<String>, Error> {
    let mut out = std::collections::HashSet::new();
    for chunk in emails.chunks(500) {
        let mut sql = Sql::new("SELECT email FROM email_suppressions WHERE workspace_id = ");
        sql.bind(ws_arg(ws)).push(" AND email");
        sql.bind_in(List::Text(
            chunk.iter().map(|e| e.trim().to_lowercase()).collect(),
        ));
        for r in ex.fetch_all(sql).await? {
            out.extend(r.text("email")?);
        }
    }
    Ok(out)
}

/// Removes an address from the suppression list; false if it was not on it.
pub async fn unsuppress(ex: &mut impl Exec, ws: WorkspaceId, email: &str) -> Result<bool, Error> {
    let sql = Sql::new("DELETE FROM email_suppressions WHERE workspace_id = ")
        .arg(ws_arg(ws))
        .and(" AND email = ")
        .arg(Scalar::Text(email.trim().to_lowercase()));
    Ok(ex.execute(sql).await? > 0)
}

/// The suppression list: (email, reason, since), newest first.
pub async fn suppressions(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    limit: i64,
) -> Result<Vec<(String, String, DateTime<Utc>)>, Error> {
    let mut sql =
        Sql::new("SELECT email, reason, created_at FROM email_suppressions WHERE workspace_id = ");
    sql.bind(ws_arg(ws));
    sql.push(" ORDER BY created_at DESC, email LIMIT ")
        .push(&limit.max(1).to_string());
    ex.fetch_all(sql)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.text("email")?.unwrap_or_default(),
                r.text("reason")?.unwrap_or_default(),
                r.time("created_at")?
                    .ok_or_else(|| corrupt("suppression"))?,
            ))
        })
        .collect()
}

/// The workspace's public base URL for links in emails and its link-signing key
/// (hex); None until either was set.
pub async fn link_settings(
    ex: &mut impl Exec,
    ws: WorkspaceId,
) -> Result<Option<(String, String)>, Error> {
    let sql = Sql::new("SELECT public_url, link_key FROM campaign_settings WHERE workspace_id = ")
        .arg(ws_arg(ws));
    ex.fetch_optional(sql)
        .await?
        .map(|r| {
            Ok((
                r.text("public_url")?.unwrap_or_default(),
                r.text("link_key")?.unwrap_or_default(),
            ))
        })
        .transpose()
}

/// Stores the public URL (and, the first time, the given key; a stored key is kept so
/// links already sent stay valid).
pub async fn save_link_settings(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    public_url: Option<&str>,
    new_key: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut sql = insert(
        "campaign_settings",
        vec![
            ("workspace_id", ws_arg(ws)),
            ("public_url", Scalar::Text(public_url.unwrap_or("").into())),
            ("link_key", Scalar::Text(new_key.into())),
            ("updated_at", Scalar::Time(now)),
        ],
    );
    match public_url {
        Some(url) => {
            sql.push(" ON CONFLICT (workspace_id) DO UPDATE SET public_url = ")
                .bind(Scalar::Text(url.into()))
                .push(", updated_at = ")
                .bind(Scalar::Time(now));
        }
        None => {
            sql.push(" ON CONFLICT DO NOTHING");
        }
    }
    ex.execute(sql).await?;
    Ok(())
}
