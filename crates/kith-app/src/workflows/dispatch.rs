//! The dispatcher: takes outbox events not dispatched yet (oldest first), finds the
//! enabled workflows whose trigger they match and whose conditions the record passes,
//! and starts one run per workflow and event — all in one transaction with marking the
//! events dispatched, so a crash redoes the batch and the runs' unique key keeps it
//! from starting anything twice.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use kith_core::filter::Resolved;
use kith_core::objects::ObjectKind;
use kith_core::workflows::{Definition, MAX_DEPTH};
use kith_store::workflows::runs::{self, Run};
use kith_store::workflows::{self as store, Workflow};
use kith_store::{Tx, WorkspaceId};
use serde_json::{json, Value};
use uuid::Uuid;

use super::WORKFLOW_RUN;
use crate::jobs::{enqueue_many_in, JobOptions};
use crate::{App, Error};

/// Triggers that events start (the others are found by the scan).
const EVENT_TRIGGERS: [&str; 6] = [
    "record_created",
    "record_updated",
    "field_changed",
    "deal_stage_changed",
    "segment_entered",
    "segment_left",
];

/// An enabled workflow ready to match: its definition and its conditions resolved
/// against its object (None: no conditions; Err: they no longer resolve).
pub(crate) struct Armed {
    pub(crate) workflow: Workflow,
    pub(crate) def: Definition,
    pub(crate) object: Option<ObjectKind>,
    pub(crate) conditions: Option<Result<Resolved, String>>,
}

/// The enabled workflows of `ws` with one of `types` as trigger.
pub(crate) async fn armed(
    tx: &mut Tx,
    ws: WorkspaceId,
    types: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<Armed>, Error> {
    let mut out = Vec::new();
    for workflow in store::list(tx, ws, Some(types)).await? {
        let def = match Definition::parse(&workflow.definition) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(workflow = %workflow.id, error = %e, "stored workflow does not parse; skipped");
                continue;
            }
        };
        let object = super::check::trigger_object(tx, ws, &def.trigger).await?;
        let conditions = match (object, def.conditions.is_empty()) {
            (_, true) => None,
            (None, false) => Some(Err("the trigger's segment is gone".to_string())),
            (Some(o), false) => Some(
                crate::segments::resolve(tx, ws, o, &def.conditions, now)
                    .await
                    .map_err(|e| e.to_string()),
            ),
        };
        out.push(Armed {
            workflow,
            def,
            object,
            conditions,
        });
    }
    Ok(out)
}

/// One thing that triggers a workflow: an event, or what a scan found.
pub(crate) struct Occurrence {
    /// The event id, or the scan's key (one run per workflow and key).
    pub(crate) trigger_key: String,
    /// The event, if an event.
    pub(crate) event_id: Option<Uuid>,
    /// The record's object.
    pub(crate) object: ObjectKind,
    /// The record.
    pub(crate) record: Uuid,
    /// Runs that led here, this one included.
    pub(crate) depth: i64,
    /// Now.
    pub(crate) now: DateTime<Utc>,
}

impl Armed {
    /// Which of `records` pass the conditions now (one query for all of them).
    pub(crate) async fn passing(
        &self,
        tx: &mut Tx,
        records: &[Uuid],
    ) -> Result<HashSet<Uuid>, Error> {
        let (Some(object), Some(cond)) = (self.object, &self.conditions) else {
            return Ok(records.iter().copied().collect());
        };
        match cond {
            Ok(filter) => {
                let ws = self.workflow.workspace;
                Ok(store::matching(tx, ws, object, records, filter).await?)
            }
            Err(e) => {
                tracing::warn!(workflow = %self.workflow.id, error = %e, "workflow conditions do not resolve; not run");
                Ok(HashSet::new())
            }
        }
    }

    /// A run of this workflow for the occurrence, not stored yet (see [`start`]).
    pub(crate) fn run(&self, o: Occurrence) -> Run {
        Run {
            id: Uuid::now_v7(),
            workspace: self.workflow.workspace,
            workflow_id: self.workflow.id,
            workflow_name: String::new(),
            version: self.workflow.version,
            trigger_key: o.trigger_key,
            event_id: o.event_id,
            object: o.object.singular().into(),
            record_id: o.record,
            depth: o.depth,
            status: "running".into(),
            next_step: 0,
            steps: Value::Array(vec![]),
            started_at: o.now,
            finished_at: None,
        }
    }
}

/// Stores `list` (skipping runs whose workflow already has one for the key) and
/// enqueues a `workflow.run` job for each stored run; returns how many started.
pub(crate) async fn start(tx: &mut Tx, list: Vec<Run>) -> Result<usize, Error> {
    if list.is_empty() {
        return Ok(0);
    }
    let stored = runs::insert_many(tx, &list).await?;
    let mut by_ws: HashMap<WorkspaceId, Vec<(Value, JobOptions)>> = HashMap::new();
    for run in list.iter().filter(|r| stored.contains(&r.id)) {
        let opts = JobOptions {
            idempotency_key: Some(format!("run:{}", run.id)),
            max_attempts: Some(5),
            ..JobOptions::default()
        };
        let job = (json!({"run_id": run.id}), opts);
        by_ws.entry(run.workspace).or_default().push(job);
    }
    for (ws, jobs) in by_ws {
        enqueue_many_in(tx, ws, WORKFLOW_RUN, jobs).await?;
    }
    Ok(stored.len())
}

impl App {
    /// Dispatches up to `limit` outbox events to workflows; returns how many events it
    /// took (0: none waiting). Safe on several nodes at once.
    pub async fn dispatch_events(&self, limit: i64) -> Result<usize, Error> {
        if !store::any_pending(&mut self.db.clone()).await? {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        let events = store::pending_events(&mut tx, limit).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        let mut by_ws: HashMap<WorkspaceId, Vec<Armed>> = HashMap::new();
        // First the triggers, in memory: (event, workflow) pairs, and per workflow the
        // records whose conditions to check.
        let mut hits: Vec<(usize, usize)> = Vec::new();
        let mut records: HashMap<(WorkspaceId, usize), Vec<Uuid>> = HashMap::new();
        for (ei, ev) in events.iter().enumerate() {
            let flows = match by_ws.entry(ev.workspace) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    e.insert(armed(&mut tx, ev.workspace, &EVENT_TRIGGERS, now).await?)
                }
            };
            let depth = ev.payload["workflow_depth"].as_i64().unwrap_or(0);
            if depth >= MAX_DEPTH {
                tracing::warn!(event = %ev.id, depth, "workflow chain too deep; not triggering further");
                continue;
            }
            let caused_by = ev.payload["caused_by_workflow"].as_str();
            for (ai, a) in flows.iter().enumerate() {
                // A workflow's own change never triggers it again.
                if caused_by == Some(a.workflow.id.to_string().as_str())
                    || !a
                        .def
                        .trigger
                        .matches_event(&ev.kind, &ev.object, &ev.payload)
                {
                    continue;
                }
                hits.push((ei, ai));
                records
                    .entry((ev.workspace, ai))
                    .or_default()
                    .push(ev.record_id);
            }
        }
        // Then the conditions: one query per workflow for the whole batch.
        let mut passing: HashMap<(WorkspaceId, usize), HashSet<Uuid>> = HashMap::new();
        for (key, ids) in &records {
            let ok = by_ws[&key.0][key.1].passing(&mut tx, ids).await?;
            passing.insert(*key, ok);
        }
        let mut new_runs = Vec::new();
        for (ei, ai) in hits {
            let ev = &events[ei];
            let Some(object) = ObjectKind::from_singular(&ev.object) else {
                continue;
            };
            if !passing[&(ev.workspace, ai)].contains(&ev.record_id) {
                continue;
            }
            let o = Occurrence {
                trigger_key: ev.id.to_string(),
                event_id: Some(ev.id),
                object,
                record: ev.record_id,
                depth: ev.payload["workflow_depth"].as_i64().unwrap_or(0) + 1,
                now,
            };
            new_runs.push(by_ws[&ev.workspace][ai].run(o));
        }
        let started = start(&mut tx, new_runs).await?;
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        store::mark_processed(&mut tx, &ids, now).await?;
        tx.commit().await?;
        if started > 0 {
            self.wake_workers();
        }
        Ok(events.len())
    }
}
