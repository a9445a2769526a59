-- Durable jobs: one row per unit of background work, claimed by workers under a short
-- lease (locked_by, locked_until) that they renew while the job runs, so a worker that
-- dies mid-job (kill -9) only delays the job until the lease expires.
CREATE TABLE jobs (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    run_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    last_error TEXT,
    idempotency_key TEXT,
    locked_by TEXT,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
-- Enqueueing the same key twice gives the first job (NULL keys never clash).
CREATE UNIQUE INDEX jobs_idempotency ON jobs(workspace_id, kind, idempotency_key);
-- What workers scan: due jobs, and running jobs whose lease may have expired.
CREATE INDEX jobs_due ON jobs(run_at) WHERE status IN ('queued', 'failed');
CREATE INDEX jobs_leases ON jobs(locked_until) WHERE status = 'running';
-- What admins list, and what pruning deletes.
CREATE INDEX jobs_by_status ON jobs(workspace_id, status, updated_at);
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE status IN ('done', 'dead');

-- Recurring schedules: each due tick becomes one job whose idempotency key names the
-- schedule and the tick, so several nodes ticking at once enqueue it once.
CREATE TABLE job_schedules (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    every_secs BIGINT,
    daily_at TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    next_run_at TEXT NOT NULL,
    last_run_at TEXT,
    last_job_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, name),
    CHECK ((every_secs IS NULL) <> (daily_at IS NULL))
);
CREATE INDEX job_schedules_due ON job_schedules(next_run_at) WHERE enabled = 1;
