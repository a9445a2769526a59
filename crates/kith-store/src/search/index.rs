//! The search index's writes. Entries are keyed compactly (migration 0011): each
//! (workspace, object) has a small scope number in `search_scopes`, each record a
//! document number in `search_docs`, so `search_terms (scope, term, doc)` holds neither
//! UUID nor object name and an import writes about a third of the pages it did.

use std::collections::BTreeSet;

use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use uuid::Uuid;

use crate::bulk::Insert;
use crate::db::{Exec, List, Sql, Tx};
use crate::{Error, WorkspaceId};

/// `workspace_id = … AND object = …`: the key of a row of `search_scopes`.
fn push_scope_key(sql: &mut Sql, ws: WorkspaceId, object: ObjectKind) {
    sql.push("workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND object = ")
        .bind(Scalar::Text(object.singular().into()));
}

/// `s.scope = <the scope number of object in ws>`, for reads: no number (nothing of
/// that object was ever indexed) matches nothing.
pub(crate) fn push_scope(sql: &mut Sql, col: &str, ws: WorkspaceId, object: ObjectKind) {
    sql.push(col)
        .push(" = (SELECT scope FROM search_scopes WHERE ");
    push_scope_key(sql, ws, object);
    sql.push(")");
}

async fn find_scope(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
) -> Result<Option<i64>, Error> {
    let mut sql = Sql::new("SELECT CAST(scope AS BIGINT) AS scope FROM search_scopes WHERE ");
    push_scope_key(&mut sql, ws, object);
    Ok(tx
        .fetch_optional(sql)
        .await?
        .map(|r| r.int("scope"))
        .transpose()?
        .flatten())
}

/// The scope number of `object` in `ws`, given on first use.
async fn scope(tx: &mut Tx, ws: WorkspaceId, object: ObjectKind) -> Result<i64, Error> {
    if let Some(s) = find_scope(tx, ws, object).await? {
        return Ok(s);
    }
    // A concurrent writer may give it first: theirs is kept and read back.
    tx.execute(
        Sql::new("INSERT INTO search_scopes (workspace_id, object) VALUES (")
            .arg(Scalar::Uuid(ws.0))
            .and(", ")
            .arg(Scalar::Text(object.singular().into()))
            .and(") ON CONFLICT DO NOTHING"),
    )
    .await?;
    find_scope(tx, ws, object)
        .await?
        .ok_or_else(|| Error::Corrupt("search scope vanished after being written".into()))
}

/// `n` new document numbers. SQLite's writer holds the database's write lock for the
/// whole transaction (`BEGIN IMMEDIATE`), so numbers after the largest are free;
/// PostgreSQL's writers draw from the column's sequence.
async fn new_docs(tx: &mut Tx, n: usize) -> Result<Vec<i64>, Error> {
    if n == 0 {
        return Ok(vec![]);
    }
    match tx.dialect() {
        crate::Dialect::Sqlite => {
            let max = tx
                .fetch_optional(Sql::new(
                    "SELECT COALESCE(MAX(doc), 0) AS m FROM search_docs",
                ))
                .await?
                .map(|r| r.int("m"))
                .transpose()?
                .flatten()
                .unwrap_or(0);
            Ok((1..=n as i64).map(|i| max + i).collect())
        }
        crate::Dialect::Postgres => {
            let sql = Sql::new(
                "SELECT nextval(pg_get_serial_sequence('search_docs', 'doc')) AS doc FROM generate_series(1, ",
            )
            .arg(Scalar::Int(n as i64))
            .and(") ORDER BY 1");
            let mut out = Vec::with_capacity(n);
            for r in tx.fetch_all(sql).await? {
                out.extend(r.int("doc")?);
            }
            Ok(out)
        }
    }
}

/// Replaces a record's search terms.
pub async fn reindex(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    record_id: Uuid,
    terms: &BTreeSet<String>,
) -> Result<(), Error> {
    let scope = scope(tx, ws, object).await?;
    let found = tx
        .fetch_optional(
            Sql::new("SELECT doc FROM search_docs WHERE record_id = ").arg(Scalar::Uuid(record_id)),
        )
        .await?
        .map(|r| r.int("doc"))
        .transpose()?
        .flatten();
    let doc = match found {
        Some(doc) => {
            tx.execute(Sql::new("DELETE FROM search_terms WHERE doc = ").arg(Scalar::Int(doc)))
                .await?;
            doc
        }
        None => {
            let doc = new_docs(tx, 1).await?[0];
            tx.execute(
                Sql::new("INSERT INTO search_docs (doc, workspace_id, record_id) VALUES (")
                    .arg(Scalar::Int(doc))
                    .and(", ")
                    .arg(Scalar::Uuid(ws.0))
                    .and(", ")
                    .arg(Scalar::Uuid(record_id))
                    .and(")"),
            )
            .await?;
            doc
        }
    };
    // Many rows per statement: one round trip instead of one per term.
    let terms: Vec<&String> = terms.iter().collect();
    for chunk in terms.chunks(200) {
        let mut sql = Sql::new("INSERT INTO search_terms (scope, term, doc) VALUES ");
        for (i, t) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(")
                .bind(Scalar::Int(scope))
                .push(", ")
                .bind(Scalar::Text((*t).clone()));
            sql.push(", ").bind(Scalar::Int(doc)).push(")");
        }
        tx.execute(sql).await?;
    }
    super::add_vocabulary(tx, ws, terms).await
}

/// Adds the search terms of many new records (that have none yet), without adding
/// them to the typo vocabulary ([`super::add_vocabulary`]).
pub async fn insert_new(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    items: &[(Uuid, BTreeSet<String>)],
) -> Result<(), Error> {
    if items.is_empty() {
        return Ok(());
    }
    let numbers = numbers(tx, ws, object, items.len()).await?;
    for ins in new_rows(ws, &numbers, items) {
        ins.run(tx).await?;
    }
    Ok(())
}

/// The numbers `n` new records of `object` are indexed under: taken before their rows
/// are made, so the rows can be made away from the connection.
#[derive(Debug, Clone)]
pub struct Numbers {
    scope: i64,
    docs: Vec<i64>,
}

/// Takes [`Numbers`] for `n` new records of `object` in `ws`. On SQLite the numbers
/// follow the largest written so far: write their rows before taking more.
pub async fn numbers(
    tx: &mut Tx,
    ws: WorkspaceId,
    object: ObjectKind,
    n: usize,
) -> Result<Numbers, Error> {
    let scope = if n > 0 {
        scope(tx, ws, object).await?
    } else {
        0
    };
    Ok(Numbers {
        scope,
        docs: new_docs(tx, n).await?,
    })
}

/// The rows of [`insert_new`] (`search_docs`, then `search_terms`) for records numbered
/// by `numbers`, one document number per item in order.
pub fn new_rows(
    ws: WorkspaceId,
    numbers: &Numbers,
    items: &[(Uuid, BTreeSet<String>)],
) -> [Insert; 2] {
    debug_assert_eq!(numbers.docs.len(), items.len());
    let scope = numbers.scope;
    let doc_rows: Vec<Vec<Scalar>> = items
        .iter()
        .zip(&numbers.docs)
        .map(|((id, _), doc)| vec![Scalar::Int(*doc), Scalar::Uuid(ws.0), Scalar::Uuid(*id)])
        .collect();
    let rows: Vec<Vec<Scalar>> = items
        .iter()
        .zip(&numbers.docs)
        .flat_map(|((_, terms), doc)| {
            terms.iter().map(move |t| {
                vec![
                    Scalar::Int(scope),
                    Scalar::Text(t.clone()),
                    Scalar::Int(*doc),
                ]
            })
        })
        .collect();
    [
        Insert {
            table: "search_docs",
            columns: vec!["doc", "workspace_id", "record_id"],
            rows: doc_rows,
            tail: "",
        },
        Insert {
            table: "search_terms",
            columns: vec!["scope", "term", "doc"],
            rows,
            tail: "",
        },
    ]
}

/// Removes the terms of records of `ws` that are deleted for good.
pub async fn remove(tx: &mut Tx, ws: WorkspaceId, ids: &[Uuid]) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let docs = |sql: &mut Sql| {
        sql.push("search_docs WHERE workspace_id = ")
            .bind(Scalar::Uuid(ws.0))
            .push(" AND record_id");
        sql.bind_in(List::uuids(ids));
    };
    let mut sql = Sql::new("DELETE FROM search_terms WHERE doc IN (SELECT doc FROM ");
    docs(&mut sql);
    sql.push(")");
    tx.execute(sql).await?;
    let mut sql = Sql::new("DELETE FROM ");
    docs(&mut sql);
    tx.execute(sql).await?;
    Ok(())
}
