-- Workflows: a trigger, conditions (a filter on the trigger's object) and ordered
-- actions; every saved definition is kept in workflow_versions, and every run with
-- each action's result in workflow_runs. Notifications are the in-app list that the
-- "notify a user" action writes to.
CREATE TABLE workflows (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0,
    trigger_type TEXT NOT NULL,
    definition TEXT NOT NULL DEFAULT '{}',
    secret TEXT NOT NULL,
    round_robin BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL,
    created_by BLOB REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX workflows_name ON workflows(workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX workflows_trigger ON workflows(workspace_id, enabled, trigger_type);

CREATE TABLE workflow_versions (
    workflow_id BLOB NOT NULL REFERENCES workflows(id),
    version BIGINT NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    definition TEXT NOT NULL,
    saved_by BLOB,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

-- One run per workflow and trigger occurrence: an event id, or a scan's key such as
-- `date:RECORD:2026-05-04`, so that a redelivered event or a second scan adds nothing.
CREATE TABLE workflow_runs (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    workflow_id BLOB NOT NULL REFERENCES workflows(id),
    version BIGINT NOT NULL,
    trigger_key TEXT NOT NULL,
    event_id BLOB,
    object TEXT NOT NULL,
    record_id BLOB NOT NULL,
    depth BIGINT NOT NULL DEFAULT 1,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    next_step BIGINT NOT NULL DEFAULT 0,
    steps TEXT NOT NULL DEFAULT '[]',
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE UNIQUE INDEX workflow_runs_key ON workflow_runs(workflow_id, trigger_key);
CREATE INDEX workflow_runs_record ON workflow_runs(workspace_id, record_id, started_at);
CREATE INDEX workflow_runs_history ON workflow_runs(workflow_id, started_at);

CREATE TABLE notifications (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    user_id BLOB NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    link TEXT,
    read_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

-- The workflow dispatcher consumes the outbox by `processed_at`; history before it
-- existed is not replayed into workflows created later.
UPDATE events SET processed_at = at WHERE processed_at IS NULL;
