//! Workflows: a trigger, conditions (a filter on the trigger's object) and ordered
//! actions with optional delays. Saving checks a definition against the workspace and
//! keeps every version; the dispatcher turns outbox events (and the periodic scan turns
//! due dates, overdue tasks and quiet records) into runs, which run as durable jobs.

mod actions;
mod check;
mod dispatch;
mod runner;
mod scan;
mod webhooks;

use chrono::{DateTime, Utc};
use kith_core::jobs::Cadence;
use kith_core::objects::ObjectKind;
use kith_core::workflows::Definition;
use kith_store::workflows::runs::{self, Of, Run};
use kith_store::workflows::{self as store, State, Workflow};
use serde_json::Value;
use uuid::Uuid;

use crate::jobs::{self, Handlers};
use crate::{App, Caller, Error, Role};

pub use actions::sign as webhook_signature;
pub use kith_store::workflows::runs::Run as WorkflowRun;
pub use kith_store::workflows::Workflow as StoredWorkflow;
pub(crate) use webhooks::{causes, WebhookClient};

/// The job that runs (or continues, after a delay) one workflow run.
pub const WORKFLOW_RUN: &str = "workflow.run";
/// The recurring job that finds date-relative, overdue-task and no-activity triggers.
pub const WORKFLOW_SCAN: &str = "workflow.scan";

/// Registers the workflow jobs.
pub(crate) fn register(h: &mut Handlers) {
    h.on(WORKFLOW_RUN, |cx| async move { runner::run_job(&cx).await });
    h.on(WORKFLOW_SCAN, |cx| async move {
        cx.app.scan_workflows(cx.job.workspace, Utc::now()).await?;
        Ok(())
    });
}

/// A schedule every workspace has: the workflow scan every `minutes` (0 switches it off).
pub fn scan_schedule(minutes: u64) -> jobs::Definition {
    jobs::Definition {
        name: WORKFLOW_SCAN.into(),
        kind: WORKFLOW_SCAN.into(),
        payload: Value::Object(Default::default()),
        cadence: Cadence::Every(minutes.max(1).saturating_mul(60)),
        enabled: minutes > 0,
    }
}

fn admin(caller: &Caller) -> Result<(), Error> {
    if caller.role() == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden("only admins change workflows"))
    }
}

/// A fresh webhook signing secret: 32 random bytes, hex.
fn new_secret() -> String {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).unwrap_or_default();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl App {
    /// The caller's workspace's workflows by name.
    pub async fn workflows(&self, caller: &Caller) -> Result<Vec<Workflow>, Error> {
        Ok(store::list(&mut self.db.clone(), caller.workspace.id, None).await?)
    }

    /// One workflow.
    pub async fn workflow(&self, caller: &Caller, id: Uuid) -> Result<Workflow, Error> {
        store::get(&mut self.db.clone(), caller.workspace.id, id)
            .await?
            .ok_or(Error::NotFound("workflow"))
    }

    /// Creates a workflow from `{name, enabled, trigger, conditions, actions}` (admins).
    pub async fn create_workflow(&self, caller: &Caller, input: &Value) -> Result<Workflow, Error> {
        admin(caller)?;
        let def = Definition::parse(input)?;
        let ws = caller.workspace.id;
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        check::in_workspace(&mut tx, ws, &def, now).await?;
        let w = Workflow {
            id: Uuid::now_v7(),
            workspace: ws,
            name: def.name.clone(),
            enabled: input["enabled"].as_bool().unwrap_or(false),
            trigger_type: def.trigger.name().into(),
            definition: def.to_json(),
            secret: new_secret(),
            version: 1,
            created_by: Some(caller.user.id),
            created_at: now,
            updated_at: now,
        };
        store::insert(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Saves a new version of a workflow (admins); `expected` (or the body's `version`)
    /// refuses a stale write.
    pub async fn update_workflow(
        &self,
        caller: &Caller,
        id: Uuid,
        input: &Value,
        expected: Option<i64>,
    ) -> Result<Workflow, Error> {
        admin(caller)?;
        let mut body = input.clone();
        let expected = expected.or_else(|| body["version"].as_i64());
        if let Value::Object(m) = &mut body {
            m.remove("version");
        }
        let def = Definition::parse(&body)?;
        let ws = caller.workspace.id;
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let current = store::get(&mut tx, ws, id)
            .await?
            .ok_or(Error::NotFound("workflow"))?;
        if expected.is_some_and(|v| v != current.version) {
            return Err(Error::Conflict);
        }
        check::in_workspace(&mut tx, ws, &def, now).await?;
        let w = Workflow {
            name: def.name.clone(),
            enabled: body["enabled"].as_bool().unwrap_or(current.enabled),
            trigger_type: def.trigger.name().into(),
            definition: def.to_json(),
            version: current.version + 1,
            updated_at: now,
            ..current
        };
        if !store::update(&mut tx, &w, caller.user.id).await? {
            return Err(Error::Conflict);
        }
        tx.commit().await?;
        Ok(w)
    }

    /// Switches a workflow on or off (admins).
    pub async fn set_workflow_enabled(
        &self,
        caller: &Caller,
        id: Uuid,
        enabled: bool,
    ) -> Result<Workflow, Error> {
        admin(caller)?;
        let ws = caller.workspace.id;
        let state = if enabled { State::On } else { State::Off };
        if !store::set_state(&mut self.db.clone(), ws, id, state, Utc::now()).await? {
            return Err(Error::NotFound("workflow"));
        }
        self.workflow(caller, id).await
    }

    /// Deletes a workflow (admins); its runs stay on the records' timelines.
    pub async fn delete_workflow(&self, caller: &Caller, id: Uuid) -> Result<(), Error> {
        admin(caller)?;
        let ws = caller.workspace.id;
        if !store::set_state(&mut self.db.clone(), ws, id, State::Deleted, Utc::now()).await? {
            return Err(Error::NotFound("workflow"));
        }
        Ok(())
    }

    /// Every saved version of a workflow, newest first.
    pub async fn workflow_versions(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Vec<store::Version>, Error> {
        self.workflow(caller, id).await?;
        Ok(store::versions(&mut self.db.clone(), caller.workspace.id, id).await?)
    }

    /// A workflow's newest runs (its history).
    pub async fn workflow_runs(
        &self,
        caller: &Caller,
        id: Uuid,
        before: Option<DateTime<Utc>>,
        limit: i64,
    ) -> Result<Vec<Run>, Error> {
        self.workflow(caller, id).await?;
        let of = Of::Workflow(id);
        let limit = limit.clamp(1, 500);
        Ok(runs::list(&mut self.db.clone(), caller.workspace.id, of, before, limit).await?)
    }

    /// The newest workflow runs about a record the caller may see.
    pub async fn record_workflow_runs(
        &self,
        caller: &Caller,
        object: ObjectKind,
        id: Uuid,
        limit: i64,
    ) -> Result<Vec<Run>, Error> {
        self.get(caller, object, id).await?;
        let of = Of::Record(id);
        let limit = limit.clamp(1, 500);
        Ok(runs::list(&mut self.db.clone(), caller.workspace.id, of, None, limit).await?)
    }
}
