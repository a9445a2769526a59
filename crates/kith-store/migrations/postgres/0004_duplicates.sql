-- Likely duplicates found by the scan, with their score and reasons; a pair someone
-- dismissed stays dismissed when a later scan finds it again.
CREATE TABLE duplicate_pairs (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    object TEXT COLLATE "C" NOT NULL,
    a UUID NOT NULL,
    b UUID NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    reasons JSONB NOT NULL DEFAULT '[]',
    status TEXT COLLATE "C" NOT NULL,
    found_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, object, a, b)
);
CREATE INDEX duplicate_pairs_open ON duplicate_pairs(workspace_id, object, status, score);

-- Merges, with what is needed to undo them: the survivor as it was, the merged
-- records, and every link that was moved to the survivor.
CREATE TABLE merges (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    object TEXT COLLATE "C" NOT NULL,
    survivor_id UUID NOT NULL,
    merged JSONB NOT NULL,
    before JSONB NOT NULL,
    moved JSONB NOT NULL DEFAULT '[]',
    survivor_version BIGINT NOT NULL,
    actor_id UUID,
    at TIMESTAMPTZ NOT NULL,
    undone_at TIMESTAMPTZ
);
CREATE INDEX merges_survivor ON merges(workspace_id, survivor_id);
