//! The job queue: enqueue (inside any transaction), claim under a lease, renew the
//! lease, finish, fail with a retry time or to the dead letters, release, reap expired
//! leases, prune old jobs; and the admin's view (list, retry by hand).
//!
//! Claiming is the only place the dialects differ: PostgreSQL locks the rows it takes
//! with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take disjoint jobs without
//! waiting; SQLite has one writer at a time, so one `UPDATE … RETURNING` inside an
//! immediate transaction is atomic across the processes sharing the file.
//!
//! Times are the caller's clock (`now`), as everywhere in Kith: nodes must agree on the
//! time to well within a lease.

use chrono::{DateTime, Utc};
use kith_core::jobs::JobStatus;
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Db, Exec, List, Row, Sql, Tx};
use crate::{Error, WorkspaceId};

/// One job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// The workspace it works for; its handler acts within it only.
    pub workspace: WorkspaceId,
    /// What to do (`dedup.scan`): picks the handler.
    pub kind: String,
    /// The handler's input.
    pub payload: Value,
    /// Where it is.
    pub status: JobStatus,
    /// Not before (the next attempt's time when it failed).
    pub run_at: DateTime<Utc>,
    /// Attempts started so far (the running one included).
    pub attempts: i64,
    /// Attempts before it goes to the dead letters.
    pub max_attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Enqueueing the same key again gives this job.
    pub idempotency_key: Option<String>,
    /// Worker holding the lease (while running).
    pub locked_by: Option<String>,
    /// Lease end; past it, another worker may take the job.
    pub locked_until: Option<DateTime<Utc>>,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Done or dead.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What to do.
    pub kind: String,
    /// The handler's input (no secrets: admins see it).
    pub payload: Value,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// Attempts before the dead letters.
    pub max_attempts: i64,
    /// Unique per workspace and kind.
    pub idempotency_key: Option<String>,
}

const COLUMNS: &str = "id, workspace_id, kind, payload, status, run_at, attempts, max_attempts, last_error, idempotency_key, locked_by, locked_until, created_at, updated_at, finished_at";

fn text_or_null(s: Option<&str>) -> Scalar {
    s.map(|s| Scalar::Text(s.to_string()))
        .unwrap_or(Scalar::Null(ScalarType::Text))
}

fn from_row(r: &Row) -> Result<Job, Error> {
    let corrupt = |c: &str| Error::Corrupt(format!("job {c}"));
    let status = r.text("status")?.ok_or_else(|| corrupt("status"))?;
    Ok(Job {
        id: r.uuid("id")?.ok_or_else(|| corrupt("id"))?,
        workspace: WorkspaceId(
            r.uuid("workspace_id")?
                .ok_or_else(|| corrupt("workspace"))?,
        ),
        kind: r.text("kind")?.ok_or_else(|| corrupt("kind"))?,
        payload: r.json("payload")?.unwrap_or(Value::Null),
        status: JobStatus::parse(&status).map_err(|_| corrupt("status"))?,
        run_at: r.time("run_at")?.ok_or_else(|| corrupt("run_at"))?,
        attempts: r.int("attempts")?.unwrap_or(0),
        max_attempts: r.int("max_attempts")?.unwrap_or(1),
        last_error: r.text("last_error")?,
        idempotency_key: r.text("idempotency_key")?,
        locked_by: r.text("locked_by")?,
        locked_until: r.time("locked_until")?,
        created_at: r.time("created_at")?.ok_or_else(|| corrupt("created_at"))?,
        updated_at: r.time("updated_at")?.ok_or_else(|| corrupt("updated_at"))?,
        finished_at: r.time("finished_at")?,
    })
}

const JOB_COLUMNS: [&str; 11] = [
    "id",
    "workspace_id",
    "kind",
    "payload",
    "status",
    "run_at",
    "attempts",
    "max_attempts",
    "idempotency_key",
    "created_at",
    "updated_at",
];

fn job_row(id: Uuid, ws: WorkspaceId, job: &NewJob, now: DateTime<Utc>) -> Vec<Scalar> {
    vec![
        Scalar::Uuid(id),
        Scalar::Uuid(ws.0),
        Scalar::Text(job.kind.clone()),
        Scalar::Json(job.payload.clone()),
        Scalar::Text(JobStatus::Queued.as_str().into()),
        Scalar::Time(job.run_at),
        Scalar::Int(0),
        Scalar::Int(job.max_attempts.max(1)),
        text_or_null(job.idempotency_key.as_deref()),
        Scalar::Time(now),
        Scalar::Time(now),
    ]
}

/// Adds many jobs to `ws`'s queue with multi-row statements, in the caller's
/// transaction; a job whose idempotency key is taken is skipped. For producers of many
/// jobs at once (the workflow dispatcher); one job at a time is [`enqueue`].
pub async fn enqueue_many(
    tx: &mut Tx,
    ws: WorkspaceId,
    jobs: &[NewJob],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let rows: Vec<Vec<Scalar>> = jobs
        .iter()
        .map(|j| job_row(Uuid::now_v7(), ws, j, now))
        .collect();
    let tail = " ON CONFLICT (workspace_id, kind, idempotency_key) DO NOTHING";
    crate::bulk::insert_rows(tx, "jobs", &JOB_COLUMNS, &rows, tail).await
}

/// Adds a job to `ws`'s queue, in the caller's transaction when `ex` is one (so a record
/// and the job about it commit together). Returns the job's id and whether it is new:
/// with an idempotency key already used, nothing is added and the first job's id comes
/// back.
pub async fn enqueue(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<(Uuid, bool), Error> {
    let id = Uuid::now_v7();
    let mut sql = Sql::new("INSERT INTO jobs (");
    sql.push(&JOB_COLUMNS.join(", ")).push(") VALUES (");
    sql.bind_list(job_row(id, ws, job, now));
    sql.push(")");
    if job.idempotency_key.is_none() {
        ex.execute(sql).await?;
        return Ok((id, true));
    }
    // DO NOTHING rather than an error: in PostgreSQL an error would abort the caller's
    // transaction. A concurrent enqueue of the same key waits for the first to commit.
    sql.push(" ON CONFLICT (workspace_id, kind, idempotency_key) DO NOTHING");
    if ex.execute(sql).await? == 1 {
        return Ok((id, true));
    }
    let existing = ex
        .fetch_optional(
            Sql::new("SELECT id FROM jobs WHERE workspace_id = ")
                .arg(Scalar::Uuid(ws.0))
                .and(" AND kind = ")
                .arg(Scalar::Text(job.kind.clone()))
                .and(" AND idempotency_key = ")
                .arg(text_or_null(job.idempotency_key.as_deref())),
        )
        .await?
        .ok_or_else(|| Error::Corrupt("job idempotency key clashed with no job".into()))?;
    Ok((
        existing
            .uuid("id")?
            .ok_or_else(|| Error::Corrupt("job id".into()))?,
        false,
    ))
}

/// Claims up to `limit` due jobs of `kinds` for `worker` until `lease_until`: marks them
/// running and counts the attempt. No two claimers ever get the same job.
pub async fn claim(
    db: &Db,
    worker: &str,
    kinds: &[String],
    limit: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<Job>, Error> {
    if kinds.is_empty() || limit <= 0 {
        return Ok(vec![]);
    }
    let set = |sql: &mut Sql| {
        sql.push("status = 'running', attempts = attempts + 1, locked_by = ")
            .bind(Scalar::Text(worker.into()))
            .push(", locked_until = ")
            .bind(Scalar::Time(lease_until))
            .push(", updated_at = ")
            .bind(Scalar::Time(now));
    };
    let due = |sql: &mut Sql| {
        sql.push("SELECT id FROM jobs WHERE status IN ('queued', 'failed') AND run_at <= ")
            .bind(Scalar::Time(now))
            .push(" AND kind IN (")
            .bind_list(kinds.iter().map(|k| Scalar::Text(k.clone())))
            .push(") ORDER BY run_at LIMIT ")
            // A literal, not a bound value: with `LIMIT $n` PostgreSQL's generic plan
            // looks costly, so it re-plans every claim (half of a no-op job's cost).
            // The number is ours, never user input.
            .push(&limit.to_string());
    };
    let rows = match db {
        Db::Postgres(_) => {
            // The due rows are locked in an InitPlan (`= ANY(ARRAY(…))`), evaluated once,
            // then updated through the primary key; SKIP LOCKED makes concurrent claimers
            // pass over each other's rows instead of queueing behind them. (A CTE joined
            // back to `jobs` let a generic plan hash-join the whole table: 4× slower.)
            let mut sql = Sql::new("UPDATE jobs SET ");
            set(&mut sql);
            sql.push(" WHERE id = ANY(ARRAY(");
            due(&mut sql);
            sql.push(" FOR UPDATE SKIP LOCKED)) RETURNING ")
                .push(COLUMNS);
            db.clone().fetch_all(sql).await?
        }
        Db::Sqlite { .. } => {
            let mut sql = Sql::new("UPDATE jobs SET ");
            set(&mut sql);
            sql.push(" WHERE id IN (");
            due(&mut sql);
            sql.push(") RETURNING ").push(COLUMNS);
            let mut tx = db.begin().await?;
            let rows = tx.fetch_all(sql).await?;
            tx.commit().await?;
            rows
        }
    };
    let mut jobs = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    jobs.sort_by_key(|j| j.run_at);
    Ok(jobs)
}

/// Extends the lease of every job `worker` runs (its heartbeat); returns how many.
pub async fn renew(
    db: &Db,
    worker: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    db.clone()
        .execute(
            Sql::new("UPDATE jobs SET locked_until = ")
                .arg(Scalar::Time(lease_until))
                .and(", updated_at = ")
                .arg(Scalar::Time(now))
                .and(" WHERE status = 'running' AND locked_by = ")
                .arg(Scalar::Text(worker.into())),
        )
        .await
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done.
    Done,
    /// Failed; run again at this time.
    Retry {
        /// Why.
        error: String,
        /// Next attempt.
        at: DateTime<Utc>,
    },
    /// Failed for good: to the dead letters.
    Dead {
        /// Why.
        error: String,
    },
}

/// Records how `worker`'s attempt `attempt` of job `id` ended. False when the worker no
/// longer held the job (its lease expired and another worker took it): then nothing is
/// written, and the other worker's run counts.
pub async fn finish(
    db: &Db,
    id: Uuid,
    worker: &str,
    attempt: i64,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let mut sql = Sql::new("UPDATE jobs SET locked_by = NULL, locked_until = NULL, updated_at = ");
    sql.bind(Scalar::Time(now));
    match outcome {
        Outcome::Done => {
            sql.push(", status = 'done', finished_at = ")
                .bind(Scalar::Time(now));
        }
        Outcome::Retry { error, at } => {
            sql.push(", status = 'failed', last_error = ")
                .bind(Scalar::Text(clip(error)))
                .push(", run_at = ")
                .bind(Scalar::Time(*at));
        }
        Outcome::Dead { error } => {
            sql.push(", status = 'dead', last_error = ")
                .bind(Scalar::Text(clip(error)))
                .push(", finished_at = ")
                .bind(Scalar::Time(now));
        }
    }
    sql.push(" WHERE id = ")
        .bind(Scalar::Uuid(id))
        .push(" AND status = 'running' AND locked_by = ")
        .bind(Scalar::Text(worker.into()))
        .push(" AND attempts = ")
        .bind(Scalar::Int(attempt));
    Ok(db.clone().execute(sql).await? == 1)
}

/// Errors are shown to admins and kept per job: a few kilobytes say enough.
fn clip(s: &str) -> String {
    const MAX: usize = 4000;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Gives jobs back unfinished (a worker stopping): queued again at once, the attempt
/// not counted, since the job did not fail.
pub async fn release(
    db: &Db,
    worker: &str,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut sql = Sql::new("UPDATE jobs SET status = CASE WHEN attempts > 1 THEN 'failed' ELSE 'queued' END, attempts = attempts - 1, locked_by = NULL, locked_until = NULL, run_at = ");
    sql.bind(Scalar::Time(now))
        .push(", updated_at = ")
        .bind(Scalar::Time(now))
        .push(" WHERE status = 'running' AND locked_by = ")
        .bind(Scalar::Text(worker.into()))
        .push(" AND id")
        .bind_in(List::uuids(ids));
    db.clone().execute(sql).await
}

/// Takes back jobs whose worker vanished (its lease expired): they run again at once,
/// the lost attempt counted — so a job that kills its worker every time ends dead
/// instead of taking down worker after worker.
pub async fn reap(db: &Db, now: DateTime<Utc>) -> Result<u64, Error> {
    let lost = "a worker stopped while running this job (its lease expired)";
    let mut db = db.clone();
    let dead = db
        .execute(
            Sql::new("UPDATE jobs SET status = 'dead', locked_by = NULL, locked_until = NULL, last_error = ")
                .arg(Scalar::Text(lost.into()))
                .and(", finished_at = ")
                .arg(Scalar::Time(now))
                .and(", updated_at = ")
                .arg(Scalar::Time(now))
                .and(" WHERE status = 'running' AND locked_until < ")
                .arg(Scalar::Time(now))
                .and(" AND attempts >= max_attempts"),
        )
        .await?;
    let again = db
        .execute(
            Sql::new("UPDATE jobs SET status = 'failed', locked_by = NULL, locked_until = NULL, last_error = ")
                .arg(Scalar::Text(lost.into()))
                .and(", run_at = ")
                .arg(Scalar::Time(now))
                .and(", updated_at = ")
                .arg(Scalar::Time(now))
                .and(" WHERE status = 'running' AND attempts < max_attempts AND locked_until < ")
                .arg(Scalar::Time(now)),
        )
        .await?;
    Ok(dead + again)
}

/// Deletes done jobs finished before `done_before` and dead ones before `dead_before`,
/// at most `limit` of them (call again while it returns `limit`).
pub async fn prune(
    db: &Db,
    done_before: DateTime<Utc>,
    dead_before: DateTime<Utc>,
    limit: i64,
) -> Result<u64, Error> {
    db.clone()
        .execute(
            Sql::new("DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE (status = 'done' AND finished_at < ")
                .arg(Scalar::Time(done_before))
                .and(") OR (status = 'dead' AND finished_at < ")
                .arg(Scalar::Time(dead_before))
                .and(") LIMIT ")
                .arg(Scalar::Int(limit))
                .and(")"),
        )
        .await
}

/// `ws`'s jobs, newest change first, of one status or all.
pub async fn list(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    status: Option<JobStatus>,
    limit: i64,
) -> Result<Vec<Job>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM jobs WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0));
    if let Some(s) = status {
        sql.push(" AND status = ")
            .bind(Scalar::Text(s.as_str().into()));
    }
    sql.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
        .bind(Scalar::Int(limit));
    ex.fetch_all(sql).await?.iter().map(from_row).collect()
}

/// One job of `ws`.
pub async fn get(ex: &mut impl Exec, ws: WorkspaceId, id: Uuid) -> Result<Option<Job>, Error> {
    let mut sql = Sql::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM jobs WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id));
    ex.fetch_optional(sql)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// An admin's retry of a dead job (or a failed one waiting for its next attempt): it
/// runs again at once with its attempts starting over. False when `ws` has no such job
/// in either state.
pub async fn retry(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    Ok(ex
        .execute(
            Sql::new("UPDATE jobs SET status = 'queued', attempts = 0, run_at = ")
                .arg(Scalar::Time(now))
                .and(", finished_at = NULL, updated_at = ")
                .arg(Scalar::Time(now))
                .and(" WHERE workspace_id = ")
                .arg(Scalar::Uuid(ws.0))
                .and(" AND id = ")
                .arg(Scalar::Uuid(id))
                .and(" AND status IN ('dead', 'failed')"),
        )
        .await?
        == 1)
}
