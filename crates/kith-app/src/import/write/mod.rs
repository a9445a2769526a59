//! The writer: stores a chunk of prepared rows in one transaction — new records with
//! many rows per statement, matches updated or merged, links resolved (companies created
//! by name), refused rows kept — and moves the import's checkpoint in the same
//! transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::FieldErrors;
use kith_core::Scalar;
use kith_store::bulk::{self, NewRecord};
use kith_store::imports::{self as store, Import, Item, Reject};
use kith_store::records as records_store;
use kith_store::search::index as search_numbers;
use kith_store::{Tx, WorkspaceId};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::rows::{Outcome, Prepared};
use super::{ImportRequest, OnDuplicate};
use crate::rules::defaults;
use crate::search_index::index_parts;
mod links;
mod matches;

use matches::{absorb, match_keys};

use crate::{App, Caller, Error};

/// Company ids by name kept between chunks; cleared when it grows past this.
const COMPANY_CACHE: usize = 100_000;

pub(super) struct Writer<'a> {
    app: &'a App,
    caller: &'a Caller,
    req: &'a ImportRequest,
    pub import: Import,
    users: HashMap<String, Uuid>,
    /// Users by name (see [`name_key`]); `None` where several share it.
    user_names: HashMap<String, Option<Uuid>>,
    companies: HashMap<String, Uuid>,
    stages: Vec<bulk::StageName>,
    /// Chunks stored by this run.
    chunks: u64,
    /// A dry run: what its earlier chunks would have stored (hashes of row and match
    /// keys), since each chunk's check is rolled back and the next would not see it.
    checked: HashSet<u64>,
    /// Records this run updated whose row gave a creation date they did not take.
    kept_created: i64,
    /// Contacts this run updated whose "denied" consent a row would have granted.
    kept_no: i64,
    /// Rows that were further lines of an order on an earlier row.
    order_lines: i64,
    /// Contacts made for orders whose email no contact had.
    customers_made: i64,
}

/// A user's name as an import matches it: lower-case, single spaces.
fn name_key(name: &str) -> String {
    super::cells::collapse(name).to_lowercase()
}

/// A key as a dry run remembers it: 8 bytes, not the string.
fn checked_key(key: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key)
}

/// A record this chunk creates.
struct Create {
    id: Uuid,
    row: Prepared,
    transition: Option<(Option<Uuid>, Uuid)>,
    /// Later rows of the file merged into this one (`--on-duplicate update|merge`): they
    /// count as updates when it is stored, and are refused with it when it is not.
    absorbed: Vec<Reject>,
}

fn text(s: &str) -> Scalar {
    Scalar::Text(s.to_string())
}

impl<'a> Writer<'a> {
    pub async fn new(
        app: &'a App,
        caller: &'a Caller,
        req: &'a ImportRequest,
        import: Import,
    ) -> Result<Writer<'a>, Error> {
        let ws = caller.workspace.id;
        let all_users = kith_store::accounts::users(&app.db, ws).await?;
        let users = all_users
            .iter()
            .map(|u| (u.email.to_lowercase(), u.id))
            .collect();
        // Old systems export the owner by name; two users of one name are no answer.
        let mut user_names: HashMap<String, Option<Uuid>> = HashMap::new();
        for u in &all_users {
            if let Some(name) = &u.name {
                user_names
                    .entry(name_key(name))
                    .and_modify(|id| *id = None)
                    .or_insert(Some(u.id));
            }
        }
        let stages = if req.object == ObjectKind::Deal {
            bulk::stage_names(&mut app.db.clone(), ws).await?
        } else {
            vec![]
        };
        Ok(Writer {
            app,
            caller,
            req,
            import,
            users,
            user_names,
            companies: HashMap::new(),
            stages,
            chunks: 0,
            checked: HashSet::new(),
            kept_created: 0,
            kept_no: 0,
            order_lines: 0,
            customers_made: 0,
        })
    }

    /// What the run did that the user should know beyond its counts.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = vec![];
        if self.kept_created > 0 {
            let column = self.header_of("created_at").unwrap_or("created_at".into());
            notes.push(format!(
                "{} records that already existed kept their own creation date: `{column}` \
                 sets it only for the records an import creates",
                self.kept_created
            ));
        }
        if self.customers_made > 0 {
            notes.push(format!(
                "{} customers were made from their orders: no contact had their email",
                self.customers_made
            ));
        }
        if self.order_lines > 0 {
            notes.push(format!(
                "{} rows were further lines of an order on an earlier row (the same order \
                 number) and count as its updates",
                self.order_lines
            ));
        }
        if self.kept_no > 0 {
            notes.push(format!(
                "{} contacts who had said no to marketing kept their no where the file says \
                 yes: an import never gives consent back, only the person can",
                self.kept_no
            ));
        }
        notes
    }

    fn ws(&self) -> WorkspaceId {
        self.caller.workspace.id
    }

    /// Stores one chunk; returns the rows refused in it.
    pub async fn write(&mut self, batch: Vec<Outcome>, bytes: i64) -> Result<Vec<Reject>, Error> {
        let ws = self.ws();
        let object = self.req.object;
        let now = Utc::now();
        let rows_in = batch.len() as i64;
        let mut rejects = vec![];
        let mut ready = vec![];
        let mut refused = vec![];
        for o in batch {
            match o {
                Outcome::Ready(p) => ready.push(*p),
                Outcome::Refused(r, links) => refused.push((r, links)),
            }
        }
        let mut tx = self.app.db.begin().await?;
        if self.req.dry_run {
            // Rolled back with the rest: the rows it links to exist only inside the check.
            store::create(&mut tx, ws, &self.import).await?;
        }
        let keys: Vec<String> = ready.iter().map(|p| p.key.clone()).collect();
        let known = store::find_keys(&mut tx, ws, object, &keys).await?;
        let matches = self.find_matches(&mut tx, &ready).await?;
        let mut skipped = 0i64;
        let mut updated_earlier = 0i64;
        let mut seen_keys = HashSet::new();
        let mut creates: Vec<Create> = vec![];
        let mut pending: HashMap<String, usize> = HashMap::new();
        let mut updates: Vec<(Uuid, Prepared)> = vec![];
        for row in ready {
            if known.contains_key(&row.key)
                || !seen_keys.insert(row.key.clone())
                || self.checked.contains(&checked_key(&row.key))
            {
                skipped += 1;
                continue;
            }
            let ids = match_keys(object, &row);
            if ids.iter().any(|k| self.checked.contains(&checked_key(k))) {
                // A dry run's earlier chunk would have made this record.
                match self.req.on_duplicate {
                    OnDuplicate::Skip => skipped += 1,
                    _ => updated_earlier += 1,
                }
                continue;
            }
            if let Some(i) = ids.iter().find_map(|k| pending.get(k).copied()) {
                // The rows of one order in a file are its lines: always one order.
                let mode = match (object, self.req.on_duplicate) {
                    (ObjectKind::Order, OnDuplicate::Skip) => OnDuplicate::Merge,
                    (_, mode) => mode,
                };
                match mode {
                    OnDuplicate::Skip => skipped += 1,
                    mode => {
                        absorb(&mut creates[i].row, &row, mode);
                        let line = creates[i].row.line;
                        creates[i].absorbed.push(reject(
                            &row,
                            vec![(
                                String::new(),
                                format!("is the same record as line {line}, which was refused"),
                            )],
                        ));
                        // What the new record took from this row finds it too, as it
                        // would once stored.
                        for k in match_keys(object, &creates[i].row) {
                            pending.entry(k).or_insert(i);
                        }
                    }
                }
                continue;
            }
            if let Some(existing) = ids.iter().find_map(|k| matches.get(k).copied()) {
                match self.req.on_duplicate {
                    OnDuplicate::Skip => skipped += 1,
                    _ => updates.push((existing, row)),
                }
                continue;
            }
            for k in ids {
                pending.insert(k, creates.len());
            }
            creates.push(Create {
                id: Uuid::now_v7(),
                row,
                transition: None,
                absorbed: vec![],
            });
        }
        // Links, defaults and object rules; a row whose link cannot be made is refused.
        let names: Vec<String> = creates
            .iter()
            .map(|c| &c.row)
            .chain(updates.iter().map(|(_, r)| r))
            .filter_map(|r| r.links.company.clone())
            .collect();
        self.ensure_companies(&mut tx, &names, now).await?;
        if object == ObjectKind::Order {
            let rows = creates.iter().map(|c| &c.row);
            self.ensure_customers(&mut tx, rows.chain(updates.iter().map(|(_, r)| r)), now)
                .await?;
        }
        let targets = self
            .link_targets(
                &mut tx,
                creates
                    .iter()
                    .map(|c| &c.row.links)
                    .chain(refused.iter().map(|(_, l)| l)),
            )
            .await?;
        // A row refused for its values is told of its missing links too, so one fix of
        // the error file is enough.
        for (mut r, links) in refused {
            r.errors.extend(self.look_up(&links, &targets).errors);
            rejects.push(r);
        }
        let mut linked_creates = vec![];
        for mut c in creates {
            match self.link(&mut tx, &mut c.row, &targets, now).await? {
                Err(errors) => {
                    rejects.push(reject(&c.row, errors));
                    rejects.append(&mut c.absorbed);
                }
                Ok(()) => {
                    defaults(self.caller, object, &mut c.row.changes, now);
                    let mut errors = FieldErrors::default();
                    c.transition = self
                        .app
                        .object_rules(
                            &mut tx,
                            self.caller,
                            object,
                            &mut c.row.changes,
                            None,
                            now,
                            &mut errors,
                        )
                        .await?;
                    if errors.is_empty() {
                        linked_creates.push(c);
                    } else {
                        let e = errors.0.into_iter().collect();
                        rejects.push(reject(&c.row, e));
                        rejects.append(&mut c.absorbed);
                    }
                }
            }
        }
        let created = linked_creates.len() as i64;
        let mut updated: i64 = linked_creates.iter().map(|c| c.absorbed.len() as i64).sum();
        if object == ObjectKind::Order {
            self.order_lines += updated;
        }
        updated += updated_earlier;
        if self.req.dry_run {
            for c in &linked_creates {
                let keys = match_keys(object, &c.row)
                    .into_iter()
                    .chain([c.row.key.clone()]);
                self.checked.extend(keys.map(|k| checked_key(&k)));
            }
        }
        let mut items = self.insert_creates(&mut tx, linked_creates, now).await?;
        // Looked up after the creates: an update may link to a record this chunk made.
        let targets = self
            .link_targets(&mut tx, updates.iter().map(|(_, r)| &r.links))
            .await?;
        for (id, mut row) in updates {
            match self.link(&mut tx, &mut row, &targets, now).await? {
                Err(errors) => rejects.push(reject(&row, errors)),
                Ok(()) => match self.update_one(&mut tx, id, &row, now).await? {
                    Some(item) => {
                        if self.req.dry_run {
                            self.checked.insert(checked_key(&row.key));
                        }
                        if row.created_at.is_some() {
                            self.kept_created += 1;
                        }
                        updated += 1;
                        items.push(item);
                    }
                    None => skipped += 1,
                },
            }
        }
        store::add_items(&mut tx, ws, self.import.id, &items).await?;
        store::add_rejects(&mut tx, ws, self.import.id, &rejects).await?;
        let before = self.import.rows_done;
        self.import.rows_done += rows_in;
        self.import.created += created;
        self.import.updated += updated;
        self.import.skipped += skipped;
        self.import.failed += rejects.len() as i64;
        self.import.bytes_done = bytes;
        self.import.updated_at = now;
        if self.req.dry_run {
            // Everything was checked against the database; nothing is kept, so no
            // company this check made may be linked to by the next chunk.
            drop(tx);
            self.companies.clear();
        } else {
            if !store::checkpoint(&mut tx, ws, &self.import, before).await? {
                return Err(Error::Duplicate(
                    "this import is being run by another process".into(),
                ));
            }
            tx.commit().await?;
            self.chunks += 1;
            if self.chunks.is_power_of_two() {
                let t = [
                    object.table(),
                    "identities",
                    "import_keys",
                    "search_terms",
                    "search_docs",
                    "companies",
                ];
                bulk::refresh_statistics(&self.app.db, &t).await?;
            }
        }
        Ok(rejects)
    }

    /// Inserts the chunk's new records with their index rows, tags, audit entries,
    /// events, notes and fingerprints. What the rows need from the database (search
    /// document numbers, tag ids) is taken before each of the two writes; then the rows are
    /// made on another thread while the connection writes the ones made before.
    async fn insert_creates(
        &self,
        tx: &mut Tx,
        creates: Vec<Create>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Item>, Error> {
        let ws = self.ws();
        let object = self.req.object;
        let actor = self.caller.user.id;
        let import = self.import.id;
        let indexed = matches!(object, ObjectKind::Contact | ObjectKind::Company);
        let link = note_link(object);
        let with_notes = match link {
            Some(_) => creates.iter().filter(|c| c.row.notes.is_some()).count(),
            None => 0,
        };
        let indexed_here = if indexed { creates.len() } else { 0 };
        let numbers = search_numbers::numbers(tx, ws, object, indexed_here).await?;
        let tag_ids = bulk::tag_ids(
            tx,
            ws,
            now,
            creates
                .iter()
                .filter_map(|c| c.row.changes.tags.as_ref())
                .flatten()
                .collect(),
        )
        .await?;
        let creates = bulk::pipelined(tx, move |out| {
            out.put(bulk::record_rows(ws, object, now, &new_records(&creates)));
            if indexed {
                let mut terms = Vec::with_capacity(creates.len());
                let mut idents = Vec::with_capacity(creates.len());
                for c in &creates {
                    let (t, i) = match &c.row.index {
                        Some(parts) => parts.clone(),
                        None => c.row.index_parts(object).unwrap_or_default(),
                    };
                    terms.push((c.id, t));
                    if !i.is_empty() {
                        idents.push((c.id, i));
                    }
                }
                put_terms(out, ws, &numbers, &terms);
                out.put(bulk::identity_rows(ws, &idents));
            }
            creates
        })
        .await?;
        if !indexed {
            for c in &creates {
                if let Some(rec) = records_store::get(tx, ws, object, c.id, false).await? {
                    self.app
                        .after_write(tx, self.caller, &rec, None, c.transition, now)
                        .await?;
                }
            }
        }
        // Taken only now: on SQLite a document number follows the largest written, and
        // the records above (and `after_write` indexing deals one by one) took theirs.
        let note_numbers =
            search_numbers::numbers(tx, ws, ObjectKind::Activity, with_notes).await?;
        let items = bulk::pipelined(tx, move |out| {
            let tags: Vec<(Uuid, Vec<String>)> = creates
                .iter()
                .filter_map(|c| Some((c.id, c.row.changes.tags.clone()?)))
                .collect();
            out.put(bulk::tagging_rows(ws, &tag_ids, &tags));
            let audit: Vec<(Uuid, Value)> = creates
                .iter()
                .map(|c| (c.id, record_json(&c.row)))
                .collect();
            for ins in bulk::audit_rows(ws, now, Some(actor), "create", object, &audit) {
                out.put(ins);
            }
            let mut keys: Vec<(String, Uuid)> = vec![];
            for c in &creates {
                keys.push((c.row.key.clone(), c.id));
                if let Some(e) = &c.row.external_id {
                    keys.push((format!("ext:{e}"), c.id));
                }
            }
            out.put(store::key_rows(ws, object, import, &keys));
            let mut items = made(object, creates.iter().map(|c| c.id));
            if let Some(link) = link {
                items.extend(put_notes(
                    out,
                    ws,
                    actor,
                    link,
                    &note_numbers,
                    &creates,
                    now,
                ));
            }
            items
        })
        .await?;
        Ok(items)
    }
}

/// The field of an activity that links it to a record of `object`, for imported notes.
fn note_link(object: ObjectKind) -> Option<&'static str> {
    match object {
        ObjectKind::Contact => Some("contact_id"),
        ObjectKind::Company => Some("company_id"),
        ObjectKind::Deal => Some("deal_id"),
        _ => None,
    }
}

/// The records of `creates` as the bulk path takes them.
fn new_records(creates: &[Create]) -> Vec<NewRecord> {
    creates
        .iter()
        .map(|c| NewRecord {
            id: c.id,
            columns: c.row.changes.columns.clone(),
            custom: c
                .row
                .changes
                .custom
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            created_at: c.row.created_at,
        })
        .collect()
}

/// New records' search entries and their words for the typo vocabulary.
fn put_terms(
    out: &mut bulk::Sink,
    ws: WorkspaceId,
    numbers: &search_numbers::Numbers,
    terms: &[(Uuid, BTreeSet<String>)],
) {
    for ins in search_numbers::new_rows(ws, numbers, terms) {
        out.put(ins);
    }
    out.put(kith_store::search::vocabulary_rows(
        ws,
        terms.iter().flat_map(|(_, t)| t),
    ));
}

/// A note activity on each new record whose row had notes; returns their import items.
fn put_notes(
    out: &mut bulk::Sink,
    ws: WorkspaceId,
    actor: Uuid,
    link: &'static str,
    numbers: &search_numbers::Numbers,
    creates: &[Create],
    now: DateTime<Utc>,
) -> Vec<Item> {
    let act = ObjectKind::Activity;
    let spec = |n: &str| act.field(n).expect("activity fields");
    let notes: Vec<NewRecord> = creates
        .iter()
        .filter_map(|c| {
            let body = c.row.notes.as_ref()?;
            Some(NewRecord {
                id: Uuid::now_v7(),
                columns: vec![
                    (spec("kind"), text("note")),
                    (spec("body"), text(body)),
                    (spec("occurred_at"), Scalar::Time(now)),
                    (spec(link), Scalar::Uuid(c.id)),
                    (spec("owner_id"), Scalar::Uuid(actor)),
                ],
                custom: Map::new(),
                created_at: None,
            })
        })
        .collect();
    if notes.is_empty() {
        return vec![];
    }
    out.put(bulk::record_rows(ws, act, now, &notes));
    let terms: Vec<_> = notes
        .iter()
        .map(|n| {
            let body = n.columns.iter().find(|(f, _)| f.name == "body");
            let body = match body {
                Some((_, Scalar::Text(b))) => Some(b.as_str()),
                _ => None,
            };
            let (t, _) = index_parts(act, |f| (f == "body").then_some(body).flatten(), None, None);
            (n.id, t)
        })
        .collect();
    put_terms(out, ws, numbers, &terms);
    let audit: Vec<(Uuid, Value)> = notes
        .iter()
        .map(|n| {
            let m: Map<String, Value> = n
                .columns
                .iter()
                .map(|(f, v)| (f.name.to_string(), v.to_json()))
                .collect();
            (n.id, Value::Object(m))
        })
        .collect();
    for ins in bulk::audit_rows(ws, now, Some(actor), "create", act, &audit) {
        out.put(ins);
    }
    made(act, notes.iter().map(|n| n.id))
}

/// The import items of records this import made, at their first version.
fn made(object: ObjectKind, ids: impl Iterator<Item = Uuid>) -> Vec<Item> {
    ids.map(|record_id| Item {
        record_id,
        object,
        action: "created".into(),
        version: 1,
        before: None,
    })
    .collect()
}

fn reject(row: &Prepared, errors: Vec<(String, String)>) -> Reject {
    Reject {
        line: row.line as i64,
        cells: row.cells.clone(),
        errors,
    }
}

/// The new record as its audit entry shows it.
fn record_json(row: &Prepared) -> Value {
    let mut m: Map<String, Value> = row
        .changes
        .columns
        .iter()
        .map(|(f, v)| (f.name.to_string(), v.to_json()))
        .collect();
    if !row.changes.custom.is_empty() {
        m.insert("custom".into(), json!(row.changes.custom));
    }
    if let Some(t) = &row.changes.tags {
        m.insert("tags".into(), json!(t));
    }
    if let Some(t) = row.created_at {
        m.insert("created_at".into(), json!(t));
    }
    Value::Object(m)
}
