-- Global search. The terms' key now leads with the object, so that each group of a
-- search (contacts, companies, deals, activities, tasks) reads its own range and a
-- common name among a million contacts does not hide the company of that name.
CREATE TABLE search_terms_by_object (
    workspace_id BLOB NOT NULL,
    term TEXT NOT NULL,
    record_id BLOB NOT NULL,
    object TEXT NOT NULL,
    PRIMARY KEY (workspace_id, object, term, record_id)
) WITHOUT ROWID;
INSERT INTO search_terms_by_object (workspace_id, term, record_id, object)
    SELECT workspace_id, term, record_id, object FROM search_terms;
DROP TABLE search_terms;
ALTER TABLE search_terms_by_object RENAME TO search_terms;
-- With the term in it, "does this record also have a term starting with …" is one seek.
CREATE INDEX search_terms_record ON search_terms(record_id, term);

-- The distinct Latin words of 4+ letters (kith_core::search::typo::is_vocabulary_term),
-- where a query word that matches nothing looks up its neighbours one typo away.
CREATE TABLE search_vocabulary (
    workspace_id BLOB NOT NULL,
    term TEXT NOT NULL,
    PRIMARY KEY (workspace_id, term)
) WITHOUT ROWID;
INSERT INTO search_vocabulary (workspace_id, term)
    SELECT DISTINCT workspace_id, term FROM search_terms
    WHERE length(term) BETWEEN 4 AND 48 AND term NOT GLOB '*[^a-z]*';

-- Activities and tasks were not indexed before: the server indexes these at start
-- (the tokeniser is Rust, not SQL) and removes each row in the same transaction.
CREATE TABLE search_backfill (
    workspace_id BLOB NOT NULL,
    record_id BLOB NOT NULL PRIMARY KEY,
    object TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO search_backfill (workspace_id, record_id, object)
    SELECT workspace_id, id, 'activity' FROM activities;
INSERT INTO search_backfill (workspace_id, record_id, object)
    SELECT workspace_id, id, 'task' FROM tasks;
