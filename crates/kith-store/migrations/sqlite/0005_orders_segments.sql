-- Orders and what they tell about customers; segments and who is in them.

ALTER TABLE contacts ADD COLUMN utm_source TEXT;
ALTER TABLE contacts ADD COLUMN utm_medium TEXT;
ALTER TABLE contacts ADD COLUMN utm_campaign TEXT;
ALTER TABLE contacts ADD COLUMN source_group TEXT;
ALTER TABLE contacts ADD COLUMN order_count INTEGER;
ALTER TABLE contacts ADD COLUMN lifetime_value INTEGER;
ALTER TABLE contacts ADD COLUMN average_order_value INTEGER;
ALTER TABLE contacts ADD COLUMN first_order_at TEXT;
ALTER TABLE contacts ADD COLUMN last_order_at TEXT;
ALTER TABLE contacts ADD COLUMN last_activity_at TEXT;
ALTER TABLE contacts ADD COLUMN rfm_recency INTEGER;
ALTER TABLE contacts ADD COLUMN rfm_frequency INTEGER;
ALTER TABLE contacts ADD COLUMN rfm_monetary INTEGER;
ALTER TABLE contacts ADD COLUMN rfm_group TEXT;
ALTER TABLE contacts ADD COLUMN behaviour TEXT;
ALTER TABLE contacts ADD COLUMN value_tier TEXT;
ALTER TABLE companies ADD COLUMN order_count INTEGER;
ALTER TABLE companies ADD COLUMN lifetime_value INTEGER;
ALTER TABLE companies ADD COLUMN average_order_value INTEGER;
ALTER TABLE companies ADD COLUMN first_order_at TEXT;
ALTER TABLE companies ADD COLUMN last_order_at TEXT;
CREATE INDEX contacts_rfm_group ON contacts(workspace_id, rfm_group);
CREATE INDEX contacts_behaviour ON contacts(workspace_id, behaviour);
CREATE INDEX contacts_lifetime_value ON contacts(workspace_id, lifetime_value);

CREATE TABLE orders (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    number TEXT,
    contact_id BLOB REFERENCES contacts(id),
    company_id BLOB REFERENCES companies(id),
    ordered_at TEXT,
    status TEXT,
    channel TEXT,
    currency TEXT,
    total INTEGER,
    lines TEXT NOT NULL DEFAULT '[]',
    owner_id BLOB REFERENCES users(id)
);
CREATE INDEX orders_created ON orders(workspace_id, created_at, id);
CREATE INDEX orders_ordered ON orders(workspace_id, ordered_at, id);
-- Per-customer figures and "orders in the last 90 days" read a customer's orders by time.
CREATE INDEX orders_contact ON orders(contact_id, ordered_at);
CREATE INDEX orders_company ON orders(company_id, ordered_at);
CREATE UNIQUE INDEX orders_number ON orders(workspace_id, number) WHERE number IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE segments (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    name TEXT NOT NULL,
    object TEXT NOT NULL,
    filter TEXT NOT NULL,
    description TEXT,
    owner_id BLOB REFERENCES users(id),
    member_count INTEGER,
    refreshed_at TEXT
);
CREATE INDEX segments_ws ON segments(workspace_id, object, name);

-- Who was in each segment at its last refresh; the difference to the next refresh is
-- the entered/left events.
CREATE TABLE segment_members (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    segment_id BLOB NOT NULL REFERENCES segments(id),
    record_id BLOB NOT NULL,
    entered_at TEXT NOT NULL,
    PRIMARY KEY (segment_id, record_id)
);
CREATE INDEX segment_members_record ON segment_members(record_id);

-- A workspace's thresholds for behaviour and value, and when they were last applied.
CREATE TABLE segmentation_settings (
    workspace_id BLOB PRIMARY KEY REFERENCES workspaces(id),
    settings TEXT NOT NULL DEFAULT '{}',
    recomputed_at TEXT
);
