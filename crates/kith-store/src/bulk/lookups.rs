//! Lookups that batch by value for the bulk path (contacts by identity, records by a
//! field's value, which new records others link to) and taking back what an import
//! created.

use std::collections::{BTreeSet, HashMap};

use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use uuid::Uuid;

use super::ws_arg;
use crate::db::{Exec, List, Sql, Tx};
use crate::{Error, WorkspaceId};

/// Live contacts holding any of `values` as an identity of `kind` (email, phone, external).
pub async fn contacts_by_identity(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    kind: &str,
    values: &[String],
) -> Result<Vec<(String, Uuid)>, Error> {
    let mut out = vec![];
    for chunk in values.chunks(1000) {
        let mut sql = Sql::new(
            "SELECT i.value, i.contact_id FROM identities i JOIN contacts c ON c.id = i.contact_id WHERE i.workspace_id = ",
        );
        sql.bind(ws_arg(ws))
            .push(" AND i.kind = ")
            .bind(Scalar::Text(kind.into()))
            .push(" AND c.deleted_at IS NULL AND i.value");
        sql.bind_in(List::texts(chunk))
            .push(" ORDER BY i.contact_id");
        for r in ex.fetch_all(sql).await? {
            if let (Some(v), Some(id)) = (r.text("value")?, r.uuid("contact_id")?) {
                out.push((v, id));
            }
        }
    }
    Ok(out)
}

/// Live records of `object` whose `column` equals one of `values` (first by id wins).
pub async fn ids_by_value(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    column: &'static str,
    values: &[String],
) -> Result<Vec<(String, Uuid)>, Error> {
    let mut out = vec![];
    for chunk in values.chunks(1000) {
        let mut sql = Sql::new("SELECT id, ");
        sql.push(column).push(" AS v FROM ").push(object.table());
        sql.push(" WHERE workspace_id = ")
            .bind(ws_arg(ws))
            .push(" AND deleted_at IS NULL AND ")
            .push(column);
        sql.bind_in(List::texts(chunk)).push(" ORDER BY id");
        for r in ex.fetch_all(sql).await? {
            if let (Some(v), Some(id)) = (r.text("v")?, r.uuid("id")?) {
                out.push((v, id));
            }
        }
    }
    Ok(out)
}

/// Of `ids` (records of `object`), those another live record links to: a revert keeps them.
pub async fn linked(
    ex: &mut impl Exec,
    object: ObjectKind,
    ids: &[Uuid],
) -> Result<BTreeSet<Uuid>, Error> {
    let mut out = BTreeSet::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for other in ObjectKind::ALL {
        for spec in other.fields() {
            if spec.kind != kith_core::fields::Kind::Ref(object) {
                continue;
            }
            let mut sql = Sql::new("SELECT DISTINCT ");
            sql.push(spec.name).push(" AS id FROM ").push(other.table());
            sql.push(" WHERE ").push(spec.name);
            sql.bind_in(List::uuids(ids));
            for r in ex.fetch_all(sql).await? {
                out.extend(r.uuid("id")?);
            }
        }
    }
    Ok(out)
}

/// Removes records a revert takes back, with their terms, identities and tags, if they
/// are still at `version`. Returns the ids removed.
pub async fn remove_created(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    candidates: &[(Uuid, i64)],
) -> Result<Vec<Uuid>, Error> {
    let mut removed = vec![];
    if candidates.is_empty() {
        return Ok(removed);
    }
    // Only records nobody changed since the import: a newer edit is never thrown away.
    let mut sql = Sql::new("SELECT id, version FROM ");
    sql.push(object.table())
        .push(" WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND id");
    let ids: Vec<Uuid> = candidates.iter().map(|(id, _)| *id).collect();
    sql.bind_in(List::uuids(&ids));
    let wanted: HashMap<Uuid, i64> = candidates.iter().copied().collect();
    for r in tx.fetch_all(sql).await? {
        if let (Some(id), Some(v)) = (r.uuid("id")?, r.int("version")?) {
            if wanted.get(&id) == Some(&v) {
                removed.push(id);
            }
        }
    }
    if removed.is_empty() {
        return Ok(removed);
    }
    crate::search::index::remove(tx, ws, &removed).await?;
    let mut deps: Vec<(&str, &str)> = vec![("taggings", "record_id")];
    if object == ObjectKind::Contact {
        deps.push(("identities", "contact_id"));
    }
    deps.push(("deal_stage_changes", "deal_id"));
    for (table, col) in deps {
        if table == "deal_stage_changes" && object != ObjectKind::Deal {
            continue;
        }
        let mut sql = Sql::new("DELETE FROM ");
        sql.push(table).push(" WHERE ").push(col);
        sql.bind_in(List::uuids(&removed));
        tx.execute(sql).await?;
    }
    let mut sql = Sql::new("DELETE FROM ");
    sql.push(object.table())
        .push(" WHERE workspace_id = ")
        .bind(ws_arg(ws));
    sql.push(" AND id");
    sql.bind_in(List::uuids(&removed));
    tx.execute(sql).await?;
    Ok(removed)
}

/// A deal stage with its pipeline, for linking imported deals by name.
#[derive(Debug, Clone, PartialEq)]
pub struct StageName {
    /// Stage id.
    pub stage_id: Uuid,
    /// Stage name.
    pub stage: String,
    /// Pipeline id.
    pub pipeline_id: Uuid,
    /// Pipeline name.
    pub pipeline: String,
}

/// Every live stage of `ws` with its pipeline, pipelines and stages in order.
pub async fn stage_names(ex: &mut impl Exec, ws: WorkspaceId) -> Result<Vec<StageName>, Error> {
    let sql = Sql::new(
        "SELECT s.id AS sid, s.name AS sname, p.id AS pid, p.name AS pname FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE s.workspace_id = ",
    )
    .arg(ws_arg(ws))
    .and(" AND s.deleted_at IS NULL AND p.deleted_at IS NULL ORDER BY p.position, s.position");
    let mut out = vec![];
    for r in ex.fetch_all(sql).await? {
        if let (Some(sid), Some(s), Some(pid), Some(p)) = (
            r.uuid("sid")?,
            r.text("sname")?,
            r.uuid("pid")?,
            r.text("pname")?,
        ) {
            out.push(StageName {
                stage_id: sid,
                stage: s,
                pipeline_id: pid,
                pipeline: p,
            });
        }
    }
    Ok(out)
}
