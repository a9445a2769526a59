//! Records of every object (companies, contacts, deals, …) read and written generically
//! from their specs in kith-core, plus what hangs off them: tags, search terms,
//! identities, stage history, the audit log and the event outbox.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use kith_core::fields::CustomDef;
use kith_core::objects::{FieldSpec, ObjectKind};
use kith_core::{Scalar, ScalarType};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use crate::events::{audit_and_emit, emit, AuditEntry, Cause, CAUSE};
pub use crate::search::index::reindex;

use crate::db::{Exec, Row, Sql, Tx};
use crate::{Error, WorkspaceId};

/// One stored record of any object.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its object.
    pub object: ObjectKind,
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Bumped by every change; the ETag.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// In the recycle bin since.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Built-in field values in spec order.
    pub values: Vec<(&'static str, Scalar)>,
    /// Custom field values.
    pub custom: Map<String, Value>,
    /// Tag names, sorted.
    pub tags: Vec<String>,
}

impl Record {
    /// The value of built-in field `name`.
    pub fn get(&self, name: &str) -> Option<&Scalar> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The value of a UUID field.
    pub fn uuid(&self, name: &str) -> Option<Uuid> {
        match self.get(name) {
            Some(Scalar::Uuid(u)) => Some(*u),
            _ => None,
        }
    }

    /// The value of a text field.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Scalar::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// The value of an integer field.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Scalar::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// The value of a timestamp field.
    pub fn time(&self, name: &str) -> Option<DateTime<Utc>> {
        match self.get(name) {
            Some(Scalar::Time(t)) => Some(*t),
            _ => None,
        }
    }

    /// The record as the API shows it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), self.id.to_string().into());
        m.insert("version".into(), self.version.into());
        for (name, v) in &self.values {
            m.insert((*name).into(), v.to_json());
        }
        if self.object.is_customisable() {
            m.insert("tags".into(), self.tags.clone().into());
            m.insert("custom".into(), Value::Object(self.custom.clone()));
        }
        m.insert("created_at".into(), Scalar::Time(self.created_at).to_json());
        m.insert("updated_at".into(), Scalar::Time(self.updated_at).to_json());
        m.insert(
            "deleted_at".into(),
            self.deleted_at
                .map(|t| Scalar::Time(t).to_json())
                .unwrap_or(Value::Null),
        );
        Value::Object(m)
    }
}

/// The columns every list and get selects, prefixed with the table alias `t`.
pub(crate) fn select_columns(object: ObjectKind) -> String {
    let mut s = String::from("t.id, t.version, t.created_at, t.updated_at, t.deleted_at");
    for f in object.fields() {
        s.push_str(", t.");
        s.push_str(f.name);
    }
    if object.is_customisable() {
        s.push_str(", t.custom");
    }
    s
}

pub(crate) fn decode(object: ObjectKind, row: &Row) -> Result<Record, Error> {
    let missing = |c: &str| Error::Corrupt(format!("{} row without {c}", object.singular()));
    let mut values = Vec::with_capacity(object.fields().len());
    for f in object.fields() {
        values.push((f.name, row.scalar(f.name, f.kind.scalar_type())?));
    }
    let custom = if object.is_customisable() {
        match row.json("custom")? {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        }
    } else {
        Map::new()
    };
    Ok(Record {
        object,
        id: row.uuid("id")?.ok_or_else(|| missing("id"))?,
        version: row.int("version")?.ok_or_else(|| missing("version"))?,
        created_at: row
            .time("created_at")?
            .ok_or_else(|| missing("created_at"))?,
        updated_at: row
            .time("updated_at")?
            .ok_or_else(|| missing("updated_at"))?,
        deleted_at: row.time("deleted_at")?,
        values,
        custom,
        tags: Vec::new(),
    })
}

fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

/// Reads one record (with its tags); `None` when it does not exist in `ws`.
pub async fn get(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    id: Uuid,
    include_deleted: bool,
) -> Result<Option<Record>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(&select_columns(object))
        .push(" FROM ")
        .push(object.table())
        .push(" t WHERE t.workspace_id = ");
    sql.bind(ws_arg(ws))
        .push(" AND t.id = ")
        .bind(Scalar::Uuid(id));
    if !include_deleted {
        sql.push(" AND t.deleted_at IS NULL");
    }
    let Some(row) = ex.fetch_optional(sql).await? else {
        return Ok(None);
    };
    let mut rec = decode(object, &row)?;
    if object.is_customisable() {
        load_tags(ex, ws, std::slice::from_mut(&mut rec)).await?;
    }
    Ok(Some(rec))
}

/// Whether a live record with `id` exists in `ws`.
pub async fn exists(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    id: Uuid,
) -> Result<bool, Error> {
    let mut sql = Sql::new("SELECT 1 AS one FROM ");
    sql.push(object.table())
        .push(" WHERE workspace_id = ")
        .bind(ws_arg(ws));
    sql.push(" AND id = ")
        .bind(Scalar::Uuid(id))
        .push(" AND deleted_at IS NULL");
    Ok(ex.fetch_optional(sql).await?.is_some())
}

/// Inserts a new record at version 1.
pub async fn insert(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    id: Uuid,
    now: DateTime<Utc>,
    values: &[(&'static FieldSpec, Scalar)],
    custom: &Map<String, Value>,
) -> Result<(), Error> {
    let mut sql = Sql::new("INSERT INTO ");
    sql.push(object.table())
        .push(" (id, workspace_id, version, created_at, updated_at");
    for (spec, _) in values {
        sql.push(", ").push(spec.name);
    }
    if object.is_customisable() {
        sql.push(", custom");
    }
    sql.push(") VALUES (")
        .bind(Scalar::Uuid(id))
        .push(", ")
        .bind(ws_arg(ws))
        .push(", 1, ");
    sql.bind(Scalar::Time(now))
        .push(", ")
        .bind(Scalar::Time(now));
    for (_, v) in values {
        sql.push(", ").bind(v.clone());
    }
    if object.is_customisable() {
        sql.push(", ")
            .bind(Scalar::Json(Value::Object(custom.clone())));
    }
    sql.push(")");
    tx.execute(sql)
        .await
        .map_err(|e| e.unique_as(unique_field(object)))?;
    Ok(())
}

fn unique_field(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::FieldDefinition => "key",
        _ => "name",
    }
}

/// Changes a record if it is still at `expected_version`; false when it is not (or is gone).
#[allow(clippy::too_many_arguments)]
pub async fn update(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    id: Uuid,
    expected_version: i64,
    now: DateTime<Utc>,
    values: &[(&'static FieldSpec, Scalar)],
    custom: Option<&Map<String, Value>>,
) -> Result<bool, Error> {
    let mut sql = Sql::new("UPDATE ");
    sql.push(object.table())
        .push(" SET version = version + 1, updated_at = ")
        .bind(Scalar::Time(now));
    for (spec, v) in values {
        sql.push(", ").push(spec.name).push(" = ").bind(v.clone());
    }
    if let Some(c) = custom {
        sql.push(", custom = ")
            .bind(Scalar::Json(Value::Object(c.clone())));
    }
    sql.push(" WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id));
    sql.push(" AND version = ")
        .bind(Scalar::Int(expected_version));
    let n = tx
        .execute(sql)
        .await
        .map_err(|e| e.unique_as(unique_field(object)))?;
    Ok(n == 1)
}

/// Moves a record into the recycle bin (`deleted`) or back out; false on a version mismatch.
pub async fn set_deleted(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    id: Uuid,
    expected_version: i64,
    now: DateTime<Utc>,
    deleted: bool,
) -> Result<bool, Error> {
    let mut sql = Sql::new("UPDATE ");
    sql.push(object.table())
        .push(" SET version = version + 1, updated_at = ")
        .bind(Scalar::Time(now));
    sql.push(", deleted_at = ").bind(if deleted {
        Scalar::Time(now)
    } else {
        Scalar::Null(ScalarType::Time)
    });
    sql.push(" WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id));
    sql.push(" AND version = ")
        .bind(Scalar::Int(expected_version));
    Ok(tx.execute(sql).await? == 1)
}

/// Fills in the tags of `records`.
pub async fn load_tags(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    records: &mut [Record],
) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(
        "SELECT g.record_id, tg.name FROM taggings g JOIN tags tg ON tg.id = g.tag_id WHERE g.workspace_id = ",
    );
    sql.bind(ws_arg(ws))
        .push(" AND tg.deleted_at IS NULL AND g.record_id IN (");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Scalar::Uuid(r.id));
    }
    sql.push(") ORDER BY tg.name");
    let mut by_record: HashMap<Uuid, Vec<String>> = HashMap::new();
    for row in ex.fetch_all(sql).await? {
        if let (Some(id), Some(name)) = (row.uuid("record_id")?, row.text("name")?) {
            by_record.entry(id).or_default().push(name);
        }
    }
    for r in records {
        r.tags = by_record.remove(&r.id).unwrap_or_default();
    }
    Ok(())
}

/// Replaces a record's tags with `names`, creating tags that do not exist yet.
pub async fn set_tags(
    tx: &mut Tx,
    ws: WorkspaceId,
    record_id: Uuid,
    names: &[String],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    tx.execute(
        Sql::new("DELETE FROM taggings WHERE workspace_id = ")
            .arg(ws_arg(ws))
            .and(" AND record_id = ")
            .arg(Scalar::Uuid(record_id)),
    )
    .await?;
    if names.is_empty() {
        return Ok(());
    }
    for name in names {
        let mut sql = Sql::new(
            "INSERT INTO tags (id, workspace_id, version, created_at, updated_at, name) VALUES (",
        );
        sql.bind(Scalar::Uuid(Uuid::now_v7()))
            .push(", ")
            .bind(ws_arg(ws))
            .push(", 1, ");
        sql.bind(Scalar::Time(now))
            .push(", ")
            .bind(Scalar::Time(now))
            .push(", ")
            .bind(Scalar::Text(name.clone()));
        sql.push(") ON CONFLICT (workspace_id, name) DO UPDATE SET deleted_at = NULL");
        tx.execute(sql).await?;
    }
    let mut sql = Sql::new("INSERT INTO taggings (workspace_id, record_id, tag_id) SELECT ");
    sql.bind(ws_arg(ws))
        .push(", ")
        .bind(Scalar::Uuid(record_id));
    sql.push(", id FROM tags WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND name IN (");
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Scalar::Text(n.clone()));
    }
    sql.push(")");
    tx.execute(sql).await?;
    Ok(())
}

/// Replaces the lookup rows of a contact's emails, phones and external ids.
pub async fn set_identities(
    tx: &mut Tx,
    ws: WorkspaceId,
    contact_id: Uuid,
    items: &BTreeSet<(String, String, String)>,
) -> Result<(), Error> {
    tx.execute(
        Sql::new("DELETE FROM identities WHERE contact_id = ").arg(Scalar::Uuid(contact_id)),
    )
    .await?;
    for (kind, channel, value) in items {
        let mut sql = Sql::new(
            "INSERT INTO identities (workspace_id, contact_id, kind, channel, value) VALUES (",
        );
        sql.bind(ws_arg(ws))
            .push(", ")
            .bind(Scalar::Uuid(contact_id))
            .push(", ");
        sql.bind(Scalar::Text(kind.clone()))
            .push(", ")
            .bind(Scalar::Text(channel.clone()))
            .push(", ");
        sql.bind(Scalar::Text(value.clone())).push(")");
        tx.execute(sql).await?;
    }
    Ok(())
}

/// Records that a deal moved from one stage to another.
pub async fn add_stage_change(
    tx: &mut Tx,
    ws: WorkspaceId,
    deal_id: Uuid,
    from: Option<Uuid>,
    to: Uuid,
    now: DateTime<Utc>,
    by: Option<Uuid>,
) -> Result<(), Error> {
    let mut sql = Sql::new("INSERT INTO deal_stage_changes (id, workspace_id, deal_id, from_stage_id, to_stage_id, changed_at, changed_by) VALUES (");
    sql.bind(Scalar::Uuid(Uuid::now_v7()))
        .push(", ")
        .bind(ws_arg(ws))
        .push(", ")
        .bind(Scalar::Uuid(deal_id));
    sql.push(", ").bind(
        from.map(Scalar::Uuid)
            .unwrap_or(Scalar::Null(ScalarType::Uuid)),
    );
    sql.push(", ")
        .bind(Scalar::Uuid(to))
        .push(", ")
        .bind(Scalar::Time(now));
    sql.push(", ")
        .bind(
            by.map(Scalar::Uuid)
                .unwrap_or(Scalar::Null(ScalarType::Uuid)),
        )
        .push(")");
    tx.execute(sql).await?;
    Ok(())
}

/// The live custom field definitions of `object` (company, contact or deal).
pub async fn custom_defs(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
) -> Result<Vec<CustomDef>, Error> {
    if !object.is_customisable() {
        return Ok(vec![]);
    }
    let mut sql =
        Sql::new("SELECT key, kind, options FROM field_definitions WHERE workspace_id = ");
    sql.bind(ws_arg(ws))
        .push(" AND object = ")
        .bind(Scalar::Text(object.singular().into()));
    sql.push(" AND deleted_at IS NULL ORDER BY key");
    let mut out = Vec::new();
    for row in ex.fetch_all(sql).await? {
        let options = match row.json("options")? {
            Some(Value::Array(a)) => a
                .into_iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => vec![],
        };
        out.push(CustomDef {
            key: row.text("key")?.unwrap_or_default(),
            kind: row.text("kind")?.unwrap_or_default(),
            options,
        });
    }
    Ok(out)
}

/// Ids of the live contacts of a company (to refresh their search terms on rename).
pub async fn contacts_of_company(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    company_id: Uuid,
) -> Result<Vec<Uuid>, Error> {
    let mut sql = Sql::new("SELECT id FROM contacts WHERE workspace_id = ");
    sql.bind(ws_arg(ws))
        .push(" AND company_id = ")
        .bind(Scalar::Uuid(company_id));
    sql.push(" AND deleted_at IS NULL");
    ex.fetch_all(sql)
        .await?
        .iter()
        .filter_map(|r| r.uuid("id").transpose())
        .collect()
}

/// Whether `user_id` is a user of `ws`.
pub async fn user_in_workspace(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    user_id: Uuid,
) -> Result<bool, Error> {
    let mut sql = Sql::new("SELECT 1 AS one FROM users WHERE workspace_id = ");
    sql.bind(ws_arg(ws))
        .push(" AND id = ")
        .bind(Scalar::Uuid(user_id));
    Ok(ex.fetch_optional(sql).await?.is_some())
}

/// Open deal count and value per stage and currency of one pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTotal {
    /// Stage.
    pub stage_id: Uuid,
    /// Currency of the amounts.
    pub currency: String,
    /// Number of deals.
    pub count: i64,
    /// Sum of amounts in minor units.
    pub amount: i64,
}

/// Totals of the live deals of `pipeline`, grouped by stage and currency.
pub async fn stage_totals(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    pipeline: Uuid,
) -> Result<Vec<StageTotal>, Error> {
    let mut sql = Sql::new(
        "SELECT stage_id, COALESCE(currency, '') AS currency, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total \
         FROM deals WHERE workspace_id = ",
    );
    sql.bind(ws_arg(ws))
        .push(" AND pipeline_id = ")
        .bind(Scalar::Uuid(pipeline));
    sql.push(" AND deleted_at IS NULL GROUP BY stage_id, currency");
    let mut out = Vec::new();
    for row in ex.fetch_all(sql).await? {
        let Some(stage_id) = row.uuid("stage_id")? else {
            continue;
        };
        out.push(StageTotal {
            stage_id,
            currency: row.text("currency")?.unwrap_or_default(),
            count: row.int("n")?.unwrap_or(0),
            amount: row.int("total")?.unwrap_or(0),
        });
    }
    Ok(out)
}
