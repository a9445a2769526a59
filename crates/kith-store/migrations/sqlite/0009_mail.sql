-- Mail: per-workspace SMTP/IMAP settings, email templates, and the email fields of
-- activities (one-off emails and replies are activities of kind `email`).
CREATE TABLE mail_settings (
    workspace_id BLOB PRIMARY KEY REFERENCES workspaces(id),
    smtp_host TEXT NOT NULL DEFAULT '',
    smtp_port INTEGER,
    smtp_security TEXT NOT NULL DEFAULT 'starttls',
    smtp_username TEXT NOT NULL DEFAULT '',
    smtp_password TEXT NOT NULL DEFAULT '',
    from_name TEXT NOT NULL DEFAULT '',
    from_email TEXT NOT NULL DEFAULT '',
    reply_to TEXT NOT NULL DEFAULT '',
    imap_host TEXT NOT NULL DEFAULT '',
    imap_port INTEGER,
    imap_security TEXT NOT NULL DEFAULT 'tls',
    imap_username TEXT NOT NULL DEFAULT '',
    imap_password TEXT NOT NULL DEFAULT '',
    imap_folder TEXT NOT NULL DEFAULT 'INBOX',
    -- Where the last fetch stopped: UIDs are only comparable under one UIDVALIDITY.
    imap_uid_validity INTEGER,
    imap_last_uid INTEGER,
    updated_at TEXT NOT NULL
);

CREATE TABLE email_templates (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX email_templates_name ON email_templates(workspace_id, name);

ALTER TABLE activities ADD COLUMN direction TEXT;
ALTER TABLE activities ADD COLUMN message_id TEXT;
ALTER TABLE activities ADD COLUMN in_reply_to TEXT;
ALTER TABLE activities ADD COLUMN email_status TEXT;
ALTER TABLE activities ADD COLUMN email_error TEXT;
CREATE INDEX activities_message ON activities(workspace_id, message_id);
