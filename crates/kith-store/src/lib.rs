//! Kith's storage: the same schema and behaviour on SQLite (embedded default) and
//! PostgreSQL (several nodes), behind one API whose every record function takes the
//! [`WorkspaceId`] it is scoped to.
//!
//! Not for: validation or permissions (kith-app), HTTP (kith-web). SQL is built only
//! from trusted names (object specs) and bound values; see [`db::Sql`].

pub mod accounts;
pub mod bulk;
pub mod calendar;
pub mod campaigns;
mod copy;
pub mod customers;
pub mod db;
pub mod duplicates;
pub mod email_sends;
pub mod events;
pub mod imports;
pub mod job_schedules;
pub mod jobs;
mod listing;
pub mod mail;
pub mod migrate;
pub mod notifications;
pub mod records;
pub mod search;
pub mod segments;
pub mod sequences;
pub mod timeline;
pub mod workflows;

pub use db::{Db, Dialect, Exec, List, Row, Sql, Tx};
pub use listing::{list, ListSpec};
use uuid::Uuid;

/// The workspace (tenant) a query is scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkspaceId(pub Uuid);

/// The one error type of kith-store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A database error that is not the caller's fault.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored value could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The configuration (URL, path) is unusable.
    #[error("{0}")]
    Config(String),
    /// The request cannot be served as asked (e.g. a cursor made for another sort).
    #[error("{0}")]
    Invalid(#[from] kith_core::Error),
    /// A unique constraint refused the write.
    #[error("a record with the same {0} exists")]
    Duplicate(String),
    /// The database's schema is newer than this binary knows.
    #[error("the database schema is version {found}, newer than this Kith knows ({known}); upgrade Kith before opening it")]
    SchemaTooNew {
        /// Version in the database.
        found: i64,
        /// Newest version this binary has.
        known: i64,
    },
    /// A worker thread of a write stopped before finishing (it panicked).
    #[error("a write could not finish: {0}")]
    Worker(String),
    /// A migration failed; nothing of it was applied.
    #[error("migration {version} ({name}) failed and was rolled back: {source}")]
    Migration {
        /// Its version.
        version: i64,
        /// Its name.
        name: &'static str,
        /// Why.
        source: sqlx::Error,
    },
}

impl Error {
    /// Maps a unique-constraint violation to [`Error::Duplicate`] naming `what`.
    pub fn unique_as(self, what: &str) -> Error {
        match &self {
            Error::Db(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                Error::Duplicate(what.to_string())
            }
            _ => self,
        }
    }
}
