//! Segments: saved filters over contacts or companies with a live count, a member list,
//! and membership that turns each change into a `segment.entered`/`segment.left` event.

use chrono::{DateTime, Utc};
use kith_core::fields::Changes;
use kith_core::filter::{Filter, Resolved};
use kith_core::objects::ObjectKind;
use kith_core::{FieldErrors, Scalar};
use kith_store::records as store;
use kith_store::segments::{self as members, Refreshed, SegmentDef};
use kith_store::{Tx, WorkspaceId};
use serde::Serialize;
use uuid::Uuid;

use crate::records::{ListRequest, Page};
use crate::{App, Caller, Error, Record};

/// A segment's filter checked against its object.
pub(crate) async fn resolve(
    ex: &mut impl kith_store::Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    filter: &str,
    now: DateTime<Utc>,
) -> Result<Resolved, Error> {
    let defs = store::custom_defs(ex, ws, object).await?;
    Ok(Filter::parse_text(filter)?.resolve(object, &defs, now)?)
}

/// Checks a segment's filter against the object it groups.
pub(crate) async fn segment_rules(
    tx: &mut Tx,
    ws: WorkspaceId,
    changes: &Changes,
    current: Option<&Record>,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> Result<(), Error> {
    let object = changes
        .get("object")
        .or_else(|| current.and_then(|c| c.get("object")))
        .and_then(|o| match o {
            Scalar::Text(s) => ObjectKind::from_singular(s),
            _ => None,
        });
    let Some(object) = object else {
        return Ok(());
    };
    if let Some(Scalar::Text(f)) = changes.get("filter") {
        if let Err(e) = resolve(tx, ws, object, f, now).await {
            errors.add("filter", e.to_string());
        }
    }
    Ok(())
}

/// Re-checks the records a write touched against every segment of their object.
pub(crate) async fn recheck(
    tx: &mut Tx,
    ws: WorkspaceId,
    records: &[(ObjectKind, Uuid)],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    let defs = members::definitions(tx, ws, None).await?;
    for seg in &defs {
        let ids: Vec<Uuid> = records
            .iter()
            .filter(|(o, _)| *o == seg.object)
            .map(|(_, id)| *id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        // A segment whose filter no longer resolves (a custom field was deleted) keeps
        // its members until someone fixes it.
        let Ok(filter) = resolve(tx, ws, seg.object, &seg.filter, now).await else {
            continue;
        };
        for id in ids {
            members::recheck(tx, ws, seg, &filter, id, now).await?;
        }
    }
    Ok(())
}

/// Recomputes the membership of segment `rec` inside `tx`.
pub(crate) async fn refresh_in(
    tx: &mut Tx,
    ws: WorkspaceId,
    rec: &Record,
    now: DateTime<Utc>,
) -> Result<Refreshed, Error> {
    refresh_def(tx, ws, &definition(rec)?, now).await
}

async fn refresh_def(
    tx: &mut Tx,
    ws: WorkspaceId,
    seg: &SegmentDef,
    now: DateTime<Utc>,
) -> Result<Refreshed, Error> {
    let filter = resolve(tx, ws, seg.object, &seg.filter, now).await?;
    Ok(members::refresh(tx, ws, seg, &filter, now).await?)
}

/// A segment's live count and stored membership figures.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentCount {
    /// Records passing the filter now.
    pub count: i64,
    /// Members at the last refresh.
    pub members: Option<i64>,
    /// When membership was last refreshed.
    pub refreshed_at: Option<DateTime<Utc>>,
}

/// What refreshing a segment changed.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentRefresh {
    /// Segment.
    pub segment_id: Uuid,
    /// Records that entered.
    pub entered: usize,
    /// Records that left.
    pub left: usize,
    /// Members now.
    pub members: i64,
}

fn definition(rec: &Record) -> Result<SegmentDef, Error> {
    let object = rec
        .text("object")
        .and_then(ObjectKind::from_singular)
        .ok_or(Error::NotFound("segment"))?;
    Ok(SegmentDef {
        id: rec.id,
        name: rec.text("name").unwrap_or_default().to_string(),
        object,
        filter: rec.text("filter").unwrap_or_default().to_string(),
    })
}

impl App {
    /// The live count of a segment.
    pub async fn segment_count(&self, caller: &Caller, id: Uuid) -> Result<SegmentCount, Error> {
        let rec = self.get(caller, ObjectKind::Segment, id).await?;
        let seg = definition(&rec)?;
        let mut db = self.db.clone();
        let ws = caller.workspace.id;
        let filter = resolve(&mut db, ws, seg.object, &seg.filter, Utc::now()).await?;
        let count = members::count(&mut db, ws, seg.object, &filter).await?;
        Ok(SegmentCount {
            count,
            members: rec.int("member_count"),
            refreshed_at: rec.time("refreshed_at"),
        })
    }

    /// One page of a segment's members (live: whoever passes its filter now), narrowed
    /// further by the request's own filter, search and sort.
    pub async fn segment_members(
        &self,
        caller: &Caller,
        id: Uuid,
        req: &ListRequest,
    ) -> Result<(ObjectKind, Page), Error> {
        let rec = self.get(caller, ObjectKind::Segment, id).await?;
        let seg = definition(&rec)?;
        let own = Filter::parse_text(&seg.filter)?;
        let mut req = req.clone();
        req.filter = Some(match req.filter.take() {
            Some(f) => Filter::And(vec![own, f]),
            None => own,
        });
        Ok((seg.object, self.list(caller, seg.object, &req).await?))
    }

    /// Recomputes a segment's members and emits an event per change.
    pub async fn refresh_segment(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<SegmentRefresh, Error> {
        let rec = self.get(caller, ObjectKind::Segment, id).await?;
        let seg = definition(&rec)?;
        self.refresh_one(caller.workspace.id, &seg).await
    }

    async fn refresh_one(
        &self,
        ws: WorkspaceId,
        seg: &SegmentDef,
    ) -> Result<SegmentRefresh, Error> {
        let mut tx = self.db.begin().await?;
        let Refreshed {
            entered,
            left,
            members,
        } = refresh_def(&mut tx, ws, seg, Utc::now()).await?;
        tx.commit().await?;
        Ok(SegmentRefresh {
            segment_id: seg.id,
            entered: entered.len(),
            left: left.len(),
            members,
        })
    }

    /// Refreshes every segment of a workspace (time moves people in and out of "no
    /// activity in 60 days" without any write); a segment that fails is reported and
    /// the others go on.
    pub async fn refresh_all_segments(
        &self,
        ws: WorkspaceId,
    ) -> Result<Vec<Result<SegmentRefresh, (Uuid, String)>>, Error> {
        let defs = members::definitions(&mut self.db.clone(), ws, None).await?;
        let mut out = Vec::new();
        for seg in &defs {
            out.push(
                self.refresh_one(ws, seg)
                    .await
                    .map_err(|e| (seg.id, e.to_string())),
            );
        }
        Ok(out)
    }

    /// The segments a record is a member of: (id, name, since).
    pub async fn memberships(
        &self,
        caller: &Caller,
        record: Uuid,
    ) -> Result<Vec<(Uuid, String, DateTime<Utc>)>, Error> {
        Ok(members::memberships(&mut self.db.clone(), caller.workspace.id, record).await?)
    }
}
