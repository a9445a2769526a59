//! Who is in each segment: counting a filter, and refreshing the stored membership so
//! that each change becomes a `segment.entered` or `segment.left` event in the outbox.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use kith_core::filter::Resolved;
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use serde_json::json;
use uuid::Uuid;

use crate::bulk::insert_rows;
use crate::db::{Exec, List, Sql, Tx};
use crate::listing::{compile, compile_for};
use crate::{Error, WorkspaceId};

/// A live segment as membership refreshes read it.
#[derive(Debug, Clone)]
pub struct SegmentDef {
    /// Id.
    pub id: Uuid,
    /// Name (carried in events).
    pub name: String,
    /// contact or company.
    pub object: ObjectKind,
    /// Filter in text form.
    pub filter: String,
}

/// What a refresh changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Records that entered.
    pub entered: Vec<Uuid>,
    /// Records that left.
    pub left: Vec<Uuid>,
    /// Members now.
    pub members: i64,
}

fn matching(
    sql: &mut Sql,
    ex_dialect: crate::Dialect,
    ws: WorkspaceId,
    object: ObjectKind,
    f: &Resolved,
) {
    sql.push(" FROM ")
        .push(object.table())
        .push(" t WHERE t.workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND t.deleted_at IS NULL AND ");
    compile(sql, ex_dialect, ws, f);
}

/// How many live records of `object` pass `filter`.
pub async fn count(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    filter: &Resolved,
) -> Result<i64, Error> {
    let mut sql = Sql::new("SELECT COUNT(*) AS n");
    matching(&mut sql, ex.dialect(), ws, object, filter);
    Ok(ex
        .fetch_optional(sql)
        .await?
        .and_then(|r| r.int("n").ok().flatten())
        .unwrap_or(0))
}

/// The live segments of `object` (all objects when None).
pub async fn definitions(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: Option<ObjectKind>,
) -> Result<Vec<SegmentDef>, Error> {
    let mut sql = Sql::new("SELECT id, name, object, filter FROM segments WHERE workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0)).push(" AND deleted_at IS NULL");
    if let Some(o) = object {
        sql.push(" AND object = ")
            .bind(Scalar::Text(o.singular().into()));
    }
    sql.push(" ORDER BY name, id");
    let mut out = Vec::new();
    for r in ex.fetch_all(sql).await? {
        let object = r
            .text("object")?
            .and_then(|o| ObjectKind::from_singular(&o))
            .ok_or_else(|| Error::Corrupt("segment without object".into()))?;
        out.push(SegmentDef {
            id: r.uuid("id")?.unwrap_or_default(),
            name: r.text("name")?.unwrap_or_default(),
            object,
            filter: r.text("filter")?.unwrap_or_default(),
        });
    }
    Ok(out)
}

async fn emit_all(
    tx: &mut Tx,
    ws: WorkspaceId,
    seg: &SegmentDef,
    kind: &str,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut payload = json!({"segment_id": seg.id, "segment": seg.name});
    crate::events::stamp_cause(&mut payload);
    let payload = Scalar::Json(payload);
    let rows: Vec<Vec<Scalar>> = ids
        .iter()
        .map(|id| {
            vec![
                Scalar::Uuid(Uuid::now_v7()),
                Scalar::Uuid(ws.0),
                Scalar::Time(now),
                Scalar::Text(kind.into()),
                Scalar::Text(seg.object.singular().into()),
                Scalar::Uuid(*id),
                payload.clone(),
            ]
        })
        .collect();
    insert_rows(tx, "events", crate::bulk::EVENT_COLUMNS, &rows, "").await
}

async fn add_members(
    tx: &mut Tx,
    ws: WorkspaceId,
    seg: &SegmentDef,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let rows: Vec<Vec<Scalar>> = ids
        .iter()
        .map(|id| {
            vec![
                Scalar::Uuid(ws.0),
                Scalar::Uuid(seg.id),
                Scalar::Uuid(*id),
                Scalar::Time(now),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "segment_members",
        &["workspace_id", "segment_id", "record_id", "entered_at"],
        &rows,
        "",
    )
    .await
}

/// Recomputes the members of `seg` from `filter`, stores the difference and emits an
/// event per record that entered or left, all in `tx`.
pub async fn refresh(
    tx: &mut Tx,
    ws: WorkspaceId,
    seg: &SegmentDef,
    filter: &Resolved,
    now: DateTime<Utc>,
) -> Result<Refreshed, Error> {
    let mut sql = Sql::new("SELECT t.id AS id");
    matching(&mut sql, tx.dialect(), ws, seg.object, filter);
    let now_in: HashSet<Uuid> = tx
        .fetch_all(sql)
        .await?
        .iter()
        .filter_map(|r| r.uuid("id").ok().flatten())
        .collect();
    let sql = Sql::new("SELECT record_id FROM segment_members WHERE segment_id = ")
        .arg(Scalar::Uuid(seg.id));
    let before: HashSet<Uuid> = tx
        .fetch_all(sql)
        .await?
        .iter()
        .filter_map(|r| r.uuid("record_id").ok().flatten())
        .collect();
    let mut entered: Vec<Uuid> = now_in.difference(&before).copied().collect();
    let mut left: Vec<Uuid> = before.difference(&now_in).copied().collect();
    entered.sort();
    left.sort();
    add_members(tx, ws, seg, &entered, now).await?;
    for chunk in left.chunks(500) {
        let mut sql = Sql::new("DELETE FROM segment_members WHERE segment_id = ");
        sql.bind(Scalar::Uuid(seg.id)).push(" AND record_id");
        sql.bind_in(List::uuids(chunk));
        tx.execute(sql).await?;
    }
    emit_all(tx, ws, seg, "segment.entered", &entered, now).await?;
    emit_all(tx, ws, seg, "segment.left", &left, now).await?;
    let members = now_in.len() as i64;
    let mut sql = Sql::new("UPDATE segments SET member_count = ");
    sql.bind(Scalar::Int(members))
        .push(", refreshed_at = ")
        .bind(Scalar::Time(now));
    sql.push(" WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(seg.id));
    tx.execute(sql).await?;
    Ok(Refreshed {
        entered,
        left,
        members,
    })
}

/// Re-checks one record against `seg` after it changed; stores and emits a change of
/// membership. Returns Some(true) when it entered, Some(false) when it left.
pub async fn recheck(
    tx: &mut Tx,
    ws: WorkspaceId,
    seg: &SegmentDef,
    filter: &Resolved,
    record: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<bool>, Error> {
    let mut sql = Sql::new("SELECT 1 AS x FROM ");
    sql.push(seg.object.table())
        .push(" t WHERE t.workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND t.id = ")
        .bind(Scalar::Uuid(record))
        .push(" AND t.deleted_at IS NULL AND ");
    compile_for(&mut sql, tx.dialect(), ws, filter, Some(record));
    let is_in = tx.fetch_optional(sql).await?.is_some();
    let sql = Sql::new("SELECT 1 AS x FROM segment_members WHERE segment_id = ")
        .arg(Scalar::Uuid(seg.id))
        .and(" AND record_id = ")
        .arg(Scalar::Uuid(record));
    let was_in = tx.fetch_optional(sql).await?.is_some();
    if is_in == was_in {
        return Ok(None);
    }
    if is_in {
        add_members(tx, ws, seg, &[record], now).await?;
        emit_all(tx, ws, seg, "segment.entered", &[record], now).await?;
    } else {
        let sql = Sql::new("DELETE FROM segment_members WHERE segment_id = ")
            .arg(Scalar::Uuid(seg.id))
            .and(" AND record_id = ")
            .arg(Scalar::Uuid(record));
        tx.execute(sql).await?;
        emit_all(tx, ws, seg, "segment.left", &[record], now).await?;
    }
    let delta = if is_in { " + 1" } else { " - 1" };
    let sql = Sql::new("UPDATE segments SET member_count = COALESCE(member_count, 0)")
        .and(delta)
        .and(" WHERE workspace_id = ")
        .arg(Scalar::Uuid(ws.0))
        .and(" AND id = ")
        .arg(Scalar::Uuid(seg.id));
    tx.execute(sql).await?;
    Ok(Some(is_in))
}

/// The segments `record` is a member of: (segment id, name, entered at).
pub async fn memberships(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    record: Uuid,
) -> Result<Vec<(Uuid, String, DateTime<Utc>)>, Error> {
    let mut sql = Sql::new("SELECT s.id AS id, s.name AS name, m.entered_at AS entered_at FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE m.workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND s.deleted_at IS NULL AND m.record_id = ")
        .bind(Scalar::Uuid(record))
        .push(" ORDER BY s.name");
    let mut out = Vec::new();
    for r in ex.fetch_all(sql).await? {
        if let (Some(id), Some(name), Some(at)) =
            (r.uuid("id")?, r.text("name")?, r.time("entered_at")?)
        {
            out.push((id, name, at));
        }
    }
    Ok(out)
}
