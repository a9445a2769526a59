-- Global search. The terms' key now leads with the object, so that each group of a
-- search (contacts, companies, deals, activities, tasks) reads its own range and a
-- common name among a million contacts does not hide the company of that name.
ALTER TABLE search_terms DROP CONSTRAINT search_terms_pkey;
ALTER TABLE search_terms ADD PRIMARY KEY (workspace_id, object, term, record_id);
-- With the term in it, "does this record also have a term starting with …" is answered
-- from the index alone.
DROP INDEX search_terms_record;
CREATE INDEX search_terms_record ON search_terms(record_id, term);

-- The distinct Latin words of 4+ letters (kith_core::search::typo::is_vocabulary_term),
-- where a query word that matches nothing looks up its neighbours one typo away.
CREATE TABLE search_vocabulary (
    workspace_id UUID NOT NULL,
    term TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (workspace_id, term)
);
INSERT INTO search_vocabulary (workspace_id, term)
    SELECT DISTINCT workspace_id, term FROM search_terms WHERE term ~ '^[a-z]{4,48}$';

-- Activities and tasks were not indexed before: the server indexes these at start
-- (the tokeniser is Rust, not SQL) and removes each row in the same transaction.
CREATE TABLE search_backfill (
    workspace_id UUID NOT NULL,
    record_id UUID NOT NULL PRIMARY KEY,
    object TEXT COLLATE "C" NOT NULL
);
INSERT INTO search_backfill (workspace_id, record_id, object)
    SELECT workspace_id, id, 'activity' FROM activities;
INSERT INTO search_backfill (workspace_id, record_id, object)
    SELECT workspace_id, id, 'task' FROM tasks;
