//! Runs one workflow run as a durable job: its steps in order, each result saved as it
//! comes (so a retried job goes on where it stopped), a delayed step as a job scheduled
//! for later, a failing step retried with the job's backoff and then recorded as failed
//! while the steps after it still run.

use chrono::Utc;
use kith_core::objects::ObjectKind;
use kith_core::workflows::Definition;
use kith_store::records::{Cause, CAUSE};
use kith_store::workflows::runs;
use kith_store::workflows::{self as store};
use serde_json::{json, Value};
use uuid::Uuid;

use super::actions::{execute, Target};
use super::WORKFLOW_RUN;
use crate::jobs::{enqueue_in, JobContext, JobError, JobOptions};
use crate::Error;

fn permanent(e: impl std::fmt::Display) -> JobError {
    JobError::Permanent(e.to_string())
}

/// The `workflow.run` handler.
pub(crate) async fn run_job(cx: &JobContext) -> Result<(), JobError> {
    let app = &cx.app;
    let ws = cx.job.workspace;
    let run_id = cx.job.payload["run_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| permanent("the job names no run"))?;
    let mut db = app.db().clone();
    let Some(mut run) = runs::get(&mut db, ws, run_id).await.map_err(Error::from)? else {
        return Err(permanent("the run no longer exists"));
    };
    if run.status != "running" {
        return Ok(());
    }
    let mut steps: Vec<Value> = run.steps.as_array().cloned().unwrap_or_default();
    let workflow = store::get(&mut db, ws, run.workflow_id)
        .await
        .map_err(Error::from)?;
    let def = store::version(&mut db, ws, run.workflow_id, run.version)
        .await
        .map_err(Error::from)?
        .map(|v| Definition::parse(&v));
    let (Some(workflow), Some(Ok(def))) = (workflow, def) else {
        steps.push(json!({"status": "failed", "error": "the workflow was deleted"}));
        run.steps = Value::Array(steps);
        run.status = "failed".into();
        run.finished_at = Some(Utc::now());
        runs::save(&mut db, &run).await.map_err(Error::from)?;
        return Ok(());
    };
    let caller = match workflow.created_by {
        Some(u) => app.caller_by_id(u).await.map_err(permanent)?,
        None => return Err(permanent("the workflow has no author to act as")),
    };
    let object = ObjectKind::from_singular(&run.object).ok_or_else(|| permanent("bad object"))?;
    let target = Target {
        app,
        caller: &caller,
        workflow: &workflow,
        run_id: run.id,
        object,
        record: run.record_id,
    };
    let cause = Cause {
        workflow_id: workflow.id,
        depth: run.depth,
    };
    while (run.next_step as usize) < def.actions.len() {
        let i = run.next_step as usize;
        let step = &def.actions[i];
        while steps.len() <= i {
            steps.push(Value::Null);
        }
        let now = Utc::now();
        let slot = steps[i].clone();
        if step.delay_minutes > 0 {
            let until = slot["until"]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc));
            match until {
                None => {
                    let until = now + chrono::Duration::minutes(i64::from(step.delay_minutes));
                    steps[i] = json!({"index": i, "type": step.action.name(), "status": "waiting", "until": until.to_rfc3339()});
                    run.steps = Value::Array(steps);
                    let mut tx = app.db().begin().await.map_err(Error::from)?;
                    runs::save(&mut tx, &run).await.map_err(Error::from)?;
                    let opts = JobOptions {
                        run_at: Some(until),
                        idempotency_key: Some(format!("run:{}:{i}", run.id)),
                        max_attempts: Some(5),
                    };
                    enqueue_in(&mut tx, ws, WORKFLOW_RUN, json!({"run_id": run.id}), opts).await?;
                    tx.commit().await.map_err(Error::from)?;
                    return Ok(());
                }
                // Woken early (a retry of the job before the wait): the delayed job comes.
                Some(until) if until > now + chrono::Duration::seconds(1) => return Ok(()),
                Some(_) => {}
            }
        }
        let attempts = slot["attempts"].as_i64().unwrap_or(0) + 1;
        let result = CAUSE.scope(cause, execute(&target, i, &step.action)).await;
        let mut entry =
            json!({"index": i, "type": step.action.name(), "attempts": attempts, "at": Utc::now()});
        match result {
            Ok(output) => {
                entry["status"] = json!("succeeded");
                entry["output"] = output;
            }
            Err(JobError::Retry(e)) if cx.job.attempts < cx.job.max_attempts => {
                entry["status"] = json!("retrying");
                entry["error"] = json!(e);
                entry["until"] = slot["until"].clone();
                steps[i] = entry;
                run.steps = Value::Array(steps);
                runs::save(&mut db, &run).await.map_err(Error::from)?;
                return Err(JobError::Retry(e));
            }
            Err(JobError::Retry(e)) | Err(JobError::Permanent(e)) => {
                entry["status"] = json!("failed");
                entry["error"] = json!(e);
            }
        }
        steps[i] = entry;
        run.next_step += 1;
        run.steps = Value::Array(steps.clone());
        runs::save(&mut db, &run).await.map_err(Error::from)?;
    }
    let failed = steps.iter().any(|s| s["status"] == "failed");
    run.status = if failed { "failed" } else { "succeeded" }.into();
    run.finished_at = Some(Utc::now());
    run.steps = Value::Array(steps);
    runs::save(&mut db, &run).await.map_err(Error::from)?;
    Ok(())
}
