//! Create, read, update, delete, restore and list records of every object, with the
//! rules each object adds (defaults, links that must exist, deal stages).

use chrono::{DateTime, Utc};
use kith_core::fields::{self, Context, Mode};
use kith_core::filter::{resolve_field, FieldRef, Filter};
use kith_core::listing::{self, Cursor, Sort};
use kith_core::objects::ObjectKind;
use kith_core::{PhoneRegion, Scalar, ScalarType};
use kith_store::records::{self as store, AuditEntry};
use kith_store::timeline;
use kith_store::{Tx, WorkspaceId};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::rules::{check_links, check_owner, defaults, visible};
use crate::{search_index, App, Caller, Error, Record, Role, TimelineEntry};

/// What a list asks for, as the caller wrote it.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// Filter (text or JSON form, already parsed).
    pub filter: Option<Filter>,
    /// Quick search.
    pub q: Option<String>,
    /// Sort: `field` or `-field`.
    pub sort: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
    /// List the recycle bin.
    pub deleted: bool,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    /// The records.
    pub records: Vec<Record>,
    /// Cursor of the next page; None on the last.
    pub next_cursor: Option<String>,
}

/// The version a write is based on, and where the client said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub i64);

/// Imports and their reverts write many records at once: members and admins only.
pub(crate) fn check_import(caller: &Caller) -> Result<(), Error> {
    match caller.role() {
        Role::ReadOnly => Err(Error::Forbidden("read-only users cannot import")),
        _ => Ok(()),
    }
}

fn check_write(caller: &Caller, object: ObjectKind) -> Result<(), Error> {
    match caller.role() {
        Role::ReadOnly => Err(Error::Forbidden("read-only users cannot change records")),
        Role::Member
            if matches!(
                object,
                ObjectKind::Pipeline | ObjectKind::Stage | ObjectKind::FieldDefinition
            ) =>
        {
            Err(Error::Forbidden(
                "only admins change pipelines, stages and custom fields",
            ))
        }
        _ => Ok(()),
    }
}

pub(crate) fn ws(caller: &Caller) -> WorkspaceId {
    caller.workspace.id
}

fn region(caller: &Caller) -> Option<PhoneRegion> {
    caller
        .workspace
        .phone_region
        .as_deref()
        .and_then(|r| PhoneRegion::parse(r).ok())
}

impl App {
    /// Creates a record from the client's JSON object.
    pub async fn create(
        &self,
        caller: &Caller,
        object: ObjectKind,
        input: &Map<String, Value>,
    ) -> Result<Record, Error> {
        check_write(caller, object)?;
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let defs = store::custom_defs(&mut tx, ws(caller), object).await?;
        let ctx = Context {
            phone_region: region(caller),
            custom: &defs,
        };
        let (mut changes, mut errors) = fields::validate_all(object, input, Mode::Create, &ctx);
        defaults(caller, object, &mut changes, now);
        let transition = self
            .object_rules(
                &mut tx,
                caller,
                object,
                &mut changes,
                None,
                now,
                &mut errors,
            )
            .await?;
        check_links(&mut tx, ws(caller), &changes, &mut errors).await?;
        if !errors.is_empty() {
            return Err(kith_core::Error::fields(errors).into());
        }
        let id = Uuid::now_v7();
        let custom: Map<String, Value> = changes
            .custom
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        store::insert(
            &mut tx,
            ws(caller),
            object,
            id,
            now,
            &changes.columns,
            &custom,
        )
        .await?;
        if let Some(tags) = &changes.tags {
            store::set_tags(&mut tx, ws(caller), id, tags, now).await?;
        }
        let rec = store::get(&mut tx, ws(caller), object, id, false)
            .await?
            .ok_or(Error::NotFound("record"))?;
        let entry = AuditEntry {
            actor: Some(caller.user.id),
            action: "create",
            object,
            record_id: id,
            changes: rec.to_json(),
        };
        store::audit_and_emit(&mut tx, ws(caller), now, entry).await?;
        self.after_write(&mut tx, caller, &rec, None, transition, now)
            .await?;
        let rec = self.reread_segment(&mut tx, caller, rec).await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Reads a live record of the caller's workspace.
    pub async fn get(
        &self,
        caller: &Caller,
        object: ObjectKind,
        id: Uuid,
    ) -> Result<Record, Error> {
        store::get(&mut self.db.clone(), ws(caller), object, id, false)
            .await?
            .filter(|r| visible(caller, r))
            .ok_or(Error::NotFound(object.singular()))
    }

    /// Changes the fields the client sent; refuses if the record moved past `if_match`.
    pub async fn update(
        &self,
        caller: &Caller,
        object: ObjectKind,
        id: Uuid,
        input: &Map<String, Value>,
        if_match: Option<IfMatch>,
    ) -> Result<Record, Error> {
        check_write(caller, object)?;
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let current = store::get(&mut tx, ws(caller), object, id, false)
            .await?
            .filter(|r| visible(caller, r))
            .ok_or(Error::NotFound(object.singular()))?;
        check_owner(caller, &current)?;
        let defs = store::custom_defs(&mut tx, ws(caller), object).await?;
        let ctx = Context {
            phone_region: region(caller),
            custom: &defs,
        };
        let (mut changes, mut errors) = fields::validate_all(object, input, Mode::Update, &ctx);
        let expected = if_match.map(|m| m.0).or(changes.expected_version);
        if let Some(expected) = expected {
            if expected != current.version {
                return Err(Error::Stale {
                    expected,
                    current: Box::new(current),
                });
            }
        }
        if object == ObjectKind::Task {
            if let Some(Scalar::Bool(done)) = changes.get("done").cloned() {
                let was = matches!(current.get("done"), Some(Scalar::Bool(true)));
                if done != was {
                    let spec = object.field("done_at").expect("tasks have done_at");
                    changes.set(
                        spec,
                        if done {
                            Scalar::Time(now)
                        } else {
                            Scalar::Null(ScalarType::Time)
                        },
                    );
                }
            }
        }
        let transition = self
            .object_rules(
                &mut tx,
                caller,
                object,
                &mut changes,
                Some(&current),
                now,
                &mut errors,
            )
            .await?;
        check_links(&mut tx, ws(caller), &changes, &mut errors).await?;
        if !errors.is_empty() {
            return Err(kith_core::Error::fields(errors).into());
        }
        // Only what really changes is written and audited.
        changes
            .columns
            .retain(|(spec, v)| current.get(spec.name) != Some(v));
        let mut custom = current.custom.clone();
        let mut custom_diff = Map::new();
        for (k, v) in &changes.custom {
            let old = custom.get(k).cloned().unwrap_or(Value::Null);
            if &old != v {
                custom_diff.insert(format!("custom.{k}"), json!({"from": old, "to": v}));
                if v.is_null() {
                    custom.remove(k);
                } else {
                    custom.insert(k.clone(), v.clone());
                }
            }
        }
        let tags_change = changes.tags.as_ref().filter(|t| {
            let mut sorted = (*t).clone();
            sorted.sort();
            sorted != current.tags
        });
        if changes.columns.is_empty() && custom_diff.is_empty() && tags_change.is_none() {
            return Ok(current);
        }
        let mut diff = Map::new();
        for (spec, v) in &changes.columns {
            let from = current
                .get(spec.name)
                .map(Scalar::to_json)
                .unwrap_or(Value::Null);
            diff.insert(
                spec.name.to_string(),
                json!({"from": from, "to": v.to_json()}),
            );
        }
        diff.extend(custom_diff.clone());
        if let Some(tags) = tags_change {
            diff.insert("tags".into(), json!({"from": current.tags, "to": tags}));
        }
        let custom_arg = (!custom_diff.is_empty()).then_some(&custom);
        if !store::update(
            &mut tx,
            ws(caller),
            object,
            id,
            current.version,
            now,
            &changes.columns,
            custom_arg,
        )
        .await?
        {
            return Err(Error::Conflict);
        }
        if let Some(tags) = tags_change {
            store::set_tags(&mut tx, ws(caller), id, tags, now).await?;
        }
        let rec = store::get(&mut tx, ws(caller), object, id, false)
            .await?
            .ok_or(Error::NotFound("record"))?;
        let entry = AuditEntry {
            actor: Some(caller.user.id),
            action: "update",
            object,
            record_id: id,
            changes: Value::Object(diff),
        };
        store::audit_and_emit(&mut tx, ws(caller), now, entry).await?;
        self.after_write(&mut tx, caller, &rec, Some(&current), transition, now)
            .await?;
        let rec = self.reread_segment(&mut tx, caller, rec).await?;
        if object == ObjectKind::Company && changes.get("name").is_some() {
            for contact in store::contacts_of_company(&mut tx, ws(caller), id).await? {
                if let Some(c) =
                    store::get(&mut tx, ws(caller), ObjectKind::Contact, contact, false).await?
                {
                    search_index::refresh(&mut tx, ws(caller), &c).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(rec)
    }

    /// Moves a record to the recycle bin (`deleted`) or restores it.
    pub async fn set_deleted(
        &self,
        caller: &Caller,
        object: ObjectKind,
        id: Uuid,
        if_match: Option<IfMatch>,
        deleted: bool,
    ) -> Result<Record, Error> {
        check_write(caller, object)?;
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let current = store::get(&mut tx, ws(caller), object, id, true)
            .await?
            .filter(|r| r.deleted_at.is_some() != deleted && visible(caller, r))
            .ok_or(Error::NotFound(object.singular()))?;
        check_owner(caller, &current)?;
        if let Some(IfMatch(expected)) = if_match {
            if expected != current.version {
                return Err(Error::Stale {
                    expected,
                    current: Box::new(current),
                });
            }
        }
        if !store::set_deleted(
            &mut tx,
            ws(caller),
            object,
            id,
            current.version,
            now,
            deleted,
        )
        .await?
        {
            return Err(Error::Conflict);
        }
        let action = if deleted { "delete" } else { "restore" };
        let entry = AuditEntry {
            actor: Some(caller.user.id),
            action,
            object,
            record_id: id,
            changes: json!({}),
        };
        store::audit_and_emit(&mut tx, ws(caller), now, entry).await?;
        let rec = store::get(&mut tx, ws(caller), object, id, true)
            .await?
            .ok_or(Error::NotFound("record"))?;
        self.after_write(&mut tx, caller, &rec, Some(&current), None, now)
            .await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// One page of records matching the request.
    pub async fn list(
        &self,
        caller: &Caller,
        object: ObjectKind,
        req: &ListRequest,
    ) -> Result<Page, Error> {
        let mut db = self.db.clone();
        let defs = store::custom_defs(&mut db, ws(caller), object).await?;
        let sort = Sort::parse(req.sort.as_deref().unwrap_or(object.default_sort()));
        let sort_field = resolve_field(object, &sort.field, &defs)
            .filter(|f| !matches!(f, FieldRef::Tags | FieldRef::Json { array: true, .. }))
            .ok_or_else(|| {
                kith_core::Error::field("sort", format!("cannot sort by `{}`", sort.field))
            })?;
        let mut filter = req
            .filter
            .as_ref()
            .map(|f| f.resolve(object, &defs, Utc::now()))
            .transpose()?;
        if object == ObjectKind::View {
            // Private views are their owner's alone.
            let mine =
                Filter::parse_text(&format!("shared = true or owner_id = {}", caller.user.id))?
                    .resolve(object, &[], Utc::now())?;
            filter = Some(match filter {
                Some(f) => kith_core::filter::Resolved::And(vec![f, mine]),
                None => mine,
            });
        }
        let terms = match req.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(_) if !object.is_searchable() => {
                return Err(kith_core::Error::field(
                    "q",
                    format!("quick search does not cover {}", object.plural()),
                )
                .into())
            }
            Some(q) if q.chars().count() > 200 => {
                return Err(kith_core::Error::field("q", "is longer than 200 characters").into())
            }
            Some(q) => {
                let t = kith_core::search::query_terms(q);
                if t.is_empty() {
                    return Ok(Page {
                        records: vec![],
                        next_cursor: None,
                    });
                }
                t
            }
            None => vec![],
        };
        let cursor = req.cursor.as_deref().map(Cursor::decode).transpose()?;
        let spec = kith_store::ListSpec {
            filter,
            terms,
            sort: sort_field,
            desc: sort.desc,
            cursor,
            limit: listing::limit(req.limit)?,
            deleted: req.deleted,
        };
        let (records, next) = kith_store::list(&mut db, ws(caller), object, &spec).await?;
        Ok(Page {
            records,
            next_cursor: next.map(|c| c.encode()),
        })
    }

    /// The newest entries of a record's timeline.
    pub async fn timeline(
        &self,
        caller: &Caller,
        object: ObjectKind,
        id: Uuid,
        before: Option<DateTime<Utc>>,
        limit: Option<u32>,
    ) -> Result<Vec<TimelineEntry>, Error> {
        if !object.is_customisable() {
            return Err(Error::NotFound("timeline"));
        }
        let mut db = self.db.clone();
        if store::get(&mut db, ws(caller), object, id, true)
            .await?
            .is_none()
        {
            return Err(Error::NotFound(object.singular()));
        }
        Ok(timeline::timeline(
            &mut db,
            ws(caller),
            object,
            id,
            before,
            listing::limit(limit)?,
        )
        .await?)
    }

    /// A segment as its membership refresh left it (member count, refreshed at).
    async fn reread_segment(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        rec: Record,
    ) -> Result<Record, Error> {
        if rec.object != ObjectKind::Segment {
            return Ok(rec);
        }
        Ok(store::get(tx, ws(caller), rec.object, rec.id, false)
            .await?
            .unwrap_or(rec))
    }

    pub(crate) async fn after_write(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        rec: &Record,
        before: Option<&Record>,
        transition: Option<(Option<Uuid>, Uuid)>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        if rec.object.is_searchable() {
            search_index::refresh(tx, ws(caller), rec).await?;
        }
        let mut touched = crate::orders::refresh_customers(tx, caller, rec, before, now).await?;
        if matches!(rec.object, ObjectKind::Contact | ObjectKind::Company) {
            touched.push((rec.object, rec.id));
        }
        crate::segments::recheck(tx, ws(caller), &touched, now).await?;
        if rec.object == ObjectKind::Segment && rec.deleted_at.is_none() {
            // A new or changed filter: membership follows at once, with its events.
            crate::segments::refresh_in(tx, ws(caller), rec, now).await?;
        }
        if let Some((from, to)) = transition {
            store::add_stage_change(tx, ws(caller), rec.id, from, to, now, Some(caller.user.id))
                .await?;
            let payload = json!({"from_stage_id": from, "to_stage_id": to});
            store::emit(
                tx,
                ws(caller),
                now,
                "deal.stage_changed",
                ObjectKind::Deal,
                rec.id,
                payload,
            )
            .await?;
        }
        Ok(())
    }
}
