-- Calendar feeds: one secret URL per user that calendar apps poll without a session.
-- Only the SHA-256 of the secret is stored; rotating replaces the row, revoking deletes it.
CREATE TABLE calendar_feeds (
    user_id BLOB PRIMARY KEY REFERENCES users(id),
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
