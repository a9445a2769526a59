//! Kith's use cases: every read and write a person or a program makes, with its
//! permission check, validation, audit entry and domain event.
//!
//! Not for: HTTP or CLI parsing (kith-web, kith), SQL (kith-store). Every mutation goes
//! through here and writes the row, the audit entry and the event in one transaction.

pub mod accounts;
pub mod calendar;
pub mod campaigns;
pub mod dedup;
pub mod demo;
pub mod export;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod notifications;
mod orders;
mod pipeline;
pub mod records;
mod rules;
pub mod search;
mod search_index;
pub mod segmentation;
pub mod segments;
mod trust;
pub mod workflows;

use kith_store::accounts::{User, Workspace};
use kith_store::Db;

pub use kith_store::records::Record;
pub use kith_store::timeline::Entry as TimelineEntry;
pub use trust::{ExtraCa, ExtraCaError};

/// The application: a handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    db: Db,
    /// Wakes this process's job worker when a job is enqueued here.
    jobs_wake: std::sync::Arc<tokio::sync::Notify>,
    /// Each workspace's mailer with the settings it was built from (pooled connections).
    mailers: mail::MailerCache,
    /// The client workflow webhooks go out with (its trusted roots).
    webhooks: workflows::WebhookClient,
    /// What TLS connections to mail servers trust besides the public roots.
    extra_roots: trust::ExtraRoots,
}

impl App {
    /// Wraps an open (and migrated) database.
    pub fn new(db: Db) -> App {
        App {
            db,
            jobs_wake: Default::default(),
            mailers: Default::default(),
            webhooks: Default::default(),
            extra_roots: Default::default(),
        }
    }

    /// The database (for backups and the CLI).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The schema version, read from the database: proof that it answers.
    pub async fn health(&self) -> Result<i64, Error> {
        Ok(kith_store::migrate::current(&self.db).await?)
    }
}

/// Who is asking: a signed-in user (session or API token) and their workspace.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// Their workspace.
    pub workspace: Workspace,
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including pipelines, stages and custom fields.
    Admin,
    /// Reads and writes records.
    Member,
    /// Reads only.
    ReadOnly,
}

impl Role {
    /// Parses `admin`, `member`, `read_only` (or `read-only`).
    pub fn parse(s: &str) -> Result<Role, Error> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            "read_only" | "readonly" => Ok(Role::ReadOnly),
            _ => Err(Error::Invalid(kith_core::Error::field(
                "role",
                "must be admin, member or read_only",
            ))),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::ReadOnly => "read_only",
        }
    }
}

impl Caller {
    /// The caller's role.
    pub fn role(&self) -> Role {
        Role::parse(&self.user.role).unwrap_or(Role::ReadOnly)
    }

    /// The caller's workspace's time zone.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        time_zone(&self.workspace.time_zone)
    }
}

/// The zone a workspace's `time_zone` names; UTC when it names none (settings only
/// store IANA names, so that is a workspace from before the setting).
pub fn time_zone(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// The one error type of kith-app; kith-web maps each to a status code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input (422 / 400).
    #[error(transparent)]
    Invalid(#[from] kith_core::Error),
    /// No such record in the caller's workspace (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Not signed in, or bad credentials (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Signed in but not allowed (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// If-Match named an older version (412); carries the current record.
    #[error("the record changed since version {expected}; it is now at version {}", current.version)]
    Stale {
        /// Version the client had.
        expected: i64,
        /// The record as it is now.
        current: Box<Record>,
    },
    /// Someone else wrote first and the client named no version (409).
    #[error("the record was changed by someone else at the same moment; reload and try again")]
    Conflict,
    /// A unique value is taken (409).
    #[error("{0}")]
    Duplicate(String),
    /// Too many attempts (429).
    #[error("too many failed sign-in attempts; wait {retry_after_secs} seconds")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The mail server failed or refused (502), with its reply.
    #[error("mail server: {0}")]
    MailServer(String),
    /// Storage failure (500).
    #[error(transparent)]
    Store(kith_store::Error),
}

impl From<kith_store::Error> for Error {
    fn from(e: kith_store::Error) -> Self {
        match e {
            kith_store::Error::Duplicate(what) => {
                Error::Duplicate(format!("a record with the same {what} exists"))
            }
            kith_store::Error::Invalid(e) => Error::Invalid(e),
            other => Error::Store(other),
        }
    }
}
