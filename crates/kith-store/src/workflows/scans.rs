//! What the periodic workflow scan finds: records whose date field is due, tasks that
//! became overdue, records with no activity for a while.

use chrono::{DateTime, NaiveDate, Utc};
use kith_core::objects::ObjectKind;
use kith_core::{Scalar, ScalarType};
use uuid::Uuid;

use crate::db::{Dialect, Exec, Sql};
use crate::{Error, WorkspaceId};

fn live(object: ObjectKind, ws: WorkspaceId) -> Sql {
    let mut sql = Sql::new(" FROM ");
    sql.push(object.table())
        .push(" t WHERE t.workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND t.deleted_at IS NULL");
    sql
}

/// Live records whose date `field` (a trusted built-in date column) is `date`, or with
/// `yearly` whose month and day are those of one of `dates` (the anniversaries due).
pub async fn dated(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    field: &'static str,
    yearly: bool,
    dates: &[NaiveDate],
) -> Result<Vec<(Uuid, NaiveDate)>, Error> {
    if dates.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = Sql::new("SELECT t.id AS id, t.");
    sql.push(field).push(" AS d");
    sql.append(live(object, ws));
    sql.push(" AND ");
    if yearly {
        match ex.dialect() {
            Dialect::Sqlite => sql.push("strftime('%m-%d', t.").push(field).push(")"),
            Dialect::Postgres => sql.push("to_char(t.").push(field).push(", 'MM-DD')"),
        };
        sql.push(" IN (")
            .bind_list(
                dates
                    .iter()
                    .map(|d| Scalar::Text(d.format("%m-%d").to_string())),
            )
            .push(")");
    } else {
        sql.push("t.")
            .push(field)
            .push(" IN (")
            .bind_list(dates.iter().map(|d| Scalar::Date(*d)))
            .push(")");
    }
    let mut out = Vec::new();
    for r in ex.fetch_all(sql).await? {
        if let (Some(id), Scalar::Date(d)) = (r.uuid("id")?, r.scalar("d", ScalarType::Date)?) {
            out.push((id, d));
        }
    }
    Ok(out)
}

/// Open tasks whose due time passed, at or after `since` (when the workflow began
/// watching): (task, due at).
pub async fn overdue_tasks(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, Error> {
    let mut sql = Sql::new("SELECT t.id AS id, t.due_at AS due_at");
    sql.append(live(ObjectKind::Task, ws));
    sql.push(" AND (t.done IS NULL OR t.done = ")
        .bind(Scalar::Bool(false))
        .push(") AND t.due_at < ")
        .bind(Scalar::Time(now))
        .push(" AND t.due_at >= ")
        .bind(Scalar::Time(since));
    let mut out = Vec::new();
    for r in ex.fetch_all(sql).await? {
        if let (Some(id), Some(due)) = (r.uuid("id")?, r.time("due_at")?) {
            out.push((id, due));
        }
    }
    Ok(out)
}

/// Live contacts, companies or deals whose last activity (or creation, without any)
/// is before `quiet_since` but not before `not_before`: (record, last activity).
pub async fn quiet(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    quiet_since: DateTime<Utc>,
    not_before: DateTime<Utc>,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, Error> {
    let link = match object {
        ObjectKind::Company => "company_id",
        ObjectKind::Deal => "deal_id",
        _ => "contact_id",
    };
    let mut inner = Sql::new("SELECT t.id AS id, COALESCE((SELECT MAX(a.occurred_at) FROM activities a WHERE a.workspace_id = ");
    inner
        .bind(Scalar::Uuid(ws.0))
        .push(" AND a.deleted_at IS NULL AND a.")
        .push(link)
        .push(" = t.id), t.created_at) AS last_at");
    inner.append(live(object, ws));
    let mut sql = Sql::new("SELECT q.id AS id, q.last_at AS last_at FROM (");
    sql.append(inner);
    sql.push(") q WHERE q.last_at < ")
        .bind(Scalar::Time(quiet_since))
        .push(" AND q.last_at >= ")
        .bind(Scalar::Time(not_before));
    let mut out = Vec::new();
    for r in ex.fetch_all(sql).await? {
        if let (Some(id), Some(at)) = (r.uuid("id")?, r.time("last_at")?) {
            out.push((id, at));
        }
    }
    Ok(out)
}
