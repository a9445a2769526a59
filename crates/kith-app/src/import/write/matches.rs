//! Rows that match records that exist (by external id, email, phone, or a company's
//! name and domain): finding them, and updating or merging into them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use kith_store::bulk;
use kith_store::imports::{self as store, Item};
use kith_store::records::{self as records_store, AuditEntry};
use kith_store::Tx;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::Writer;
use crate::import::rows::Prepared;
use crate::import::OnDuplicate;
use crate::search_index::refresh;
use crate::Error;

impl Writer<'_> {
    /// Existing records the chunk's rows match, by match key (see [`match_keys`]).
    pub(super) async fn find_matches(
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
                        "number" => by_kind.entry("number").or_default().push(v.to_string()),
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
                "number" => bulk::ids_by_value(tx, ws, object, "number", &values).await?,
                _ => bulk::ids_by_value(tx, ws, object, "domain", &values).await?,
            };
            for (v, id) in found {
                out.entry(format!("{kind}:{v}")).or_insert(id);
            }
        }
        Ok(out)
    }

    /// Updates (or merges into) an existing record; None when nothing would change.
    pub(super) async fn update_one(
        &mut self,
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
                ("consent", Scalar::Json(have), Scalar::Json(add)) => {
                    let (consent, kept) = with_consent(have, add, merge);
                    if kept {
                        self.kept_no += 1;
                    }
                    Scalar::Json(consent)
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

/// The keys a row is matched to existing records by: external id, then (contacts) its
/// emails and phone, (companies) its name and domain, (orders) its number.
pub(super) fn match_keys(object: ObjectKind, row: &Prepared) -> Vec<String> {
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
        // The rows of one order (one per line) share its number.
        ObjectKind::Order => keys.extend(get("number").map(|n| format!("number:{n}"))),
        _ => {}
    }
    keys
}

/// Folds a later row that matches an earlier new row of the same chunk into it.
pub(super) fn absorb(into: &mut Prepared, row: &Prepared, mode: OnDuplicate) {
    into.index = None;
    for (spec, v) in &row.changes.columns {
        if v.is_null() {
            continue;
        }
        // Values that add up rather than replace: a later line of the same order adds to
        // its lines, and consent is joined channel by channel.
        if let (Some(Scalar::Json(have)), Scalar::Json(add)) = (into.changes.get(spec.name), v) {
            let joined = match (spec.name, have, add) {
                ("lines", Value::Array(a), Value::Array(b)) => {
                    Some(Value::Array(a.iter().chain(b).cloned().collect()))
                }
                ("consent", _, _) => Some(with_consent(have, add, mode == OnDuplicate::Merge).0),
                _ => None,
            };
            if let Some(joined) = joined {
                into.changes.set(spec, Scalar::Json(joined));
                continue;
            }
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
    // Two rows of one record in the old system: it was made by the first of them.
    into.created_at = match (into.created_at, row.created_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// A record's consent with a file's, channel by channel: the file's state replaces the
/// record's (`fill_only`: only where the record's is unknown), an `unknown` in the file
/// says nothing, and an import never turns a "denied" into "granted": only the person can
/// give consent back. Also answers whether a "denied" was kept so.
fn with_consent(have: &Value, add: &Value, fill_only: bool) -> (Value, bool) {
    let mut out = have.as_object().cloned().unwrap_or_default();
    let mut kept = false;
    for (channel, state) in add.as_object().into_iter().flatten() {
        let cur = out
            .get(channel)
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        if cur == "denied" && state == "granted" {
            kept = true;
            continue;
        }
        if state == "unknown" || (fill_only && cur != "unknown") {
            continue;
        }
        out.insert(channel.clone(), state.clone());
    }
    (Value::Object(out), kept)
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
