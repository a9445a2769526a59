//! Duplicates: scanning a workspace for likely duplicate contacts and companies (the
//! scoring is kith-core's), reviewing the pairs, merging a pair or a cluster into one
//! record that keeps the union of history, tags, deals and identities — and undoing it.

use std::collections::BTreeMap;

use chrono::Utc;
use kith_core::dedup::{self, DEFAULT_THRESHOLD};
use kith_core::fields::{self, Context, Mode};
use kith_core::objects::ObjectKind;
use kith_core::PhoneRegion;
use kith_store::duplicates::{self as store, Merge, StoredPair};
use kith_store::records::{self as records_store, AuditEntry};
use kith_store::{Tx, WorkspaceId};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::search_index::refresh;
use crate::{App, Caller, Error, Record, Role};

/// Records read per query while scanning.
const PAGE: i64 = 5_000;

/// A pair to review: both records, the score and why.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The pair as stored.
    pub pair: StoredPair,
    /// Record `a`.
    pub a: Record,
    /// Record `b`.
    pub b: Record,
}

/// What to merge: `merged` records go into `survivor`; `pick` names, per field, the
/// record whose value wins (otherwise the survivor's, or the first non-empty one).
#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// Contacts or companies.
    pub object: ObjectKind,
    /// The record that stays.
    pub survivor: Uuid,
    /// The records merged into it.
    pub merged: Vec<Uuid>,
    /// Field (or `custom.KEY`) → record whose value to keep.
    pub pick: BTreeMap<String, Uuid>,
}

fn mergeable(object: ObjectKind) -> Result<(), Error> {
    match object {
        ObjectKind::Contact | ObjectKind::Company => Ok(()),
        _ => Err(Error::Invalid(kith_core::Error::field(
            "object",
            "duplicates are found and merged for contacts and companies",
        ))),
    }
}

fn check_writer(caller: &Caller) -> Result<(), Error> {
    match caller.role() {
        Role::ReadOnly => Err(Error::Forbidden("read-only users cannot merge records")),
        _ => Ok(()),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

impl App {
    /// Scans the caller's workspace for likely duplicates of `object`; returns how many
    /// pairs it found. Pairs found before keep their status (dismissed stays dismissed).
    pub async fn scan_duplicates(
        &self,
        caller: &Caller,
        object: ObjectKind,
    ) -> Result<usize, Error> {
        mergeable(object)?;
        self.scan_workspace(caller.workspace.id, object).await
    }

    /// The scan behind [`App::scan_duplicates`] and the periodic job.
    pub async fn scan_workspace(
        &self,
        ws: WorkspaceId,
        object: ObjectKind,
    ) -> Result<usize, Error> {
        let mut db = self.db.clone();
        let mut after = None;
        let pairs = if object == ObjectKind::Contact {
            let mut people = vec![];
            loop {
                let page = store::people(&mut db, ws, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                people.extend(page);
            }
            dedup::find_people(&people, DEFAULT_THRESHOLD)
        } else {
            let mut orgs = vec![];
            loop {
                let page = store::organisations(&mut db, ws, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                orgs.extend(page);
            }
            dedup::find_organisations(&orgs, DEFAULT_THRESHOLD)
        };
        let stored: Vec<StoredPair> = pairs
            .iter()
            .map(|p| StoredPair {
                a: p.a,
                b: p.b,
                score: f64::from(p.score),
                reasons: json!(p.reasons),
                status: "open".into(),
            })
            .collect();
        let now = Utc::now();
        for chunk in stored.chunks(5_000) {
            let mut tx = self.db.begin().await?;
            store::save_pairs(&mut tx, ws, object, now, chunk).await?;
            tx.commit().await?;
        }
        Ok(stored.len())
    }

    /// Open duplicate pairs of `object`, best first, with both records.
    pub async fn duplicates(
        &self,
        caller: &Caller,
        object: ObjectKind,
        limit: i64,
    ) -> Result<Vec<Candidate>, Error> {
        mergeable(object)?;
        let ws = caller.workspace.id;
        let mut db = self.db.clone();
        let mut out = vec![];
        for pair in store::open_pairs(&mut db, ws, object, limit.clamp(1, 1000)).await? {
            let a = records_store::get(&mut db, ws, object, pair.a, false).await?;
            let b = records_store::get(&mut db, ws, object, pair.b, false).await?;
            if let (Some(a), Some(b)) = (a, b) {
                out.push(Candidate { pair, a, b });
            }
        }
        Ok(out)
    }

    /// Marks a pair as not duplicates, so later scans do not offer it again.
    pub async fn dismiss_duplicate(
        &self,
        caller: &Caller,
        object: ObjectKind,
        a: Uuid,
        b: Uuid,
    ) -> Result<(), Error> {
        mergeable(object)?;
        check_writer(caller)?;
        let n = store::set_status(
            &mut self.db.clone(),
            caller.workspace.id,
            object,
            &[a, b],
            "dismissed",
        )
        .await?;
        if n == 0 {
            return Err(Error::NotFound("duplicate pair"));
        }
        Ok(())
    }

    /// Merges records into a survivor in one transaction: chosen values, the union of
    /// tags, emails, phones and identities, every deal, activity and task re-linked, the
    /// merged records moved to the recycle bin. Returns the merge (to undo) and the survivor.
    pub async fn merge(
        &self,
        caller: &Caller,
        req: &MergeRequest,
    ) -> Result<(Merge, Record), Error> {
        mergeable(req.object)?;
        check_writer(caller)?;
        let object = req.object;
        let ws = caller.workspace.id;
        let now = Utc::now();
        let mut merged_ids: Vec<Uuid> = vec![];
        for id in &req.merged {
            if *id != req.survivor && !merged_ids.contains(id) {
                merged_ids.push(*id);
            }
        }
        if merged_ids.is_empty() {
            return Err(Error::Invalid(kith_core::Error::field(
                "merge",
                "name at least one record other than the survivor",
            )));
        }
        let mut tx = self.db.begin().await?;
        let survivor = records_store::get(&mut tx, ws, object, req.survivor, false)
            .await?
            .ok_or(Error::NotFound(object.singular()))?;
        let mut others = vec![];
        for id in &merged_ids {
            others.push(
                records_store::get(&mut tx, ws, object, *id, false)
                    .await?
                    .ok_or(Error::NotFound(object.singular()))?,
            );
        }
        let before = survivor.to_json();
        let input = merged_values(object, &survivor, &others, &req.pick)?;
        let defs = records_store::custom_defs(&mut tx, ws, object).await?;
        let ctx = Context {
            phone_region: caller
                .workspace
                .phone_region
                .as_deref()
                .and_then(|r| PhoneRegion::parse(r).ok()),
            custom: &defs,
        };
        let changes = fields::validate(object, &input, Mode::Update, &ctx)?;
        let custom = if input.contains_key("custom") {
            let mut c = survivor.custom.clone();
            for (k, v) in &changes.custom {
                c.insert(k.clone(), v.clone());
            }
            Some(c)
        } else {
            None
        };
        write_survivor(&mut tx, ws, &survivor, &changes, custom.as_ref(), now).await?;
        let moved = store::move_links(&mut tx, ws, object, &merged_ids, survivor.id).await?;
        for other in &others {
            if !records_store::set_deleted(&mut tx, ws, object, other.id, other.version, now, true)
                .await?
            {
                return Err(Error::Conflict);
            }
            if object == ObjectKind::Contact {
                records_store::set_identities(&mut tx, ws, other.id, &Default::default()).await?;
            }
            let entry = AuditEntry {
                actor: Some(caller.user.id),
                action: "delete",
                object,
                record_id: other.id,
                changes: json!({"merged_into": survivor.id}),
            };
            records_store::audit_and_emit(&mut tx, ws, now, entry).await?;
        }
        let after = records_store::get(&mut tx, ws, object, survivor.id, false)
            .await?
            .ok_or(Error::NotFound("record"))?;
        refresh(&mut tx, ws, &after).await?;
        self.refresh_moved_contacts(&mut tx, ws, &moved).await?;
        let entry = AuditEntry {
            actor: Some(caller.user.id),
            action: "merge",
            object,
            record_id: survivor.id,
            changes: json!({"merged": merged_ids, "set": input}),
        };
        records_store::audit_and_emit(&mut tx, ws, now, entry).await?;
        let merge = Merge {
            id: Uuid::now_v7(),
            object,
            survivor_id: survivor.id,
            merged: merged_ids.clone(),
            before,
            moved,
            survivor_version: after.version,
            actor_id: Some(caller.user.id),
            at: now,
            undone_at: None,
        };
        store::insert_merge(&mut tx, ws, &merge).await?;
        let mut all = merged_ids.clone();
        all.push(survivor.id);
        store::set_status(&mut tx, ws, object, &all, "merged").await?;
        tx.commit().await?;
        Ok((merge, after))
    }

    /// Undoes a merge: the survivor gets its old values back (if nobody changed it
    /// since), the merged records come back from the recycle bin, links move back.
    pub async fn undo_merge(&self, caller: &Caller, id: Uuid) -> Result<Record, Error> {
        check_writer(caller)?;
        let ws = caller.workspace.id;
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let m = store::merge(&mut tx, ws, id)
            .await?
            .ok_or(Error::NotFound("merge"))?;
        if m.undone_at.is_some() {
            return Err(Error::Duplicate("this merge was undone already".into()));
        }
        let object = m.object;
        let survivor = records_store::get(&mut tx, ws, object, m.survivor_id, false)
            .await?
            .ok_or(Error::NotFound(object.singular()))?;
        if survivor.version != m.survivor_version {
            return Err(Error::Duplicate(format!(
                "the {} was changed after the merge (version {} → {}); undoing would overwrite that change",
                object.singular(),
                m.survivor_version,
                survivor.version
            )));
        }
        let input = restore_values(object, &m.before, &survivor);
        let defs = records_store::custom_defs(&mut tx, ws, object).await?;
        let ctx = Context {
            phone_region: None,
            custom: &defs,
        };
        let changes = fields::validate(object, &input, Mode::Update, &ctx)?;
        let custom = m.before.get("custom").and_then(Value::as_object).cloned();
        write_survivor(&mut tx, ws, &survivor, &changes, custom.as_ref(), now).await?;
        for other in &m.merged {
            if let Some(rec) = records_store::get(&mut tx, ws, object, *other, true).await? {
                if rec.deleted_at.is_some()
                    && records_store::set_deleted(
                        &mut tx,
                        ws,
                        object,
                        rec.id,
                        rec.version,
                        now,
                        false,
                    )
                    .await?
                {
                    if let Some(back) =
                        records_store::get(&mut tx, ws, object, rec.id, false).await?
                    {
                        refresh(&mut tx, ws, &back).await?;
                    }
                    let entry = AuditEntry {
                        actor: Some(caller.user.id),
                        action: "restore",
                        object,
                        record_id: rec.id,
                        changes: json!({"undone_merge": m.id}),
                    };
                    records_store::audit_and_emit(&mut tx, ws, now, entry).await?;
                }
            }
        }
        store::move_back(&mut tx, ws, survivor.id, &m.moved).await?;
        let after = records_store::get(&mut tx, ws, object, survivor.id, false)
            .await?
            .ok_or(Error::NotFound("record"))?;
        refresh(&mut tx, ws, &after).await?;
        self.refresh_moved_contacts(&mut tx, ws, &m.moved).await?;
        let entry = AuditEntry {
            actor: Some(caller.user.id),
            action: "unmerge",
            object,
            record_id: survivor.id,
            changes: json!({"merge": m.id, "restored": m.merged}),
        };
        records_store::audit_and_emit(&mut tx, ws, now, entry).await?;
        store::set_undone(&mut tx, ws, m.id, now).await?;
        let mut all = m.merged.clone();
        all.push(survivor.id);
        store::set_status(&mut tx, ws, object, &all, "open").await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Contacts re-linked to another company carry its name in their search terms.
    async fn refresh_moved_contacts(
        &self,
        tx: &mut Tx,
        ws: WorkspaceId,
        moved: &[store::MovedLink],
    ) -> Result<(), Error> {
        for m in moved.iter().filter(|m| m.table == "contacts") {
            if let Some(c) = records_store::get(tx, ws, ObjectKind::Contact, m.id, false).await? {
                refresh(tx, ws, &c).await?;
            }
        }
        Ok(())
    }
}

/// Writes the survivor's new values (a merge) or old ones (an undo) at the version read.
async fn write_survivor(
    tx: &mut Tx,
    ws: WorkspaceId,
    survivor: &Record,
    changes: &fields::Changes,
    custom: Option<&Map<String, Value>>,
    now: chrono::DateTime<Utc>,
) -> Result<(), Error> {
    let written = records_store::update(
        tx,
        ws,
        survivor.object,
        survivor.id,
        survivor.version,
        now,
        &changes.columns,
        custom,
    )
    .await?;
    if !written {
        return Err(Error::Conflict);
    }
    if let Some(tags) = &changes.tags {
        records_store::set_tags(tx, ws, survivor.id, tags, now).await?;
    }
    Ok(())
}

/// The survivor's new values as a PATCH body: picked values, empty fields filled from
/// the merged records, tags and identities united.
fn merged_values(
    object: ObjectKind,
    survivor: &Record,
    others: &[Record],
    pick: &BTreeMap<String, Uuid>,
) -> Result<Map<String, Value>, Error> {
    let all: Vec<(Uuid, Value)> = std::iter::once(survivor)
        .chain(others)
        .map(|r| (r.id, r.to_json()))
        .collect();
    let value_of = |id: Uuid, field: &str| -> Option<Value> {
        let (_, rec) = all.iter().find(|(i, _)| *i == id)?;
        match field.strip_prefix("custom.") {
            Some(k) => rec["custom"].get(k).cloned(),
            None => rec.get(field).cloned(),
        }
    };
    for (field, id) in pick {
        if !all.iter().any(|(i, _)| i == id) {
            return Err(Error::Invalid(kith_core::Error::field(
                &format!("pick.{field}"),
                "must name the survivor or one of the merged records",
            )));
        }
    }
    let mine = &all[0].1;
    let mut input = Map::new();
    for spec in object.fields() {
        if spec.read_only || matches!(spec.kind, fields::Kind::Identities | fields::Kind::Consent) {
            continue;
        }
        let current = mine.get(spec.name).cloned().unwrap_or(Value::Null);
        let chosen = match pick.get(spec.name) {
            Some(id) => value_of(*id, spec.name).unwrap_or(Value::Null),
            None if is_empty(&current) => others
                .iter()
                .filter_map(|o| value_of(o.id, spec.name))
                .find(|v| !is_empty(v))
                .unwrap_or(Value::Null),
            None => current.clone(),
        };
        if chosen != current && !(spec.required && chosen.is_null()) {
            input.insert(spec.name.into(), chosen);
        }
    }
    let mut custom = Map::new();
    let keys: std::collections::BTreeSet<String> = all
        .iter()
        .filter_map(|(_, r)| r["custom"].as_object())
        .flat_map(|c| c.keys().cloned())
        .collect();
    for k in keys {
        let field = format!("custom.{k}");
        let current = mine["custom"].get(&k).cloned().unwrap_or(Value::Null);
        let chosen = match pick.get(&field) {
            Some(id) => value_of(*id, &field).unwrap_or(Value::Null),
            None if is_empty(&current) => others
                .iter()
                .filter_map(|o| value_of(o.id, &field))
                .find(|v| !is_empty(v))
                .unwrap_or(Value::Null),
            None => current.clone(),
        };
        if chosen != current {
            custom.insert(k, chosen);
        }
    }
    if !custom.is_empty() {
        input.insert("custom".into(), Value::Object(custom));
    }
    let mut tags: Vec<String> = survivor.tags.clone();
    for o in others {
        for t in &o.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
    }
    if tags != survivor.tags {
        input.insert("tags".into(), json!(tags));
    }
    if object == ObjectKind::Contact {
        // Every email and phone any of them had stays reachable on the survivor.
        let main_email = input.get("email").or(mine.get("email")).cloned();
        let main_phone = input.get("phone").or(mine.get("phone")).cloned();
        let mut items: Vec<Value> = mine["identities"].as_array().cloned().unwrap_or_default();
        let mut add = |item: Value| {
            if !items.contains(&item) {
                items.push(item);
            }
        };
        for (_, rec) in &all {
            for (kind, main) in [("email", &main_email), ("phone", &main_phone)] {
                if let Some(v) = rec.get(kind).filter(|v| !v.is_null()) {
                    if Some(v) != main.as_ref() {
                        add(json!({"kind": kind, "value": v}));
                    }
                }
            }
            for i in rec["identities"].as_array().into_iter().flatten() {
                add(i.clone());
            }
        }
        if Some(&Value::Array(items.clone())) != mine.get("identities") {
            input.insert("identities".into(), Value::Array(items));
        }
    }
    Ok(input)
}

/// A PATCH body that puts the survivor's fields back as they were before the merge.
fn restore_values(object: ObjectKind, before: &Value, now: &Record) -> Map<String, Value> {
    let current = now.to_json();
    let mut input = Map::new();
    for spec in object.fields() {
        if spec.read_only || spec.kind == fields::Kind::Consent {
            continue;
        }
        let old = before.get(spec.name).cloned().unwrap_or(Value::Null);
        if current.get(spec.name) != Some(&old) {
            input.insert(spec.name.into(), old);
        }
    }
    if let Some(tags) = before.get("tags") {
        if current.get("tags") != Some(tags) {
            input.insert("tags".into(), tags.clone());
        }
    }
    input
}
