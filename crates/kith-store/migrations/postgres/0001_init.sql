-- Kith schema v1 (PostgreSQL). Text columns use the "C" collation so that sorting and
-- comparison agree byte for byte with SQLite, whatever the database's locale.

CREATE TABLE workspaces (
    id UUID PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    currency TEXT COLLATE "C" NOT NULL DEFAULT 'EUR',
    phone_region TEXT COLLATE "C",
    time_zone TEXT COLLATE "C" NOT NULL DEFAULT 'UTC',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE teams (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    name TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX teams_name ON teams(workspace_id, name);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    email TEXT COLLATE "C" NOT NULL UNIQUE,
    name TEXT COLLATE "C",
    password_hash TEXT COLLATE "C",
    role TEXT COLLATE "C" NOT NULL CHECK (role IN ('admin', 'member', 'read_only')),
    team_id UUID REFERENCES teams(id),
    locale TEXT COLLATE "C",
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_workspace ON users(workspace_id);

CREATE TABLE sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id),
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    csrf_token TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    user_id UUID NOT NULL REFERENCES users(id),
    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    name TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    email TEXT COLLATE "C" NOT NULL,
    role TEXT COLLATE "C" NOT NULL,
    invited_by UUID REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

CREATE TABLE login_attempts (
    email TEXT COLLATE "C" NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    succeeded BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts(email, at);

CREATE TABLE companies (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    name TEXT COLLATE "C" NOT NULL,
    domain TEXT COLLATE "C",
    website TEXT COLLATE "C",
    industry TEXT COLLATE "C",
    employees BIGINT,
    phone TEXT COLLATE "C",
    email TEXT COLLATE "C",
    address_line1 TEXT COLLATE "C",
    address_line2 TEXT COLLATE "C",
    city TEXT COLLATE "C",
    postcode TEXT COLLATE "C",
    region TEXT COLLATE "C",
    country TEXT COLLATE "C",
    owner_id UUID REFERENCES users(id),
    custom JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX companies_created ON companies(workspace_id, created_at, id);
CREATE INDEX companies_name ON companies(workspace_id, name, id);
CREATE INDEX companies_domain ON companies(workspace_id, domain);

CREATE TABLE contacts (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    first_name TEXT COLLATE "C",
    last_name TEXT COLLATE "C",
    email TEXT COLLATE "C",
    phone TEXT COLLATE "C",
    job_title TEXT COLLATE "C",
    birthday DATE,
    company_id UUID REFERENCES companies(id),
    lifecycle_stage TEXT COLLATE "C",
    source TEXT COLLATE "C",
    owner_id UUID REFERENCES users(id),
    address_line1 TEXT COLLATE "C",
    address_line2 TEXT COLLATE "C",
    city TEXT COLLATE "C",
    postcode TEXT COLLATE "C",
    region TEXT COLLATE "C",
    country TEXT COLLATE "C",
    consent JSONB NOT NULL DEFAULT '{}',
    identities JSONB NOT NULL DEFAULT '[]',
    custom JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX contacts_created ON contacts(workspace_id, created_at, id);
-- Matches the list's ORDER BY (last_name IS NULL), last_name, id: NULLs last, via the index.
CREATE INDEX contacts_last_name ON contacts(workspace_id, (last_name IS NULL), last_name, id);
CREATE INDEX contacts_last_name_desc ON contacts(workspace_id, (last_name IS NULL), last_name DESC, id DESC);
CREATE INDEX contacts_email ON contacts(workspace_id, email);
CREATE INDEX contacts_company ON contacts(company_id);

CREATE TABLE pipelines (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    name TEXT COLLATE "C" NOT NULL,
    position BIGINT
);
CREATE INDEX pipelines_ws ON pipelines(workspace_id, position);

CREATE TABLE stages (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    pipeline_id UUID NOT NULL REFERENCES pipelines(id),
    name TEXT COLLATE "C" NOT NULL,
    position BIGINT,
    probability BIGINT,
    kind TEXT COLLATE "C"
);
CREATE INDEX stages_pipeline ON stages(pipeline_id, position);

CREATE TABLE deals (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    name TEXT COLLATE "C" NOT NULL,
    pipeline_id UUID REFERENCES pipelines(id),
    stage_id UUID REFERENCES stages(id),
    amount BIGINT,
    currency TEXT COLLATE "C",
    expected_close DATE,
    company_id UUID REFERENCES companies(id),
    contact_id UUID REFERENCES contacts(id),
    owner_id UUID REFERENCES users(id),
    status TEXT COLLATE "C",
    closed_at TIMESTAMPTZ,
    lost_reason TEXT COLLATE "C",
    custom JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX deals_created ON deals(workspace_id, created_at, id);
CREATE INDEX deals_stage ON deals(stage_id);
CREATE INDEX deals_company ON deals(company_id);
CREATE INDEX deals_contact ON deals(contact_id);

CREATE TABLE deal_stage_changes (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    deal_id UUID NOT NULL REFERENCES deals(id),
    from_stage_id UUID,
    to_stage_id UUID NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    changed_by UUID
);
CREATE INDEX deal_stage_changes_deal ON deal_stage_changes(deal_id, changed_at);

CREATE TABLE activities (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    kind TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C",
    body TEXT COLLATE "C",
    occurred_at TIMESTAMPTZ,
    duration_minutes BIGINT,
    contact_id UUID REFERENCES contacts(id),
    company_id UUID REFERENCES companies(id),
    deal_id UUID REFERENCES deals(id),
    owner_id UUID REFERENCES users(id)
);
CREATE INDEX activities_created ON activities(workspace_id, created_at, id);
CREATE INDEX activities_contact ON activities(contact_id, occurred_at);
CREATE INDEX activities_company ON activities(company_id, occurred_at);
CREATE INDEX activities_deal ON activities(deal_id, occurred_at);

CREATE TABLE tasks (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    title TEXT COLLATE "C" NOT NULL,
    notes TEXT COLLATE "C",
    due_at TIMESTAMPTZ,
    remind_at TIMESTAMPTZ,
    assignee_id UUID REFERENCES users(id),
    priority TEXT COLLATE "C",
    done BOOLEAN,
    done_at TIMESTAMPTZ,
    contact_id UUID REFERENCES contacts(id),
    company_id UUID REFERENCES companies(id),
    deal_id UUID REFERENCES deals(id)
);
CREATE INDEX tasks_created ON tasks(workspace_id, created_at, id);
CREATE INDEX tasks_assignee ON tasks(assignee_id, done, due_at);
CREATE INDEX tasks_contact ON tasks(contact_id);
CREATE INDEX tasks_company ON tasks(company_id);
CREATE INDEX tasks_deal ON tasks(deal_id);

CREATE TABLE tags (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    name TEXT COLLATE "C" NOT NULL,
    color TEXT COLLATE "C"
);
CREATE UNIQUE INDEX tags_name ON tags(workspace_id, name);

CREATE TABLE taggings (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    record_id UUID NOT NULL,
    tag_id UUID NOT NULL REFERENCES tags(id),
    PRIMARY KEY (record_id, tag_id)
);
CREATE INDEX taggings_tag ON taggings(tag_id);

CREATE TABLE field_definitions (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    object TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    label TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    options JSONB NOT NULL DEFAULT '[]'
);
-- Not partial: a key once used keeps its type forever, so stored values never change meaning.
CREATE UNIQUE INDEX field_definitions_key ON field_definitions(workspace_id, object, key);

CREATE TABLE views (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    name TEXT COLLATE "C" NOT NULL,
    object TEXT COLLATE "C" NOT NULL,
    filter TEXT COLLATE "C",
    sort TEXT COLLATE "C",
    columns JSONB NOT NULL DEFAULT '[]',
    shared BOOLEAN,
    owner_id UUID REFERENCES users(id)
);
CREATE INDEX views_ws ON views(workspace_id, object, name);

CREATE TABLE identities (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    contact_id UUID NOT NULL REFERENCES contacts(id),
    kind TEXT COLLATE "C" NOT NULL,
    channel TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (contact_id, kind, channel, value)
);
CREATE INDEX identities_value ON identities(workspace_id, kind, value);

CREATE TABLE search_terms (
    workspace_id UUID NOT NULL,
    term TEXT COLLATE "C" NOT NULL,
    record_id UUID NOT NULL,
    object TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (workspace_id, term, record_id)
);
CREATE INDEX search_terms_record ON search_terms(record_id);

CREATE TABLE audit_log (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    at TIMESTAMPTZ NOT NULL,
    actor_id UUID,
    action TEXT COLLATE "C" NOT NULL,
    object TEXT COLLATE "C" NOT NULL,
    record_id UUID NOT NULL,
    changes JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_record ON audit_log(record_id, at);

CREATE TABLE events (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    at TIMESTAMPTZ NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    object TEXT COLLATE "C" NOT NULL,
    record_id UUID NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    processed_at TIMESTAMPTZ
);
CREATE INDEX events_pending ON events(processed_at, id);
