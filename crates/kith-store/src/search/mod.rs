//! The global search's reads: records of one object whose terms match every query
//! term, the typo vocabulary, and the activities and tasks still waiting for terms.
//!
//! Each object is read on its own range of `search_terms (scope, term, doc)` (the scope
//! being the workspace's object, the doc its record: see [`index`]), driven by the most
//! selective term; the other terms are checked per candidate through `search_terms_doc`. At most `cap` candidates per tier are read,
//! so a one-letter query costs what a precise one does. Each tier is its own statement,
//! so that the caller reads the second only when the first leaves room for it.

use std::collections::BTreeSet;

use kith_core::objects::ObjectKind;
use kith_core::search::highlight::Term;
use kith_core::search::typo::is_vocabulary_term;
use kith_core::Scalar;
use uuid::Uuid;

use crate::db::{Exec, List, Sql, Tx};
use crate::records::{decode, select_columns, Record};
use crate::{Error, WorkspaceId};

pub mod index;
use index::push_scope;

fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

/// The first string after every string starting with `prefix` (in "C" order).
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

/// Adds the Latin words among `terms` to the workspace's typo vocabulary.
pub async fn add_vocabulary<'a>(
    tx: &mut Tx,
    ws: WorkspaceId,
    terms: impl IntoIterator<Item = &'a String>,
) -> Result<(), Error> {
    vocabulary_rows(ws, terms).run(tx).await
}

/// The rows of [`add_vocabulary`].
pub fn vocabulary_rows<'a>(
    ws: WorkspaceId,
    terms: impl IntoIterator<Item = &'a String>,
) -> crate::bulk::Insert {
    let words: BTreeSet<&String> = terms
        .into_iter()
        .filter(|t| is_vocabulary_term(t))
        .collect();
    let rows: Vec<Vec<Scalar>> = words
        .into_iter()
        .map(|t| vec![ws_arg(ws), Scalar::Text(t.clone())])
        .collect();
    // Sorted rows: concurrent writers take the same words' locks in the same order.
    crate::bulk::Insert {
        table: "search_vocabulary",
        columns: vec!["workspace_id", "term"],
        rows,
        tail: " ON CONFLICT DO NOTHING",
    }
}

/// Which of `candidates` are words of the workspace's vocabulary.
pub async fn known_words(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    candidates: &BTreeSet<String>,
) -> Result<Vec<String>, Error> {
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = Sql::new("SELECT term FROM search_vocabulary WHERE workspace_id = ");
    // One array on PostgreSQL: a word's few hundred candidates as placeholders were a
    // statement to parse and plan for every length (1.6x the time per lookup).
    sql.bind(ws_arg(ws)).push(" AND term");
    sql.bind_in(List::Text(candidates.iter().cloned().collect()));
    sql.push(" ORDER BY term");
    ex.fetch_all(sql)
        .await?
        .iter()
        .map(|r| r.text("term").map(Option::unwrap_or_default))
        .collect()
}

/// For each of `objects`, which of `terms` some record of it matches (`[object][term]`):
/// one statement of index probes, one seek each. A type missing a term cannot hold a
/// hit and is not searched; a word no type has is a candidate for typo correction.
pub async fn terms_present(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    objects: &[ObjectKind],
    terms: &[Term],
) -> Result<Vec<Vec<bool>>, Error> {
    let mut found = vec![vec![false; terms.len()]; objects.len()];
    if objects.is_empty() || terms.is_empty() {
        return Ok(found);
    }
    let mut sql = Sql::new("");
    for (oi, object) in objects.iter().enumerate() {
        for (ti, term) in terms.iter().enumerate() {
            if oi + ti > 0 {
                sql.push(" UNION ALL ");
            }
            // The indexes are our own numbers, not input.
            sql.push(&format!("SELECT CAST({oi} AS BIGINT) AS o, CAST({ti} AS BIGINT) AS t WHERE EXISTS (SELECT 1 FROM search_terms WHERE "));
            push_scope(&mut sql, "scope", ws, *object);
            sql.push(" AND ");
            term_condition(&mut sql, "term", term);
            sql.push(")");
        }
    }
    for r in ex.fetch_all(sql).await? {
        if let (Some(o), Some(t)) = (r.int("o")?, r.int("t")?) {
            found[o as usize][t as usize] = true;
        }
    }
    Ok(found)
}

/// `col` matches `term`: as a prefix, or (corrected) as one of its typo words.
fn term_condition(sql: &mut Sql, col: &str, term: &Term) {
    if term.typos.is_empty() {
        sql.push(col)
            .push(" >= ")
            .bind(Scalar::Text(term.text.clone()));
        sql.push(" AND ")
            .push(col)
            .push(" < ")
            .bind(Scalar::Text(prefix_end(&term.text)));
    } else {
        sql.push(col).bind_in(List::texts(&term.typos));
    }
}

/// Rows of the driving term's range a multi-word tier examines at most: with common
/// words (`soeren jensen` among a million contacts) the other words are checked on that
/// many rows and no more, so the cost stays bounded when few of them match. Rows of
/// deleted records count too: they cost as much to look at, and asking first whether
/// each row's record is live cost three times what the words do at 1M contacts.
const SCAN: i64 = 500;

/// One tier of candidates: rows of the driving term's range in `order`, that are live
/// records of `object` and match every other term.
fn tier(
    sql: &mut Sql,
    ws: WorkspaceId,
    object: ObjectKind,
    driver: &dyn Fn(&mut Sql),
    others: &[&Term],
    order: &str,
    cap: u32,
) {
    // `doc`'s record is live (a seek in search_docs, then one in the object's table).
    let live = |sql: &mut Sql, doc: &str| {
        sql.push(" AND EXISTS (SELECT 1 FROM search_docs x CROSS JOIN ")
            .push(object.table())
            .push(" r WHERE x.doc = ")
            .push(doc)
            .push(" AND r.id = x.record_id AND r.deleted_at IS NULL)");
    };
    sql.push("SELECT x.record_id AS rid FROM (SELECT d.doc FROM (SELECT s.doc FROM search_terms s WHERE ");
    push_scope(sql, "s.scope", ws, object);
    sql.push(" AND ");
    driver(sql);
    // One word: the first `cap` live records. More: `SCAN` rows, then the words, then
    // whether the few that have them are live.
    if others.is_empty() {
        live(sql, "s.doc");
    }
    sql.push(" ORDER BY ").push(order).push(" LIMIT ");
    sql.bind(Scalar::Int(if others.is_empty() {
        i64::from(cap)
    } else {
        SCAN
    }));
    sql.push(") d WHERE 1 = 1");
    for t in others {
        sql.push(" AND EXISTS (SELECT 1 FROM search_terms o WHERE o.doc = d.doc AND ");
        term_condition(sql, "o.term", t);
        sql.push(")");
    }
    if !others.is_empty() {
        live(sql, "d.doc");
    }
    sql.push(" LIMIT ")
        .bind(Scalar::Int(i64::from(cap)))
        .push(") c CROSS JOIN search_docs x WHERE x.doc = c.doc");
}

/// Which rows of the driving term's range a tier reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// The driving term as a whole word, newest records first.
    Whole,
    /// The driving term as the start of a longer word, in term order. A record found
    /// here has no word equal to the driving term, so that term ranks it as a prefix
    /// at best (`kith_core::search::rank`).
    Longer,
    /// The driving term's typo corrections (when every term was corrected).
    Typo,
}

/// The term a search's candidates are read by: the longest uncorrected term is usually
/// the rarest; a corrected one only if all are.
pub fn driver(terms: &[Term]) -> Option<&Term> {
    terms
        .iter()
        .filter(|t| t.typos.is_empty())
        .max_by_key(|t| t.text.len())
        .or(terms.first())
}

/// The tiers a search reads, best first.
pub fn tiers(terms: &[Term]) -> &'static [Tier] {
    match driver(terms) {
        Some(d) if d.typos.is_empty() => &[Tier::Whole, Tier::Longer],
        Some(_) => &[Tier::Typo],
        None => &[],
    }
}

/// Live records of `object` in `ws` matching every term, read on one tier: at most
/// `cap` rows of it, so a record may come twice. With each, the name of its company
/// (live or deleted), which ranking reads too.
pub async fn candidates(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    terms: &[Term],
    tier_read: Tier,
    cap: u32,
) -> Result<Vec<(Record, Option<String>)>, Error> {
    let Some(driver) = driver(terms) else {
        return Ok(vec![]);
    };
    let others: Vec<&Term> = terms.iter().filter(|t| !std::ptr::eq(*t, driver)).collect();
    let with_company = object != ObjectKind::Company && object.field("company_id").is_some();
    let mut sql = Sql::new("SELECT ");
    sql.push(&select_columns(object));
    if with_company {
        sql.push(", co.name AS search_company_name");
    }
    sql.push(" FROM (");
    let exact = Scalar::Text(driver.text.clone());
    match tier_read {
        Tier::Whole => {
            let whole = |sql: &mut Sql| {
                sql.push("s.term = ").bind(exact.clone());
            };
            tier(&mut sql, ws, object, &whole, &others, "s.doc DESC", cap);
        }
        Tier::Longer => {
            let end = Scalar::Text(prefix_end(&driver.text));
            let longer = |sql: &mut Sql| {
                sql.push("s.term > ").bind(exact.clone());
                sql.push(" AND s.term < ").bind(end.clone());
            };
            tier(&mut sql, ws, object, &longer, &others, "s.term, s.doc", cap);
        }
        Tier::Typo => {
            let typo = |sql: &mut Sql| term_condition(sql, "s.term", driver);
            tier(&mut sql, ws, object, &typo, &others, "s.term, s.doc", cap);
        }
    }
    // CROSS JOIN keeps SQLite on the candidates first; PostgreSQL plans it freely.
    sql.push(") m CROSS JOIN ").push(object.table()).push(" t");
    if with_company {
        sql.push(" LEFT JOIN companies co ON co.id = t.company_id AND co.workspace_id = ")
            .bind(ws_arg(ws));
    }
    sql.push(" WHERE t.id = m.rid AND t.workspace_id = ")
        .bind(ws_arg(ws));
    let rows = ex.fetch_all(sql).await?;
    rows.iter()
        .map(|r| {
            let company = if with_company {
                r.text("search_company_name")?
            } else {
                None
            };
            Ok((decode(object, r)?, company))
        })
        .collect()
}

/// Up to `limit` records waiting to be indexed since migration 0006: (workspace, object, id).
pub async fn backfill_batch(
    ex: &mut impl Exec,
    limit: i64,
) -> Result<Vec<(WorkspaceId, ObjectKind, Uuid)>, Error> {
    let mut sql = Sql::new("SELECT workspace_id, object, record_id FROM search_backfill LIMIT ");
    sql.bind(Scalar::Int(limit));
    let mut out = vec![];
    for r in ex.fetch_all(sql).await? {
        let object = r
            .text("object")?
            .and_then(|o| ObjectKind::from_singular(&o));
        if let (Some(ws), Some(object), Some(id)) =
            (r.uuid("workspace_id")?, object, r.uuid("record_id")?)
        {
            out.push((WorkspaceId(ws), object, id));
        }
    }
    Ok(out)
}

/// Marks a record as indexed (in the transaction that wrote its terms).
pub async fn backfill_done(tx: &mut Tx, id: Uuid) -> Result<(), Error> {
    tx.execute(Sql::new("DELETE FROM search_backfill WHERE record_id = ").arg(Scalar::Uuid(id)))
        .await?;
    Ok(())
}
