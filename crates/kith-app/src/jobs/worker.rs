//! The worker: claims due jobs under a lease, runs their handlers (at most
//! `concurrency` at a time), renews the leases while they run, records each outcome,
//! ticks recurring schedules, takes back jobs of vanished workers and prunes old ones.
//! Stopping it lets running jobs finish for a grace period, then gives the rest back.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use kith_core::jobs::retry_delay;
use kith_store::job_schedules::{self, Definition};
use kith_store::jobs::{self as store, Job, NewJob, Outcome};
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;

use super::{Handlers, JobContext, JobError};
use crate::{App, Error};

/// How a worker behaves. [`WorkerConfig::default`] suits production.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at the same time.
    pub concurrency: usize,
    /// Longest wait between looks at the queue when nothing wakes the worker (jobs
    /// enqueued by other processes are seen at the next look).
    pub poll: Duration,
    /// Lease on a claimed job, renewed every third of it while the job runs: how long a
    /// killed worker's jobs wait before another worker takes them.
    pub lease: Duration,
    /// First retry delay; doubles per attempt.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_cap: Duration,
    /// Done jobs are deleted this long after they finished.
    pub keep_done: Duration,
    /// Dead jobs are deleted this long after they died.
    pub keep_dead: Duration,
    /// Outbox events are deleted this long after they were dispatched.
    pub keep_events: Duration,
    /// On stop, how long running jobs may take to finish before they are given back.
    pub grace: Duration,
    /// Tick recurring schedules (every worker may; each tick is enqueued once).
    pub schedules: bool,
    /// Schedules every workspace gets (the duplicate scan).
    pub standard_schedules: Vec<Definition>,
    /// Dispatch outbox events to workflows before each look at the queue (any number
    /// of workers may; each event is taken by one).
    pub dispatch_events: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 4,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            retry_base: Duration::from_secs(10),
            retry_cap: Duration::from_secs(3600),
            keep_done: Duration::from_secs(7 * 86_400),
            keep_dead: Duration::from_secs(30 * 86_400),
            keep_events: Duration::from_secs(30 * 86_400),
            grace: Duration::from_secs(10),
            schedules: true,
            standard_schedules: vec![],
            dispatch_events: true,
        }
    }
}

/// Dispatched events deleted per statement.
const EVENT_PRUNE_BATCH: i64 = 5000;

/// Statements of [`EVENT_PRUNE_BATCH`] per maintenance pass at most.
const EVENT_PRUNE_BATCHES: usize = 10;

/// Runs jobs of the kinds it has handlers for.
#[derive(Clone)]
pub struct Worker {
    app: App,
    handlers: Arc<Handlers>,
    config: Arc<WorkerConfig>,
    id: Arc<str>,
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn jitter() -> f64 {
    let mut b = [0u8; 8];
    match getrandom::getrandom(&mut b) {
        Ok(()) => (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

impl Worker {
    /// A worker for `app` running `handlers`.
    pub fn new(app: App, handlers: Handlers, config: WorkerConfig) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
        let id = format!(
            "{host}:{}:{}",
            std::process::id(),
            &Uuid::now_v7().simple().to_string()[24..]
        );
        Worker {
            app,
            handlers: Arc::new(handlers),
            config: Arc::new(WorkerConfig {
                concurrency: config.concurrency.max(1),
                ..config
            }),
            id: id.into(),
        }
    }

    /// This worker's name in `locked_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs until `stop` resolves, then stops gracefully: no new claims, running jobs
    /// get [`WorkerConfig::grace`] to finish, the others are given back unfinished.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) {
        let kinds = self.handlers.kinds();
        let c = self.config.clone();
        tracing::info!(worker = %self.id, concurrency = c.concurrency, kinds = ?kinds, "job worker started");
        let heartbeat = tokio::spawn(heartbeat(self.app.clone(), self.id.clone(), c.lease));
        let mut running: JoinSet<()> = JoinSet::new();
        let mut ids: HashMap<tokio::task::Id, Uuid> = HashMap::new();
        let maintain_every = (c.lease / 2).max(Duration::from_millis(200));
        let mut next_maintenance = tokio::time::Instant::now();
        let mut next_standard = tokio::time::Instant::now();
        let mut pause = Duration::ZERO;
        tokio::pin!(stop);
        loop {
            while let Some(done) = running.try_join_next_with_id() {
                ids.remove(&finished_id(&done));
            }
            let now = tokio::time::Instant::now();
            if now >= next_maintenance {
                next_maintenance = now + maintain_every;
                self.maintain().await;
                if c.schedules {
                    if now >= next_standard {
                        next_standard = now + Duration::from_secs(60);
                        if let Err(e) = self.standard_schedules().await {
                            tracing::warn!(error = %e, "cannot set up the standard schedules");
                        }
                    }
                    if let Err(e) = self.tick_schedules(Utc::now()).await {
                        tracing::warn!(error = %e, "cannot tick recurring schedules");
                    }
                }
            }
            if c.dispatch_events && pause.is_zero() {
                if let Err(e) = self.app.dispatch_events(500).await {
                    tracing::warn!(error = %e, "cannot dispatch events to workflows");
                }
            }
            let free = c.concurrency.saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 && pause.is_zero() {
                match self.claim(&kinds, free).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let id = job.id;
                            let handle = running.spawn(self.clone().run_job(job));
                            ids.insert(handle.id(), id);
                        }
                    }
                    Err(e) => {
                        // The database is away: back off instead of spinning on errors.
                        tracing::warn!(error = %e, "cannot claim jobs");
                        pause = c.poll.max(Duration::from_secs(1));
                    }
                }
            }
            if claimed > 0 && claimed == free {
                // Full: wait for a slot. The queue may hold more.
            } else if claimed > 0 {
                continue;
            }
            let wait = if pause.is_zero() { c.poll } else { pause };
            pause = Duration::ZERO;
            tokio::select! {
                _ = &mut stop => break,
                _ = self.app.jobs_wake.notified() => {},
                _ = tokio::time::sleep(wait) => {},
                Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                    ids.remove(&finished_id(&done));
                }
            }
        }
        tracing::info!(worker = %self.id, running = running.len(), "job worker stopping");
        let grace = tokio::time::sleep(c.grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                done = running.join_next_with_id() => match done {
                    Some(done) => { ids.remove(&finished_id(&done)); }
                    None => break,
                },
                _ = &mut grace => break,
            }
        }
        running.abort_all();
        while let Some(done) = running.join_next_with_id().await {
            if let Ok((id, ())) = done {
                ids.remove(&id);
            }
        }
        heartbeat.abort();
        let left: Vec<Uuid> = ids.into_values().collect();
        if !left.is_empty() {
            match store::release(self.app.db(), &self.id, &left, Utc::now()).await {
                Ok(n) => tracing::info!(jobs = n, "gave unfinished jobs back to the queue"),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot give jobs back; they return when their lease expires")
                }
            }
        }
    }

    /// Dispatches events and claims and runs due jobs until neither is left; returns how
    /// many jobs ran. For tests and one-off commands: no schedules, no heartbeat (keep
    /// handlers shorter than a lease).
    pub async fn run_until_idle(&self) -> Result<usize, Error> {
        let kinds = self.handlers.kinds();
        let mut total = 0;
        loop {
            let mut dispatched = 0;
            if self.config.dispatch_events {
                loop {
                    let n = self.app.dispatch_events(500).await?;
                    dispatched += n;
                    if n == 0 {
                        break;
                    }
                }
            }
            let jobs = self.claim(&kinds, self.config.concurrency).await?;
            if jobs.is_empty() && dispatched == 0 {
                return Ok(total);
            }
            total += jobs.len();
            let mut set = JoinSet::new();
            for job in jobs {
                set.spawn(self.clone().run_job(job));
            }
            while set.join_next().await.is_some() {}
        }
    }

    /// Enqueues a job for each recurring schedule due at `now` and moves it to its next
    /// tick, in one transaction; returns jobs enqueued. Safe on any number of nodes: a
    /// due schedule is locked by the node that takes it, and the job's idempotency key
    /// (schedule and tick) makes a second enqueue of one tick a no-op all the same.
    pub async fn tick_schedules(&self, now: chrono::DateTime<Utc>) -> Result<usize, Error> {
        let mut total = 0;
        loop {
            let mut tx = self.app.db().begin().await?;
            let due = job_schedules::due(&mut tx, now, 100).await?;
            let n = due.len();
            for (s, tz) in due {
                let tz = crate::time_zone(&tz);
                let tick = s.next_run_at;
                let job = NewJob {
                    kind: s.kind.clone(),
                    payload: s.payload.clone(),
                    run_at: tick,
                    max_attempts: i64::from(super::DEFAULT_MAX_ATTEMPTS),
                    idempotency_key: Some(format!(
                        "schedule:{}:{}",
                        s.name,
                        tick.format("%Y-%m-%dT%H:%M:%SZ")
                    )),
                };
                let (id, created) = store::enqueue(&mut tx, s.workspace, &job, now).await?;
                total += usize::from(created);
                let next = s.cadence.next_after(&tz, tick, now);
                job_schedules::advance(&mut tx, s.workspace, &s.name, tick, id, next, now).await?;
            }
            tx.commit().await?;
            if n < 100 {
                return Ok(total);
            }
        }
    }

    /// Gives every workspace the standard schedules, in line with this node's settings.
    async fn standard_schedules(&self) -> Result<(), Error> {
        let now = Utc::now();
        for def in &self.config.standard_schedules {
            let first = now
                + chrono::Duration::seconds(match def.cadence {
                    kith_core::jobs::Cadence::Every(s) => s as i64,
                    kith_core::jobs::Cadence::DailyAt(_) => 86_400,
                });
            let mut tx = self.app.db().begin().await?;
            job_schedules::save_for_every_workspace(&mut tx, def, first, now).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Takes back jobs of vanished workers; deletes old finished ones.
    async fn maintain(&self) {
        let now = Utc::now();
        match store::reap(self.app.db(), now).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "took back jobs whose worker stopped mid-run"),
            Err(e) => tracing::warn!(error = %e, "cannot take back expired jobs"),
        }
        let done_before = now - chrono(self.config.keep_done);
        let dead_before = now - chrono(self.config.keep_dead);
        if let Err(e) = store::prune(self.app.db(), done_before, dead_before, 1000).await {
            tracing::warn!(error = %e, "cannot prune old jobs");
        }
        self.prune_events(now - chrono(self.config.keep_events))
            .await;
    }

    /// Deletes dispatched events older than `before`, a batch per statement so the one
    /// SQLite writer is never held long, and at most [`EVENT_PRUNE_BATCHES`] batches per
    /// maintenance pass: a million events from an import go within minutes.
    async fn prune_events(&self, before: chrono::DateTime<Utc>) {
        for _ in 0..EVENT_PRUNE_BATCHES {
            match kith_store::events::prune_processed(self.app.db(), before, EVENT_PRUNE_BATCH)
                .await
            {
                Ok(n) if n < EVENT_PRUNE_BATCH as u64 => return,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "cannot prune dispatched events");
                    return;
                }
            }
        }
    }

    async fn claim(&self, kinds: &[String], n: usize) -> Result<Vec<Job>, Error> {
        let now = Utc::now();
        Ok(store::claim(
            self.app.db(),
            &self.id,
            kinds,
            n as i64,
            now,
            now + chrono(self.config.lease),
        )
        .await?)
    }

    /// Runs one claimed job and records how it ended.
    async fn run_job(self, job: Job) {
        let Some(handler) = self.handlers.get(&job.kind) else {
            return;
        };
        let (id, kind, ws, attempt, max) = (
            job.id,
            job.kind.clone(),
            job.workspace.0,
            job.attempts,
            job.max_attempts,
        );
        let span = tracing::info_span!("job", %id, %kind, workspace = %ws, attempt);
        let cx = JobContext {
            app: self.app.clone(),
            job,
        };
        // A panicking handler is a failed attempt, not a dead worker.
        let result = AssertUnwindSafe(handler(cx).instrument(span))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(JobError::Retry("the handler panicked".into())));
        let now = Utc::now();
        let outcome = match result {
            Ok(()) => Outcome::Done,
            Err(JobError::Retry(error)) if attempt < max => {
                let delay = retry_delay(
                    u32::try_from(attempt).unwrap_or(u32::MAX),
                    self.config.retry_base,
                    self.config.retry_cap,
                    jitter(),
                );
                Outcome::Retry {
                    error,
                    at: now + chrono(delay),
                }
            }
            Err(JobError::Retry(error)) | Err(JobError::Permanent(error)) => {
                Outcome::Dead { error }
            }
        };
        match &outcome {
            Outcome::Done => tracing::debug!(%id, %kind, "job done"),
            Outcome::Retry { error, at } => {
                tracing::warn!(%id, %kind, workspace = %ws, attempt, %error, retry_at = %at, "job failed; will retry")
            }
            Outcome::Dead { error } => {
                tracing::warn!(%id, %kind, workspace = %ws, attempt, %error, "job failed for good (dead letter)")
            }
        }
        // A database hiccup here must not lose the outcome: try a few times; if it still
        // fails, the lease runs out and the job runs again (at least once).
        for wait in [0u64, 200, 1000, 3000] {
            if wait > 0 {
                // Not for the first try: even a zero sleep waits for the timer's next
                // millisecond tick, which was most of a no-op job's cost.
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            match store::finish(self.app.db(), id, &self.id, attempt, &outcome, now).await {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!(%id, %kind, "job's lease had expired; another worker's run counts");
                    return;
                }
                Err(e) => tracing::warn!(%id, error = %e, "cannot record a job's outcome"),
            }
        }
    }
}

fn finished_id(done: &Result<(tokio::task::Id, ()), tokio::task::JoinError>) -> tokio::task::Id {
    match done {
        Ok((id, ())) => *id,
        Err(e) => e.id(),
    }
}

/// Renews the leases of this worker's running jobs every third of a lease, so that a
/// short lease (quick take-over after a crash) still covers long jobs.
async fn heartbeat(app: App, worker: Arc<str>, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let now = Utc::now();
        if let Err(e) = store::renew(app.db(), &worker, now + chrono(lease), now).await {
            tracing::warn!(error = %e, "cannot renew job leases");
        }
    }
}
