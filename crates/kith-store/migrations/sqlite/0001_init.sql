-- Kith schema v1 (SQLite). Ids are 16-byte UUIDv7 blobs; timestamps fixed-width
-- RFC 3339 UTC text (so text order is time order); dates YYYY-MM-DD; JSON as text.

CREATE TABLE workspaces (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL DEFAULT 'EUR',
    phone_region TEXT,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    created_at TEXT NOT NULL
);

CREATE TABLE teams (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX teams_name ON teams(workspace_id, name);

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member', 'read_only')),
    team_id BLOB REFERENCES teams(id),
    locale TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX users_workspace ON users(workspace_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id),
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    user_id BLOB NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by BLOB REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE login_attempts (
    email TEXT NOT NULL,
    at TEXT NOT NULL,
    succeeded INTEGER NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts(email, at);

CREATE TABLE companies (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    name TEXT NOT NULL,
    domain TEXT,
    website TEXT,
    industry TEXT,
    employees INTEGER,
    phone TEXT,
    email TEXT,
    address_line1 TEXT,
    address_line2 TEXT,
    city TEXT,
    postcode TEXT,
    region TEXT,
    country TEXT,
    owner_id BLOB REFERENCES users(id),
    custom TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX companies_created ON companies(workspace_id, created_at, id);
CREATE INDEX companies_name ON companies(workspace_id, name, id);
CREATE INDEX companies_domain ON companies(workspace_id, domain);

CREATE TABLE contacts (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    phone TEXT,
    job_title TEXT,
    birthday TEXT,
    company_id BLOB REFERENCES companies(id),
    lifecycle_stage TEXT,
    source TEXT,
    owner_id BLOB REFERENCES users(id),
    address_line1 TEXT,
    address_line2 TEXT,
    city TEXT,
    postcode TEXT,
    region TEXT,
    country TEXT,
    consent TEXT NOT NULL DEFAULT '{}',
    identities TEXT NOT NULL DEFAULT '[]',
    custom TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX contacts_created ON contacts(workspace_id, created_at, id);
-- Matches the list's ORDER BY (last_name IS NULL), last_name, id: NULLs last, via the index.
CREATE INDEX contacts_last_name ON contacts(workspace_id, (last_name IS NULL), last_name, id);
CREATE INDEX contacts_last_name_desc ON contacts(workspace_id, (last_name IS NULL), last_name DESC, id DESC);
CREATE INDEX contacts_email ON contacts(workspace_id, email);
CREATE INDEX contacts_company ON contacts(company_id);

CREATE TABLE pipelines (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    name TEXT NOT NULL,
    position INTEGER
);
CREATE INDEX pipelines_ws ON pipelines(workspace_id, position);

CREATE TABLE stages (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    pipeline_id BLOB NOT NULL REFERENCES pipelines(id),
    name TEXT NOT NULL,
    position INTEGER,
    probability INTEGER,
    kind TEXT
);
CREATE INDEX stages_pipeline ON stages(pipeline_id, position);

CREATE TABLE deals (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    name TEXT NOT NULL,
    pipeline_id BLOB REFERENCES pipelines(id),
    stage_id BLOB REFERENCES stages(id),
    amount INTEGER,
    currency TEXT,
    expected_close TEXT,
    company_id BLOB REFERENCES companies(id),
    contact_id BLOB REFERENCES contacts(id),
    owner_id BLOB REFERENCES users(id),
    status TEXT,
    closed_at TEXT,
    lost_reason TEXT,
    custom TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX deals_created ON deals(workspace_id, created_at, id);
CREATE INDEX deals_stage ON deals(stage_id);
CREATE INDEX deals_company ON deals(company_id);
CREATE INDEX deals_contact ON deals(contact_id);

CREATE TABLE deal_stage_changes (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    deal_id BLOB NOT NULL REFERENCES deals(id),
    from_stage_id BLOB,
    to_stage_id BLOB NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by BLOB
);
CREATE INDEX deal_stage_changes_deal ON deal_stage_changes(deal_id, changed_at);

CREATE TABLE activities (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    kind TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    occurred_at TEXT,
    duration_minutes INTEGER,
    contact_id BLOB REFERENCES contacts(id),
    company_id BLOB REFERENCES companies(id),
    deal_id BLOB REFERENCES deals(id),
    owner_id BLOB REFERENCES users(id)
);
CREATE INDEX activities_created ON activities(workspace_id, created_at, id);
CREATE INDEX activities_contact ON activities(contact_id, occurred_at);
CREATE INDEX activities_company ON activities(company_id, occurred_at);
CREATE INDEX activities_deal ON activities(deal_id, occurred_at);

CREATE TABLE tasks (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    title TEXT NOT NULL,
    notes TEXT,
    due_at TEXT,
    remind_at TEXT,
    assignee_id BLOB REFERENCES users(id),
    priority TEXT,
    done INTEGER,
    done_at TEXT,
    contact_id BLOB REFERENCES contacts(id),
    company_id BLOB REFERENCES companies(id),
    deal_id BLOB REFERENCES deals(id)
);
CREATE INDEX tasks_created ON tasks(workspace_id, created_at, id);
CREATE INDEX tasks_assignee ON tasks(assignee_id, done, due_at);
CREATE INDEX tasks_contact ON tasks(contact_id);
CREATE INDEX tasks_company ON tasks(company_id);
CREATE INDEX tasks_deal ON tasks(deal_id);

CREATE TABLE tags (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    name TEXT NOT NULL,
    color TEXT
);
CREATE UNIQUE INDEX tags_name ON tags(workspace_id, name);

CREATE TABLE taggings (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    record_id BLOB NOT NULL,
    tag_id BLOB NOT NULL REFERENCES tags(id),
    PRIMARY KEY (record_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX taggings_tag ON taggings(tag_id);

CREATE TABLE field_definitions (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    object TEXT NOT NULL,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '[]'
);
-- Not partial: a key once used keeps its type forever, so stored values never change meaning.
CREATE UNIQUE INDEX field_definitions_key ON field_definitions(workspace_id, object, key);

CREATE TABLE views (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    name TEXT NOT NULL,
    object TEXT NOT NULL,
    filter TEXT,
    sort TEXT,
    columns TEXT NOT NULL DEFAULT '[]',
    shared INTEGER,
    owner_id BLOB REFERENCES users(id)
);
CREATE INDEX views_ws ON views(workspace_id, object, name);

CREATE TABLE identities (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    contact_id BLOB NOT NULL REFERENCES contacts(id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (contact_id, kind, channel, value)
) WITHOUT ROWID;
CREATE INDEX identities_value ON identities(workspace_id, kind, value);

CREATE TABLE search_terms (
    workspace_id BLOB NOT NULL,
    term TEXT NOT NULL,
    record_id BLOB NOT NULL,
    object TEXT NOT NULL,
    PRIMARY KEY (workspace_id, term, record_id)
) WITHOUT ROWID;
CREATE INDEX search_terms_record ON search_terms(record_id);

CREATE TABLE audit_log (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    at TEXT NOT NULL,
    actor_id BLOB,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    record_id BLOB NOT NULL,
    changes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_record ON audit_log(record_id, at);

CREATE TABLE events (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    object TEXT NOT NULL,
    record_id BLOB NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    processed_at TEXT
);
CREATE INDEX events_pending ON events(processed_at, id);
