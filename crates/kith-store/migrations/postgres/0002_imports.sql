-- Imports: one row per file brought in, with a checkpoint (rows_done) written in the same
-- transaction as each chunk of rows, so a killed import resumes exactly where it stopped.
CREATE TABLE imports (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    created_by UUID,
    object TEXT COLLATE "C" NOT NULL,
    file_name TEXT COLLATE "C" NOT NULL,
    file_hash TEXT COLLATE "C" NOT NULL,
    format TEXT COLLATE "C" NOT NULL,
    options JSONB NOT NULL DEFAULT '{}',
    status TEXT COLLATE "C" NOT NULL,
    rows_done BIGINT NOT NULL DEFAULT 0,
    rows_created BIGINT NOT NULL DEFAULT 0,
    rows_updated BIGINT NOT NULL DEFAULT 0,
    rows_skipped BIGINT NOT NULL DEFAULT 0,
    rows_failed BIGINT NOT NULL DEFAULT 0,
    bytes_done BIGINT NOT NULL DEFAULT 0,
    bytes_total BIGINT NOT NULL DEFAULT 0,
    message TEXT COLLATE "C",
    finished_at TIMESTAMPTZ
);
CREATE INDEX imports_file ON imports(workspace_id, file_hash);
CREATE INDEX imports_recent ON imports(workspace_id, created_at);

-- What an import did to each record, so that it can be undone.
CREATE TABLE import_items (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    import_id UUID NOT NULL REFERENCES imports(id),
    record_id UUID NOT NULL,
    object TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    before JSONB,
    PRIMARY KEY (import_id, record_id)
);

-- Rows refused, as read, with every reason: the downloadable error file.
CREATE TABLE import_rejects (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    import_id UUID NOT NULL REFERENCES imports(id),
    line BIGINT NOT NULL,
    cells JSONB NOT NULL,
    errors JSONB NOT NULL,
    PRIMARY KEY (import_id, line)
);

-- Fingerprints of imported rows: the same row imported again is recognised and skipped.
CREATE TABLE import_keys (
    workspace_id UUID NOT NULL,
    object TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    record_id UUID NOT NULL,
    import_id UUID NOT NULL,
    PRIMARY KEY (workspace_id, object, key)
);
CREATE INDEX import_keys_import ON import_keys(import_id);

-- Files uploaded through the API, kept in the database so any node's worker can read them.
CREATE TABLE import_uploads (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    import_id UUID NOT NULL REFERENCES imports(id),
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (import_id, seq)
);
