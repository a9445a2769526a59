//! Durable jobs: background work that survives restarts and crashes. Code that wants
//! something done later enqueues a job (in its own transaction, so the job exists if
//! and only if the change that asked for it committed); a [`Worker`] claims due jobs and
//! runs the [`Handlers`] registered for their kind; admins see what failed and retry it.
//!
//! Delivery is at least once: a worker killed mid-job leaves the job to be taken again
//! when its lease expires, so a handler may run twice for one job. Handlers must be
//! idempotent — check a log keyed by what they produce (a send log per campaign step
//! and recipient) before producing it again.

mod worker;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use kith_core::jobs::{check_kind, Cadence, JobStatus};
use kith_core::objects::ObjectKind;
use kith_store::job_schedules;
use kith_store::jobs::{self as store, NewJob};
use kith_store::{Tx, WorkspaceId};
use serde_json::Value;
use uuid::Uuid;

use crate::{App, Caller, Error, Role};

pub use kith_store::job_schedules::{Definition, Schedule};
pub use kith_store::jobs::Job;
pub use worker::{Worker, WorkerConfig};

/// Attempts before a job goes to the dead letters, unless its options say otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// The kind (and schedule name) of the periodic duplicate scan.
pub const DEDUP_SCAN: &str = "dedup.scan";
/// The job that recomputes RFM scores, behaviour, value tiers and every segment.
pub const SEGMENTATION_RECOMPUTE: &str = "segmentation.recompute";

/// How to enqueue a job; the default runs it now, once, with the default attempts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobOptions {
    /// Not before this time (default: now).
    pub run_at: Option<DateTime<Utc>>,
    /// Enqueueing the same key again (same workspace and kind) gives the first job
    /// instead of a second one, for as long as the first is kept (see retention).
    pub idempotency_key: Option<String>,
    /// Attempts before the dead letters (default [`DEFAULT_MAX_ATTEMPTS`]).
    pub max_attempts: Option<u32>,
}

/// The job an enqueue named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// Its id.
    pub id: Uuid,
    /// False when the idempotency key had been used: `id` is the earlier job.
    pub created: bool,
}

fn new_job(
    kind: &str,
    payload: Value,
    opts: JobOptions,
    now: DateTime<Utc>,
) -> Result<NewJob, Error> {
    check_kind("kind", kind)?;
    if let Some(k) = &opts.idempotency_key {
        if k.is_empty() || k.len() > 200 {
            return Err(Error::Invalid(kith_core::Error::field(
                "idempotency_key",
                "must be 1-200 bytes",
            )));
        }
    }
    Ok(NewJob {
        kind: kind.to_string(),
        payload,
        run_at: opts.run_at.unwrap_or(now),
        max_attempts: i64::from(
            opts.max_attempts
                .unwrap_or(DEFAULT_MAX_ATTEMPTS)
                .clamp(1, 100),
        ),
        idempotency_key: opts.idempotency_key,
    })
}

/// Enqueues a job for `ws` inside the caller's transaction: it commits (and becomes
/// visible to workers) with the caller's other writes, or not at all. Call
/// [`App::wake_workers`] after the commit so this process's worker starts at once
/// instead of at its next poll.
pub async fn enqueue_in(
    tx: &mut Tx,
    ws: WorkspaceId,
    kind: &str,
    payload: Value,
    opts: JobOptions,
) -> Result<Enqueued, Error> {
    let now = Utc::now();
    let job = new_job(kind, payload, opts, now)?;
    let (id, created) = store::enqueue(tx, ws, &job, now).await?;
    Ok(Enqueued { id, created })
}

/// Enqueues many jobs of one kind for `ws` inside the caller's transaction, with
/// multi-row statements; those whose idempotency key is taken are skipped. Call
/// [`App::wake_workers`] after the commit.
pub async fn enqueue_many_in(
    tx: &mut Tx,
    ws: WorkspaceId,
    kind: &str,
    jobs: Vec<(Value, JobOptions)>,
) -> Result<(), Error> {
    let now = Utc::now();
    let jobs = jobs
        .into_iter()
        .map(|(payload, opts)| new_job(kind, payload, opts, now))
        .collect::<Result<Vec<NewJob>, Error>>()?;
    store::enqueue_many(tx, ws, &jobs, now).await?;
    Ok(())
}

/// Why a handler did not finish its job.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// Worth another try later (a server down, a conflict): retried with backoff until
    /// the attempts run out.
    #[error("{0}")]
    Retry(String),
    /// Trying again cannot help (bad payload, record gone): straight to the dead letters.
    #[error("{0}")]
    Permanent(String),
}

impl From<Error> for JobError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(_) | Error::NotFound(_) | Error::Forbidden(_) => {
                JobError::Permanent(e.to_string())
            }
            other => JobError::Retry(other.to_string()),
        }
    }
}

/// What a handler gets: the application and the job (its workspace, payload, attempt).
#[derive(Clone)]
pub struct JobContext {
    /// The application.
    pub app: App,
    /// The job; act within `job.workspace` only.
    pub job: Job,
}

type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = Arc<dyn Fn(JobContext) -> HandlerFuture + Send + Sync>;

/// The handlers a worker runs, by job kind. A worker claims only kinds it has a handler
/// for, so nodes of different versions (or a test-only kind) share one queue safely.
#[derive(Clone, Default)]
pub struct Handlers {
    map: HashMap<String, Handler>,
}

impl Handlers {
    /// No handlers.
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Kith's own handlers: the duplicate scan, email, the segmentation recompute and
    /// workflows (runs and the periodic scan).
    pub fn standard() -> Handlers {
        let mut h = Handlers::new();
        h.on(DEDUP_SCAN, |cx| async move {
            for object in [ObjectKind::Contact, ObjectKind::Company] {
                cx.app.scan_workspace(cx.job.workspace, object).await?;
            }
            Ok(())
        });
        crate::mail::register(&mut h);
        crate::campaigns::register(&mut h);
        crate::workflows::register(&mut h);
        h.on(SEGMENTATION_RECOMPUTE, |cx| async move {
            let ws = kith_store::accounts::workspace(cx.app.db(), cx.job.workspace)
                .await
                .map_err(Error::from)?
                .ok_or(Error::NotFound("workspace"))?;
            cx.app.recompute_workspace(ws.id, &ws.currency).await?;
            Ok(())
        });
        h
    }

    /// Runs `f` for jobs of `kind` (replacing an earlier handler of it).
    pub fn on<F, Fut>(&mut self, kind: &str, f: F) -> &mut Handlers
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.map.insert(
            kind.to_string(),
            Arc::new(move |cx| {
                let f = f.clone();
                Box::pin(async move { f(cx).await }) as HandlerFuture
            }),
        );
        self
    }

    /// The kinds handled.
    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.map.keys().cloned().collect();
        k.sort();
        k
    }

    fn get(&self, kind: &str) -> Option<Handler> {
        self.map.get(kind).cloned()
    }
}

/// A schedule that every workspace has: the daily recompute of RFM scores, behaviour,
/// value tiers and segments, at 03:00 in the workspace's time zone.
pub fn segmentation_schedule() -> Definition {
    Definition {
        name: SEGMENTATION_RECOMPUTE.into(),
        kind: SEGMENTATION_RECOMPUTE.into(),
        payload: Value::Object(Default::default()),
        // Before the working day, in the workspace's time zone: time alone moves people
        // between behaviours and into "no activity for 60 days" segments.
        cadence: Cadence::DailyAt(chrono::NaiveTime::from_hms_opt(3, 0, 0).expect("03:00")),
        enabled: true,
    }
}

/// A schedule that every workspace has: the periodic duplicate scan every `hours`
/// (0 switches it off).
pub fn dedup_schedule(hours: u64) -> Definition {
    Definition {
        name: DEDUP_SCAN.into(),
        kind: DEDUP_SCAN.into(),
        payload: Value::Object(Default::default()),
        cadence: Cadence::Every(hours.max(1).saturating_mul(3600)),
        enabled: hours > 0,
    }
}

/// Payload keys whose values an admin's view never shows, in case a handler's author
/// put a secret in a payload (they should pass an id and look the secret up instead).
fn redact(v: &Value) -> Value {
    const SECRET: [&str; 5] = ["password", "secret", "token", "api_key", "authorization"];
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    if SECRET.iter().any(|s| lower.contains(s)) {
                        (k.clone(), Value::String("[hidden]".into()))
                    } else {
                        (k.clone(), redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        other => other.clone(),
    }
}

fn admin(caller: &Caller) -> Result<(), Error> {
    if caller.role() == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only admins can see and retry background jobs",
        ))
    }
}

impl App {
    /// Enqueues a job for `ws` in a transaction of its own and wakes this process's
    /// worker. Inside a larger change use [`enqueue_in`].
    pub async fn enqueue(
        &self,
        ws: WorkspaceId,
        kind: &str,
        payload: Value,
        opts: JobOptions,
    ) -> Result<Enqueued, Error> {
        let mut tx = self.db.begin().await?;
        let e = enqueue_in(&mut tx, ws, kind, payload, opts).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(e)
    }

    /// Tells this process's worker that a job was just committed.
    pub fn wake_workers(&self) {
        self.jobs_wake.notify_one();
    }

    /// The caller's workspace's jobs (admins only), newest change first, payloads with
    /// secret-looking values hidden.
    pub async fn jobs(
        &self,
        caller: &Caller,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Job>, Error> {
        admin(caller)?;
        let status = status.map(JobStatus::parse).transpose()?;
        let mut jobs = store::list(
            &mut self.db.clone(),
            caller.workspace.id,
            status,
            limit.clamp(1, 500),
        )
        .await?;
        for j in &mut jobs {
            j.payload = redact(&j.payload);
        }
        Ok(jobs)
    }

    /// Runs a dead (or failed, waiting) job of the caller's workspace again now, with its
    /// attempts starting over (admins only).
    pub async fn retry_job(&self, caller: &Caller, id: Uuid) -> Result<Job, Error> {
        admin(caller)?;
        let ws = caller.workspace.id;
        let mut tx = self.db.begin().await?;
        let Some(job) = store::get(&mut tx, ws, id).await? else {
            return Err(Error::NotFound("job"));
        };
        if !store::retry(&mut tx, ws, id, Utc::now()).await? {
            return Err(Error::Invalid(kith_core::Error::field(
                "status",
                format!(
                    "only dead or failed jobs can be retried; this one is {}",
                    job.status.as_str()
                ),
            )));
        }
        let mut job = store::get(&mut tx, ws, id)
            .await?
            .ok_or(Error::NotFound("job"))?;
        tx.commit().await?;
        self.wake_workers();
        job.payload = redact(&job.payload);
        Ok(job)
    }

    /// The caller's workspace's recurring schedules (admins only).
    pub async fn schedules(&self, caller: &Caller) -> Result<Vec<Schedule>, Error> {
        admin(caller)?;
        let mut list = job_schedules::list(&mut self.db.clone(), caller.workspace.id).await?;
        for s in &mut list {
            s.payload = redact(&s.payload);
        }
        Ok(list)
    }

    /// Creates or changes a recurring schedule of `ws` (for workflows and campaigns); a
    /// daily one ticks at its time in the workspace's time zone.
    pub async fn save_schedule(&self, ws: WorkspaceId, def: &Definition) -> Result<(), Error> {
        check_kind("name", &def.name)?;
        check_kind("kind", &def.kind)?;
        let now = Utc::now();
        let tz = self.workspace_tz(ws).await?;
        let first = def.cadence.next_after(&tz, now, now);
        let mut tx = self.db.begin().await?;
        job_schedules::save(&mut tx, ws, def, first, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn workspace_tz(&self, ws: WorkspaceId) -> Result<chrono_tz::Tz, Error> {
        let w = kith_store::accounts::workspace(&self.db, ws)
            .await?
            .ok_or(Error::NotFound("workspace"))?;
        Ok(crate::time_zone(&w.time_zone))
    }
}
