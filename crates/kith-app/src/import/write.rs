//! The writer: stores a chunk of prepared rows in one transaction — new records with
//! many rows per statement, matches updated or merged, links resolved (companies created
//! by name), refused rows kept — and moves the import's checkpoint in the same
//! transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::FieldErrors;
use kith_core::Scalar;
use kith_store::bulk::{self, NewRecord};
use kith_store::imports::{self as store, Import, Item, Reject};
use kith_store::records::{self as records_store, AuditEntry};
use kith_store::{Tx, WorkspaceId};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::rows::{Outcome, Prepared};
use super::{ImportRequest, OnDuplicate};
use crate::rules::defaults;
use crate::search_index::{index_parts, refresh};
use crate::{App, Caller, Error};

/// Company ids by name kept between chunks; cleared when it grows past this.
const COMPANY_CACHE: usize = 100_000;

pub(super) struct Writer<'a> {
    app: &'a App,
    caller: &'a Caller,
    req: &'a ImportRequest,
    pub import: Import,
    users: HashMap<String, Uuid>,
    companies: HashMap<String, Uuid>,
    stages: Vec<bulk::StageName>,
    /// Chunks stored by this run.
    chunks: u64,
}

/// A record this chunk creates.
struct Create {
    id: Uuid,
    row: Prepared,
    transition: Option<(Option<Uuid>, Uuid)>,
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
        let users = kith_store::accounts::users(&app.db, ws)
            .await?
            .into_iter()
            .map(|u| (u.email.to_lowercase(), u.id))
            .collect();
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
            companies: HashMap::new(),
            stages,
            chunks: 0,
        })
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
        for o in batch {
            match o {
                Outcome::Ready(p) => ready.push(*p),
                Outcome::Refused(r) => rejects.push(r),
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
        let mut seen_keys = HashSet::new();
        let mut creates: Vec<Create> = vec![];
        let mut pending: HashMap<String, usize> = HashMap::new();
        let mut updates: Vec<(Uuid, Prepared)> = vec![];
        for row in ready {
            if known.contains_key(&row.key) || !seen_keys.insert(row.key.clone()) {
                skipped += 1;
                continue;
            }
            let ids = match_keys(object, &row);
            if let Some(i) = ids.iter().find_map(|k| pending.get(k).copied()) {
                match self.req.on_duplicate {
                    OnDuplicate::Skip => skipped += 1,
                    mode => absorb(&mut creates[i].row, &row, mode),
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
        let mut linked_creates = vec![];
        for mut c in creates {
            match self.link(&mut tx, &mut c.row, now).await? {
                Err(errors) => rejects.push(reject(&c.row, errors)),
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
                    }
                }
            }
        }
        let mut items = self.insert_creates(&mut tx, &linked_creates, now).await?;
        let mut updated = 0;
        for (id, mut row) in updates {
            match self.link(&mut tx, &mut row, now).await? {
                Err(errors) => rejects.push(reject(&row, errors)),
                Ok(()) => match self.update_one(&mut tx, id, &row, now).await? {
                    Some(item) => {
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
        self.import.created += linked_creates.len() as i64;
        self.import.updated += updated;
        self.import.skipped += skipped;
        self.import.failed += rejects.len() as i64;
        self.import.bytes_done = bytes;
        self.import.updated_at = now;
        if self.req.dry_run {
            // Everything was checked against the database; nothing is kept.
            drop(tx);
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
                    "companies",
                ];
                bulk::refresh_statistics(&self.app.db, &t).await?;
            }
        }
        Ok(rejects)
    }

    /// Existing records the chunk's rows match, by match key (see [`match_keys`]).
    async fn find_matches(
        &self,
        tx: &mut Tx,
        rows: &[Prepared],
    ) -> Result<HashMap<String, Uuid>, Error> {
        let ws = self.ws();
        let object = self.req.object;
        let mut out = HashMap::new();
        let mut ext: Vec<String> = vec![];
        let mut by_kind: HashMap<&str, Vec<String>> = HashMap::new();
        for r in rows {
            for k in match_keys(object, r) {
                if let Some((kind, v)) = k.split_once(':') {
                    match kind {
                        "ext" => ext.push(k.clone()),
                        "email" | "phone" => by_kind
                            .entry(if kind == "email" { "email" } else { "phone" })
                            .or_default()
                            .push(v.to_string()),
                        "name" => by_kind.entry("name").or_default().push(v.to_string()),
                        "domain" => by_kind.entry("domain").or_default().push(v.to_string()),
                        _ => {}
                    }
                }
            }
        }
        for (k, id) in store::find_keys(tx, ws, object, &ext).await? {
            out.insert(k, id);
        }
        for (kind, values) in by_kind {
            let found = match kind {
                "email" | "phone" => bulk::contacts_by_identity(tx, ws, kind, &values).await?,
                "name" => bulk::ids_by_value(tx, ws, object, "name", &values).await?,
                _ => bulk::ids_by_value(tx, ws, object, "domain", &values).await?,
            };
            for (v, id) in found {
                out.entry(format!("{kind}:{v}")).or_insert(id);
            }
        }
        Ok(out)
    }

    /// Turns a row's link values (company name, contact email, owner, stage) into ids,
    /// creating companies that do not exist yet.
    async fn link(
        &mut self,
        tx: &mut Tx,
        row: &mut Prepared,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Vec<(String, String)>>, Error> {
        let ws = self.ws();
        let object = self.req.object;
        let mut errors: Vec<(String, String)> = vec![];
        let links = row.links.clone();
        let set = |row: &mut Prepared, name: &str, id: Uuid| {
            if let Some(spec) = object.field(name) {
                row.changes.set(spec, Scalar::Uuid(id));
            }
        };
        if let Some(name) = &links.company {
            let id = self.company(tx, name, now).await?;
            set(row, "company_id", id);
        }
        if let Some(domain) = &links.company_domain {
            let found = bulk::ids_by_value(
                tx,
                ws,
                ObjectKind::Company,
                "domain",
                std::slice::from_ref(domain),
            )
            .await?;
            match found.first() {
                Some((_, id)) => set(row, "company_id", *id),
                None if links.company.is_some() => {}
                None => errors.push((
                    "company_domain".into(),
                    format!("no company has the domain {domain}"),
                )),
            }
        }
        if let Some(email) = &links.contact_email {
            let found =
                bulk::contacts_by_identity(tx, ws, "email", std::slice::from_ref(email)).await?;
            match found.first() {
                Some((_, id)) => set(row, "contact_id", *id),
                None => errors.push((
                    "contact_email".into(),
                    format!("no contact has the email {email}"),
                )),
            }
        }
        if let Some(owner) = &links.owner {
            match self.users.get(owner) {
                // A task's owner is its assignee.
                Some(id) if object == ObjectKind::Task => set(row, "assignee_id", *id),
                Some(id) => set(row, "owner_id", *id),
                None => errors.push((
                    "owner".into(),
                    format!("no user of this workspace has the email {owner}"),
                )),
            }
        }
        if links.stage.is_some() || links.pipeline.is_some() {
            let stage = links.stage.as_deref().map(str::to_lowercase);
            let pipeline = links.pipeline.as_deref().map(str::to_lowercase);
            let found = self.stages.iter().find(|s| {
                stage.as_ref().is_none_or(|n| *n == s.stage.to_lowercase())
                    && pipeline
                        .as_ref()
                        .is_none_or(|p| *p == s.pipeline.to_lowercase())
            });
            match found {
                Some(s) if stage.is_some() => {
                    set(row, "stage_id", s.stage_id);
                    set(row, "pipeline_id", s.pipeline_id);
                }
                Some(s) => set(row, "pipeline_id", s.pipeline_id),
                None => errors.push((
                    "stage".into(),
                    format!(
                        "no stage {} in pipeline {}",
                        links.stage.as_deref().unwrap_or("(any)"),
                        links.pipeline.as_deref().unwrap_or("(any)")
                    ),
                )),
            }
        }
        // Report link errors under the file's own column names.
        let errors = errors
            .into_iter()
            .map(|(target, m)| (self.header_of(&target).unwrap_or(target), m))
            .collect::<Vec<_>>();
        Ok(if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        })
    }

    fn header_of(&self, target: &str) -> Option<String> {
        self.import.options["mapping"]
            .as_array()?
            .iter()
            .find(|m| m["target"].as_str() == Some(target))
            .and_then(|m| m["column"].as_str().map(String::from))
    }

    /// The company called `name` (see [`Writer::ensure_companies`]).
    async fn company(
        &mut self,
        tx: &mut Tx,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Uuid, Error> {
        let key = name.to_lowercase();
        if let Some(id) = self.companies.get(&key) {
            return Ok(*id);
        }
        self.ensure_companies(tx, &[name.to_string()], now).await?;
        self.companies
            .get(&key)
            .copied()
            .ok_or(Error::NotFound("company"))
    }

    /// Finds the companies a chunk names, creating (and remembering for a revert) those
    /// that do not exist yet — with a few statements for the whole chunk.
    async fn ensure_companies(
        &mut self,
        tx: &mut Tx,
        names: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut missing: Vec<String> = vec![];
        let mut seen = HashSet::new();
        for n in names {
            let key = n.to_lowercase();
            if !self.companies.contains_key(&key) && seen.insert(key) {
                missing.push(n.clone());
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if self.companies.len() + missing.len() > COMPANY_CACHE {
            self.companies.clear();
        }
        let ws = self.ws();
        let object = ObjectKind::Company;
        for (name, id) in bulk::ids_by_value(tx, ws, object, "name", &missing).await? {
            self.companies.entry(name.to_lowercase()).or_insert(id);
        }
        let spec = |n: &str| object.field(n).expect("companies have name and owner");
        let owner = self.caller.user.id;
        let recs: Vec<NewRecord> = missing
            .iter()
            .filter(|n| !self.companies.contains_key(&n.to_lowercase()))
            .map(|name| NewRecord {
                id: Uuid::now_v7(),
                columns: vec![
                    (spec("name"), text(name)),
                    (spec("owner_id"), Scalar::Uuid(owner)),
                ],
                custom: Map::new(),
            })
            .collect();
        if recs.is_empty() {
            return Ok(());
        }
        bulk::insert_records(tx, ws, object, now, &recs).await?;
        let name_of = |r: &NewRecord| match &r.columns[0].1 {
            Scalar::Text(n) => n.clone(),
            _ => String::new(),
        };
        let terms: Vec<_> = recs
            .iter()
            .map(|r| {
                let name = name_of(r);
                let (t, _) = index_parts(
                    object,
                    |f| (f == "name").then_some(name.as_str()),
                    None,
                    None,
                );
                (r.id, t)
            })
            .collect();
        bulk::insert_terms(tx, ws, object, &terms).await?;
        let audit: Vec<(Uuid, Value)> = recs
            .iter()
            .map(|r| (r.id, json!({"name": name_of(r), "owner_id": owner})))
            .collect();
        bulk::audit_many(tx, ws, now, Some(owner), "create", object, &audit).await?;
        let items: Vec<Item> = recs
            .iter()
            .map(|r| Item {
                record_id: r.id,
                object,
                action: "created".into(),
                version: 1,
                before: None,
            })
            .collect();
        store::add_items(tx, ws, self.import.id, &items).await?;
        for r in &recs {
            self.companies.insert(name_of(r).to_lowercase(), r.id);
        }
        Ok(())
    }

    /// Inserts the chunk's new records with their index rows, tags, audit entries,
    /// events, notes and fingerprints.
    async fn insert_creates(
        &self,
        tx: &mut Tx,
        creates: &[Create],
        now: DateTime<Utc>,
    ) -> Result<Vec<Item>, Error> {
        let ws = self.ws();
        let object = self.req.object;
        let actor = Some(self.caller.user.id);
        let recs: Vec<NewRecord> = creates
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
            })
            .collect();
        bulk::insert_records(tx, ws, object, now, &recs).await?;
        if matches!(object, ObjectKind::Contact | ObjectKind::Company) {
            let mut terms = Vec::with_capacity(creates.len());
            let mut idents = Vec::with_capacity(creates.len());
            for c in creates {
                let ch = &c.row.changes;
                let identities = match ch.get("identities") {
                    Some(Scalar::Json(v)) => Some(v),
                    _ => None,
                };
                let (t, i) = index_parts(
                    object,
                    |f| match ch.get(f) {
                        Some(Scalar::Text(s)) => Some(s.as_str()),
                        _ => None,
                    },
                    identities,
                    c.row.links.company.as_deref(),
                );
                terms.push((c.id, t));
                if !i.is_empty() {
                    idents.push((c.id, i));
                }
            }
            bulk::insert_terms(tx, ws, object, &terms).await?;
            bulk::insert_identities(tx, ws, &idents).await?;
        } else {
            for c in creates {
                if let Some(rec) = records_store::get(tx, ws, object, c.id, false).await? {
                    self.app
                        .after_write(tx, self.caller, &rec, c.transition, now)
                        .await?;
                }
            }
        }
        let tags: Vec<(Uuid, Vec<String>)> = creates
            .iter()
            .filter_map(|c| Some((c.id, c.row.changes.tags.clone()?)))
            .collect();
        bulk::add_tags(tx, ws, now, &tags).await?;
        let audit: Vec<(Uuid, Value)> = creates
            .iter()
            .map(|c| (c.id, record_json(&c.row)))
            .collect();
        bulk::audit_many(tx, ws, now, actor, "create", object, &audit).await?;
        let mut items: Vec<Item> = creates
            .iter()
            .map(|c| Item {
                record_id: c.id,
                object,
                action: "created".into(),
                version: 1,
                before: None,
            })
            .collect();
        let mut keys: Vec<(String, Uuid)> = vec![];
        for c in creates {
            keys.push((c.row.key.clone(), c.id));
            if let Some(e) = &c.row.external_id {
                keys.push((format!("ext:{e}"), c.id));
            }
        }
        store::add_keys(tx, ws, object, self.import.id, &keys).await?;
        items.extend(self.add_notes(tx, creates, now).await?);
        Ok(items)
    }

    /// A note activity on each new record whose row had notes.
    async fn add_notes(
        &self,
        tx: &mut Tx,
        creates: &[Create],
        now: DateTime<Utc>,
    ) -> Result<Vec<Item>, Error> {
        let ws = self.ws();
        let object = self.req.object;
        let link = match object {
            ObjectKind::Contact => "contact_id",
            ObjectKind::Company => "company_id",
            ObjectKind::Deal => "deal_id",
            _ => return Ok(vec![]),
        };
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
                        (spec("owner_id"), Scalar::Uuid(self.caller.user.id)),
                    ],
                    custom: Map::new(),
                })
            })
            .collect();
        if notes.is_empty() {
            return Ok(vec![]);
        }
        bulk::insert_records(tx, ws, act, now, &notes).await?;
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
        bulk::audit_many(
            tx,
            ws,
            now,
            Some(self.caller.user.id),
            "create",
            act,
            &audit,
        )
        .await?;
        Ok(notes
            .iter()
            .map(|n| Item {
                record_id: n.id,
                object: act,
                action: "created".into(),
                version: 1,
                before: None,
            })
            .collect())
    }

    /// Updates (or merges into) an existing record; None when nothing would change.
    async fn update_one(
        &self,
        tx: &mut Tx,
        id: Uuid,
        row: &Prepared,
        now: DateTime<Utc>,
    ) -> Result<Option<Item>, Error> {
        let ws = self.ws();
        let object = self.req.object;
        let merge = self.req.on_duplicate == OnDuplicate::Merge;
        let Some(cur) = records_store::get(tx, ws, object, id, false).await? else {
            return Ok(None);
        };
        let mut set = vec![];
        let mut diff = Map::new();
        for (spec, v) in &row.changes.columns {
            if v.is_null() {
                continue;
            }
            let old = cur
                .get(spec.name)
                .cloned()
                .unwrap_or(Scalar::Null(spec.kind.scalar_type()));
            let new = match (spec.name, &old, v) {
                (
                    "identities",
                    Scalar::Json(Value::Array(have)),
                    Scalar::Json(Value::Array(add)),
                ) => {
                    let mut all = have.clone();
                    all.extend(add.iter().filter(|a| !have.contains(a)).cloned());
                    Scalar::Json(Value::Array(all))
                }
                _ if merge && !is_empty(&old) => continue,
                _ => v.clone(),
            };
            if new == old {
                continue;
            }
            diff.insert(
                spec.name.into(),
                json!({"from": old.to_json(), "to": new.to_json()}),
            );
            set.push((*spec, new));
        }
        let mut custom = cur.custom.clone();
        for (k, v) in &row.changes.custom {
            let old = cur.custom.get(k);
            if v.is_null() || (merge && old.is_some_and(|o| !o.is_null())) || old == Some(v) {
                continue;
            }
            diff.insert(format!("custom.{k}"), json!({"from": old, "to": v}));
            custom.insert(k.clone(), v.clone());
        }
        let new_tags: Vec<String> = row
            .changes
            .tags
            .iter()
            .flatten()
            .filter(|t| !cur.tags.contains(t))
            .cloned()
            .collect();
        if !new_tags.is_empty() {
            diff.insert("tags".into(), json!({"added": new_tags}));
        }
        if diff.is_empty() {
            return Ok(None);
        }
        let custom_changed = custom != cur.custom;
        let ok = records_store::update(
            tx,
            ws,
            object,
            id,
            cur.version,
            now,
            &set,
            custom_changed.then_some(&custom),
        )
        .await?;
        if !ok {
            return Err(Error::Conflict);
        }
        bulk::add_tags(tx, ws, now, &[(id, new_tags)]).await?;
        let rec = records_store::get(tx, ws, object, id, false)
            .await?
            .ok_or(Error::NotFound("record"))?;
        if object.is_searchable() {
            refresh(tx, ws, &rec).await?;
        }
        let entry = AuditEntry {
            actor: Some(self.caller.user.id),
            action: "update",
            object,
            record_id: id,
            changes: Value::Object(diff.clone()),
        };
        records_store::audit_and_emit(tx, ws, now, entry).await?;
        Ok(Some(Item {
            record_id: id,
            object,
            action: "updated".into(),
            version: rec.version,
            before: Some(Value::Object(diff)),
        }))
    }
}

fn is_empty(v: &Scalar) -> bool {
    match v {
        Scalar::Null(_) => true,
        Scalar::Text(s) => s.is_empty(),
        Scalar::Json(Value::Object(o)) => o.is_empty(),
        Scalar::Json(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// The keys a row is matched to existing records by: external id, then (contacts) its
/// emails and phone, (companies) its name and domain.
fn match_keys(object: ObjectKind, row: &Prepared) -> Vec<String> {
    let mut keys = vec![];
    if let Some(e) = &row.external_id {
        keys.push(format!("ext:{e}"));
    }
    let get = |f: &str| match row.changes.get(f) {
        Some(Scalar::Text(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    match object {
        ObjectKind::Contact => {
            keys.extend(get("email").map(|e| format!("email:{e}")));
            if let Some(Scalar::Json(Value::Array(items))) = row.changes.get("identities") {
                for i in items {
                    if i["kind"] == "email" {
                        keys.extend(i["value"].as_str().map(|e| format!("email:{e}")));
                    }
                }
            }
            keys.extend(get("phone").map(|p| format!("phone:{p}")));
        }
        ObjectKind::Company => {
            keys.extend(get("name").map(|n| format!("name:{n}")));
            keys.extend(get("domain").map(|d| format!("domain:{d}")));
        }
        _ => {}
    }
    keys
}

/// Folds a later row that matches an earlier new row of the same chunk into it.
fn absorb(into: &mut Prepared, row: &Prepared, mode: OnDuplicate) {
    for (spec, v) in &row.changes.columns {
        if v.is_null() {
            continue;
        }
        let have = into.changes.get(spec.name).is_some_and(|h| !is_empty(h));
        if mode == OnDuplicate::Update || !have {
            into.changes.set(spec, v.clone());
        }
    }
    for (k, v) in &row.changes.custom {
        if mode == OnDuplicate::Update || !into.changes.custom.contains_key(k) {
            into.changes.custom.insert(k.clone(), v.clone());
        }
    }
    if let Some(t) = &row.changes.tags {
        let tags = into.changes.tags.get_or_insert_with(Vec::new);
        for x in t {
            if !tags.contains(x) {
                tags.push(x.clone());
            }
        }
    }
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
    Value::Object(m)
}
