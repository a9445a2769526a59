-- Likely duplicates found by the scan, with their score and reasons; a pair someone
-- dismissed stays dismissed when a later scan finds it again.
CREATE TABLE duplicate_pairs (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    object TEXT NOT NULL,
    a BLOB NOT NULL,
    b BLOB NOT NULL,
    score REAL NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    found_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, object, a, b)
) WITHOUT ROWID;
CREATE INDEX duplicate_pairs_open ON duplicate_pairs(workspace_id, object, status, score);

-- Merges, with what is needed to undo them: the survivor as it was, the merged
-- records, and every link that was moved to the survivor.
CREATE TABLE merges (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    object TEXT NOT NULL,
    survivor_id BLOB NOT NULL,
    merged TEXT NOT NULL,
    before TEXT NOT NULL,
    moved TEXT NOT NULL DEFAULT '[]',
    survivor_version INTEGER NOT NULL,
    actor_id BLOB,
    at TEXT NOT NULL,
    undone_at TEXT
);
CREATE INDEX merges_survivor ON merges(workspace_id, survivor_id);
