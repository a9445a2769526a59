//! A bulk write whose rows are made on another thread while the connection runs the
//! statements made before them. The writer of an import otherwise alternates: it builds
//! a table's rows (Rust), then SQLite inserts them, then it builds the next table's; on
//! SQLite's one write connection every moment spent building is a moment the database
//! waits (docs/PERFORMANCE.md, "Fewer waits between the writer and SQLite").

use kith_core::Scalar;
use tokio::sync::mpsc;

use super::{copies, statements};
use crate::db::{Bound, Exec, Tx};
use crate::{Dialect, Error};

/// Statements made ahead of the connection: about an import chunk's worth, so the builder
/// can make a whole table's rows while the connection writes the previous table, and few
/// enough that memory stays bounded (each holds up to 1,000 rows).
const AHEAD: usize = 128;

/// Rows for one table, as the bulk path inserts them.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    /// Table.
    pub table: &'static str,
    /// Columns, in the order of each row's values.
    pub columns: Vec<&'static str>,
    /// Rows.
    pub rows: Vec<Vec<Scalar>>,
    /// Appended to each statement (e.g. `ON CONFLICT DO NOTHING`); empty allows `COPY`.
    pub tail: &'static str,
}

impl Insert {
    /// Inserts the rows in `tx` now ([`super::insert_rows`]).
    pub async fn run(&self, tx: &mut Tx) -> Result<(), Error> {
        super::insert_rows(tx, self.table, &self.columns, &self.rows, self.tail).await
    }
}

/// What the row-making thread hands the connection.
enum Step {
    Sql(Result<Bound, Error>),
    /// PostgreSQL's `COPY` of a whole table's rows (it pipelines its own encoding).
    Copy(Insert),
}

/// Where a [`pipelined`] builder puts its rows.
pub struct Sink {
    dialect: Dialect,
    out: mpsc::Sender<Step>,
}

impl Sink {
    /// Hands `ins` to the connection as statements, in order after what came before.
    /// Returns false once the connection has stopped (a statement failed): the builder
    /// may stop early, its remaining rows would be thrown away.
    pub fn put(&mut self, ins: Insert) -> bool {
        if ins.rows.is_empty() || ins.columns.is_empty() {
            return !self.out.is_closed();
        }
        if copies(self.dialect, ins.tail) {
            return self.out.blocking_send(Step::Copy(ins)).is_ok();
        }
        for bound in statements(self.dialect, ins.table, &ins.columns, &ins.rows, ins.tail) {
            if self.out.blocking_send(Step::Sql(bound)).is_err() {
                return false;
            }
        }
        true
    }
}

/// Runs `build` on a blocking thread and executes, in order and as they come, the rows it
/// puts into its [`Sink`]; returns what `build` returns. A failed statement ends the
/// write with its error (the transaction is then the caller's to drop).
pub async fn pipelined<T: Send + 'static>(
    tx: &mut Tx,
    build: impl FnOnce(&mut Sink) -> T + Send + 'static,
) -> Result<T, Error> {
    let (out, mut steps) = mpsc::channel(AHEAD);
    let mut sink = Sink {
        dialect: tx.dialect(),
        out,
    };
    let builder = tokio::task::spawn_blocking(move || build(&mut sink));
    while let Some(step) = steps.recv().await {
        match step {
            Step::Sql(bound) => {
                tx.execute_bound(bound?).await?;
            }
            Step::Copy(ins) => ins.run(tx).await?,
        }
    }
    builder
        .await
        .map_err(|e| Error::Worker(format!("the rows of a bulk write: {e}")))
}
