//! The CRM's objects and their built-in fields. Every layer above reads these specs:
//! the store to build SQL, the app to validate input, the web layer to write OpenAPI.

use crate::fields::Kind;

mod commerce;

use commerce::{CUSTOMER_VALUE, ORDER, SCORE, SEGMENT};
pub use commerce::{ORDER_CHANNELS, ORDER_STATUSES, SEGMENTABLE};

/// Every object a workspace holds that the generic record API serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// An organisation a business sells to.
    Company,
    /// A person.
    Contact,
    /// A sales opportunity in a pipeline.
    Deal,
    /// A note, call, email or meeting.
    Activity,
    /// Something someone has to do.
    Task,
    /// An ordered set of deal stages.
    Pipeline,
    /// One step of a pipeline, with its win probability.
    Stage,
    /// A label put on companies, contacts and deals.
    Tag,
    /// A custom field of companies, contacts or deals.
    FieldDefinition,
    /// A saved list view: filter, sort and columns, private or shared.
    View,
    /// A purchase: line items, channel, status; feeds value, RFM and behaviour.
    Order,
    /// A saved filter over contacts or companies whose members are tracked.
    Segment,
}

/// One built-in field of an object.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// JSON and column name.
    pub name: &'static str,
    /// Type and validation rule.
    pub kind: Kind,
    /// Must be given on create and may not be cleared.
    pub required: bool,
    /// May be set on create but never changed afterwards.
    pub create_only: bool,
    /// Computed by Kith; never written by a client.
    pub read_only: bool,
    /// One line for the API reference.
    pub doc: &'static str,
}

const fn f(name: &'static str, kind: Kind, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: false,
        create_only: false,
        read_only: false,
        doc,
    }
}
const fn req(name: &'static str, kind: Kind, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: true,
        create_only: false,
        read_only: false,
        doc,
    }
}
const fn ro(name: &'static str, kind: Kind, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: false,
        create_only: false,
        read_only: true,
        doc,
    }
}
const fn once(name: &'static str, kind: Kind, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: true,
        create_only: true,
        read_only: false,
        doc,
    }
}

/// Stages of a contact's relationship with the business, in order.
pub const LIFECYCLE_STAGES: &[&str] = &[
    "subscriber",
    "lead",
    "mql",
    "sql",
    "opportunity",
    "customer",
    "advocate",
    "other",
];
/// Kinds of activity on a timeline.
pub const ACTIVITY_KINDS: &[&str] = &["note", "call", "email", "meeting"];
/// Which way an email activity went.
pub const EMAIL_DIRECTIONS: &[&str] = &["outbound", "inbound"];
/// What became of an email activity.
pub const EMAIL_STATUSES: &[&str] = &["sent", "failed", "received"];
/// Whether a stage is still open or ends the deal.
pub const STAGE_KINDS: &[&str] = &["open", "won", "lost"];
/// Task priorities.
pub const PRIORITIES: &[&str] = &["low", "normal", "high"];
/// Objects that can carry custom fields.
pub const CUSTOMISABLE: &[&str] = &["company", "contact", "deal"];

const T: usize = 200;

const ADDRESS: [FieldSpec; 6] = [
    f("address_line1", Kind::Text(T), "Street and number."),
    f("address_line2", Kind::Text(T), "Second address line."),
    f("city", Kind::Text(T), "City."),
    f("postcode", Kind::Text(20), "Postal code."),
    f("region", Kind::Text(T), "State, province or region."),
    f("country", Kind::Country, "ISO 3166-1 alpha-2 country code."),
];

const COMPANY: &[FieldSpec] = &[
    req("name", Kind::Text(T), "Company name."),
    f(
        "domain",
        Kind::Domain,
        "Web domain, e.g. example.com; taken from the website when a new company has none.",
    ),
    f("website", Kind::Url, "Website URL."),
    f("industry", Kind::Text(T), "Industry."),
    f(
        "employees",
        Kind::Int {
            min: 0,
            max: 10_000_000,
        },
        "Number of employees.",
    ),
    f(
        "phone",
        Kind::Phone,
        "Main phone number, stored in E.164 (an extension follows as `;ext=12`).",
    ),
    f("email", Kind::Email, "Main email address."),
    ADDRESS[0],
    ADDRESS[1],
    ADDRESS[2],
    ADDRESS[3],
    ADDRESS[4],
    ADDRESS[5],
    f("owner_id", Kind::UserRef, "User who owns the company."),
    CUSTOMER_VALUE[0],
    CUSTOMER_VALUE[1],
    CUSTOMER_VALUE[2],
    CUSTOMER_VALUE[3],
    CUSTOMER_VALUE[4],
];

const CONTACT: &[FieldSpec] = &[
    f("first_name", Kind::Text(T), "Given name."),
    f("last_name", Kind::Text(T), "Family name."),
    f("email", Kind::Email, "Primary email address (lower-cased)."),
    f(
        "phone",
        Kind::Phone,
        "Primary phone number in E.164 (an extension follows as `;ext=12`).",
    ),
    f("job_title", Kind::Text(T), "Job title."),
    f("birthday", Kind::Date, "Date of birth, YYYY-MM-DD."),
    f(
        "company_id",
        Kind::Ref(ObjectKind::Company),
        "Company the contact works for.",
    ),
    f(
        "lifecycle_stage",
        Kind::Choice(LIFECYCLE_STAGES),
        "Lifecycle stage.",
    ),
    f("source", Kind::Text(100), "Where the contact came from."),
    f(
        "utm_source",
        Kind::Text(200),
        "utm_source of the visit that brought the contact.",
    ),
    f(
        "utm_medium",
        Kind::Text(200),
        "utm_medium, e.g. cpc, email, referral.",
    ),
    f("utm_campaign", Kind::Text(200), "utm_campaign."),
    f("owner_id", Kind::UserRef, "User who owns the contact."),
    ADDRESS[0],
    ADDRESS[1],
    ADDRESS[2],
    ADDRESS[3],
    ADDRESS[4],
    ADDRESS[5],
    f(
        "consent",
        Kind::Consent,
        "Consent per channel: granted, denied or unknown.",
    ),
    f(
        "identities",
        Kind::Identities,
        "Further emails, phones and external ids.",
    ),
    ro(
        "source_group",
        Kind::Choice(crate::segmentation::SOURCE_GROUPS),
        "organic, paid, referral or other: from source and UTM fields.",
    ),
    CUSTOMER_VALUE[0],
    CUSTOMER_VALUE[1],
    CUSTOMER_VALUE[2],
    CUSTOMER_VALUE[3],
    CUSTOMER_VALUE[4],
    ro(
        "last_activity_at",
        Kind::DateTime,
        "When the last note, call, email or meeting happened.",
    ),
    ro(
        "rfm_recency",
        SCORE,
        "RFM recency score 1–5 (5: bought most recently).",
    ),
    ro(
        "rfm_frequency",
        SCORE,
        "RFM frequency score 1–5 (5: buys most often).",
    ),
    ro(
        "rfm_monetary",
        SCORE,
        "RFM monetary score 1–5 (5: spends the most).",
    ),
    ro(
        "rfm_group",
        Kind::Choice(crate::segmentation::RFM_GROUPS),
        "Named RFM group: champions, loyal, at_risk, cant_lose_them, hibernating …",
    ),
    ro(
        "behaviour",
        Kind::Choice(crate::segmentation::BEHAVIOURS),
        "active, at_risk, dormant or churned: from recency of orders and activity.",
    ),
    ro(
        "value_tier",
        Kind::Choice(crate::segmentation::VALUE_TIERS),
        "high_value, standard or new: from lifetime revenue and order history.",
    ),
];

const DEAL: &[FieldSpec] = &[
    req("name", Kind::Text(T), "Deal name."),
    f(
        "pipeline_id",
        Kind::Ref(ObjectKind::Pipeline),
        "Pipeline (defaults from the stage).",
    ),
    f(
        "stage_id",
        Kind::Ref(ObjectKind::Stage),
        "Current stage (defaults to the first).",
    ),
    f(
        "amount",
        Kind::Int {
            min: 0,
            max: i64::MAX / 4,
        },
        "Value in minor units (øre, fen, cents).",
    ),
    f(
        "currency",
        Kind::Currency,
        "ISO 4217 code; defaults to the workspace's.",
    ),
    f("expected_close", Kind::Date, "Expected close date."),
    f("company_id", Kind::Ref(ObjectKind::Company), "Company."),
    f(
        "contact_id",
        Kind::Ref(ObjectKind::Contact),
        "Main contact.",
    ),
    f("owner_id", Kind::UserRef, "User who owns the deal."),
    ro(
        "status",
        Kind::Choice(STAGE_KINDS),
        "open, won or lost: follows the stage.",
    ),
    ro(
        "closed_at",
        Kind::DateTime,
        "When the deal was won or lost.",
    ),
    f("lost_reason", Kind::Text(500), "Why the deal was lost."),
];

const ACTIVITY: &[FieldSpec] = &[
    req(
        "kind",
        Kind::Choice(ACTIVITY_KINDS),
        "note, call, email or meeting.",
    ),
    f("subject", Kind::Text(300), "Subject."),
    f(
        "body",
        Kind::LongText,
        "Text of the note, call log, email or meeting minutes.",
    ),
    f(
        "occurred_at",
        Kind::DateTime,
        "When it happened; defaults to now.",
    ),
    f(
        "duration_minutes",
        Kind::Int {
            min: 0,
            max: 100_000,
        },
        "Length of a call or meeting.",
    ),
    f("contact_id", Kind::Ref(ObjectKind::Contact), "Contact."),
    f("company_id", Kind::Ref(ObjectKind::Company), "Company."),
    f("deal_id", Kind::Ref(ObjectKind::Deal), "Deal."),
    f(
        "owner_id",
        Kind::UserRef,
        "User who logged it; defaults to the caller.",
    ),
    ro(
        "direction",
        Kind::Choice(EMAIL_DIRECTIONS),
        "For an email: outbound (sent from Kith) or inbound (a reply fetched by IMAP).",
    ),
    ro(
        "message_id",
        Kind::Text(998),
        "For an email: its Message-ID.",
    ),
    ro(
        "in_reply_to",
        Kind::Text(998),
        "For an inbound email: the Message-ID it answers.",
    ),
    ro(
        "email_status",
        Kind::Choice(EMAIL_STATUSES),
        "For an email: sent, failed or received.",
    ),
    ro(
        "email_error",
        Kind::LongText,
        "For a failed email: the mail server's reason.",
    ),
];

const TASK: &[FieldSpec] = &[
    req("title", Kind::Text(300), "What to do."),
    f("notes", Kind::LongText, "Details."),
    f("due_at", Kind::DateTime, "When it is due."),
    f("remind_at", Kind::DateTime, "When to remind the assignee."),
    f(
        "assignee_id",
        Kind::UserRef,
        "User who does it; defaults to the caller.",
    ),
    f("priority", Kind::Choice(PRIORITIES), "low, normal or high."),
    f("done", Kind::Bool, "Whether it is done."),
    ro("done_at", Kind::DateTime, "When it was marked done."),
    f("contact_id", Kind::Ref(ObjectKind::Contact), "Contact."),
    f("company_id", Kind::Ref(ObjectKind::Company), "Company."),
    f("deal_id", Kind::Ref(ObjectKind::Deal), "Deal."),
];

const PIPELINE: &[FieldSpec] = &[
    req("name", Kind::Text(T), "Pipeline name."),
    f(
        "position",
        Kind::Int {
            min: 0,
            max: 1_000_000,
        },
        "Order among pipelines.",
    ),
];

const STAGE: &[FieldSpec] = &[
    once(
        "pipeline_id",
        Kind::Ref(ObjectKind::Pipeline),
        "Pipeline the stage belongs to.",
    ),
    req("name", Kind::Text(T), "Stage name."),
    f(
        "position",
        Kind::Int {
            min: 0,
            max: 1_000_000,
        },
        "Order within the pipeline.",
    ),
    f(
        "probability",
        Kind::Int { min: 0, max: 100 },
        "Win probability in percent.",
    ),
    f("kind", Kind::Choice(STAGE_KINDS), "open, won or lost."),
];

const TAG: &[FieldSpec] = &[
    req(
        "name",
        Kind::Text(100),
        "Tag name, unique in the workspace.",
    ),
    f("color", Kind::Text(20), "Display colour, e.g. #3366ff."),
];

const FIELD_DEFINITION: &[FieldSpec] = &[
    once(
        "object",
        Kind::Choice(CUSTOMISABLE),
        "company, contact or deal.",
    ),
    once(
        "key",
        Kind::Key,
        "Key in `custom`: lower-case letters, digits, underscore.",
    ),
    req("label", Kind::Text(T), "Label shown to people."),
    once(
        "kind",
        Kind::Choice(crate::fields::CUSTOM_KINDS),
        "Value type.",
    ),
    f(
        "options",
        Kind::Options,
        "Allowed values of select and multi_select fields.",
    ),
];

/// Objects that list views can show.
pub const VIEWABLE: &[&str] = &["contact", "company", "deal"];

const VIEW: &[FieldSpec] = &[
    req("name", Kind::Text(T), "Name of the view."),
    once(
        "object",
        Kind::Choice(VIEWABLE),
        "contact, company or deal.",
    ),
    f(
        "filter",
        Kind::Text(10_000),
        "Filter in text form, e.g. `city = Aarhus and tags has vip`.",
    ),
    f("sort", Kind::Text(100), "Sort: `field` or `-field`."),
    f(
        "columns",
        Kind::Options,
        "Fields shown as columns, in order.",
    ),
    f(
        "shared",
        Kind::Bool,
        "Visible to the whole workspace (otherwise only to its owner).",
    ),
    f(
        "owner_id",
        Kind::UserRef,
        "Who made it; defaults to the caller.",
    ),
];

/// A link from one object to another that filters follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    /// The related object.
    pub target: ObjectKind,
    /// The linking column: on the object itself for a to-one link (`company_id` of a
    /// contact), on the target for a to-many link (`contact_id` of an order).
    pub key: &'static str,
    /// Whether many related records may exist.
    pub many: bool,
}

impl ObjectKind {
    /// The to-one link called `name`: `company` of a contact is its `company_id`.
    pub fn to_one(self, name: &str) -> Option<Relation> {
        self.fields().iter().find_map(|f| match f.kind {
            Kind::Ref(target) if f.name.strip_suffix("_id") == Some(name) => Some(Relation {
                target,
                key: f.name,
                many: false,
            }),
            _ => None,
        })
    }

    /// The to-many link called `name`: `orders` of a contact are the orders whose
    /// `contact_id` it is.
    pub fn to_many(self, name: &str) -> Option<Relation> {
        let target = Self::from_plural(name)?;
        target.fields().iter().find_map(|f| match f.kind {
            Kind::Ref(o) if o == self && f.name.strip_suffix("_id") == Some(self.singular()) => {
                Some(Relation {
                    target,
                    key: f.name,
                    many: true,
                })
            }
            _ => None,
        })
    }

    /// All objects served by the record API.
    pub const ALL: [ObjectKind; 12] = [
        ObjectKind::Company,
        ObjectKind::Contact,
        ObjectKind::Deal,
        ObjectKind::Activity,
        ObjectKind::Task,
        ObjectKind::Pipeline,
        ObjectKind::Stage,
        ObjectKind::Tag,
        ObjectKind::FieldDefinition,
        ObjectKind::View,
        ObjectKind::Order,
        ObjectKind::Segment,
    ];

    /// Table name, identical on both backends.
    pub fn table(self) -> &'static str {
        self.plural()
    }

    /// Plural, snake_case: the API path segment.
    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::Company => "companies",
            ObjectKind::Contact => "contacts",
            ObjectKind::Deal => "deals",
            ObjectKind::Activity => "activities",
            ObjectKind::Task => "tasks",
            ObjectKind::Pipeline => "pipelines",
            ObjectKind::Stage => "stages",
            ObjectKind::Tag => "tags",
            ObjectKind::FieldDefinition => "field_definitions",
            ObjectKind::View => "views",
            ObjectKind::Order => "orders",
            ObjectKind::Segment => "segments",
        }
    }

    /// Singular, snake_case: used in events, audit entries and schema names.
    pub fn singular(self) -> &'static str {
        match self {
            ObjectKind::Company => "company",
            ObjectKind::Contact => "contact",
            ObjectKind::Deal => "deal",
            ObjectKind::Activity => "activity",
            ObjectKind::Task => "task",
            ObjectKind::Pipeline => "pipeline",
            ObjectKind::Stage => "stage",
            ObjectKind::Tag => "tag",
            ObjectKind::FieldDefinition => "field_definition",
            ObjectKind::View => "view",
            ObjectKind::Order => "order",
            ObjectKind::Segment => "segment",
        }
    }

    /// The object whose plural is `s`.
    pub fn from_plural(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.plural() == s)
    }

    /// The object whose singular is `s`.
    pub fn from_singular(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.singular() == s)
    }

    /// Built-in fields.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            ObjectKind::Company => COMPANY,
            ObjectKind::Contact => CONTACT,
            ObjectKind::Deal => DEAL,
            ObjectKind::Activity => ACTIVITY,
            ObjectKind::Task => TASK,
            ObjectKind::Pipeline => PIPELINE,
            ObjectKind::Stage => STAGE,
            ObjectKind::Tag => TAG,
            ObjectKind::FieldDefinition => FIELD_DEFINITION,
            ObjectKind::View => VIEW,
            ObjectKind::Order => ORDER,
            ObjectKind::Segment => SEGMENT,
        }
    }

    /// The built-in field called `name`.
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Companies, contacts and deals carry custom fields and tags and have a timeline.
    pub fn is_customisable(self) -> bool {
        matches!(
            self,
            ObjectKind::Company | ObjectKind::Contact | ObjectKind::Deal
        )
    }

    /// Whether the record is indexed for search (`q=` on lists and the global search).
    pub fn is_searchable(self) -> bool {
        matches!(
            self,
            ObjectKind::Company
                | ObjectKind::Contact
                | ObjectKind::Deal
                | ObjectKind::Activity
                | ObjectKind::Task
        )
    }

    /// The order of a list when the caller names none.
    pub fn default_sort(self) -> &'static str {
        match self {
            ObjectKind::Pipeline | ObjectKind::Stage => "position",
            ObjectKind::Tag | ObjectKind::View | ObjectKind::Segment => "name",
            ObjectKind::Order => "ordered_at",
            _ => "created_at",
        }
    }
}
