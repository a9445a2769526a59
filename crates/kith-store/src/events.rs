//! The audit log and the outbox of domain events: every change writes both in its own
//! transaction, and the events carry the workflow that caused them, if any.

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Exec, Sql, Tx};
use crate::{Error, WorkspaceId};

fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

/// One entry of the audit log.
pub struct AuditEntry<'a> {
    /// Who did it (None: the system).
    pub actor: Option<Uuid>,
    /// `create`, `update`, `delete`, `restore`.
    pub action: &'a str,
    /// Object changed.
    pub object: ObjectKind,
    /// Record changed.
    pub record_id: Uuid,
    /// Field → {"from", "to"} for updates; the new record for creates.
    pub changes: Value,
}

/// Writes an audit entry and the matching domain event (`contact.updated` …) in `tx`,
/// so that the change, its audit trail and its event commit or vanish together.
pub async fn audit_and_emit(
    tx: &mut Tx,
    ws: WorkspaceId,
    now: DateTime<Utc>,
    e: AuditEntry<'_>,
) -> Result<(), Error> {
    let mut sql = Sql::new("INSERT INTO audit_log (id, workspace_id, at, actor_id, action, object, record_id, changes) VALUES (");
    sql.bind(Scalar::Uuid(Uuid::now_v7()))
        .push(", ")
        .bind(ws_arg(ws))
        .push(", ")
        .bind(Scalar::Time(now));
    sql.push(", ").bind(
        e.actor
            .map(Scalar::Uuid)
            .unwrap_or(Scalar::Null(ScalarType::Uuid)),
    );
    sql.push(", ")
        .bind(Scalar::Text(e.action.into()))
        .push(", ")
        .bind(Scalar::Text(e.object.singular().into()));
    sql.push(", ")
        .bind(Scalar::Uuid(e.record_id))
        .push(", ")
        .bind(Scalar::Json(e.changes.clone()))
        .push(")");
    tx.execute(sql).await?;
    let kind = format!("{}.{}", e.object.singular(), past_tense(e.action));
    emit(
        tx,
        ws,
        now,
        &kind,
        e.object,
        e.record_id,
        serde_json::json!({"actor_id": e.actor, "changes": e.changes}),
    )
    .await
}

pub(crate) fn past_tense(action: &str) -> &str {
    match action {
        "create" => "created",
        "update" => "updated",
        "delete" => "deleted",
        "restore" => "restored",
        other => other,
    }
}

/// Which workflow run is writing: the events its writes cause carry it, so that the
/// dispatcher does not feed a workflow its own changes (and stops long chains).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cause {
    /// The workflow whose action writes.
    pub workflow_id: Uuid,
    /// How many runs led here (1: started by a person's change or a scan).
    pub depth: i64,
}

tokio::task_local! {
    /// Set around a workflow action's writes (see [`Cause`]).
    pub static CAUSE: Cause;
}

/// Adds the current [`CAUSE`], if any, to an event's payload.
pub(crate) fn stamp_cause(payload: &mut Value) {
    if let (Ok(c), Value::Object(m)) = (CAUSE.try_with(|c| *c), payload) {
        m.insert(
            "caused_by_workflow".into(),
            Value::String(c.workflow_id.to_string()),
        );
        m.insert("workflow_depth".into(), Value::from(c.depth));
    }
}

/// Appends a domain event to the outbox.
pub async fn emit(
    tx: &mut Tx,
    ws: WorkspaceId,
    now: DateTime<Utc>,
    kind: &str,
    object: ObjectKind,
    record_id: Uuid,
    mut payload: Value,
) -> Result<(), Error> {
    stamp_cause(&mut payload);
    let mut sql = Sql::new(
        "INSERT INTO events (id, workspace_id, at, kind, object, record_id, payload) VALUES (",
    );
    sql.bind(Scalar::Uuid(Uuid::now_v7()))
        .push(", ")
        .bind(ws_arg(ws))
        .push(", ")
        .bind(Scalar::Time(now));
    sql.push(", ")
        .bind(Scalar::Text(kind.into()))
        .push(", ")
        .bind(Scalar::Text(object.singular().into()));
    sql.push(", ")
        .bind(Scalar::Uuid(record_id))
        .push(", ")
        .bind(Scalar::Json(payload))
        .push(")");
    tx.execute(sql).await?;
    Ok(())
}

/// Deletes up to `limit` events dispatched before `before` (the outbox's one consumer
/// has seen them; the audit log keeps the history): how many went. Events not yet
/// dispatched are never touched.
pub async fn prune_processed(
    db: &crate::Db,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<u64, Error> {
    db.clone()
        .execute(
            Sql::new("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE processed_at < ")
                .arg(Scalar::Time(before))
                .and(" LIMIT ")
                .arg(Scalar::Int(limit))
                .and(")"),
        )
        .await
}
