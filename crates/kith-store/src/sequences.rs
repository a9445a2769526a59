//! Sequences (a series of emails with waits) and the enrolments of contacts in them.

use chrono::{DateTime, Utc};
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use uuid::Uuid;

use crate::campaigns::{all_of, corrupt, insert, one_of, time_or_null, update, ws_arg};
use crate::{Error, Exec, Row, Sql, WorkspaceId};

/// A series of emails with waits between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Steps as JSON: `[{"wait_minutes": 0, "template_id": "…"}, …]`.
    pub steps: Value,
    /// `opted_in` or `not_denied`, as for campaigns.
    pub consent_mode: String,
    /// A disabled sequence takes no new enrolments and sends nothing.
    pub enabled: bool,
    /// Starts at 1, +1 per change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl Sequence {
    fn from_row(r: &Row) -> Result<Sequence, Error> {
        let steps = r.text("steps")?.unwrap_or_else(|| "[]".into());
        Ok(Sequence {
            id: r.uuid("id")?.ok_or_else(|| corrupt("sequence"))?,
            name: r.text("name")?.unwrap_or_default(),
            steps: serde_json::from_str(&steps)
                .map_err(|e| Error::Corrupt(format!("sequence steps: {e}")))?,
            consent_mode: r.text("consent_mode")?.unwrap_or_default(),
            enabled: r.bool("enabled")?.unwrap_or(false),
            version: r.int("version")?.unwrap_or(1),
            created_at: r.time("created_at")?.ok_or_else(|| corrupt("sequence"))?,
            updated_at: r.time("updated_at")?.ok_or_else(|| corrupt("sequence"))?,
        })
    }

    fn columns(&self) -> Vec<(&'static str, Scalar)> {
        vec![
            ("name", Scalar::Text(self.name.clone())),
            ("steps", Scalar::Text(self.steps.to_string())),
            ("consent_mode", Scalar::Text(self.consent_mode.clone())),
            ("enabled", Scalar::Bool(self.enabled)),
            ("updated_at", Scalar::Time(self.updated_at)),
        ]
    }
}

/// The workspace's sequences by name.
pub async fn sequences(ex: &mut impl Exec, ws: WorkspaceId) -> Result<Vec<Sequence>, Error> {
    all_of(ex, "sequences", ws, "name, id", Sequence::from_row).await
}

/// One sequence of the workspace.
pub async fn sequence(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Option<Sequence>, Error> {
    one_of(ex, "sequences", ws, id, Sequence::from_row).await
}

/// Inserts a sequence as given.
pub async fn insert_sequence(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    s: &Sequence,
) -> Result<(), Error> {
    let mut cols = s.columns();
    cols.extend([
        ("id", Scalar::Uuid(s.id)),
        ("workspace_id", ws_arg(ws)),
        ("version", Scalar::Int(s.version)),
        ("created_at", Scalar::Time(s.created_at)),
    ]);
    ex.execute(insert("sequences", cols)).await?;
    Ok(())
}

/// Replaces a sequence if it is still at `expected_version` (false if not).
pub async fn update_sequence(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    s: &Sequence,
    expected_version: i64,
) -> Result<bool, Error> {
    let mut cols = s.columns();
    cols.push(("version", Scalar::Int(expected_version + 1)));
    let mut sql = update("sequences", cols);
    sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
    sql.push(" AND id = ").bind(Scalar::Uuid(s.id));
    sql.push(" AND version = ")
        .bind(Scalar::Int(expected_version));
    Ok(ex.execute(sql).await? > 0)
}

/// A contact's place in a sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment {
    /// The sequence.
    pub sequence_id: Uuid,
    /// The contact.
    pub contact_id: Uuid,
    /// The next step to send (0-based); equal to the number of steps when completed.
    pub step: i64,
    /// active, completed or exited.
    pub status: String,
    /// When the next step is due.
    pub next_at: Option<DateTime<Utc>>,
    /// Why it exited: replied, ordered, unsubscribed, removed.
    pub exit_reason: Option<String>,
    /// When the contact was enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Enrolment {
    fn from_row(r: &Row) -> Result<Enrolment, Error> {
        Ok(Enrolment {
            sequence_id: r.uuid("sequence_id")?.ok_or_else(|| corrupt("enrolment"))?,
            contact_id: r.uuid("contact_id")?.ok_or_else(|| corrupt("enrolment"))?,
            step: r.int("step")?.unwrap_or(0),
            status: r.text("status")?.unwrap_or_default(),
            next_at: r.time("next_at")?,
            exit_reason: r.text("exit_reason")?,
            enrolled_at: r.time("enrolled_at")?.ok_or_else(|| corrupt("enrolment"))?,
            updated_at: r.time("updated_at")?.ok_or_else(|| corrupt("enrolment"))?,
        })
    }
}

/// Enrols a contact (its first step due at `next_at`); false if it is or was enrolled
/// already: nobody gets a series twice.
pub async fn enrol(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    sequence_id: Uuid,
    contact_id: Uuid,
    next_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let mut sql = insert(
        "sequence_enrolments",
        vec![
            ("workspace_id", ws_arg(ws)),
            ("sequence_id", Scalar::Uuid(sequence_id)),
            ("contact_id", Scalar::Uuid(contact_id)),
            ("step", Scalar::Int(0)),
            ("status", Scalar::Text("active".into())),
            ("next_at", Scalar::Time(next_at)),
            ("enrolled_at", Scalar::Time(now)),
            ("updated_at", Scalar::Time(now)),
        ],
    );
    sql.push(" ON CONFLICT DO NOTHING");
    Ok(ex.execute(sql).await? > 0)
}

/// Moves an enrolment to `step` with `status` (only while it is active).
pub async fn advance(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    e: &Enrolment,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let mut sql = update(
        "sequence_enrolments",
        vec![
            ("step", Scalar::Int(e.step)),
            ("status", Scalar::Text(e.status.clone())),
            ("next_at", time_or_null(e.next_at)),
            (
                "exit_reason",
                e.exit_reason
                    .clone()
                    .map_or(Scalar::Null(ScalarType::Text), Scalar::Text),
            ),
            ("updated_at", Scalar::Time(now)),
        ],
    );
    sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
    sql.push(" AND sequence_id = ")
        .bind(Scalar::Uuid(e.sequence_id));
    sql.push(" AND contact_id = ")
        .bind(Scalar::Uuid(e.contact_id));
    sql.push(" AND status = 'active'");
    Ok(ex.execute(sql).await? > 0)
}

/// Ends a contact's active enrolments (in one sequence, or all) with `reason`; returns
/// how many ended.
pub async fn exit(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    contact_id: Uuid,
    sequence_id: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let mut sql = Sql::new(
        "UPDATE sequence_enrolments SET status = 'exited', next_at = NULL, exit_reason = ",
    );
    sql.bind(Scalar::Text(reason.into()));
    sql.push(", updated_at = ").bind(Scalar::Time(now));
    sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
    sql.push(" AND contact_id = ")
        .bind(Scalar::Uuid(contact_id));
    sql.push(" AND status = 'active'");
    if let Some(s) = sequence_id {
        sql.push(" AND sequence_id = ").bind(Scalar::Uuid(s));
    }
    ex.execute(sql).await
}

/// Active enrolments of the workspace whose next step is due, oldest first.
pub async fn due(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Enrolment>, Error> {
    let mut sql =
        Sql::new("SELECT * FROM sequence_enrolments WHERE status = 'active' AND next_at <= ");
    sql.bind(Scalar::Time(now));
    sql.push(" AND workspace_id = ").bind(ws_arg(ws));
    sql.push(" ORDER BY next_at LIMIT ")
        .push(&limit.max(1).to_string());
    ex.fetch_all(sql)
        .await?
        .iter()
        .map(Enrolment::from_row)
        .collect()
}

/// A sequence's enrolments (or a contact's, with `contact_id`), newest first.
pub async fn enrolments(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    sequence_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Enrolment>, Error> {
    let mut sql = Sql::new("SELECT * FROM sequence_enrolments WHERE workspace_id = ");
    sql.bind(ws_arg(ws));
    if let Some(s) = sequence_id {
        sql.push(" AND sequence_id = ").bind(Scalar::Uuid(s));
    }
    if let Some(c) = contact_id {
        sql.push(" AND contact_id = ").bind(Scalar::Uuid(c));
    }
    sql.push(" ORDER BY enrolled_at DESC LIMIT ")
        .push(&limit.max(1).to_string());
    ex.fetch_all(sql)
        .await?
        .iter()
        .map(Enrolment::from_row)
        .collect()
}
