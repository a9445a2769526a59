-- Durable jobs: one row per unit of background work, claimed by workers under a short
-- lease (locked_by, locked_until) that they renew while the job runs, so a worker that
-- dies mid-job (kill -9) only delays the job until the lease expires.
CREATE TABLE jobs (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    kind TEXT COLLATE "C" NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    run_at TIMESTAMPTZ NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    last_error TEXT COLLATE "C",
    idempotency_key TEXT COLLATE "C",
    locked_by TEXT COLLATE "C",
    locked_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
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
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    name TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    every_secs BIGINT,
    daily_at TEXT COLLATE "C",
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    next_run_at TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ,
    last_job_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, name),
    CHECK ((every_secs IS NULL) <> (daily_at IS NULL))
);
CREATE INDEX job_schedules_due ON job_schedules(next_run_at) WHERE enabled;
