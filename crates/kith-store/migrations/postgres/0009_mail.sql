-- Mail: per-workspace SMTP/IMAP settings, email templates, and the email fields of
-- activities (one-off emails and replies are activities of kind `email`).
CREATE TABLE mail_settings (
    workspace_id UUID PRIMARY KEY REFERENCES workspaces(id),
    smtp_host TEXT COLLATE "C" NOT NULL DEFAULT '',
    smtp_port BIGINT,
    smtp_security TEXT COLLATE "C" NOT NULL DEFAULT 'starttls',
    smtp_username TEXT COLLATE "C" NOT NULL DEFAULT '',
    smtp_password TEXT COLLATE "C" NOT NULL DEFAULT '',
    from_name TEXT COLLATE "C" NOT NULL DEFAULT '',
    from_email TEXT COLLATE "C" NOT NULL DEFAULT '',
    reply_to TEXT COLLATE "C" NOT NULL DEFAULT '',
    imap_host TEXT COLLATE "C" NOT NULL DEFAULT '',
    imap_port BIGINT,
    imap_security TEXT COLLATE "C" NOT NULL DEFAULT 'tls',
    imap_username TEXT COLLATE "C" NOT NULL DEFAULT '',
    imap_password TEXT COLLATE "C" NOT NULL DEFAULT '',
    imap_folder TEXT COLLATE "C" NOT NULL DEFAULT 'INBOX',
    -- Where the last fetch stopped: UIDs are only comparable under one UIDVALIDITY.
    imap_uid_validity BIGINT,
    imap_last_uid BIGINT,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE email_templates (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    language TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    html TEXT COLLATE "C" NOT NULL,
    text TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX email_templates_name ON email_templates(workspace_id, name);

ALTER TABLE activities ADD COLUMN direction TEXT COLLATE "C";
ALTER TABLE activities ADD COLUMN message_id TEXT COLLATE "C";
ALTER TABLE activities ADD COLUMN in_reply_to TEXT COLLATE "C";
ALTER TABLE activities ADD COLUMN email_status TEXT COLLATE "C";
ALTER TABLE activities ADD COLUMN email_error TEXT COLLATE "C";
CREATE INDEX activities_message ON activities(workspace_id, message_id);
