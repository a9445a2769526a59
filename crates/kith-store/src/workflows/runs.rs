//! Workflow runs: one per workflow and trigger occurrence (a unique key makes a second
//! insert a no-op), with each step's result saved as the run goes.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use uuid::Uuid;

use crate::bulk::insert_rows;
use crate::db::{Exec, Row, Sql, Tx};
use crate::{Error, WorkspaceId};

/// A run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Id.
    pub id: Uuid,
    /// Workspace.
    pub workspace: WorkspaceId,
    /// The workflow.
    pub workflow_id: Uuid,
    /// Its name (joined in by reads; empty on insert).
    pub workflow_name: String,
    /// The definition version it runs.
    pub version: i64,
    /// What started it: an event id or a scan's key.
    pub trigger_key: String,
    /// The event, when an event started it.
    pub event_id: Option<Uuid>,
    /// The record's object (singular).
    pub object: String,
    /// The record.
    pub record_id: Uuid,
    /// How many workflow runs led to this one (1: a person's or a scan's change).
    pub depth: i64,
    /// running, succeeded or failed.
    pub status: String,
    /// The step to do next.
    pub next_step: i64,
    /// Each step's result so far.
    pub steps: Value,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "r.id, r.workspace_id, r.workflow_id, w.name AS workflow_name, r.version, r.trigger_key, r.event_id, r.object, r.record_id, r.depth, r.status, r.next_step, r.steps, r.started_at, r.finished_at";

fn decode(r: &Row) -> Result<Run, Error> {
    Ok(Run {
        id: r.uuid("id")?.unwrap_or_default(),
        workspace: WorkspaceId(r.uuid("workspace_id")?.unwrap_or_default()),
        workflow_id: r.uuid("workflow_id")?.unwrap_or_default(),
        workflow_name: r.text("workflow_name")?.unwrap_or_default(),
        version: r.int("version")?.unwrap_or(1),
        trigger_key: r.text("trigger_key")?.unwrap_or_default(),
        event_id: r.uuid("event_id")?,
        object: r.text("object")?.unwrap_or_default(),
        record_id: r.uuid("record_id")?.unwrap_or_default(),
        depth: r.int("depth")?.unwrap_or(1),
        status: r.text("status")?.unwrap_or_default(),
        next_step: r.int("next_step")?.unwrap_or(0),
        steps: r.json("steps")?.unwrap_or(Value::Array(vec![])),
        started_at: r.time("started_at")?.unwrap_or_default(),
        finished_at: r.time("finished_at")?,
    })
}

const INSERT_COLUMNS: [&str; 13] = [
    "id",
    "workspace_id",
    "workflow_id",
    "version",
    "trigger_key",
    "event_id",
    "object",
    "record_id",
    "depth",
    "status",
    "next_step",
    "steps",
    "started_at",
];

fn row(run: &Run) -> Vec<Scalar> {
    vec![
        Scalar::Uuid(run.id),
        Scalar::Uuid(run.workspace.0),
        Scalar::Uuid(run.workflow_id),
        Scalar::Int(run.version),
        Scalar::Text(run.trigger_key.clone()),
        run.event_id
            .map(Scalar::Uuid)
            .unwrap_or(Scalar::Null(ScalarType::Uuid)),
        Scalar::Text(run.object.clone()),
        Scalar::Uuid(run.record_id),
        Scalar::Int(run.depth),
        Scalar::Text(run.status.clone()),
        Scalar::Int(run.next_step),
        Scalar::Json(run.steps.clone()),
        Scalar::Time(run.started_at),
    ]
}

/// Stores new runs (multi-row) except those whose workflow already has a run for their
/// trigger key; returns the ids of those stored.
pub async fn insert_many(tx: &mut Tx, list: &[Run]) -> Result<HashSet<Uuid>, Error> {
    let rows: Vec<Vec<Scalar>> = list.iter().map(row).collect();
    let tail = " ON CONFLICT (workflow_id, trigger_key) DO NOTHING";
    insert_rows(tx, "workflow_runs", &INSERT_COLUMNS, &rows, tail).await?;
    let mut stored = HashSet::new();
    for chunk in list.chunks(500) {
        let mut sql = Sql::new("SELECT id FROM workflow_runs WHERE id IN (");
        sql.bind_list(chunk.iter().map(|r| Scalar::Uuid(r.id)))
            .push(")");
        for r in tx.fetch_all(sql).await? {
            stored.extend(r.uuid("id")?);
        }
    }
    Ok(stored)
}

/// One run of `ws`.
pub async fn get(ex: &mut impl Exec, ws: WorkspaceId, id: Uuid) -> Result<Option<Run>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id WHERE r.workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND r.id = ")
        .bind(Scalar::Uuid(id));
    ex.fetch_optional(sql)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// Saves a run's progress: its steps, the next one, and (when finished) its outcome.
pub async fn save(ex: &mut impl Exec, run: &Run) -> Result<(), Error> {
    let mut sql = Sql::new("UPDATE workflow_runs SET steps = ");
    sql.bind(Scalar::Json(run.steps.clone()))
        .push(", next_step = ")
        .bind(Scalar::Int(run.next_step))
        .push(", status = ")
        .bind(Scalar::Text(run.status.clone()))
        .push(", finished_at = ")
        .bind(
            run.finished_at
                .map(Scalar::Time)
                .unwrap_or(Scalar::Null(ScalarType::Time)),
        )
        .push(" WHERE workspace_id = ")
        .bind(Scalar::Uuid(run.workspace.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(run.id));
    ex.execute(sql).await?;
    Ok(())
}

/// Which runs to list.
#[derive(Debug, Clone, Copy)]
pub enum Of {
    /// A workflow's history.
    Workflow(Uuid),
    /// Runs about one record (its timeline).
    Record(Uuid),
}

/// The newest `limit` runs of a workflow or about a record, before `before` if given.
pub async fn list(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    of: Of,
    before: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<Run>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id WHERE r.workspace_id = ")
        .bind(Scalar::Uuid(ws.0));
    match of {
        Of::Workflow(id) => sql.push(" AND r.workflow_id = ").bind(Scalar::Uuid(id)),
        Of::Record(id) => sql.push(" AND r.record_id = ").bind(Scalar::Uuid(id)),
    };
    if let Some(b) = before {
        sql.push(" AND r.started_at < ").bind(Scalar::Time(b));
    }
    sql.push(" ORDER BY r.started_at DESC, r.id DESC LIMIT ")
        .bind(Scalar::Int(limit));
    ex.fetch_all(sql).await?.iter().map(decode).collect()
}
