-- Imports: one row per file brought in, with a checkpoint (rows_done) written in the same
-- transaction as each chunk of rows, so a killed import resumes exactly where it stopped.
CREATE TABLE imports (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB,
    object TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    format TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    rows_done INTEGER NOT NULL DEFAULT 0,
    rows_created INTEGER NOT NULL DEFAULT 0,
    rows_updated INTEGER NOT NULL DEFAULT 0,
    rows_skipped INTEGER NOT NULL DEFAULT 0,
    rows_failed INTEGER NOT NULL DEFAULT 0,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    bytes_total INTEGER NOT NULL DEFAULT 0,
    message TEXT,
    finished_at TEXT
);
CREATE INDEX imports_file ON imports(workspace_id, file_hash);
CREATE INDEX imports_recent ON imports(workspace_id, created_at);

-- What an import did to each record, so that it can be undone.
CREATE TABLE import_items (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    import_id BLOB NOT NULL REFERENCES imports(id),
    record_id BLOB NOT NULL,
    object TEXT NOT NULL,
    action TEXT NOT NULL,
    version INTEGER NOT NULL,
    before TEXT,
    PRIMARY KEY (import_id, record_id)
) WITHOUT ROWID;

-- Rows refused, as read, with every reason: the downloadable error file.
CREATE TABLE import_rejects (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    import_id BLOB NOT NULL REFERENCES imports(id),
    line INTEGER NOT NULL,
    cells TEXT NOT NULL,
    errors TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
) WITHOUT ROWID;

-- Fingerprints of imported rows: the same row imported again is recognised and skipped.
CREATE TABLE import_keys (
    workspace_id BLOB NOT NULL,
    object TEXT NOT NULL,
    key TEXT NOT NULL,
    record_id BLOB NOT NULL,
    import_id BLOB NOT NULL,
    PRIMARY KEY (workspace_id, object, key)
) WITHOUT ROWID;
CREATE INDEX import_keys_import ON import_keys(import_id);

-- Files uploaded through the API, kept in the database so any node's worker can read them.
CREATE TABLE import_uploads (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    import_id BLOB NOT NULL REFERENCES imports(id),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (import_id, seq)
);
