-- The search index keyed compactly: each (workspace, object) gets a small scope number
-- and each record a document number, so an entry holds (scope, term, doc) instead of
-- two UUIDs and an object name. Entries are about a third as long, and an import writes
-- a third of the pages (docs/PERFORMANCE.md, "The search index's storage").
CREATE TABLE search_scopes (
    scope INTEGER PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    object TEXT NOT NULL,
    UNIQUE (workspace_id, object)
);
-- Documents numbered in record-id order, so "newest first" reads as before.
CREATE TABLE search_docs (
    doc INTEGER PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    record_id BLOB NOT NULL UNIQUE
);
INSERT INTO search_scopes (workspace_id, object)
    SELECT DISTINCT workspace_id, object FROM search_terms ORDER BY workspace_id, object;
INSERT INTO search_docs (workspace_id, record_id)
    SELECT DISTINCT workspace_id, record_id FROM search_terms ORDER BY record_id;
-- (Entries reach their workspace through their scope: search_terms has no workspace_id.)
-- Records still waiting in search_backfill get their number when they are indexed.

CREATE TABLE search_entries (
    scope INTEGER NOT NULL,
    term TEXT NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (scope, term, doc)
) WITHOUT ROWID;
INSERT INTO search_entries (scope, term, doc)
    SELECT sc.scope, t.term, d.doc
    FROM search_terms t
    JOIN search_scopes sc ON sc.workspace_id = t.workspace_id AND sc.object = t.object
    JOIN search_docs d ON d.record_id = t.record_id
    ORDER BY sc.scope, t.term, d.doc;
DROP TABLE search_terms;
ALTER TABLE search_entries RENAME TO search_terms;
-- A record's own terms: replacing them, and "does this record also have a term
-- starting with …" in one seek.
CREATE INDEX search_terms_doc ON search_terms(doc, term);
