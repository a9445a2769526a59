//! Duplicates: the records the scan reads (as dedup sees them), the pairs it found, and
//! merges with what undoing them needs (the survivor before, the links moved).

use chrono::{DateTime, NaiveDate, Utc};
use kith_core::dedup::{Organisation, Person};
use kith_core::objects::ObjectKind;
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use uuid::Uuid;

use crate::bulk::insert_rows;
use crate::db::{Exec, List, Sql, Tx};
use crate::{Error, WorkspaceId};

fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

/// A page of live contacts as dedup compares them, in id order after `after`.
pub async fn people(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Person>, Error> {
    let mut sql = Sql::new(
        "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.identities, c.address_line1, c.postcode, c.city, c.birthday, co.name AS company FROM contacts c LEFT JOIN companies co ON co.id = c.company_id WHERE c.workspace_id = ",
    );
    sql.bind(ws_arg(ws)).push(" AND c.deleted_at IS NULL");
    if let Some(a) = after {
        sql.push(" AND c.id > ").bind(Scalar::Uuid(a));
    }
    sql.push(" ORDER BY c.id LIMIT ").bind(Scalar::Int(limit));
    let mut out = vec![];
    for r in ex.fetch_all(sql).await? {
        let mut emails: Vec<String> = r.text("email")?.into_iter().collect();
        let mut phones: Vec<String> = r.text("phone")?.into_iter().collect();
        if let Some(Value::Array(items)) = r.json("identities")? {
            for i in items {
                let v = i["value"].as_str().unwrap_or_default().to_string();
                match i["kind"].as_str() {
                    Some("email") if !emails.contains(&v) => emails.push(v),
                    Some("phone") if !phones.contains(&v) => phones.push(v),
                    _ => {}
                }
            }
        }
        let birthday = match r.scalar("birthday", ScalarType::Date)? {
            Scalar::Date(d) => Some(d),
            _ => None,
        };
        out.push(Person {
            id: r
                .uuid("id")?
                .ok_or_else(|| Error::Corrupt("contact id".into()))?,
            first_name: r.text("first_name")?,
            last_name: r.text("last_name")?,
            emails,
            phones,
            company: r.text("company")?,
            address: r.text("address_line1")?,
            postcode: r.text("postcode")?,
            city: r.text("city")?,
            birthday: birthday.map(|d: NaiveDate| d),
        });
    }
    Ok(out)
}

/// A page of live companies as dedup compares them, in id order after `after`.
pub async fn organisations(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Organisation>, Error> {
    let mut sql = Sql::new(
        "SELECT id, name, domain, phone, email, postcode, city FROM companies WHERE workspace_id = ",
    );
    sql.bind(ws_arg(ws)).push(" AND deleted_at IS NULL");
    if let Some(a) = after {
        sql.push(" AND id > ").bind(Scalar::Uuid(a));
    }
    sql.push(" ORDER BY id LIMIT ").bind(Scalar::Int(limit));
    let mut out = vec![];
    for r in ex.fetch_all(sql).await? {
        out.push(Organisation {
            id: r
                .uuid("id")?
                .ok_or_else(|| Error::Corrupt("company id".into()))?,
            name: r.text("name")?.unwrap_or_default(),
            domain: r.text("domain")?,
            phone: r.text("phone")?,
            email: r.text("email")?,
            postcode: r.text("postcode")?,
            city: r.text("city")?,
        });
    }
    Ok(out)
}

/// A likely duplicate pair as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPair {
    /// The smaller id.
    pub a: Uuid,
    /// The larger id.
    pub b: Uuid,
    /// 0..1.
    pub score: f64,
    /// Why, as the scan explained it.
    pub reasons: Value,
    /// `open`, `dismissed` or `merged`.
    pub status: String,
}

/// Stores pairs a scan found; pairs known already keep their status (a dismissed pair
/// stays dismissed) but get the new score.
pub async fn save_pairs(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    now: DateTime<Utc>,
    pairs: &[StoredPair],
) -> Result<(), Error> {
    let rows: Vec<Vec<Scalar>> = pairs
        .iter()
        .map(|p| {
            vec![
                ws_arg(ws),
                Scalar::Text(object.singular().into()),
                Scalar::Uuid(p.a),
                Scalar::Uuid(p.b),
                Scalar::Float(p.score),
                Scalar::Json(p.reasons.clone()),
                Scalar::Text(p.status.clone()),
                Scalar::Time(now),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "duplicate_pairs",
        &[
            "workspace_id",
            "object",
            "a",
            "b",
            "score",
            "reasons",
            "status",
            "found_at",
        ],
        &rows,
        " ON CONFLICT (workspace_id, object, a, b) DO UPDATE SET score = excluded.score, reasons = excluded.reasons",
    )
    .await
}

/// Open pairs whose two records are both live, best first.
pub async fn open_pairs(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    limit: i64,
) -> Result<Vec<StoredPair>, Error> {
    let t = object.table();
    let mut sql =
        Sql::new("SELECT p.a, p.b, p.score, p.reasons, p.status FROM duplicate_pairs p JOIN ");
    sql.push(t).push(" x ON x.id = p.a JOIN ").push(t);
    sql.push(" y ON y.id = p.b WHERE p.workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND p.object = ")
        .bind(Scalar::Text(object.singular().into()))
        .push(" AND p.status = 'open' AND x.deleted_at IS NULL AND y.deleted_at IS NULL ORDER BY p.score DESC, p.a, p.b LIMIT ")
        .bind(Scalar::Int(limit));
    let mut out = vec![];
    for r in ex.fetch_all(sql).await? {
        let score = match r.scalar("score", ScalarType::Float)? {
            Scalar::Float(f) => f,
            _ => 0.0,
        };
        out.push(StoredPair {
            a: r.uuid("a")?.ok_or_else(|| Error::Corrupt("pair".into()))?,
            b: r.uuid("b")?.ok_or_else(|| Error::Corrupt("pair".into()))?,
            score,
            reasons: r.json("reasons")?.unwrap_or(Value::Null),
            status: r.text("status")?.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Sets the status of the pairs among `ids` (both sides in `ids`); returns how many.
pub async fn set_status(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    ids: &[Uuid],
    status: &str,
) -> Result<u64, Error> {
    if ids.len() < 2 {
        return Ok(0);
    }
    let mut sql = Sql::new("UPDATE duplicate_pairs SET status = ");
    sql.bind(Scalar::Text(status.into()))
        .push(" WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND object = ")
        .bind(Scalar::Text(object.singular().into()))
        .push(" AND a");
    sql.bind_in(List::uuids(ids)).push(" AND b");
    sql.bind_in(List::uuids(ids));
    ex.execute(sql).await
}

/// One link moved by a merge: `table.column` of record `id` pointed at `from`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MovedLink {
    /// Table of the linking record.
    pub table: String,
    /// Its link column.
    pub column: String,
    /// The linking record.
    pub id: Uuid,
    /// The merged record it pointed at.
    pub from: Uuid,
}

/// Points every link to one of `from` (records of `object`) at `to`; returns what moved.
pub async fn move_links(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    from: &[Uuid],
    to: Uuid,
) -> Result<Vec<MovedLink>, Error> {
    let mut moved = vec![];
    if from.is_empty() {
        return Ok(moved);
    }
    for other in ObjectKind::ALL {
        for spec in other.fields() {
            if spec.kind != kith_core::fields::Kind::Ref(object) {
                continue;
            }
            let mut sql = Sql::new("SELECT id, ");
            sql.push(spec.name)
                .push(" AS link FROM ")
                .push(other.table());
            sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
            sql.push(" AND ").push(spec.name);
            sql.bind_in(List::uuids(from));
            let rows = tx.fetch_all(sql).await?;
            if rows.is_empty() {
                continue;
            }
            for r in rows {
                if let (Some(id), Some(link)) = (r.uuid("id")?, r.uuid("link")?) {
                    moved.push(MovedLink {
                        table: other.table().into(),
                        column: spec.name.into(),
                        id,
                        from: link,
                    });
                }
            }
            let mut sql = Sql::new("UPDATE ");
            sql.push(other.table()).push(" SET ").push(spec.name);
            sql.push(" = ").bind(Scalar::Uuid(to));
            sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
            sql.push(" AND ").push(spec.name);
            sql.bind_in(List::uuids(from));
            tx.execute(sql).await?;
        }
    }
    Ok(moved)
}

/// Points moved links back where they were, where they still point at `survivor`.
pub async fn move_back(
    tx: &mut Tx,
    ws: WorkspaceId,
    survivor: Uuid,
    moved: &[MovedLink],
) -> Result<(), Error> {
    for m in moved {
        // Table and column come from our own specs, checked again here.
        let known = ObjectKind::ALL
            .iter()
            .any(|o| o.table() == m.table && o.fields().iter().any(|f| f.name == m.column));
        if !known {
            return Err(Error::Corrupt(format!(
                "merge moved {}.{}",
                m.table, m.column
            )));
        }
        let mut sql = Sql::new("UPDATE ");
        sql.push(&m.table).push(" SET ").push(&m.column);
        sql.push(" = ").bind(Scalar::Uuid(m.from));
        sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
        sql.push(" AND id = ").bind(Scalar::Uuid(m.id));
        sql.push(" AND ")
            .push(&m.column)
            .push(" = ")
            .bind(Scalar::Uuid(survivor));
        tx.execute(sql).await?;
    }
    Ok(())
}

/// A merge as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// Id.
    pub id: Uuid,
    /// Object merged.
    pub object: ObjectKind,
    /// The record that stayed.
    pub survivor_id: Uuid,
    /// The records merged into it (now in the recycle bin).
    pub merged: Vec<Uuid>,
    /// The survivor as it was (record JSON).
    pub before: Value,
    /// Links moved to the survivor.
    pub moved: Vec<MovedLink>,
    /// The survivor's version right after the merge.
    pub survivor_version: i64,
    /// Who merged.
    pub actor_id: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
    /// When it was undone.
    pub undone_at: Option<DateTime<Utc>>,
}

/// Records a merge.
pub async fn insert_merge(tx: &mut Tx, ws: WorkspaceId, m: &Merge) -> Result<(), Error> {
    let row = vec![
        Scalar::Uuid(m.id),
        ws_arg(ws),
        Scalar::Text(m.object.singular().into()),
        Scalar::Uuid(m.survivor_id),
        Scalar::Json(serde_json::json!(m.merged)),
        Scalar::Json(m.before.clone()),
        Scalar::Json(serde_json::to_value(&m.moved).unwrap_or(Value::Null)),
        Scalar::Int(m.survivor_version),
        m.actor_id
            .map(Scalar::Uuid)
            .unwrap_or(Scalar::Null(ScalarType::Uuid)),
        Scalar::Time(m.at),
    ];
    insert_rows(
        tx,
        "merges",
        &[
            "id",
            "workspace_id",
            "object",
            "survivor_id",
            "merged",
            "before",
            "moved",
            "survivor_version",
            "actor_id",
            "at",
        ],
        &[row],
        "",
    )
    .await
}

/// A merge of `ws`.
pub async fn merge(ex: &mut impl Exec, ws: WorkspaceId, id: Uuid) -> Result<Option<Merge>, Error> {
    let sql = Sql::new("SELECT id, object, survivor_id, merged, before, moved, survivor_version, actor_id, at, undone_at FROM merges WHERE workspace_id = ")
        .arg(ws_arg(ws))
        .and(" AND id = ")
        .arg(Scalar::Uuid(id));
    let Some(r) = ex.fetch_optional(sql).await? else {
        return Ok(None);
    };
    let corrupt = |w: &str| Error::Corrupt(format!("merge {w}"));
    Ok(Some(Merge {
        id: r.uuid("id")?.ok_or_else(|| corrupt("id"))?,
        object: r
            .text("object")?
            .and_then(|o| ObjectKind::from_singular(&o))
            .ok_or_else(|| corrupt("object"))?,
        survivor_id: r.uuid("survivor_id")?.ok_or_else(|| corrupt("survivor"))?,
        merged: serde_json::from_value(r.json("merged")?.unwrap_or(Value::Null))
            .map_err(|_| corrupt("merged"))?,
        before: r.json("before")?.unwrap_or(Value::Null),
        moved: serde_json::from_value(r.json("moved")?.unwrap_or(Value::Null))
            .map_err(|_| corrupt("moved"))?,
        survivor_version: r.int("survivor_version")?.unwrap_or(0),
        actor_id: r.uuid("actor_id")?,
        at: r.time("at")?.ok_or_else(|| corrupt("at"))?,
        undone_at: r.time("undone_at")?,
    }))
}

/// Marks a merge undone; false when it was undone already.
pub async fn set_undone(
    tx: &mut Tx,
    ws: WorkspaceId,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let sql = Sql::new("UPDATE merges SET undone_at = ")
        .arg(Scalar::Time(now))
        .and(" WHERE workspace_id = ")
        .arg(ws_arg(ws))
        .and(" AND id = ")
        .arg(Scalar::Uuid(id))
        .and(" AND undone_at IS NULL");
    Ok(tx.execute(sql).await? == 1)
}
