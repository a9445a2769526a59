-- Campaigns (one email to a segment), sequences (steps with waits), the send log that
-- makes every message go out once, the suppression list and the link-signing key.
CREATE TABLE campaigns (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    segment_id UUID NOT NULL,
    template_id UUID NOT NULL,
    consent_mode TEXT COLLATE "C" NOT NULL,
    rate_per_minute BIGINT NOT NULL,
    attribution_days BIGINT NOT NULL,
    scheduled_at TIMESTAMPTZ,
    status TEXT COLLATE "C" NOT NULL,
    run BIGINT NOT NULL DEFAULT 0,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX campaigns_ws ON campaigns(workspace_id, created_at);

CREATE TABLE sequences (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    steps TEXT COLLATE "C" NOT NULL,
    consent_mode TEXT COLLATE "C" NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sequences_ws ON sequences(workspace_id, name);

-- One row per contact per sequence; `step` is the next step to send.
CREATE TABLE sequence_enrolments (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    sequence_id UUID NOT NULL REFERENCES sequences(id),
    contact_id UUID NOT NULL,
    step BIGINT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    next_at TIMESTAMPTZ,
    exit_reason TEXT COLLATE "C",
    enrolled_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sequence_id, contact_id)
);
CREATE INDEX sequence_enrolments_due ON sequence_enrolments(status, next_at);
CREATE INDEX sequence_enrolments_contact ON sequence_enrolments(contact_id);

-- The send log: one row per source (campaign or sequence), step and contact, written
-- before anything is sent, so a restart never sends a step to a contact twice.
CREATE TABLE email_sends (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    source TEXT COLLATE "C" NOT NULL,
    source_id UUID NOT NULL,
    step BIGINT NOT NULL,
    contact_id UUID NOT NULL,
    email TEXT COLLATE "C" NOT NULL,
    template_id UUID NOT NULL,
    message_id TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    error TEXT COLLATE "C",
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at TIMESTAMPTZ NOT NULL,
    lease_until TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    opened_at TIMESTAMPTZ,
    clicked_at TIMESTAMPTZ,
    unsubscribed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (source_id, step, contact_id)
);
CREATE INDEX email_sends_due ON email_sends(source_id, status, next_at);
CREATE INDEX email_sends_contact ON email_sends(contact_id, created_at);
CREATE INDEX email_sends_message ON email_sends(workspace_id, message_id);

CREATE TABLE email_suppressions (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    email TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, email)
);

CREATE TABLE campaign_settings (
    workspace_id UUID PRIMARY KEY REFERENCES workspaces(id),
    public_url TEXT COLLATE "C" NOT NULL DEFAULT '',
    link_key TEXT COLLATE "C" NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
