//! The global search: one query over contacts, companies, deals, activities (notes,
//! calls, emails, meetings) and tasks, ranked (see `kith_core::search::rank`) and
//! grouped by type, with the matched text marked.
//!
//! A query word of 5+ letters that starts no stored word is corrected: the words one
//! edit away that the workspace's vocabulary holds take its place, and what they find
//! ranks below real matches.

use std::cmp::Reverse;
use std::collections::HashSet;

use kith_core::objects::ObjectKind;
use kith_core::search::highlight::{FieldKind, Marked, Term};
use kith_core::search::rank::{rank, Field, Role};
use kith_core::search::{cjk_full_name, query_terms, typo};
use kith_core::Scalar;
use kith_store::search::{self as store, Tier};
use uuid::Uuid;

use crate::records::ws;
use crate::search_index::text_fields;
use crate::{App, Caller, Error, Record};

/// What the global search covers, in the order groups are shown when they rank equal.
pub const SEARCH_TYPES: [ObjectKind; 5] = [
    ObjectKind::Contact,
    ObjectKind::Company,
    ObjectKind::Deal,
    ObjectKind::Activity,
    ObjectKind::Task,
];

/// Hits per group when the caller names no limit.
pub const DEFAULT_LIMIT: u32 = 5;
/// Most hits per group.
pub const MAX_LIMIT: u32 = 50;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// A search as the caller asked it.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The words typed.
    pub q: String,
    /// Types to search (empty: all of [`SEARCH_TYPES`]).
    pub types: Vec<ObjectKind>,
    /// Hits per group (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]).
    pub limit: Option<u32>,
}

/// One record found.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The record.
    pub record: Record,
    /// Its name or title with the matches marked (empty for an activity without subject).
    pub title: Marked,
    /// The best matching other field: its name and its text, cut around the match.
    pub context: Option<(String, Marked)>,
    /// Higher ranks first.
    pub score: u32,
    /// Found only through a typo correction.
    pub typo: bool,
    /// For activities and tasks: the contact, deal or company they belong to.
    pub parent: Option<(ObjectKind, Uuid)>,
}

/// The hits of one type, best first.
#[derive(Debug, Clone)]
pub struct Group {
    /// The type.
    pub object: ObjectKind,
    /// Best first, at most the limit.
    pub hits: Vec<Hit>,
    /// More records of this type matched than are shown.
    pub more: bool,
}

/// A search's answer: groups with hits, the group with the best hit first.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    /// Non-empty groups.
    pub groups: Vec<Group>,
    /// Some query word matched nothing and was corrected for one typo.
    pub corrected: bool,
}

/// Reads `contacts,companies,deals,activities,tasks` (also singular, and `notes` for
/// activities) into types.
pub fn parse_types(s: &str) -> Result<Vec<ObjectKind>, Error> {
    let mut out = vec![];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let object = match part {
            "notes" | "note" => Some(ObjectKind::Activity),
            p => ObjectKind::from_plural(p).or_else(|| ObjectKind::from_singular(p)),
        }
        .filter(|o| SEARCH_TYPES.contains(o))
        .ok_or_else(|| {
            kith_core::Error::field(
                "types",
                format!("`{part}` is not one of contacts, companies, deals, activities, tasks"),
            )
        })?;
        if !out.contains(&object) {
            out.push(object);
        }
    }
    Ok(out)
}

fn text(rec: &Record, f: &str) -> String {
    rec.text(f).unwrap_or_default().to_string()
}

/// The texts a hit is ranked and marked on: the title first, then what the index also
/// holds for it (the same fields as `search_index::index_parts`).
fn fields_of(rec: &Record, company: Option<&str>) -> Vec<(&'static str, Role, FieldKind, String)> {
    let o = rec.object;
    let mut out = vec![];
    let title = match o {
        ObjectKind::Contact => {
            let (first, last) = (text(rec, "first_name"), text(rec, "last_name"));
            cjk_full_name(&first, &last).unwrap_or_else(|| format!("{first} {last}").trim().into())
        }
        ObjectKind::Activity => text(rec, "subject"),
        ObjectKind::Task => text(rec, "title"),
        _ => text(rec, "name"),
    };
    out.push(("name", Role::Title, FieldKind::Text, title));
    let named = ["first_name", "last_name", "subject", "title", "name"];
    for f in text_fields(o).iter().filter(|f| !named.contains(f)) {
        out.push((f, Role::Other, FieldKind::Text, text(rec, f)));
    }
    out.push(("email", Role::Other, FieldKind::Email, text(rec, "email")));
    out.push(("phone", Role::Other, FieldKind::Phone, text(rec, "phone")));
    if let Some(c) = company.filter(|_| o != ObjectKind::Company) {
        out.push(("company", Role::Other, FieldKind::Text, c.to_string()));
    }
    if let Some(Scalar::Json(serde_json::Value::Array(items))) = rec.get("identities") {
        for i in items {
            let kind = match i["kind"].as_str() {
                Some("email") => FieldKind::Email,
                Some("phone") => FieldKind::Phone,
                _ => FieldKind::Text,
            };
            let v = i["value"].as_str().unwrap_or_default().to_string();
            out.push(("identities", Role::Other, kind, v));
        }
    }
    out
}

/// Open deals and open tasks come before closed ones of the same score.
fn is_open(rec: &Record) -> bool {
    match rec.object {
        ObjectKind::Deal => rec.text("status").is_none_or(|s| s == "open"),
        ObjectKind::Task => rec.get("done") != Some(&Scalar::Bool(true)),
        _ => true,
    }
}

fn parent(rec: &Record) -> Option<(ObjectKind, Uuid)> {
    [
        ("contact_id", ObjectKind::Contact),
        ("deal_id", ObjectKind::Deal),
        ("company_id", ObjectKind::Company),
    ]
    .into_iter()
    .filter(|_| matches!(rec.object, ObjectKind::Activity | ObjectKind::Task))
    .find_map(|(f, o)| rec.uuid(f).map(|id| (o, id)))
}

/// The best score a record found by [`Tier::Longer`] can reach: its driving term
/// matches as a prefix at best (60), every other term as a whole word in the title
/// (100), and all of them in the title (50).
fn longer_tier_best(terms: &[Term]) -> u32 {
    60 + 100 * (terms.len() as u32 - 1) + 50
}

/// The hits of one type: ranked candidates of the first tier (unless `whole` says no
/// record of the type has the driving word whole), and of the next only when what it
/// could add might rank among the first `limit` (a group's `more` needs no more than
/// one hit past the limit).
async fn search_type(
    mut db: kith_store::Db,
    ws: kith_store::WorkspaceId,
    object: ObjectKind,
    terms: &[Term],
    whole: bool,
    limit: u32,
    cap: u32,
) -> Result<Option<Group>, Error> {
    let limit = limit as usize;
    let mut seen = HashSet::new();
    let mut hits: Vec<Hit> = vec![];
    for tier in store::tiers(terms) {
        if *tier == Tier::Whole && !whole {
            continue;
        }
        if *tier == Tier::Longer
            && hits.len() > limit
            && hits[limit - 1].score > longer_tier_best(terms)
        {
            break;
        }
        let found = store::candidates(&mut db, ws, object, terms, *tier, cap).await?;
        hits.extend(
            found
                .into_iter()
                .filter(|(r, _)| seen.insert(r.id))
                .map(|(record, company)| ranked(record, company.as_deref(), terms)),
        );
        hits.sort_by_key(|h| {
            (
                Reverse(h.score),
                Reverse(is_open(&h.record)),
                Reverse(h.record.updated_at),
                Reverse(h.record.id),
            )
        });
    }
    if hits.is_empty() {
        return Ok(None);
    }
    let more = hits.len() > limit;
    hits.truncate(limit);
    Ok(Some(Group { object, hits, more }))
}

/// A candidate scored and marked for `terms`.
fn ranked(record: Record, company: Option<&str>, terms: &[Term]) -> Hit {
    let owned = fields_of(&record, company);
    let fields: Vec<Field<'_>> = owned
        .iter()
        .map(|(name, role, kind, text)| Field {
            name,
            role: *role,
            kind: *kind,
            text,
        })
        .collect();
    let r = rank(&fields, terms);
    Hit {
        parent: parent(&record),
        record,
        title: r.title,
        context: r.context,
        score: r.score,
        typo: r.typo,
    }
}

impl App {
    /// Searches the caller's workspace.
    pub async fn search(
        &self,
        caller: &Caller,
        req: &SearchRequest,
    ) -> Result<SearchResults, Error> {
        let q = req.q.trim();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(kith_core::Error::field(
                "q",
                format!("is longer than {MAX_QUERY_CHARS} characters"),
            )
            .into());
        }
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(kith_core::Error::field(
                "limit",
                format!("must be a whole number from 1 to {MAX_LIMIT}"),
            )
            .into());
        }
        let types: Vec<ObjectKind> = if req.types.is_empty() {
            SEARCH_TYPES.to_vec()
        } else {
            req.types.clone()
        };
        let mut db = self.db.clone();
        let ws = ws(caller);
        let mut results = SearchResults::default();
        let mut terms: Vec<Term> = query_terms(q).into_iter().map(Term::prefix).collect();
        if terms.is_empty() {
            return Ok(results);
        }
        // One statement says which type has which word (a type lacking one is skipped)
        // and which has it as a whole word (`IN` the word itself: without the driving
        // word whole, a type has no first tier to read).
        let words = terms.len();
        let whole_words = terms.iter().map(|t| Term {
            text: t.text.clone(),
            typos: vec![t.text.clone()],
        });
        let probes: Vec<Term> = terms.iter().cloned().chain(whole_words).collect();
        let mut present = store::terms_present(&mut db, ws, &types, &probes).await?;
        let mut corrected = vec![];
        for (i, t) in terms.iter_mut().enumerate() {
            if typo::is_correctable(&t.text) && !present.iter().any(|p| p[i]) {
                t.typos = store::known_words(&mut db, ws, &typo::one_edit_away(&t.text)).await?;
                if t.typos.is_empty() {
                    // Every word must match: this one matches nothing, nor does the query.
                    return Ok(results);
                }
                results.corrected = true;
                corrected.push(i);
            }
        }
        if !corrected.is_empty() {
            let fixed: Vec<Term> = corrected.iter().map(|&i| terms[i].clone()).collect();
            let again = store::terms_present(&mut db, ws, &types, &fixed).await?;
            for (p, a) in present.iter_mut().zip(again) {
                for (&i, found) in corrected.iter().zip(a) {
                    p[i] = found;
                }
            }
        }
        // Enough candidates to rank well, few enough to stay fast.
        let cap = (limit * 3).clamp(20, 150);
        let driver = store::driver(&terms).and_then(|d| terms.iter().position(|t| t == d));
        let searched = types
            .iter()
            .zip(&present)
            .filter(|(_, p)| p[..words].iter().all(|found| *found))
            .map(|(object, p)| {
                let whole = driver.is_none_or(|i| p[words + i]);
                search_type(self.db.clone(), ws, *object, &terms, whole, limit, cap)
            });
        // The types are read side by side, each on its own connection.
        results.groups = futures_util::future::try_join_all(searched)
            .await?
            .into_iter()
            .flatten()
            .collect();
        // Stable: groups whose best hits tie keep the order of SEARCH_TYPES.
        results
            .groups
            .sort_by_key(|g| Reverse(g.hits.first().map_or(0, |h| h.score)));
        Ok(results)
    }

    /// Indexes the activities and tasks that migration 0006 queued, in batches, each
    /// record in the transaction that removes it from the queue. Returns how many.
    pub async fn search_backfill(&self) -> Result<usize, Error> {
        let mut done = 0;
        loop {
            let batch = store::backfill_batch(&mut self.db.clone(), 500).await?;
            if batch.is_empty() {
                return Ok(done);
            }
            let mut tx = self.db.begin().await?;
            for (ws, object, id) in batch {
                if let Some(rec) = kith_store::records::get(&mut tx, ws, object, id, true).await? {
                    crate::search_index::refresh(&mut tx, ws, &rec).await?;
                }
                store::backfill_done(&mut tx, id).await?;
                done += 1;
            }
            tx.commit().await?;
        }
    }
}
