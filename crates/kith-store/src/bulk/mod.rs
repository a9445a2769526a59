//! The bulk write path: many rows per statement (one `COPY` on PostgreSQL), for imports
//! and other large writes (new records with their search terms, identities, tags, audit
//! entries and events), and the lookups that batch by value.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use kith_core::objects::{FieldSpec, ObjectKind};
use kith_core::{Scalar, ScalarType};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::db::{Bound, Exec, List, Sql, Tx};
use crate::events::past_tense;
use crate::{Error, WorkspaceId};

mod lookups;
mod pipeline;
pub use lookups::*;
pub use pipeline::{pipelined, Insert, Sink};

/// Rows per INSERT at most on SQLite: each statement is a round trip between the writer
/// and SQLite's thread, and 1,000 rows instead of 200 halve how often SQLite waits for
/// the next one (docs/PERFORMANCE.md, "Fewer waits between the writer and SQLite").
const ROWS_PER_STATEMENT: usize = 1000;

/// Bound values per statement: well under SQLite's 32,766 and PostgreSQL's 65,535, and
/// large enough that round trips stop mattering.
fn max_params(dialect: crate::Dialect) -> usize {
    match dialect {
        crate::Dialect::Sqlite => 10_000,
        crate::Dialect::Postgres => 30_000,
    }
}

fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

/// Inserts `rows` into `table`: the bulk path's one primitive. `tail` is appended to
/// each statement (e.g. `ON CONFLICT DO NOTHING`). Without a tail, PostgreSQL gets the
/// rows by `COPY`; otherwise (and on SQLite) they go in as many rows per `INSERT` as the
/// bound-value limit allows.
pub async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Scalar>],
    tail: &str,
) -> Result<(), Error> {
    if rows.is_empty() || columns.is_empty() {
        return Ok(());
    }
    if copies(tx.dialect(), tail) {
        if let Tx::Pg(t) = tx {
            return crate::copy::copy_rows(t, table, columns, rows).await;
        }
    }
    // Pipelined: the next statement is built and its values bound while the previous one
    // runs (on SQLite's worker thread, or on the PostgreSQL server), so neither costs
    // the database's time.
    let mut statements = statements(tx.dialect(), table, columns, rows, tail);
    let mut next = statements.next().transpose()?;
    while let Some(ready) = next.take() {
        let (done, made) = tokio::join!(tx.execute_bound(ready), async {
            statements.next().transpose()
        });
        done?;
        next = made?;
    }
    Ok(())
}

/// Whether rows go in by `COPY`: PostgreSQL without a tail. COPY streams rows with no
/// statement to parse, plan or bind per chunk, and no 65,535-value cap per round trip;
/// it has no ON CONFLICT, so a tail keeps INSERT.
fn copies(dialect: crate::Dialect, tail: &str) -> bool {
    dialect == crate::Dialect::Postgres && tail.is_empty()
}

/// The multi-row `INSERT`s of `rows`, each made and bound when the iterator reaches it.
fn statements<'a>(
    dialect: crate::Dialect,
    table: &'a str,
    columns: &'a [&'a str],
    rows: &'a [Vec<Scalar>],
    tail: &'a str,
) -> impl Iterator<Item = Result<Bound, Error>> + 'a {
    rows.chunks(per_statement(dialect, columns.len()))
        .map(move |part| Bound::new(statement(dialect, table, columns, part, tail), dialect))
}

/// Rows per multi-row `INSERT` of `columns` columns. SQLite: a fixed number, so that full
/// statements repeat the same text and the statement cache prepares each shape once.
/// PostgreSQL: as many as fit, because there each statement is a round trip.
fn per_statement(dialect: crate::Dialect, columns: usize) -> usize {
    let fit = (max_params(dialect) / columns.max(1)).max(1);
    match dialect {
        crate::Dialect::Sqlite => fit.min(ROWS_PER_STATEMENT),
        crate::Dialect::Postgres => fit,
    }
}

/// One multi-row `INSERT` of `rows`.
fn statement(
    dialect: crate::Dialect,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Scalar>],
    tail: &str,
) -> Sql {
    let mut sql = Sql::new("INSERT INTO ");
    sql.push(table).push(" (").push(&columns.join(", "));
    sql.push(") ");
    // On SQLite, a value every row shares (the workspace, the time, the object …) is
    // bound once, not once per row: binding is most of what a bulk insert costs there
    // besides the B-trees.
    let shared: Vec<bool> = match (dialect, rows) {
        (crate::Dialect::Sqlite, [first, rest @ ..]) if !rest.is_empty() => (0..columns.len())
            .map(|j| rest.iter().all(|r| r[j] == first[j]))
            .collect(),
        _ => vec![false; columns.len()],
    };
    if shared.iter().any(|s| *s) && !shared.iter().all(|s| *s) {
        sql.push("SELECT ");
        let mut varying = 0;
        for (j, is_shared) in shared.iter().enumerate() {
            if j > 0 {
                sql.push(", ");
            }
            if *is_shared {
                sql.bind(rows[0][j].clone());
            } else {
                varying += 1;
                sql.push(&format!("column{varying}"));
            }
        }
        sql.push(" FROM (VALUES ");
        push_values(&mut sql, rows, |j| !shared[j]);
        // `WHERE true` tells SQLite's parser that an `ON CONFLICT` tail belongs to the
        // INSERT, not to a join.
        sql.push(") WHERE true");
    } else {
        sql.push("VALUES ");
        push_values(&mut sql, rows, |_| true);
    }
    sql.push(tail);
    sql
}

/// `(…), (…)`: the values of `rows` in the columns `keep` selects.
fn push_values(sql: &mut Sql, rows: &[Vec<Scalar>], keep: impl Fn(usize) -> bool) {
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(");
        let mut first = true;
        for (_, v) in row.iter().enumerate().filter(|(j, _)| keep(*j)) {
            if !first {
                sql.push(", ");
            }
            first = false;
            sql.bind(v.clone());
        }
        sql.push(")");
    }
}

/// SQLite settings of the write connection while a bulk load runs: a page cache large
/// enough for the indexes an import fills (128 MiB instead of 32), temporary B-trees in
/// memory, and checkpoints of the write-ahead log every 40 MB instead of every 4 MB, so
/// hot index pages are not copied back to the database file after every chunk.
/// Durability is unchanged: each chunk's commit is as safe as before.
const BULK_LOAD: &[(&str, i64)] = &[
    ("cache_size", -131_072),
    ("temp_store", 2),
    ("wal_autocheckpoint", 10_000),
];

/// The settings a bulk load changed on SQLite's write connection, to put back with
/// [`BulkLoad::end`]. Nothing on PostgreSQL.
#[derive(Debug)]
#[must_use = "the settings stay until end() restores them"]
pub struct BulkLoad {
    saved: Vec<(&'static str, i64)>,
}

impl BulkLoad {
    /// Tunes the write connection for a bulk load (see [`BULK_LOAD`]).
    pub async fn start(db: &crate::Db) -> Result<BulkLoad, Error> {
        let mut saved = vec![];
        if let crate::Db::Sqlite { .. } = db {
            // Read on the write connection itself (the pool's reads go elsewhere).
            let mut tx = db.begin().await?;
            for (name, _) in BULK_LOAD {
                let row = tx
                    .fetch_optional(Sql::new(&format!("PRAGMA {name}")))
                    .await?;
                if let Some(v) = row.map(|r| r.int(name)).transpose()?.flatten() {
                    saved.push((*name, v));
                }
            }
            drop(tx);
            set_pragmas(db, BULK_LOAD).await?;
        }
        Ok(BulkLoad { saved })
    }

    /// Puts back the settings [`BulkLoad::start`] changed.
    pub async fn end(self, db: &crate::Db) -> Result<(), Error> {
        set_pragmas(db, &self.saved).await
    }
}

/// Sets pragmas of SQLite's write connection; outside a transaction, as `temp_store`
/// requires.
async fn set_pragmas(db: &crate::Db, values: &[(&str, i64)]) -> Result<(), Error> {
    let mut db = db.clone();
    for (name, v) in values {
        // Names and values come from our own code, never from input.
        db.execute(Sql::new(&format!("PRAGMA {name} = {v}")))
            .await?;
    }
    Ok(())
}

/// A record the bulk path creates.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Built-in columns set.
    pub columns: Vec<(&'static FieldSpec, Scalar)>,
    /// Custom values (no nulls).
    pub custom: Map<String, Value>,
    /// When it was made, if not now (an import keeps the old system's date).
    pub created_at: Option<DateTime<Utc>>,
}

/// Creates many records of one object at version 1.
pub async fn insert_records(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    now: DateTime<Utc>,
    recs: &[NewRecord],
) -> Result<(), Error> {
    record_rows(ws, object, now, recs).run(tx).await
}

/// The rows of [`insert_records`].
pub fn record_rows(
    ws: WorkspaceId,
    object: ObjectKind,
    now: DateTime<Utc>,
    recs: &[NewRecord],
) -> Insert {
    // One column list for the chunk: the union of what the rows set, in spec order.
    let used: BTreeSet<&str> = recs
        .iter()
        .flat_map(|r| r.columns.iter().map(|(f, _)| f.name))
        .collect();
    let specs: Vec<&'static FieldSpec> = object
        .fields()
        .iter()
        .filter(|f| used.contains(f.name))
        .collect();
    let mut columns = vec!["id", "workspace_id", "version", "created_at", "updated_at"];
    columns.extend(specs.iter().map(|f| f.name));
    if object.is_customisable() {
        columns.push("custom");
    }
    let rows: Vec<Vec<Scalar>> = recs
        .iter()
        .map(|r| {
            let mut row = vec![
                Scalar::Uuid(r.id),
                ws_arg(ws),
                Scalar::Int(1),
                Scalar::Time(r.created_at.unwrap_or(now)),
                Scalar::Time(now),
            ];
            for spec in &specs {
                let v = r
                    .columns
                    .iter()
                    .find(|(f, _)| f.name == spec.name)
                    .map(|(_, v)| v.clone());
                row.push(v.unwrap_or_else(|| column_default(spec)));
            }
            if object.is_customisable() {
                row.push(Scalar::Json(Value::Object(r.custom.clone())));
            }
            row
        })
        .collect();
    Insert {
        table: object.table(),
        columns,
        rows,
        tail: "",
    }
}

/// What an unset column holds: JSON columns are NOT NULL with an empty default.
fn column_default(spec: &FieldSpec) -> Scalar {
    match spec.kind {
        kith_core::fields::Kind::Consent => Scalar::Json(Value::Object(Map::new())),
        kith_core::fields::Kind::Identities => Scalar::Json(Value::Array(vec![])),
        k => Scalar::Null(k.scalar_type()),
    }
}

/// Adds the search terms of many new records, and their words to the typo vocabulary.
pub async fn insert_terms(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    items: &[(Uuid, BTreeSet<String>)],
) -> Result<(), Error> {
    crate::search::index::insert_new(tx, ws, object, items).await?;
    crate::search::add_vocabulary(tx, ws, items.iter().flat_map(|(_, t)| t)).await
}

/// A contact's identity lookup rows: `(kind, channel, value)`.
pub type IdentityRows = BTreeSet<(String, String, String)>;

/// Adds identity lookup rows `(contact, kind, channel, value)` of new contacts.
pub async fn insert_identities(
    tx: &mut Tx,
    ws: WorkspaceId,
    items: &[(Uuid, IdentityRows)],
) -> Result<(), Error> {
    identity_rows(ws, items).run(tx).await
}

/// The rows of [`insert_identities`].
pub fn identity_rows(ws: WorkspaceId, items: &[(Uuid, IdentityRows)]) -> Insert {
    let rows: Vec<Vec<Scalar>> = items
        .iter()
        .flat_map(|(id, set)| {
            set.iter().map(move |(k, c, v)| {
                vec![
                    ws_arg(ws),
                    Scalar::Uuid(*id),
                    Scalar::Text(k.clone()),
                    Scalar::Text(c.clone()),
                    Scalar::Text(v.clone()),
                ]
            })
        })
        .collect();
    Insert {
        table: "identities",
        columns: vec!["workspace_id", "contact_id", "kind", "channel", "value"],
        rows,
        tail: "",
    }
}

/// Adds tags to records (keeping the tags they have), creating missing tags.
pub async fn add_tags(
    tx: &mut Tx,
    ws: WorkspaceId,
    now: DateTime<Utc>,
    items: &[(Uuid, Vec<String>)],
) -> Result<(), Error> {
    let ids = tag_ids(tx, ws, now, items.iter().flat_map(|(_, t)| t).collect()).await?;
    tagging_rows(ws, &ids, items).run(tx).await
}

/// The ids of the tags `names`, created (or brought back) where missing.
pub async fn tag_ids(
    tx: &mut Tx,
    ws: WorkspaceId,
    now: DateTime<Utc>,
    names: BTreeSet<&String>,
) -> Result<HashMap<String, Uuid>, Error> {
    let mut ids = HashMap::new();
    if names.is_empty() {
        return Ok(ids);
    }
    let rows: Vec<Vec<Scalar>> = names
        .iter()
        .map(|n| {
            vec![
                Scalar::Uuid(Uuid::now_v7()),
                ws_arg(ws),
                Scalar::Int(1),
                Scalar::Time(now),
                Scalar::Time(now),
                Scalar::Text((*n).clone()),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "tags",
        &[
            "id",
            "workspace_id",
            "version",
            "created_at",
            "updated_at",
            "name",
        ],
        &rows,
        " ON CONFLICT (workspace_id, name) DO UPDATE SET deleted_at = NULL",
    )
    .await?;
    let names: Vec<&String> = names.into_iter().collect();
    for chunk in names.chunks(1000) {
        let mut sql = Sql::new("SELECT id, name FROM tags WHERE workspace_id = ");
        sql.bind(ws_arg(ws)).push(" AND name");
        sql.bind_in(List::texts(chunk));
        for row in tx.fetch_all(sql).await? {
            if let (Some(id), Some(name)) = (row.uuid("id")?, row.text("name")?) {
                ids.insert(name, id);
            }
        }
    }
    Ok(ids)
}

/// The rows that give `items`' records their tags (ids from [`tag_ids`]).
pub fn tagging_rows(
    ws: WorkspaceId,
    ids: &HashMap<String, Uuid>,
    items: &[(Uuid, Vec<String>)],
) -> Insert {
    let rows: Vec<Vec<Scalar>> = items
        .iter()
        .flat_map(|(record, tags)| {
            let unique: BTreeSet<&String> = tags.iter().collect();
            unique
                .into_iter()
                .filter_map(|t| ids.get(t))
                .map(|tag| vec![ws_arg(ws), Scalar::Uuid(*record), Scalar::Uuid(*tag)])
                .collect::<Vec<_>>()
        })
        .collect();
    Insert {
        table: "taggings",
        columns: vec!["workspace_id", "record_id", "tag_id"],
        rows,
        tail: " ON CONFLICT DO NOTHING",
    }
}

/// The columns of an `events` row the bulk path writes, in the order of its values.
pub const EVENT_COLUMNS: &[&str] = &[
    "id",
    "workspace_id",
    "at",
    "kind",
    "object",
    "record_id",
    "payload",
];

/// Writes audit entries and their events for many records changed the same way.
pub async fn audit_many(
    tx: &mut Tx,
    ws: WorkspaceId,
    now: DateTime<Utc>,
    actor: Option<Uuid>,
    action: &str,
    object: ObjectKind,
    items: &[(Uuid, Value)],
) -> Result<(), Error> {
    for ins in audit_rows(ws, now, actor, action, object, items) {
        ins.run(tx).await?;
    }
    Ok(())
}

/// The rows of [`audit_many`]: audit entries, then events.
pub fn audit_rows(
    ws: WorkspaceId,
    now: DateTime<Utc>,
    actor: Option<Uuid>,
    action: &str,
    object: ObjectKind,
    items: &[(Uuid, Value)],
) -> [Insert; 2] {
    let actor_arg = actor
        .map(Scalar::Uuid)
        .unwrap_or(Scalar::Null(ScalarType::Uuid));
    let audit: Vec<Vec<Scalar>> = items
        .iter()
        .map(|(id, changes)| {
            vec![
                Scalar::Uuid(Uuid::now_v7()),
                ws_arg(ws),
                Scalar::Time(now),
                actor_arg.clone(),
                Scalar::Text(action.into()),
                Scalar::Text(object.singular().into()),
                Scalar::Uuid(*id),
                Scalar::Json(changes.clone()),
            ]
        })
        .collect();
    let kind = format!("{}.{}", object.singular(), past_tense(action));
    let events: Vec<Vec<Scalar>> = items
        .iter()
        .map(|(id, changes)| {
            // A bulk `created` event leaves the new record out: the record and its audit
            // entry hold it, no consumer reads it, and an import of a million rows would
            // write every record a third time.
            let payload = if action == "create" {
                serde_json::json!({"actor_id": actor})
            } else {
                serde_json::json!({"actor_id": actor, "changes": changes})
            };
            vec![
                Scalar::Uuid(Uuid::now_v7()),
                ws_arg(ws),
                Scalar::Time(now),
                Scalar::Text(kind.clone()),
                Scalar::Text(object.singular().into()),
                Scalar::Uuid(*id),
                Scalar::Json(payload),
            ]
        })
        .collect();
    [
        Insert {
            table: "audit_log",
            columns: vec![
                "id",
                "workspace_id",
                "at",
                "actor_id",
                "action",
                "object",
                "record_id",
                "changes",
            ],
            rows: audit,
            tail: "",
        },
        Insert {
            table: "events",
            columns: EVENT_COLUMNS.to_vec(),
            rows: events,
            tail: "",
        },
    ]
}

/// Refreshes PostgreSQL's statistics of tables a bulk load is filling, so its lookups
/// keep using their indexes as the tables grow (a plan made while a table was nearly
/// empty scans it whole). SQLite plans those lookups by index anyway: nothing to do.
pub async fn refresh_statistics(db: &crate::Db, tables: &[&str]) -> Result<(), Error> {
    if let crate::Db::Postgres(_) = db {
        let mut db = db.clone();
        for t in tables {
            // Table names come from our own code, never from input.
            db.execute(Sql::new(&format!("ANALYZE {t}"))).await?;
        }
    }
    Ok(())
}
