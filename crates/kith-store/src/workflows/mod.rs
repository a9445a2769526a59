//! Workflows as stored: definitions with their version history, the outbox events the
//! dispatcher takes (by `processed_at`, so an event committed late is still seen), the
//! runs, the records the periodic scans find, and whether one record passes a filter.

pub mod runs;
pub mod scans;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use kith_core::filter::Resolved;
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Dialect, Exec, Row, Sql, Tx};
use crate::listing::compile_for;
use crate::{Error, WorkspaceId};

/// A workflow as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// Id.
    pub id: Uuid,
    /// Its workspace.
    pub workspace: WorkspaceId,
    /// Name.
    pub name: String,
    /// Runs when triggered.
    pub enabled: bool,
    /// The trigger's `type`.
    pub trigger_type: String,
    /// The definition's JSON (name, trigger, conditions, actions).
    pub definition: Value,
    /// Webhook signing secret.
    pub secret: String,
    /// Bumped by every saved definition.
    pub version: i64,
    /// Who created it (the actor of its actions).
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, workspace_id, name, enabled, trigger_type, definition, secret, version, created_by, created_at, updated_at";

fn decode(r: &Row) -> Result<Workflow, Error> {
    Ok(Workflow {
        id: r.uuid("id")?.unwrap_or_default(),
        workspace: WorkspaceId(r.uuid("workspace_id")?.unwrap_or_default()),
        name: r.text("name")?.unwrap_or_default(),
        enabled: r.bool("enabled")?.unwrap_or(false),
        trigger_type: r.text("trigger_type")?.unwrap_or_default(),
        definition: r.json("definition")?.unwrap_or(Value::Null),
        secret: r.text("secret")?.unwrap_or_default(),
        version: r.int("version")?.unwrap_or(1),
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?.unwrap_or_default(),
        updated_at: r.time("updated_at")?.unwrap_or_default(),
    })
}

/// Stores a new workflow and its version 1.
pub async fn insert(tx: &mut Tx, w: &Workflow) -> Result<(), Error> {
    let mut sql = Sql::new("INSERT INTO workflows (");
    sql.push(COLUMNS).push(") VALUES (");
    sql.bind_list([
        Scalar::Uuid(w.id),
        Scalar::Uuid(w.workspace.0),
        Scalar::Text(w.name.clone()),
        Scalar::Bool(w.enabled),
        Scalar::Text(w.trigger_type.clone()),
        Scalar::Json(w.definition.clone()),
        Scalar::Text(w.secret.clone()),
        Scalar::Int(w.version),
        w.created_by
            .map(Scalar::Uuid)
            .unwrap_or(Scalar::Null(kith_core::ScalarType::Uuid)),
        Scalar::Time(w.created_at),
        Scalar::Time(w.updated_at),
    ]);
    sql.push(")");
    tx.execute(sql).await.map_err(|e| e.unique_as("name"))?;
    add_version(tx, w, w.created_by).await
}

async fn add_version(tx: &mut Tx, w: &Workflow, by: Option<Uuid>) -> Result<(), Error> {
    let mut sql = Sql::new("INSERT INTO workflow_versions (workflow_id, version, workspace_id, definition, saved_by, saved_at) VALUES (");
    sql.bind_list([
        Scalar::Uuid(w.id),
        Scalar::Int(w.version),
        Scalar::Uuid(w.workspace.0),
        Scalar::Json(w.definition.clone()),
        by.map(Scalar::Uuid)
            .unwrap_or(Scalar::Null(kith_core::ScalarType::Uuid)),
        Scalar::Time(w.updated_at),
    ]);
    sql.push(")");
    tx.execute(sql).await?;
    Ok(())
}

/// Saves a changed definition as version `w.version` if the stored one is still
/// `w.version - 1`; false when someone saved first.
pub async fn update(tx: &mut Tx, w: &Workflow, by: Uuid) -> Result<bool, Error> {
    let mut sql = Sql::new("UPDATE workflows SET name = ");
    sql.bind(Scalar::Text(w.name.clone()))
        .push(", trigger_type = ")
        .bind(Scalar::Text(w.trigger_type.clone()))
        .push(", definition = ")
        .bind(Scalar::Json(w.definition.clone()))
        .push(", enabled = ")
        .bind(Scalar::Bool(w.enabled))
        .push(", version = ")
        .bind(Scalar::Int(w.version))
        .push(", updated_at = ")
        .bind(Scalar::Time(w.updated_at))
        .push(" WHERE workspace_id = ")
        .bind(Scalar::Uuid(w.workspace.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(w.id))
        .push(" AND deleted_at IS NULL AND version = ")
        .bind(Scalar::Int(w.version - 1));
    if tx.execute(sql).await.map_err(|e| e.unique_as("name"))? != 1 {
        return Ok(false);
    }
    add_version(tx, w, Some(by)).await?;
    Ok(true)
}

/// What [`set_state`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Switched on.
    On,
    /// Switched off.
    Off,
    /// Deleted (and off); its runs and versions stay for the records' timelines.
    Deleted,
}

/// Switches a live workflow on or off, or deletes it; false when there is no such workflow.
pub async fn set_state(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
    state: State,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let mut sql = Sql::new("UPDATE workflows SET enabled = ");
    sql.bind(Scalar::Bool(state == State::On))
        .push(if state == State::Deleted {
            ", deleted_at = "
        } else {
            ", updated_at = "
        })
        .bind(Scalar::Time(now))
        .push(" WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id))
        .push(" AND deleted_at IS NULL");
    Ok(ex.execute(sql).await? == 1)
}

/// One live workflow.
pub async fn get(ex: &mut impl Exec, ws: WorkspaceId, id: Uuid) -> Result<Option<Workflow>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM workflows WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id))
        .push(" AND deleted_at IS NULL");
    ex.fetch_optional(sql)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// The live workflows of `ws` by name; with `enabled_types`, only enabled ones whose
/// trigger is one of those.
pub async fn list(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    enabled_types: Option<&[&str]>,
) -> Result<Vec<Workflow>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM workflows WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND deleted_at IS NULL");
    if let Some(types) = enabled_types {
        if types.is_empty() {
            return Ok(vec![]);
        }
        sql.push(" AND enabled = ")
            .bind(Scalar::Bool(true))
            .push(" AND trigger_type IN (")
            .bind_list(types.iter().map(|t| Scalar::Text(t.to_string())))
            .push(")");
    }
    sql.push(" ORDER BY name, id");
    ex.fetch_all(sql).await?.iter().map(decode).collect()
}

/// One saved version of a workflow: (version, definition, saved by, saved at).
pub type Version = (i64, Value, Option<Uuid>, DateTime<Utc>);

/// Every saved version of a workflow, newest first.
pub async fn versions(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Vec<Version>, Error> {
    let mut sql = Sql::new("SELECT version, definition, saved_by, saved_at FROM workflow_versions WHERE workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND workflow_id = ")
        .bind(Scalar::Uuid(id))
        .push(" ORDER BY version DESC");
    let mut out = Vec::new();
    for r in ex.fetch_all(sql).await? {
        out.push((
            r.int("version")?.unwrap_or(0),
            r.json("definition")?.unwrap_or(Value::Null),
            r.uuid("saved_by")?,
            r.time("saved_at")?.unwrap_or_default(),
        ));
    }
    Ok(out)
}

/// The definition of `version` of a workflow (deleted or not: runs outlive it).
pub async fn version(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
    version: i64,
) -> Result<Option<Value>, Error> {
    let mut sql = Sql::new("SELECT definition FROM workflow_versions WHERE workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND workflow_id = ")
        .bind(Scalar::Uuid(id))
        .push(" AND version = ")
        .bind(Scalar::Int(version));
    Ok(ex
        .fetch_optional(sql)
        .await?
        .map(|r| r.json("definition"))
        .transpose()?
        .flatten())
}

/// The next turn of a workflow's round-robin (0, 1, 2, …), taken atomically.
pub async fn next_turn(tx: &mut Tx, ws: WorkspaceId, id: Uuid) -> Result<i64, Error> {
    let mut sql =
        Sql::new("UPDATE workflows SET round_robin = round_robin + 1 WHERE workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id))
        .push(" RETURNING round_robin");
    Ok(tx
        .fetch_optional(sql)
        .await?
        .and_then(|r| r.int("round_robin").ok().flatten())
        .unwrap_or(1)
        - 1)
}

/// An outbox event as the dispatcher reads it.
#[derive(Debug, Clone)]
pub struct Event {
    /// Id (UUIDv7: time order).
    pub id: Uuid,
    /// Workspace.
    pub workspace: WorkspaceId,
    /// `contact.updated`, `segment.entered`, …
    pub kind: String,
    /// The record's object (singular).
    pub object: String,
    /// The record.
    pub record_id: Uuid,
    /// Details (`changes`, `segment_id`, `caused_by_workflow`, `workflow_depth`).
    pub payload: Value,
}

/// Whether any event waits for dispatch (a read, so an idle poll takes no write lock).
pub async fn any_pending(ex: &mut impl Exec) -> Result<bool, Error> {
    let sql = Sql::new("SELECT 1 AS x FROM events WHERE processed_at IS NULL LIMIT 1");
    Ok(ex.fetch_optional(sql).await?.is_some())
}

/// Takes up to `limit` events not dispatched yet, oldest first; on PostgreSQL locked
/// for this transaction and skipped by other nodes.
pub async fn pending_events(tx: &mut Tx, limit: i64) -> Result<Vec<Event>, Error> {
    let mut sql = Sql::new(
        "SELECT id, workspace_id, kind, object, record_id, payload FROM events WHERE processed_at IS NULL ORDER BY id LIMIT ",
    );
    sql.bind(Scalar::Int(limit));
    if tx.dialect() == Dialect::Postgres {
        sql.push(" FOR UPDATE SKIP LOCKED");
    }
    let mut out = Vec::new();
    for r in tx.fetch_all(sql).await? {
        out.push(Event {
            id: r.uuid("id")?.unwrap_or_default(),
            workspace: WorkspaceId(r.uuid("workspace_id")?.unwrap_or_default()),
            kind: r.text("kind")?.unwrap_or_default(),
            object: r.text("object")?.unwrap_or_default(),
            record_id: r.uuid("record_id")?.unwrap_or_default(),
            payload: r.json("payload")?.unwrap_or(Value::Null),
        });
    }
    Ok(out)
}

/// Marks events dispatched.
pub async fn mark_processed(tx: &mut Tx, ids: &[Uuid], now: DateTime<Utc>) -> Result<(), Error> {
    for chunk in ids.chunks(500) {
        let mut sql = Sql::new("UPDATE events SET processed_at = ");
        sql.bind(Scalar::Time(now))
            .push(" WHERE id IN (")
            .bind_list(chunk.iter().map(|id| Scalar::Uuid(*id)))
            .push(")");
        tx.execute(sql).await?;
    }
    Ok(())
}

/// Which of the live records `ids` of `object` pass `filter` now: one query per 500.
pub async fn matching(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    ids: &[Uuid],
    filter: &Resolved,
) -> Result<HashSet<Uuid>, Error> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        let mut sql = Sql::new("SELECT t.id AS id FROM ");
        sql.push(object.table())
            .push(" t WHERE t.workspace_id = ")
            .bind(Scalar::Uuid(ws.0))
            .push(" AND t.id IN (")
            .bind_list(chunk.iter().map(|id| Scalar::Uuid(*id)))
            .push(") AND t.deleted_at IS NULL AND ");
        // One record: its related rows alone are read (see compile_for).
        let pin = (chunk.len() == 1).then(|| chunk[0]);
        compile_for(&mut sql, ex.dialect(), ws, filter, pin);
        for r in ex.fetch_all(sql).await? {
            out.extend(r.uuid("id")?);
        }
    }
    Ok(out)
}

/// Active users of `team` in `ws`, in a stable order.
pub async fn team_members(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    team: Uuid,
) -> Result<Vec<Uuid>, Error> {
    let mut sql = Sql::new("SELECT id FROM users WHERE workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND team_id = ")
        .bind(Scalar::Uuid(team))
        .push(" AND disabled = ")
        .bind(Scalar::Bool(false))
        .push(" ORDER BY email");
    let mut out = Vec::new();
    for r in ex.fetch_all(sql).await? {
        out.extend(r.uuid("id")?);
    }
    Ok(out)
}
