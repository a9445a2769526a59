//! The two backends behind one small API: build SQL with bound values ([`Sql`]), run it
//! on a pool or in a transaction ([`Exec`]), read typed values from a [`Row`].
//!
//! Both backends take `$1`-style placeholders (sqlx's SQLite driver reads `$N` too),
//! so the same SQL text serves both where the dialects agree; where they do not, the
//! caller asks [`Dialect`].

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Arguments as _, PgPool, Postgres, Row as _, Sqlite, SqlitePool};
use uuid::Uuid;

use crate::Error;

/// Which SQL dialect a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3 (embedded).
    Sqlite,
    /// PostgreSQL 15+.
    Postgres,
}

/// Values of one type that a statement tests a column against (see [`Sql::bind_in`]).
#[derive(Debug, Clone, PartialEq)]
pub enum List {
    /// Text values.
    Text(Vec<String>),
    /// UUIDs.
    Uuid(Vec<Uuid>),
}

impl List {
    /// A list of these ids.
    pub fn uuids(ids: &[Uuid]) -> List {
        List::Uuid(ids.to_vec())
    }

    /// A list of these texts.
    pub fn texts<T: ToString>(values: &[T]) -> List {
        List::Text(values.iter().map(ToString::to_string).collect())
    }

    fn len(&self) -> usize {
        match self {
            List::Text(v) => v.len(),
            List::Uuid(v) => v.len(),
        }
    }
}

/// One bound value, or a list that PostgreSQL takes as one array.
#[derive(Debug, Clone)]
enum Arg {
    One(Scalar),
    List(List),
}

/// SQL text with its bound values; values never enter the text.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
    /// Where each placeholder stands in `text` (start, length), in bind order.
    marks: Vec<(usize, usize)>,
}

impl Sql {
    /// Starts a statement from trusted text (a literal, or names from object specs).
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// Appends trusted text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: Scalar) -> &mut Self {
        self.args.push(Arg::One(value));
        let start = self.text.len();
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self.marks.push((start, self.text.len() - start));
        self
    }

    /// Appends a test that the expression before it is one of `values`: ` = ANY($N)`
    /// with one bound array on PostgreSQL, ` IN (?, …)` on SQLite. PostgreSQL parses and
    /// plans a thousand placeholders each time a list's length changes (a tenth of an
    /// import's time there); one array keeps one statement whatever the length.
    pub fn bind_in(&mut self, values: List) -> &mut Self {
        self.args.push(Arg::List(values));
        let start = self.text.len();
        self.text.push_str(" = ANY($");
        self.text.push_str(&self.args.len().to_string());
        self.text.push(')');
        self.marks.push((start, self.text.len() - start));
        self
    }

    /// The text and values for `dialect`. SQLite gets anonymous `?` placeholders: it
    /// looks up each named `$N` by walking the statement's list of names, which makes
    /// binding grow with the square of the count (a third of an import's time at 1,000
    /// values per statement); `?`s are bound by position at no such cost.
    fn into_parts(self, dialect: Dialect) -> (String, Vec<Arg>) {
        match dialect {
            Dialect::Postgres => (self.text, self.args),
            Dialect::Sqlite => {
                let mut out = String::with_capacity(self.text.len());
                let mut at = 0;
                for ((start, len), arg) in self.marks.iter().zip(&self.args) {
                    out.push_str(&self.text[at..*start]);
                    match arg {
                        Arg::One(_) => out.push('?'),
                        Arg::List(list) => {
                            // SQLite takes an empty `IN ()` (false), as PostgreSQL
                            // takes an empty array.
                            out.push_str(" IN (");
                            for i in 0..list.len() {
                                out.push_str(if i == 0 { "?" } else { ", ?" });
                            }
                            out.push(')');
                        }
                    }
                    at = start + len;
                }
                out.push_str(&self.text[at..]);
                (out, self.args)
            }
        }
    }

    /// Appends placeholders for `values` separated by commas: the inside of an `IN (…)`.
    pub fn bind_list(&mut self, values: impl IntoIterator<Item = Scalar>) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self
    }

    /// Appends another statement part, its placeholders renumbered after this one's.
    pub fn append(&mut self, other: Sql) -> &mut Self {
        let mut at = 0;
        for ((start, len), v) in other.marks.iter().zip(other.args) {
            self.text.push_str(&other.text[at..*start]);
            match v {
                Arg::One(v) => self.bind(v),
                Arg::List(l) => self.bind_in(l),
            };
            at = start + len;
        }
        self.text.push_str(&other.text[at..]);
        self
    }

    /// Appends `value` as a placeholder bound to it, chaining.
    pub fn arg(mut self, value: Scalar) -> Self {
        self.bind(value);
        self
    }

    /// Appends trusted text, chaining.
    pub fn and(mut self, text: &str) -> Self {
        self.push(text);
        self
    }

    /// The SQL text (for logs and tests).
    pub fn text(&self) -> &str {
        &self.text
    }
}

fn sqlite_args(args: Vec<Arg>) -> Result<SqliteArguments<'static>, Error> {
    let mut out = SqliteArguments::default();
    // Bulk statements bind the same instant (created_at, updated_at …) thousands of
    // times: format it once.
    let mut last_time: Option<(DateTime<Utc>, String)> = None;
    for a in args {
        match a {
            Arg::One(s) => sqlite_add(&mut out, &mut last_time, s)?,
            Arg::List(List::Text(v)) => {
                for t in v {
                    sqlite_add(&mut out, &mut last_time, Scalar::Text(t))?;
                }
            }
            Arg::List(List::Uuid(v)) => {
                for u in v {
                    sqlite_add(&mut out, &mut last_time, Scalar::Uuid(u))?;
                }
            }
        }
    }
    Ok(out)
}

fn sqlite_add(
    out: &mut SqliteArguments<'static>,
    last_time: &mut Option<(DateTime<Utc>, String)>,
    a: Scalar,
) -> Result<(), Error> {
    refuse_nul(&a)?;
    match a {
        Scalar::Time(t) => {
            let text = match last_time {
                Some((at, text)) if *at == t => text.clone(),
                _ => {
                    let text = sqlite_time(&t);
                    *last_time = Some((t, text.clone()));
                    text
                }
            };
            out.add(text)
        }
        Scalar::Null(ScalarType::Int) => out.add(None::<i64>),
        Scalar::Null(ScalarType::Float) => out.add(None::<f64>),
        Scalar::Null(ScalarType::Bool) => out.add(None::<bool>),
        Scalar::Null(ScalarType::Uuid) => out.add(None::<Uuid>),
        Scalar::Null(_) => out.add(None::<String>),
        Scalar::Text(s) => out.add(s),
        Scalar::Int(i) => out.add(i),
        Scalar::Float(f) => out.add(f),
        Scalar::Bool(b) => out.add(b),
        Scalar::Uuid(u) => out.add(u),
        Scalar::Date(d) => out.add(d.to_string()),
        Scalar::Json(j) => out.add(j.to_string()),
    }
    .map_err(sqlx::Error::Encode)?;
    Ok(())
}

/// PostgreSQL stores no NUL in text or JSON (SQLite would); refused alike on both, as
/// bad input, so that no path can turn one into a 500 or a value only one backend keeps.
/// The import drops NULs before it gets here, and field validation names the field.
pub(crate) fn refuse_nul(a: &Scalar) -> Result<(), Error> {
    fn in_json(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(a) => a.iter().any(in_json),
            Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || in_json(v)),
            _ => false,
        }
    }
    match a {
        Scalar::Text(s) if s.contains('\0') => Err(nul()),
        Scalar::Json(j) if in_json(j) => Err(nul()),
        _ => Ok(()),
    }
}

fn nul() -> Error {
    Error::Invalid(kith_core::Error::new(
        "nul_character",
        "a value holds a NUL character (U+0000), which cannot be stored or searched; remove it",
    ))
}

/// How SQLite stores a timestamp: fixed-width RFC 3339 in UTC, so that text comparison
/// is time order.
pub(crate) fn sqlite_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn pg_args(args: Vec<Arg>) -> Result<PgArguments, Error> {
    let mut out = PgArguments::default();
    for a in args {
        let a = match a {
            Arg::One(a) => a,
            Arg::List(List::Text(v)) => {
                if v.iter().any(|t| t.contains('\0')) {
                    return Err(nul());
                }
                out.add(v).map_err(sqlx::Error::Encode)?;
                continue;
            }
            Arg::List(List::Uuid(v)) => {
                out.add(v).map_err(sqlx::Error::Encode)?;
                continue;
            }
        };
        refuse_nul(&a)?;
        match a {
            Scalar::Null(ScalarType::Text) => out.add(None::<String>),
            Scalar::Null(ScalarType::Int) => out.add(None::<i64>),
            Scalar::Null(ScalarType::Float) => out.add(None::<f64>),
            Scalar::Null(ScalarType::Bool) => out.add(None::<bool>),
            Scalar::Null(ScalarType::Uuid) => out.add(None::<Uuid>),
            Scalar::Null(ScalarType::Date) => out.add(None::<NaiveDate>),
            Scalar::Null(ScalarType::Time) => out.add(None::<DateTime<Utc>>),
            Scalar::Null(ScalarType::Json) => out.add(None::<sqlx::types::Json<Value>>),
            Scalar::Text(s) => out.add(s),
            Scalar::Int(i) => out.add(i),
            Scalar::Float(f) => out.add(f),
            Scalar::Bool(b) => out.add(b),
            Scalar::Uuid(u) => out.add(u),
            Scalar::Date(d) => out.add(d),
            Scalar::Time(t) => out.add(t),
            Scalar::Json(j) => out.add(sqlx::types::Json(j)),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// A statement with its values bound and its text in the backend's form: made while the
/// connection still runs the statement before it (the bulk path), so that binding a
/// thousand values never leaves the database waiting.
pub(crate) struct Bound {
    text: String,
    args: Args,
}

enum Args {
    Sqlite(SqliteArguments<'static>),
    Pg(PgArguments),
}

impl Bound {
    /// `sql` bound for `dialect`.
    pub(crate) fn new(sql: Sql, dialect: Dialect) -> Result<Bound, Error> {
        let (text, args) = sql.into_parts(dialect);
        let args = match dialect {
            Dialect::Sqlite => Args::Sqlite(sqlite_args(args)?),
            Dialect::Postgres => Args::Pg(pg_args(args)?),
        };
        Ok(Bound { text, args })
    }
}

/// `text` with `args`, at the text's lifetime (the arguments own their values).
fn sqlite_query<'q>(
    text: &'q str,
    args: SqliteArguments<'static>,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>> {
    sqlx::query_with(text, args)
}

/// One result row of either backend.
pub enum Row {
    /// From SQLite.
    Sqlite(SqliteRow),
    /// From PostgreSQL.
    Pg(PgRow),
}

macro_rules! get {
    ($row:expr, $col:expr, $t:ty) => {
        match $row {
            Row::Sqlite(r) => r.try_get::<$t, _>($col),
            Row::Pg(r) => r.try_get::<$t, _>($col),
        }
    };
}

impl Row {
    /// Text column.
    pub fn text(&self, col: &str) -> Result<Option<String>, Error> {
        Ok(get!(self, col, Option<String>)?)
    }
    /// Integer column.
    pub fn int(&self, col: &str) -> Result<Option<i64>, Error> {
        Ok(get!(self, col, Option<i64>)?)
    }
    /// UUID column.
    pub fn uuid(&self, col: &str) -> Result<Option<Uuid>, Error> {
        Ok(get!(self, col, Option<Uuid>)?)
    }
    /// Timestamp column.
    pub fn time(&self, col: &str) -> Result<Option<DateTime<Utc>>, Error> {
        Ok(get!(self, col, Option<DateTime<Utc>>)?)
    }
    /// Boolean column.
    pub fn bool(&self, col: &str) -> Result<Option<bool>, Error> {
        Ok(get!(self, col, Option<bool>)?)
    }
    /// JSON column.
    pub fn json(&self, col: &str) -> Result<Option<Value>, Error> {
        match self {
            Row::Sqlite(r) => match r.try_get::<Option<String>, _>(col)? {
                Some(s) => Ok(Some(
                    serde_json::from_str(&s).map_err(|e| Error::Corrupt(e.to_string()))?,
                )),
                None => Ok(None),
            },
            Row::Pg(r) => Ok(r
                .try_get::<Option<sqlx::types::Json<Value>>, _>(col)?
                .map(|j| j.0)),
        }
    }

    /// A column of type `ty`, NULL included.
    pub fn scalar(&self, col: &str, ty: ScalarType) -> Result<Scalar, Error> {
        let v = match ty {
            ScalarType::Text => self.text(col)?.map(Scalar::Text),
            ScalarType::Int => self.int(col)?.map(Scalar::Int),
            ScalarType::Float => get!(self, col, Option<f64>)?.map(Scalar::Float),
            ScalarType::Bool => self.bool(col)?.map(Scalar::Bool),
            ScalarType::Uuid => self.uuid(col)?.map(Scalar::Uuid),
            ScalarType::Date => get!(self, col, Option<NaiveDate>)?.map(Scalar::Date),
            ScalarType::Time => self.time(col)?.map(Scalar::Time),
            ScalarType::Json => self.json(col)?.map(Scalar::Json),
        };
        Ok(v.unwrap_or(Scalar::Null(ty)))
    }
}

/// Something SQL runs on: the pool or a transaction.
pub trait Exec: Send {
    /// The dialect spoken.
    fn dialect(&self) -> Dialect;
    /// Runs a statement; returns rows affected.
    fn execute(&mut self, sql: Sql)
        -> impl std::future::Future<Output = Result<u64, Error>> + Send;
    /// Runs a query; returns all rows.
    fn fetch_all(
        &mut self,
        sql: Sql,
    ) -> impl std::future::Future<Output = Result<Vec<Row>, Error>> + Send;
    /// Runs a query; returns the first row, if any.
    fn fetch_optional(
        &mut self,
        sql: Sql,
    ) -> impl std::future::Future<Output = Result<Option<Row>, Error>> + Send {
        async move { Ok(self.fetch_all(sql).await?.into_iter().next()) }
    }
}

/// A connection pool on either backend. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: many readers, one writer (SQLite allows one writer at a time anyway;
    /// queueing writers in the pool avoids busy errors on lock upgrades).
    Sqlite {
        /// Read connections.
        read: SqlitePool,
        /// The single write connection.
        write: SqlitePool,
        /// Path of the database file.
        path: String,
    },
    /// PostgreSQL.
    Postgres(PgPool),
}

/// Why PostgreSQL cannot be reached, with what to do when it is the server's certificate.
fn pg_connect_error(e: &str) -> String {
    let hint = if e.contains("UnknownIssuer") {
        " (the server's certificate is not signed by the CA the URL's sslrootcert names)"
    } else if e.contains("NotValidForName") || e.contains("not valid for name") {
        " (the server's certificate is for another host name: connect by the name it names)"
    } else {
        ""
    };
    format!("cannot connect to PostgreSQL: {e}{hint}")
}

impl Db {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| Error::Config(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(|e| Error::Config(pg_connect_error(&e.to_string())))?;
            return Ok(Db::Postgres(pool));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                Error::Config(format!(
                    "database URL `{url}` must start with sqlite:// or postgres://"
                ))
            })?
            .to_string();
        if path.is_empty() {
            return Err(Error::Config("sqlite:// URL has no file path".into()));
        }
        let opts = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-32000")
            // Keeps the planner's statistics fresh, so search and filters pick good plans.
            .optimize_on_close(true, 400);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .map_err(|e| Error::Config(format!("cannot open SQLite database {path}: {e}")))?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(false))
            .await
            .map_err(|e| Error::Config(format!("cannot open SQLite database {path}: {e}")))?;
        Ok(Db::Sqlite { read, write, path })
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, Error> {
        Ok(match self {
            // IMMEDIATE takes the write lock at once, so a read-then-write transaction
            // cannot fail half-way when another process (a CLI command) writes.
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// Closes all connections.
    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }

    /// Runs a script of several statements (migrations).
    pub(crate) async fn execute_script(tx: &mut Tx, script: &str) -> Result<(), Error> {
        match tx {
            Tx::Sqlite(t) => {
                sqlx::raw_sql(script).execute(&mut **t).await?;
            }
            Tx::Pg(t) => {
                sqlx::raw_sql(script).execute(&mut **t).await?;
            }
        }
        Ok(())
    }
}

impl Exec for Db {
    fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite { .. } => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    async fn execute(&mut self, sql: Sql) -> Result<u64, Error> {
        let (text, args) = sql.into_parts(self.dialect());
        Ok(match self {
            Db::Sqlite { write, .. } => sqlite_query(&text, sqlite_args(args)?)
                .execute(&*write)
                .await?
                .rows_affected(),
            Db::Postgres(p) => sqlx::query_with(&text, pg_args(args)?)
                .execute(&*p)
                .await?
                .rows_affected(),
        })
    }

    async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Row>, Error> {
        let (text, args) = sql.into_parts(self.dialect());
        Ok(match self {
            Db::Sqlite { read, .. } => sqlite_query(&text, sqlite_args(args)?)
                .fetch_all(&*read)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Db::Postgres(p) => sqlx::query_with(&text, pg_args(args)?)
                .fetch_all(&*p)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }
}

/// A write transaction on either backend; dropped without commit, it rolls back.
pub enum Tx {
    /// SQLite.
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    /// PostgreSQL.
    Pg(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    /// Runs a statement bound beforehand ([`Bound`]) for this transaction's backend.
    pub(crate) async fn execute_bound(&mut self, bound: Bound) -> Result<u64, Error> {
        let Bound { text, args } = bound;
        Ok(match (self, args) {
            (Tx::Sqlite(t), Args::Sqlite(args)) => sqlite_query(&text, args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            (Tx::Pg(t), Args::Pg(args)) => sqlx::query_with(&text, args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            _ => {
                return Err(Error::Config(
                    "a statement bound for the other database".into(),
                ))
            }
        })
    }

    /// Makes the transaction's writes durable.
    pub async fn commit(self) -> Result<(), Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Exec for Tx {
    fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Pg(_) => Dialect::Postgres,
        }
    }

    async fn execute(&mut self, sql: Sql) -> Result<u64, Error> {
        let bound = Bound::new(sql, self.dialect())?;
        self.execute_bound(bound).await
    }

    async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Row>, Error> {
        let (text, args) = sql.into_parts(self.dialect());
        Ok(match self {
            Tx::Sqlite(t) => sqlite_query(&text, sqlite_args(args)?)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Tx::Pg(t) => sqlx::query_with(&text, pg_args(args)?)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }
}
