-- Workflows: a trigger, conditions (a filter on the trigger's object) and ordered
-- actions; every saved definition is kept in workflow_versions, and every run with
-- each action's result in workflow_runs. Notifications are the in-app list that the
-- "notify a user" action writes to.
CREATE TABLE workflows (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    name TEXT COLLATE "C" NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    trigger_type TEXT COLLATE "C" NOT NULL,
    definition JSONB NOT NULL DEFAULT '{}',
    secret TEXT COLLATE "C" NOT NULL,
    round_robin BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL,
    created_by UUID REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX workflows_name ON workflows(workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX workflows_trigger ON workflows(workspace_id, enabled, trigger_type);

CREATE TABLE workflow_versions (
    workflow_id UUID NOT NULL REFERENCES workflows(id),
    version BIGINT NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    definition JSONB NOT NULL,
    saved_by UUID,
    saved_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

-- One run per workflow and trigger occurrence: an event id, or a scan's key such as
-- `date:RECORD:2026-05-04`, so that a redelivered event or a second scan adds nothing.
CREATE TABLE workflow_runs (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    workflow_id UUID NOT NULL REFERENCES workflows(id),
    version BIGINT NOT NULL,
    trigger_key TEXT COLLATE "C" NOT NULL,
    event_id UUID,
    object TEXT COLLATE "C" NOT NULL,
    record_id UUID NOT NULL,
    depth BIGINT NOT NULL DEFAULT 1,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    next_step BIGINT NOT NULL DEFAULT 0,
    steps JSONB NOT NULL DEFAULT '[]',
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX workflow_runs_key ON workflow_runs(workflow_id, trigger_key);
CREATE INDEX workflow_runs_record ON workflow_runs(workspace_id, record_id, started_at);
CREATE INDEX workflow_runs_history ON workflow_runs(workflow_id, started_at);

CREATE TABLE notifications (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    user_id UUID NOT NULL REFERENCES users(id),
    title TEXT COLLATE "C" NOT NULL,
    body TEXT COLLATE "C" NOT NULL DEFAULT '',
    link TEXT COLLATE "C",
    read_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

-- The workflow dispatcher consumes the outbox by `processed_at`; history before it
-- existed is not replayed into workflows created later.
UPDATE events SET processed_at = at WHERE processed_at IS NULL;
