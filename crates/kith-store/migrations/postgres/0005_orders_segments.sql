-- Orders and what they tell about customers; segments and who is in them.

ALTER TABLE contacts ADD COLUMN utm_source TEXT COLLATE "C";
ALTER TABLE contacts ADD COLUMN utm_medium TEXT COLLATE "C";
ALTER TABLE contacts ADD COLUMN utm_campaign TEXT COLLATE "C";
ALTER TABLE contacts ADD COLUMN source_group TEXT COLLATE "C";
ALTER TABLE contacts ADD COLUMN order_count BIGINT;
ALTER TABLE contacts ADD COLUMN lifetime_value BIGINT;
ALTER TABLE contacts ADD COLUMN average_order_value BIGINT;
ALTER TABLE contacts ADD COLUMN first_order_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN last_order_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN last_activity_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN rfm_recency BIGINT;
ALTER TABLE contacts ADD COLUMN rfm_frequency BIGINT;
ALTER TABLE contacts ADD COLUMN rfm_monetary BIGINT;
ALTER TABLE contacts ADD COLUMN rfm_group TEXT COLLATE "C";
ALTER TABLE contacts ADD COLUMN behaviour TEXT COLLATE "C";
ALTER TABLE contacts ADD COLUMN value_tier TEXT COLLATE "C";
ALTER TABLE companies ADD COLUMN order_count BIGINT;
ALTER TABLE companies ADD COLUMN lifetime_value BIGINT;
ALTER TABLE companies ADD COLUMN average_order_value BIGINT;
ALTER TABLE companies ADD COLUMN first_order_at TIMESTAMPTZ;
ALTER TABLE companies ADD COLUMN last_order_at TIMESTAMPTZ;
CREATE INDEX contacts_rfm_group ON contacts(workspace_id, rfm_group);
CREATE INDEX contacts_behaviour ON contacts(workspace_id, behaviour);
CREATE INDEX contacts_lifetime_value ON contacts(workspace_id, lifetime_value);

CREATE TABLE orders (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    number TEXT COLLATE "C",
    contact_id UUID REFERENCES contacts(id),
    company_id UUID REFERENCES companies(id),
    ordered_at TIMESTAMPTZ,
    status TEXT COLLATE "C",
    channel TEXT COLLATE "C",
    currency TEXT COLLATE "C",
    total BIGINT,
    lines JSONB NOT NULL DEFAULT '[]',
    owner_id UUID REFERENCES users(id)
);
CREATE INDEX orders_created ON orders(workspace_id, created_at, id);
CREATE INDEX orders_ordered ON orders(workspace_id, ordered_at, id);
-- Per-customer figures and "orders in the last 90 days" read a customer's orders by time.
CREATE INDEX orders_contact ON orders(contact_id, ordered_at);
CREATE INDEX orders_company ON orders(company_id, ordered_at);
CREATE UNIQUE INDEX orders_number ON orders(workspace_id, number) WHERE number IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE segments (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    name TEXT COLLATE "C" NOT NULL,
    object TEXT COLLATE "C" NOT NULL,
    filter TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C",
    owner_id UUID REFERENCES users(id),
    member_count BIGINT,
    refreshed_at TIMESTAMPTZ
);
CREATE INDEX segments_ws ON segments(workspace_id, object, name);

-- Who was in each segment at its last refresh; the difference to the next refresh is
-- the entered/left events.
CREATE TABLE segment_members (
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    segment_id UUID NOT NULL REFERENCES segments(id),
    record_id UUID NOT NULL,
    entered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (segment_id, record_id)
);
CREATE INDEX segment_members_record ON segment_members(record_id);

-- A workspace's thresholds for behaviour and value, and when they were last applied.
CREATE TABLE segmentation_settings (
    workspace_id UUID PRIMARY KEY REFERENCES workspaces(id),
    settings JSONB NOT NULL DEFAULT '{}',
    recomputed_at TIMESTAMPTZ
);
