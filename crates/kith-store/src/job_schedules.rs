//! Recurring schedules: a named job kind and payload per workspace, due every so many
//! seconds or daily at a time of the workspace's clock. A worker's scheduler takes the
//! due ones (locked, so two nodes do not both take one), enqueues one job per tick and
//! moves the schedule to its next tick in the same transaction.

use chrono::{DateTime, NaiveTime, Utc};
use kith_core::jobs::Cadence;
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Dialect, Exec, Row, Sql, Tx};
use crate::{Error, WorkspaceId};

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Its workspace.
    pub workspace: WorkspaceId,
    /// Unique name in the workspace (`dedup.scan`).
    pub name: String,
    /// Kind of the jobs it enqueues.
    pub kind: String,
    /// Payload of the jobs it enqueues.
    pub payload: Value,
    /// When it is due.
    pub cadence: Cadence,
    /// Off: it enqueues nothing.
    pub enabled: bool,
    /// The next tick.
    pub next_run_at: DateTime<Utc>,
    /// The last tick enqueued.
    pub last_run_at: Option<DateTime<Utc>>,
    /// The job that tick enqueued.
    pub last_job_id: Option<Uuid>,
}

/// What a schedule does and when (without its state).
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// Unique name in the workspace.
    pub name: String,
    /// Kind of the jobs it enqueues.
    pub kind: String,
    /// Their payload.
    pub payload: Value,
    /// When.
    pub cadence: Cadence,
    /// On or off.
    pub enabled: bool,
}

const COLUMNS: &str = "s.workspace_id, s.name, s.kind, s.payload, s.every_secs, s.daily_at, s.enabled, s.next_run_at, s.last_run_at, s.last_job_id";

fn cadence_args(c: &Cadence) -> (Scalar, Scalar) {
    match c {
        Cadence::Every(secs) => (Scalar::Int(*secs as i64), Scalar::Null(ScalarType::Text)),
        Cadence::DailyAt(t) => (
            Scalar::Null(ScalarType::Int),
            Scalar::Text(t.format("%H:%M").to_string()),
        ),
    }
}

fn from_row(r: &Row) -> Result<Schedule, Error> {
    let corrupt = |c: &str| Error::Corrupt(format!("schedule {c}"));
    let cadence = match (r.int("every_secs")?, r.text("daily_at")?) {
        (Some(secs), None) if secs > 0 => Cadence::Every(secs as u64),
        (None, Some(at)) => Cadence::DailyAt(
            NaiveTime::parse_from_str(&at, "%H:%M").map_err(|_| corrupt("daily_at"))?,
        ),
        _ => return Err(corrupt("cadence")),
    };
    Ok(Schedule {
        workspace: WorkspaceId(
            r.uuid("workspace_id")?
                .ok_or_else(|| corrupt("workspace"))?,
        ),
        name: r.text("name")?.ok_or_else(|| corrupt("name"))?,
        kind: r.text("kind")?.ok_or_else(|| corrupt("kind"))?,
        payload: r.json("payload")?.unwrap_or(Value::Null),
        cadence,
        enabled: r.bool("enabled")?.unwrap_or(false),
        next_run_at: r
            .time("next_run_at")?
            .ok_or_else(|| corrupt("next_run_at"))?,
        last_run_at: r.time("last_run_at")?,
        last_job_id: r.uuid("last_job_id")?,
    })
}

/// The part of an upsert that keeps a schedule's next tick unless its cadence changed.
const ON_CONFLICT_UPDATE: &str = " ON CONFLICT (workspace_id, name) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, enabled = excluded.enabled, updated_at = excluded.updated_at, next_run_at = CASE WHEN job_schedules.every_secs IS NOT DISTINCT FROM excluded.every_secs AND job_schedules.daily_at IS NOT DISTINCT FROM excluded.daily_at THEN job_schedules.next_run_at ELSE excluded.next_run_at END, every_secs = excluded.every_secs, daily_at = excluded.daily_at";

/// Creates or changes `ws`'s schedule `def.name`; its first tick is `first_run_at`
/// (kept as it was when only the kind, payload or switch changed).
pub async fn save(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    def: &Definition,
    first_run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (every, daily) = cadence_args(&def.cadence);
    let mut sql = Sql::new("INSERT INTO job_schedules (workspace_id, name, kind, payload, every_secs, daily_at, enabled, next_run_at, created_at, updated_at) VALUES (");
    sql.bind_list([
        Scalar::Uuid(ws.0),
        Scalar::Text(def.name.clone()),
        Scalar::Text(def.kind.clone()),
        Scalar::Json(def.payload.clone()),
        every,
        daily,
        Scalar::Bool(def.enabled),
        Scalar::Time(first_run_at),
        Scalar::Time(now),
        Scalar::Time(now),
    ])
    .push(")")
    .push(ON_CONFLICT_UPDATE);
    ex.execute(sql).await?;
    Ok(())
}

/// Gives every workspace that lacks it the interval schedule `def` (one statement, so a
/// scheduler can run it each pass to cover workspaces created since). Then brings the
/// cadence and switch of existing ones in line with `def`. Returns schedules added.
pub async fn save_for_every_workspace(
    ex: &mut impl Exec,
    def: &Definition,
    first_run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let (every, daily) = cadence_args(&def.cadence);
    let mut sql = Sql::new("INSERT INTO job_schedules (workspace_id, name, kind, payload, every_secs, daily_at, enabled, next_run_at, created_at, updated_at) SELECT id, ");
    sql.bind_list([
        Scalar::Text(def.name.clone()),
        Scalar::Text(def.kind.clone()),
        Scalar::Json(def.payload.clone()),
        every.clone(),
        daily.clone(),
        Scalar::Bool(def.enabled),
        Scalar::Time(first_run_at),
        Scalar::Time(now),
        Scalar::Time(now),
    ]);
    // `WHERE true`: SQLite's parser needs it to tell the SELECT from the ON CONFLICT.
    sql.push(" FROM workspaces WHERE true ON CONFLICT (workspace_id, name) DO NOTHING");
    let added = ex.execute(sql).await?;
    let mut sql = Sql::new("UPDATE job_schedules SET every_secs = ");
    sql.bind(every.clone())
        .push(", daily_at = ")
        .bind(daily.clone())
        .push(", enabled = ")
        .bind(Scalar::Bool(def.enabled))
        .push(", next_run_at = ")
        .bind(Scalar::Time(first_run_at))
        .push(", updated_at = ")
        .bind(Scalar::Time(now))
        .push(" WHERE name = ")
        .bind(Scalar::Text(def.name.clone()))
        .push(" AND NOT (every_secs IS NOT DISTINCT FROM ")
        .bind(every.clone())
        .push(" AND daily_at IS NOT DISTINCT FROM ")
        .bind(daily)
        .push(")");
    ex.execute(sql).await?;
    let mut sql = Sql::new("UPDATE job_schedules SET enabled = ");
    sql.bind(Scalar::Bool(def.enabled))
        .push(", updated_at = ")
        .bind(Scalar::Time(now))
        .push(" WHERE name = ")
        .bind(Scalar::Text(def.name.clone()))
        .push(" AND enabled <> ")
        .bind(Scalar::Bool(def.enabled));
    ex.execute(sql).await?;
    Ok(added)
}

/// Due, enabled schedules with their workspace's time zone, locked for this
/// transaction (others skip them).
pub async fn due(
    tx: &mut Tx,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Schedule, String)>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(", w.time_zone FROM job_schedules s JOIN workspaces w ON w.id = s.workspace_id WHERE s.enabled = TRUE AND s.next_run_at <= ")
        .bind(Scalar::Time(now))
        .push(" ORDER BY s.next_run_at LIMIT ")
        .bind(Scalar::Int(limit));
    if tx.dialect() == Dialect::Postgres {
        sql.push(" FOR UPDATE OF s SKIP LOCKED");
    }
    let rows = tx.fetch_all(sql).await?;
    rows.iter()
        .map(|r| Ok((from_row(r)?, r.text("time_zone")?.unwrap_or_default())))
        .collect()
}

/// Moves a schedule past the tick `ran_at`, which enqueued `job`.
pub async fn advance(
    tx: &mut Tx,
    ws: WorkspaceId,
    name: &str,
    ran_at: DateTime<Utc>,
    job: Uuid,
    next: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    tx.execute(
        Sql::new("UPDATE job_schedules SET last_run_at = ")
            .arg(Scalar::Time(ran_at))
            .and(", last_job_id = ")
            .arg(Scalar::Uuid(job))
            .and(", next_run_at = ")
            .arg(Scalar::Time(next))
            .and(", updated_at = ")
            .arg(Scalar::Time(now))
            .and(" WHERE workspace_id = ")
            .arg(Scalar::Uuid(ws.0))
            .and(" AND name = ")
            .arg(Scalar::Text(name.into())),
    )
    .await?;
    Ok(())
}

/// `ws`'s schedules by name.
pub async fn list(ex: &mut impl Exec, ws: WorkspaceId) -> Result<Vec<Schedule>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM job_schedules s WHERE s.workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" ORDER BY s.name");
    ex.fetch_all(sql).await?.iter().map(from_row).collect()
}
