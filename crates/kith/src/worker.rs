//! Background jobs in the binary: the worker `kith serve` runs beside the web server and
//! `kith worker` runs alone, its settings from the environment, and `kith jobs` for
//! admins (dead letters, retry).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kith_app::jobs::{dedup_schedule, Handlers, JobError, Worker, WorkerConfig};
use kith_app::App;
use kith_app::ExtraCa;
use kith_core::Scalar;
use kith_store::{Exec, Sql};
use uuid::Uuid;

#[derive(Subcommand)]
pub enum JobsCommand {
    /// List the workspace's background jobs, most recently changed first.
    List {
        /// queued, running, done, failed (waiting to retry) or dead.
        #[arg(long)]
        status: Option<String>,
        /// Jobs to show.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Act as this admin (default: the first admin of the only workspace).
        #[arg(long, env = "KITH_USER")]
        user: Option<String>,
    },
    /// Run a dead (or failed) job again now, with its attempts starting over.
    Retry {
        /// The job's id.
        id: String,
        /// Act as this admin (default: the first admin of the only workspace).
        #[arg(long, env = "KITH_USER")]
        user: Option<String>,
    },
}

fn env_num(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .with_context(|| format!("{name} must be a whole number, not `{v}`")),
        _ => Ok(default),
    }
}

/// The worker's settings: `KITH_WORKER_CONCURRENCY`, `KITH_JOB_LEASE_SECS`,
/// `KITH_JOB_POLL_MS`, `KITH_JOB_RETRY_BASE_MS`, `KITH_JOB_KEEP_DAYS`, the duplicate
/// scan's `KITH_DEDUP_EVERY_HOURS` (0 = never) and the workflow scan's
/// `KITH_WORKFLOW_SCAN_MINUTES` (date-relative, overdue and no-activity triggers; 0 = never).
pub fn config(concurrency: Option<usize>) -> Result<WorkerConfig> {
    let d = WorkerConfig::default();
    let concurrency = match concurrency {
        Some(c) => c,
        None => env_num("KITH_WORKER_CONCURRENCY", d.concurrency as u64)? as usize,
    };
    if concurrency == 0 {
        bail!("the worker's concurrency must be at least 1");
    }
    let lease = env_num("KITH_JOB_LEASE_SECS", d.lease.as_secs())?;
    if lease == 0 {
        bail!("KITH_JOB_LEASE_SECS must be at least 1");
    }
    let keep_days = env_num("KITH_JOB_KEEP_DAYS", d.keep_done.as_secs() / 86_400)?;
    Ok(WorkerConfig {
        concurrency,
        lease: Duration::from_secs(lease),
        poll: Duration::from_millis(
            env_num("KITH_JOB_POLL_MS", d.poll.as_millis() as u64)?.max(10),
        ),
        retry_base: Duration::from_millis(env_num(
            "KITH_JOB_RETRY_BASE_MS",
            d.retry_base.as_millis() as u64,
        )?),
        keep_done: Duration::from_secs(keep_days * 86_400),
        keep_events: Duration::from_secs(
            env_num("KITH_EVENT_KEEP_DAYS", d.keep_events.as_secs() / 86_400)? * 86_400,
        ),
        standard_schedules: vec![
            dedup_schedule(env_num("KITH_DEDUP_EVERY_HOURS", 6)?),
            kith_app::jobs::segmentation_schedule(),
            kith_app::campaigns::sequences::sequence_schedule(),
            kith_app::workflows::scan_schedule(env_num("KITH_WORKFLOW_SCAN_MINUTES", 60)?),
        ],
        ..d
    })
}

/// The CA certificates webhooks and mail servers are trusted by besides the public roots: the PEM file
/// `KITH_EXTRA_CA` names, if set (an internal CA). Read before the database is opened,
/// so a file that cannot be used stops the start at once with its path and the reason.
pub fn extra_ca() -> Result<Option<ExtraCa>> {
    match std::env::var_os("KITH_EXTRA_CA") {
        Some(path) if !path.is_empty() => Ok(Some(
            ExtraCa::from_pem_file(std::path::Path::new(&path)).context("KITH_EXTRA_CA")?,
        )),
        _ => Ok(None),
    }
}

/// Kith's handlers; with `KITH_TEST_JOBS=1` also the kinds the test suite drives
/// processes with (never set it in production).
pub fn handlers() -> Handlers {
    let mut h = Handlers::standard();
    if std::env::var("KITH_TEST_JOBS").as_deref() == Ok("1") {
        // test.log appends a line per run (so a test sees any job run twice);
        // test.once records each job once however often it runs, as real handlers must.
        for (kind, sql) in [
            (
                "test.log",
                "INSERT INTO test_job_log (job_id, pid) VALUES (",
            ),
            (
                "test.once",
                "INSERT INTO test_job_done (job_id, pid) VALUES (",
            ),
        ] {
            h.on(kind, move |cx| async move {
                let ms = cx.job.payload["sleep_ms"].as_u64().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let mut q = Sql::new(sql);
                q.bind(Scalar::Text(cx.job.id.to_string()))
                    .push(", ")
                    .bind(Scalar::Int(i64::from(std::process::id())))
                    .push(")");
                if kind == "test.once" {
                    q.push(" ON CONFLICT (job_id) DO NOTHING");
                }
                cx.app
                    .db()
                    .clone()
                    .execute(q)
                    .await
                    .map_err(|e| JobError::Retry(e.to_string()))?;
                Ok(())
            });
        }
    }
    h
}

/// A worker running in the background of this process.
pub struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops it gracefully and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Starts a worker for `app` in the background.
pub fn spawn(app: &App, config: WorkerConfig) -> Running {
    let worker = Worker::new(app.clone(), handlers(), config);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        worker
            .run(async {
                let _ = stopped.await;
            })
            .await;
    });
    Running { stop, task }
}

/// `kith worker`: runs jobs until interrupted (Ctrl-C or SIGTERM).
pub async fn run_alone(app: &App, concurrency: Option<usize>) -> Result<()> {
    let worker = Worker::new(app.clone(), handlers(), config(concurrency)?);
    // Tests read this line to know the worker is up.
    println!("kith worker {} running", worker.id());
    worker.run(crate::shutdown()).await;
    Ok(())
}

/// `kith jobs …`.
pub async fn jobs(app: &App, command: JobsCommand) -> Result<()> {
    match command {
        JobsCommand::List {
            status,
            limit,
            user,
        } => {
            let caller = crate::caller(app, user.as_deref()).await?;
            let jobs = app
                .jobs(&caller, status.as_deref(), limit)
                .await
                .map_err(crate::explain)?;
            if jobs.is_empty() {
                println!("no jobs");
            }
            for j in jobs {
                println!(
                    "{}  {:<8} {:<20} attempt {}/{}  run at {}{}",
                    j.id,
                    j.status.as_str(),
                    j.kind,
                    j.attempts,
                    j.max_attempts,
                    j.run_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    j.last_error
                        .map(|e| format!("\n    {}", e.replace('\n', " ")))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        JobsCommand::Retry { id, user } => {
            let caller = crate::caller(app, user.as_deref()).await?;
            let id = Uuid::parse_str(id.trim())
                .with_context(|| format!("`{id}` is not a job id (see `kith jobs list`)"))?;
            let job = app.retry_job(&caller, id).await.map_err(crate::explain)?;
            println!("job {} ({}) queued to run again", job.id, job.kind);
            Ok(())
        }
    }
}
