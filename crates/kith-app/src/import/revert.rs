//! Taking an import back: the records it created are removed and the records it updated
//! get their old values again — except where someone changed them since, which a revert
//! never overwrites. Runs a page per transaction, so it can be run again to finish.

use chrono::Utc;
use kith_core::objects::ObjectKind;
use kith_store::bulk;
use kith_store::imports::{self as store, Import, Item};
use serde_json::{Map, Value};

use crate::records::IfMatch;
use crate::{App, Caller, Error};

/// Records handled per transaction.
const PAGE: i64 = 500;

impl App {
    /// Reverts an import as a whole; returns it with what was kept in its message.
    pub async fn revert_import(&self, caller: &Caller, id: uuid::Uuid) -> Result<Import, Error> {
        crate::records::check_import(caller)?;
        let ws = caller.workspace.id;
        let mut import = self.import_status(caller, id).await?;
        match import.status.as_str() {
            "reverted" => return Ok(import),
            "queued" | "running"
                if Utc::now() - import.updated_at < chrono::Duration::minutes(2) =>
            {
                return Err(Error::Duplicate(
                    "the import is still running; wait for it to finish or stop it first".into(),
                ))
            }
            _ => {}
        }
        import.status = "reverting".into();
        import.updated_at = Utc::now();
        store::save(&mut self.db.clone(), ws, &import).await?;
        let mut kept_changed = 0usize;
        let mut kept_linked = 0usize;
        let mut removed = 0usize;
        let mut restored = 0usize;
        // Dependants first: notes and deals before the contacts and companies they hang on.
        for object in [
            ObjectKind::Order,
            ObjectKind::Activity,
            ObjectKind::Task,
            ObjectKind::Deal,
            ObjectKind::Contact,
            ObjectKind::Company,
        ] {
            let mut after = None;
            loop {
                let page = store::items(&mut self.db.clone(), id, object, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.record_id);
                let mut tx = self.db.begin().await?;
                let created: Vec<(uuid::Uuid, i64)> = page
                    .iter()
                    .filter(|i| i.action == "created")
                    .map(|i| (i.record_id, i.version))
                    .collect();
                let ids: Vec<uuid::Uuid> = created.iter().map(|(id, _)| *id).collect();
                let linked = bulk::linked(&mut tx, object, &ids).await?;
                kept_linked += linked.len();
                let free: Vec<(uuid::Uuid, i64)> = created
                    .into_iter()
                    .filter(|(i, _)| !linked.contains(i))
                    .collect();
                let gone = bulk::remove_created(&mut tx, ws, object, &free).await?;
                kept_changed += free.len() - gone.len();
                removed += gone.len();
                store::forget_keys(&mut tx, id, &gone).await?;
                let audit: Vec<(uuid::Uuid, Value)> = gone
                    .iter()
                    .map(|g| (*g, serde_json::json!({"reverted_import": id})))
                    .collect();
                bulk::audit_many(
                    &mut tx,
                    ws,
                    Utc::now(),
                    Some(caller.user.id),
                    "delete",
                    object,
                    &audit,
                )
                .await?;
                tx.commit().await?;
                for item in page.iter().filter(|i| i.action == "updated") {
                    let Some(Value::Object(changes)) = &item.before else {
                        continue;
                    };
                    match self.restore(caller, object, item, changes).await? {
                        Restored::All => restored += 1,
                        Restored::Partly => {
                            restored += 1;
                            kept_changed += 1;
                        }
                        Restored::Nothing => kept_changed += 1,
                    }
                }
            }
        }
        import.status = "reverted".into();
        import.updated_at = Utc::now();
        import.finished_at = Some(import.updated_at);
        let mut msg = format!("reverted: {removed} records removed, {restored} restored");
        if kept_changed > 0 {
            msg.push_str(&format!(
                "; {kept_changed} kept because they were changed after the import"
            ));
        }
        if kept_linked > 0 {
            msg.push_str(&format!(
                "; {kept_linked} kept because other records link to them"
            ));
        }
        import.message = Some(msg);
        store::save(&mut self.db.clone(), ws, &import).await?;
        // Removed orders (or activities) change their customers' figures and segments.
        if removed > 0 && ["order", "activity"].contains(&import.object.as_str()) {
            self.recompute_workspace(ws, &caller.workspace.currency)
                .await?;
        }
        Ok(import)
    }
}

/// How much of an update a revert could put back.
enum Restored {
    All,
    Partly,
    Nothing,
}

impl App {
    /// Puts back the fields an import changed that still hold the import's values;
    /// fields changed since are kept. `changes` maps field (or `custom.KEY`) to
    /// `{"from", "to"}`, and `tags` to `{"added"}`.
    async fn restore(
        &self,
        caller: &Caller,
        object: ObjectKind,
        item: &Item,
        changes: &Map<String, Value>,
    ) -> Result<Restored, Error> {
        let id = item.record_id;
        let cur = match self.get(caller, object, id).await {
            Ok(r) => r,
            Err(Error::NotFound(_)) => return Ok(Restored::Nothing),
            Err(e) => return Err(e),
        };
        let now = cur.to_json();
        let mut input = Map::new();
        let mut custom = Map::new();
        let mut kept = false;
        for (field, change) in changes {
            if field == "tags" {
                let added: Vec<&str> = change["added"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if added.iter().all(|t| cur.tags.iter().any(|c| c == t)) {
                    let left: Vec<&String> = cur
                        .tags
                        .iter()
                        .filter(|t| !added.contains(&t.as_str()))
                        .collect();
                    input.insert("tags".into(), serde_json::json!(left));
                } else {
                    kept = true;
                }
                continue;
            }
            let current = match field.strip_prefix("custom.") {
                Some(k) => now["custom"].get(k).cloned().unwrap_or(Value::Null),
                None => now[field.as_str()].clone(),
            };
            if current != change["to"] {
                kept = true;
                continue;
            }
            match field.strip_prefix("custom.") {
                Some(k) => {
                    custom.insert(k.to_string(), change["from"].clone());
                }
                None => {
                    input.insert(field.clone(), change["from"].clone());
                }
            }
        }
        if !custom.is_empty() {
            input.insert("custom".into(), Value::Object(custom));
        }
        if input.is_empty() {
            return Ok(Restored::Nothing);
        }
        match self
            .update(caller, object, id, &input, Some(IfMatch(cur.version)))
            .await
        {
            Ok(_) if kept => Ok(Restored::Partly),
            Ok(now) => {
                // Untouched since the import and now as it was before it: whichever
                // earlier import left it so may still take it back. (Its own
                // transaction: lost in a crash, the earlier revert keeps the record.)
                if cur.version == item.version {
                    let ws = caller.workspace.id;
                    let mut tx = self.db.begin().await?;
                    store::hand_back(&mut tx, ws, id, item.version - 1, now.version).await?;
                    tx.commit().await?;
                }
                Ok(Restored::All)
            }
            // Changed between our read and our write: that newer edit stays.
            Err(Error::Stale { .. }) => Ok(Restored::Nothing),
            Err(e) => Err(e),
        }
    }
}
