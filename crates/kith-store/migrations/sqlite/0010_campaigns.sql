-- Campaigns (one email to a segment), sequences (steps with waits), the send log that
-- makes every message go out once, the suppression list and the link-signing key.
CREATE TABLE campaigns (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    segment_id BLOB NOT NULL,
    template_id BLOB NOT NULL,
    consent_mode TEXT NOT NULL,
    rate_per_minute INTEGER NOT NULL,
    attribution_days INTEGER NOT NULL,
    scheduled_at TEXT,
    status TEXT NOT NULL,
    run INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    finished_at TEXT,
    created_by BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX campaigns_ws ON campaigns(workspace_id, created_at);

CREATE TABLE sequences (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    steps TEXT NOT NULL,
    consent_mode TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX sequences_ws ON sequences(workspace_id, name);

-- One row per contact per sequence; `step` is the next step to send.
CREATE TABLE sequence_enrolments (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    sequence_id BLOB NOT NULL REFERENCES sequences(id),
    contact_id BLOB NOT NULL,
    step INTEGER NOT NULL,
    status TEXT NOT NULL,
    next_at TEXT,
    exit_reason TEXT,
    enrolled_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sequence_id, contact_id)
);
CREATE INDEX sequence_enrolments_due ON sequence_enrolments(status, next_at);
CREATE INDEX sequence_enrolments_contact ON sequence_enrolments(contact_id);

-- The send log: one row per source (campaign or sequence), step and contact, written
-- before anything is sent, so a restart never sends a step to a contact twice.
CREATE TABLE email_sends (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    source TEXT NOT NULL,
    source_id BLOB NOT NULL,
    step INTEGER NOT NULL,
    contact_id BLOB NOT NULL,
    email TEXT NOT NULL,
    template_id BLOB NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    lease_until TEXT,
    sent_at TEXT,
    opened_at TEXT,
    clicked_at TEXT,
    unsubscribed_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (source_id, step, contact_id)
);
CREATE INDEX email_sends_due ON email_sends(source_id, status, next_at);
CREATE INDEX email_sends_contact ON email_sends(contact_id, created_at);
CREATE INDEX email_sends_message ON email_sends(workspace_id, message_id);

CREATE TABLE email_suppressions (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, email)
);

CREATE TABLE campaign_settings (
    workspace_id BLOB PRIMARY KEY REFERENCES workspaces(id),
    public_url TEXT NOT NULL DEFAULT '',
    link_key TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
