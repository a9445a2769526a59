//! The 360° view: everything that happened around a contact, company or deal, newest first.

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::{Exec, Sql};
use crate::records::{decode, select_columns};
use crate::{Error, WorkspaceId};

/// One entry of a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// `activity`, `task`, `email_send`, `stage_change`, `created`, `field_change`, `deleted`,
    /// `restored`, `workflow_run`.
    pub kind: &'static str,
    /// Details as the API shows them.
    pub data: Value,
}

/// Which column of activities and tasks links them to `object`.
fn link_column(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::Company => "company_id",
        ObjectKind::Deal => "deal_id",
        _ => "contact_id",
    }
}

/// The newest `limit` entries about a record, before `before` if given.
pub async fn timeline(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    id: Uuid,
    before: Option<DateTime<Utc>>,
    limit: u32,
) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    let ws_s = Scalar::Uuid(ws.0);
    let link = link_column(object);
    let before_clause = |sql: &mut Sql, col: &str| {
        if let Some(b) = before {
            sql.push(" AND ")
                .push(col)
                .push(" < ")
                .bind(Scalar::Time(b));
        }
    };
    // Activities (a company also sees those logged on its contacts).
    for (child, time_col) in [
        (ObjectKind::Activity, "occurred_at"),
        (ObjectKind::Task, "created_at"),
    ] {
        let mut sql = Sql::new("SELECT ");
        sql.push(&select_columns(child))
            .push(" FROM ")
            .push(child.table());
        sql.push(" t WHERE t.workspace_id = ")
            .bind(ws_s.clone())
            .push(" AND t.deleted_at IS NULL AND (t.");
        sql.push(link).push(" = ").bind(Scalar::Uuid(id));
        if object == ObjectKind::Company {
            sql.push(" OR t.contact_id IN (SELECT c.id FROM contacts c WHERE c.company_id = ")
                .bind(Scalar::Uuid(id));
            sql.push(")");
        }
        sql.push(")");
        before_clause(&mut sql, &format!("t.{time_col}"));
        sql.push(" ORDER BY t.")
            .push(time_col)
            .push(" DESC LIMIT ")
            .bind(Scalar::Int(i64::from(limit)));
        for row in ex.fetch_all(sql).await? {
            let rec = decode(child, &row)?;
            let at = match rec.get(time_col) {
                Some(Scalar::Time(t)) => *t,
                _ => rec.created_at,
            };
            out.push(Entry {
                at,
                kind: child.singular(),
                data: rec.to_json(),
            });
        }
    }
    // Campaign and sequence emails a contact was sent (or that failed).
    if object == ObjectKind::Contact {
        let mut sql = Sql::new(
            "SELECT s.source, s.source_id, s.step, s.status, s.error, s.created_at, s.sent_at, s.opened_at, \
             s.clicked_at, s.unsubscribed_at, COALESCE(c.name, q.name) AS source_name FROM email_sends s \
             LEFT JOIN campaigns c ON c.id = s.source_id LEFT JOIN sequences q ON q.id = s.source_id \
             WHERE s.status IN ('sent', 'failed', 'bounced') AND s.workspace_id = ",
        );
        sql.bind(ws_s.clone())
            .push(" AND s.contact_id = ")
            .bind(Scalar::Uuid(id));
        before_clause(&mut sql, "s.created_at");
        sql.push(" ORDER BY s.created_at DESC LIMIT ")
            .bind(Scalar::Int(i64::from(limit)));
        for row in ex.fetch_all(sql).await? {
            out.push(Entry {
                at: row
                    .time("sent_at")?
                    .or(row.time("created_at")?)
                    .unwrap_or_default(),
                kind: "email_send",
                data: json!({
                    "source": row.text("source")?,
                    "source_id": row.uuid("source_id")?,
                    "source_name": row.text("source_name")?,
                    "step": row.int("step")?,
                    "status": row.text("status")?,
                    "error": row.text("error")?,
                    "opened_at": row.time("opened_at")?,
                    "clicked_at": row.time("clicked_at")?,
                    "unsubscribed_at": row.time("unsubscribed_at")?,
                }),
            });
        }
    }
    // Deal stage changes.
    let mut sql = Sql::new(
        "SELECT h.deal_id, h.from_stage_id, h.to_stage_id, h.changed_at, h.changed_by, d.name AS deal_name, \
         fs.name AS from_name, ts.name AS to_name FROM deal_stage_changes h JOIN deals d ON d.id = h.deal_id \
         LEFT JOIN stages fs ON fs.id = h.from_stage_id LEFT JOIN stages ts ON ts.id = h.to_stage_id WHERE h.workspace_id = ",
    );
    sql.bind(ws_s.clone()).push(" AND ");
    match object {
        ObjectKind::Deal => sql.push("h.deal_id = ").bind(Scalar::Uuid(id)),
        ObjectKind::Company => sql.push("d.company_id = ").bind(Scalar::Uuid(id)),
        _ => sql.push("d.contact_id = ").bind(Scalar::Uuid(id)),
    };
    before_clause(&mut sql, "h.changed_at");
    sql.push(" ORDER BY h.changed_at DESC LIMIT ")
        .bind(Scalar::Int(i64::from(limit)));
    for row in ex.fetch_all(sql).await? {
        let at = row.time("changed_at")?.unwrap_or_default();
        out.push(Entry {
            at,
            kind: "stage_change",
            data: json!({
                "deal_id": row.uuid("deal_id")?,
                "deal_name": row.text("deal_name")?,
                "from_stage_id": row.uuid("from_stage_id")?,
                "from_stage": row.text("from_name")?,
                "to_stage_id": row.uuid("to_stage_id")?,
                "to_stage": row.text("to_name")?,
                "by": row.uuid("changed_by")?,
            }),
        });
    }
    // The record's own history from the audit log.
    let mut sql =
        Sql::new("SELECT at, actor_id, action, changes FROM audit_log WHERE workspace_id = ");
    sql.bind(ws_s)
        .push(" AND record_id = ")
        .bind(Scalar::Uuid(id));
    before_clause(&mut sql, "at");
    sql.push(" ORDER BY at DESC, id DESC LIMIT ")
        .bind(Scalar::Int(i64::from(limit)));
    for row in ex.fetch_all(sql).await? {
        let at = row.time("at")?.unwrap_or_default();
        let action = row.text("action")?.unwrap_or_default();
        let kind = match action.as_str() {
            "create" => "created",
            "update" => "field_change",
            "delete" => "deleted",
            _ => "restored",
        };
        let mut data = json!({"by": row.uuid("actor_id")?});
        if kind == "field_change" {
            data["changes"] = row.json("changes")?.unwrap_or(Value::Null);
        }
        out.push(Entry { at, kind, data });
    }
    // Workflow runs about the record.
    let of = crate::workflows::runs::Of::Record(id);
    for run in crate::workflows::runs::list(ex, ws, of, before, i64::from(limit)).await? {
        out.push(Entry {
            at: run.started_at,
            kind: "workflow_run",
            data: json!({
                "run_id": run.id,
                "workflow_id": run.workflow_id,
                "workflow": run.workflow_name,
                "status": run.status,
                "steps": run.steps,
                "finished_at": run.finished_at,
            }),
        });
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out.truncate(limit as usize);
    Ok(out)
}
