//! Imports: their bookkeeping — a checkpoint written with each chunk, what each record
//! was before, the refused rows, the fingerprints of imported rows, uploaded files.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use uuid::Uuid;

use crate::bulk::{insert_rows, Insert};
use crate::db::{Exec, List, Row, Sql, Tx};
use crate::{Error, WorkspaceId};

/// One import of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Object imported into (`contact`, `company`, …).
    pub object: String,
    /// Name of the file as the user gave it.
    pub file_name: String,
    /// SHA-256 of the file, to recognise the same file again.
    pub file_hash: String,
    /// `csv`, `xlsx` or `vcard`.
    pub format: String,
    /// Mapping and choices the import ran with.
    pub options: Value,
    /// `queued`, `running`, `done`, `failed`, `reverting`, `reverted`.
    pub status: String,
    /// Data rows handled (stored, skipped or refused): the resume point.
    pub rows_done: i64,
    /// Records created.
    pub created: i64,
    /// Records updated.
    pub updated: i64,
    /// Rows skipped as already present.
    pub skipped: i64,
    /// Rows refused.
    pub failed: i64,
    /// Bytes of the file read so far.
    pub bytes_done: i64,
    /// Size of the file.
    pub bytes_total: i64,
    /// Why it failed, or what the revert kept.
    pub message: Option<String>,
    /// Who started it.
    pub created_by: Option<Uuid>,
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Last checkpoint.
    pub updated_at: DateTime<Utc>,
    /// Finished (done, failed or reverted).
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, object, file_name, file_hash, format, options, status, rows_done, rows_created, rows_updated, rows_skipped, rows_failed, bytes_done, bytes_total, message, created_by, created_at, updated_at, finished_at";

fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

fn opt_time(t: Option<DateTime<Utc>>) -> Scalar {
    t.map(Scalar::Time)
        .unwrap_or(Scalar::Null(ScalarType::Time))
}

fn from_row(r: &Row) -> Result<Import, Error> {
    let need = |v: Option<String>, c: &str| v.ok_or_else(|| Error::Corrupt(format!("import {c}")));
    Ok(Import {
        id: r
            .uuid("id")?
            .ok_or_else(|| Error::Corrupt("import id".into()))?,
        object: need(r.text("object")?, "object")?,
        file_name: need(r.text("file_name")?, "file_name")?,
        file_hash: need(r.text("file_hash")?, "file_hash")?,
        format: need(r.text("format")?, "format")?,
        options: r.json("options")?.unwrap_or(Value::Null),
        status: need(r.text("status")?, "status")?,
        rows_done: r.int("rows_done")?.unwrap_or(0),
        created: r.int("rows_created")?.unwrap_or(0),
        updated: r.int("rows_updated")?.unwrap_or(0),
        skipped: r.int("rows_skipped")?.unwrap_or(0),
        failed: r.int("rows_failed")?.unwrap_or(0),
        bytes_done: r.int("bytes_done")?.unwrap_or(0),
        bytes_total: r.int("bytes_total")?.unwrap_or(0),
        message: r.text("message")?,
        created_by: r.uuid("created_by")?,
        created_at: r
            .time("created_at")?
            .ok_or_else(|| Error::Corrupt("import created_at".into()))?,
        updated_at: r
            .time("updated_at")?
            .ok_or_else(|| Error::Corrupt("import updated_at".into()))?,
        finished_at: r.time("finished_at")?,
    })
}

/// Records a new import.
pub async fn create(ex: &mut impl Exec, ws: WorkspaceId, i: &Import) -> Result<(), Error> {
    let mut sql = Sql::new("INSERT INTO imports (workspace_id, ");
    sql.push(COLUMNS).push(") VALUES (").bind(ws_arg(ws));
    let values = [
        Scalar::Uuid(i.id),
        Scalar::Text(i.object.clone()),
        Scalar::Text(i.file_name.clone()),
        Scalar::Text(i.file_hash.clone()),
        Scalar::Text(i.format.clone()),
        Scalar::Json(i.options.clone()),
        Scalar::Text(i.status.clone()),
        Scalar::Int(i.rows_done),
        Scalar::Int(i.created),
        Scalar::Int(i.updated),
        Scalar::Int(i.skipped),
        Scalar::Int(i.failed),
        Scalar::Int(i.bytes_done),
        Scalar::Int(i.bytes_total),
        i.message
            .clone()
            .map(Scalar::Text)
            .unwrap_or(Scalar::Null(ScalarType::Text)),
        i.created_by
            .map(Scalar::Uuid)
            .unwrap_or(Scalar::Null(ScalarType::Uuid)),
        Scalar::Time(i.created_at),
        Scalar::Time(i.updated_at),
        opt_time(i.finished_at),
    ];
    for v in values {
        sql.push(", ").bind(v);
    }
    sql.push(")");
    ex.execute(sql).await?;
    Ok(())
}

/// Writes an import's status, counters and checkpoint.
pub async fn save(ex: &mut impl Exec, ws: WorkspaceId, i: &Import) -> Result<(), Error> {
    let mut sql = Sql::new("UPDATE imports SET status = ");
    sql.bind(Scalar::Text(i.status.clone()));
    let sets = [
        ("rows_done", Scalar::Int(i.rows_done)),
        ("rows_created", Scalar::Int(i.created)),
        ("rows_updated", Scalar::Int(i.updated)),
        ("rows_skipped", Scalar::Int(i.skipped)),
        ("rows_failed", Scalar::Int(i.failed)),
        ("bytes_done", Scalar::Int(i.bytes_done)),
        ("bytes_total", Scalar::Int(i.bytes_total)),
        ("options", Scalar::Json(i.options.clone())),
        (
            "message",
            i.message
                .clone()
                .map(Scalar::Text)
                .unwrap_or(Scalar::Null(ScalarType::Text)),
        ),
        ("updated_at", Scalar::Time(i.updated_at)),
        ("finished_at", opt_time(i.finished_at)),
    ];
    for (col, v) in sets {
        sql.push(", ").push(col).push(" = ").bind(v);
    }
    sql.push(" WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND id = ")
        .bind(Scalar::Uuid(i.id));
    ex.execute(sql).await?;
    Ok(())
}

/// One import of `ws`.
pub async fn get(ex: &mut impl Exec, ws: WorkspaceId, id: Uuid) -> Result<Option<Import>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM imports WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id));
    ex.fetch_optional(sql)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The most recent imports of `ws`, newest first.
pub async fn recent(ex: &mut impl Exec, ws: WorkspaceId, limit: i64) -> Result<Vec<Import>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM imports WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .bind(Scalar::Int(limit));
    ex.fetch_all(sql).await?.iter().map(from_row).collect()
}

/// An import of the same file into the same object that did not finish (to resume).
pub async fn unfinished(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: &str,
    file_hash: &str,
) -> Result<Option<Import>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM imports WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND file_hash = ")
        .bind(Scalar::Text(file_hash.into()))
        .push(" AND object = ")
        .bind(Scalar::Text(object.into()))
        .push(" AND status IN ('queued', 'running') ORDER BY created_at DESC LIMIT 1");
    ex.fetch_optional(sql)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// What an import did to one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The record.
    pub record_id: Uuid,
    /// Its object.
    pub object: ObjectKind,
    /// `created` or `updated`.
    pub action: String,
    /// The record's version right after the import wrote it.
    pub version: i64,
    /// For updates: the changed fields' values before.
    pub before: Option<Value>,
}

/// Remembers what an import did to records.
pub async fn add_items(
    tx: &mut Tx,
    ws: WorkspaceId,
    import: Uuid,
    items: &[Item],
) -> Result<(), Error> {
    // A record the import created is new: its entry cannot exist yet, so it needs no
    // conflict clause, and without one PostgreSQL takes the rows by COPY.
    let created = |i: &&Item| i.action == "created";
    let mut fresh = item_rows(ws, import, items.iter().filter(created));
    fresh.tail = "";
    fresh.run(tx).await?;
    item_rows(ws, import, items.iter().filter(|i| !created(i)))
        .run(tx)
        .await
}

/// The rows of [`add_items`].
pub fn item_rows<'a>(
    ws: WorkspaceId,
    import: Uuid,
    items: impl Iterator<Item = &'a Item>,
) -> Insert {
    let rows: Vec<Vec<Scalar>> = items
        .map(|i| {
            vec![
                ws_arg(ws),
                Scalar::Uuid(import),
                Scalar::Uuid(i.record_id),
                Scalar::Text(i.object.singular().into()),
                Scalar::Text(i.action.clone()),
                Scalar::Int(i.version),
                i.before
                    .clone()
                    .map(Scalar::Json)
                    .unwrap_or(Scalar::Null(ScalarType::Json)),
            ]
        })
        .collect();
    // An update of a record the same import created or updated before keeps the first
    // entry: that is the state a revert goes back to.
    Insert {
        table: "import_items",
        columns: vec![
            "workspace_id",
            "import_id",
            "record_id",
            "object",
            "action",
            "version",
            "before",
        ],
        rows,
        tail: " ON CONFLICT (import_id, record_id) DO UPDATE SET version = excluded.version",
    }
}

/// A page of what an import did, in record id order after `after`.
pub async fn items(
    ex: &mut impl Exec,
    import: Uuid,
    object: ObjectKind,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Item>, Error> {
    let mut sql =
        Sql::new("SELECT record_id, action, version, before FROM import_items WHERE import_id = ");
    sql.bind(Scalar::Uuid(import))
        .push(" AND object = ")
        .bind(Scalar::Text(object.singular().into()));
    if let Some(a) = after {
        sql.push(" AND record_id > ").bind(Scalar::Uuid(a));
    }
    sql.push(" ORDER BY record_id LIMIT ")
        .bind(Scalar::Int(limit));
    let mut out = vec![];
    for r in ex.fetch_all(sql).await? {
        out.push(Item {
            record_id: r
                .uuid("record_id")?
                .ok_or_else(|| Error::Corrupt("import item".into()))?,
            object,
            action: r.text("action")?.unwrap_or_default(),
            version: r.int("version")?.unwrap_or(0),
            before: r.json("before")?,
        });
    }
    Ok(out)
}

/// One refused row: its line, its cells as read, and every reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// Line in the file where the row starts (1-based).
    pub line: i64,
    /// The row's cells as read.
    pub cells: Vec<String>,
    /// `(column, reason)` pairs.
    pub errors: Vec<(String, String)>,
}

impl Reject {
    /// Every reason in one line: `Column: reason; …`.
    pub fn reasons(&self) -> String {
        self.errors
            .iter()
            .map(|(c, m)| {
                if c.is_empty() {
                    m.clone()
                } else {
                    format!("{c}: {m}")
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Keeps refused rows for the error report.
pub async fn add_rejects(
    tx: &mut Tx,
    ws: WorkspaceId,
    import: Uuid,
    rejects: &[Reject],
) -> Result<(), Error> {
    let rows: Vec<Vec<Scalar>> = rejects
        .iter()
        .map(|r| {
            let errors: Vec<Value> = r
                .errors
                .iter()
                .map(|(c, m)| serde_json::json!({"column": c, "message": m}))
                .collect();
            vec![
                ws_arg(ws),
                Scalar::Uuid(import),
                Scalar::Int(r.line),
                Scalar::Json(Value::from(r.cells.clone())),
                Scalar::Json(Value::Array(errors)),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "import_rejects",
        &["workspace_id", "import_id", "line", "cells", "errors"],
        &rows,
        " ON CONFLICT DO NOTHING",
    )
    .await
}

/// A page of an import's refused rows, by line, after line `after`.
pub async fn rejects(
    ex: &mut impl Exec,
    import: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<Reject>, Error> {
    let sql = Sql::new("SELECT line, cells, errors FROM import_rejects WHERE import_id = ")
        .arg(Scalar::Uuid(import))
        .and(" AND line > ")
        .arg(Scalar::Int(after))
        .and(" ORDER BY line LIMIT ")
        .arg(Scalar::Int(limit));
    let mut out = vec![];
    for r in ex.fetch_all(sql).await? {
        let cells = match r.json("cells")? {
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect(),
            _ => vec![],
        };
        let errors = match r.json("errors")? {
            Some(Value::Array(a)) => a
                .iter()
                .map(|e| {
                    (
                        e["column"].as_str().unwrap_or_default().to_string(),
                        e["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            _ => vec![],
        };
        out.push(Reject {
            line: r.int("line")?.unwrap_or(0),
            cells,
            errors,
        });
    }
    Ok(out)
}

/// Records imported before from rows with these fingerprints.
pub async fn find_keys(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    keys: &[String],
) -> Result<HashMap<String, Uuid>, Error> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(1000) {
        let mut sql = Sql::new("SELECT key, record_id FROM import_keys WHERE workspace_id = ");
        sql.bind(ws_arg(ws))
            .push(" AND object = ")
            .bind(Scalar::Text(object.singular().into()))
            .push(" AND key");
        sql.bind_in(List::texts(chunk));
        for r in ex.fetch_all(sql).await? {
            if let (Some(k), Some(id)) = (r.text("key")?, r.uuid("record_id")?) {
                out.insert(k, id);
            }
        }
    }
    Ok(out)
}

/// Remembers the fingerprints of rows an import stored.
pub async fn add_keys(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    import: Uuid,
    keys: &[(String, Uuid)],
) -> Result<(), Error> {
    key_rows(ws, object, import, keys).run(tx).await
}

/// The rows of [`add_keys`].
pub fn key_rows(
    ws: WorkspaceId,
    object: ObjectKind,
    import: Uuid,
    keys: &[(String, Uuid)],
) -> Insert {
    let rows: Vec<Vec<Scalar>> = keys
        .iter()
        .map(|(k, id)| {
            vec![
                ws_arg(ws),
                Scalar::Text(object.singular().into()),
                Scalar::Text(k.clone()),
                Scalar::Uuid(*id),
                Scalar::Uuid(import),
            ]
        })
        .collect();
    Insert {
        table: "import_keys",
        columns: vec!["workspace_id", "object", "key", "record_id", "import_id"],
        rows,
        tail: " ON CONFLICT DO NOTHING",
    }
}

/// Forgets an import's fingerprints for these records (after a revert removed them).
pub async fn forget_keys(tx: &mut Tx, import: Uuid, records: &[Uuid]) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("DELETE FROM import_keys WHERE import_id = ");
    sql.bind(Scalar::Uuid(import)).push(" AND record_id");
    sql.bind_in(List::uuids(records));
    tx.execute(sql).await?;
    Ok(())
}

/// A revert put `record` back exactly as it was at version `was` (now `now`): the imports
/// whose work it was at `was` see it unchanged since, and can still take it back.
pub async fn hand_back(
    tx: &mut Tx,
    ws: WorkspaceId,
    record: Uuid,
    was: i64,
    now: i64,
) -> Result<(), Error> {
    let mut sql = Sql::new("UPDATE import_items SET version = ");
    sql.bind(Scalar::Int(now))
        .push(" WHERE record_id = ")
        .bind(Scalar::Uuid(record))
        .push(" AND workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND version = ")
        .bind(Scalar::Int(was));
    tx.execute(sql).await?;
    Ok(())
}

/// Stores an uploaded file in the database in pieces, so any node can run the import.
pub async fn save_upload(
    tx: &mut Tx,
    ws: WorkspaceId,
    import: Uuid,
    data: &[u8],
) -> Result<(), Error> {
    for (seq, piece) in data.chunks(1 << 20).enumerate() {
        let q = "INSERT INTO import_uploads (workspace_id, import_id, seq, data) VALUES ($1, $2, $3, $4)";
        match tx {
            Tx::Sqlite(t) => {
                sqlx::query(q)
                    .bind(ws.0)
                    .bind(import)
                    .bind(seq as i64)
                    .bind(piece)
                    .execute(&mut **t)
                    .await?;
            }
            Tx::Pg(t) => {
                sqlx::query(q)
                    .bind(ws.0)
                    .bind(import)
                    .bind(seq as i64)
                    .bind(piece)
                    .execute(&mut **t)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Reads an uploaded file back whole (uploads are bounded by the API's size limit).
pub async fn load_upload(db: &crate::Db, import: Uuid) -> Result<Vec<u8>, Error> {
    let q = "SELECT data FROM import_uploads WHERE import_id = $1 ORDER BY seq";
    let pieces: Vec<Vec<u8>> = match db {
        crate::Db::Sqlite { read, .. } => {
            sqlx::query_scalar(q).bind(import).fetch_all(read).await?
        }
        crate::Db::Postgres(p) => sqlx::query_scalar(q).bind(import).fetch_all(p).await?,
    };
    Ok(pieces.concat())
}

/// Moves an import's checkpoint from `from` rows; false when another process moved it
/// first (the chunk must then not be kept).
pub async fn checkpoint(
    tx: &mut Tx,
    ws: WorkspaceId,
    i: &Import,
    from: i64,
) -> Result<bool, Error> {
    let mut sql = Sql::new("UPDATE imports SET rows_done = ");
    sql.bind(Scalar::Int(i.rows_done));
    let sets = [
        ("status", Scalar::Text(i.status.clone())),
        ("rows_created", Scalar::Int(i.created)),
        ("rows_updated", Scalar::Int(i.updated)),
        ("rows_skipped", Scalar::Int(i.skipped)),
        ("rows_failed", Scalar::Int(i.failed)),
        ("bytes_done", Scalar::Int(i.bytes_done)),
        ("options", Scalar::Json(i.options.clone())),
        ("updated_at", Scalar::Time(i.updated_at)),
    ];
    for (col, v) in sets {
        sql.push(", ").push(col).push(" = ").bind(v);
    }
    sql.push(" WHERE workspace_id = ")
        .bind(ws_arg(ws))
        .push(" AND id = ")
        .bind(Scalar::Uuid(i.id))
        .push(" AND rows_done = ")
        .bind(Scalar::Int(from));
    Ok(tx.execute(sql).await? == 1)
}

/// Uploaded imports of any workspace that are queued or were running: `(workspace, id)`
/// of each, for the server to resume at start.
pub async fn pending_uploads(db: &crate::Db) -> Result<Vec<(Uuid, Uuid)>, Error> {
    let sql = Sql::new(
        "SELECT i.workspace_id, i.id FROM imports i WHERE i.status IN ('queued', 'running') AND EXISTS (SELECT 1 FROM import_uploads u WHERE u.import_id = i.id) ORDER BY i.created_at",
    );
    let mut out = vec![];
    for r in db.clone().fetch_all(sql).await? {
        if let (Some(w), Some(i)) = (r.uuid("workspace_id")?, r.uuid("id")?) {
            out.push((w, i));
        }
    }
    Ok(out)
}
