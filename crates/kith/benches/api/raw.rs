//! The raw baseline: a plain sqlx pool on the same database, none of Kith's code.

use super::*;

pub(crate) enum Raw {
    /// Pools as Kith sizes them: 4 readers, one writer (SQLite has one writer anyway).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Pg(PgPool),
}

#[derive(Clone)]
pub(crate) enum Arg {
    Uuid(Uuid),
    Text(String),
    Int(i64),
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Uuid(u) => q.bind(*u),
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

pub(crate) fn sqlite_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Raw {
    pub(crate) async fn connect(url: &str) -> Raw {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("cache_size", "-32000");
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await
                .expect("raw SQLite writer");
            let read = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts)
                .await
                .expect("raw SQLite readers");
            Raw::Sqlite { read, write }
        } else {
            let opts = PgConnectOptions::from_str(url).expect("PostgreSQL URL");
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(opts)
                .await
                .expect("raw PostgreSQL pool");
            // A local server's backends are children of its main process: find it, so
            // that their CPU time is not counted as other work on the machine.
            let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(&pool)
                .await
                .expect("backend pid");
            if let Some((postmaster, _)) = proc_stat(&backend.to_string()) {
                POSTMASTER.store(postmaster, Ordering::Relaxed);
            }
            Raw::Pg(pool)
        }
    }

    pub(crate) async fn version(&self) -> String {
        match self {
            Raw::Sqlite { read, .. } => sqlx::query_scalar("SELECT 'SQLite ' || sqlite_version()")
                .fetch_one(read)
                .await
                .expect("version"),
            Raw::Pg(p) => sqlx::query_scalar("SELECT version()")
                .fetch_one(p)
                .await
                .expect("version"),
        }
    }

    /// Brings the planner's statistics up to date.
    pub(crate) async fn settle(&self) {
        self.execute(match self {
            Raw::Sqlite { .. } => "ANALYZE",
            Raw::Pg(_) => "VACUUM ANALYZE",
        })
        .await;
    }

    /// How many rows `sql` (which ends in `LIMIT $n`, its last argument) finds unlimited.
    pub(crate) async fn count(&self, sql: &str, args: &[Arg]) -> i64 {
        let inner = &sql[..sql.rfind(" LIMIT ").expect("a LIMIT")];
        let sql = format!("SELECT count(*) FROM ({inner}) x");
        let args = &args[..args.len() - 1];
        match self {
            Raw::Sqlite { read, .. } => bind_all!(sqlx::query_scalar(&sql), args)
                .fetch_one(read)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Raw::Pg(p) => bind_all!(sqlx::query_scalar(&sql), args)
                .fetch_one(p)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Raw::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Raw::Pg(p) => p.close().await,
        }
    }

    pub(crate) async fn execute(&self, sql: &str) {
        match self {
            Raw::Sqlite { write, .. } => sqlx::raw_sql(sql).execute(write).await.map(|_| ()),
            Raw::Pg(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// `bench_raw_contacts`: the `contacts` table and its indexes, copied from the
    /// migration of this dialect and renamed.
    pub(crate) async fn create_table(&self) {
        let migration = match self {
            Raw::Sqlite { .. } => {
                include_str!("../../../kith-store/migrations/sqlite/0001_init.sql")
            }
            Raw::Pg(_) => include_str!("../../../kith-store/migrations/postgres/0001_init.sql"),
        };
        let start = migration
            .find("CREATE TABLE contacts (")
            .expect("the migration creates contacts");
        let end = start
            + migration[start..]
                .find("\n);")
                .expect("CREATE TABLE contacts ends")
            + 3;
        let mut sql = migration[start..end].replacen(
            "CREATE TABLE contacts (",
            "CREATE TABLE bench_raw_contacts (",
            1,
        ) + "\n";
        let mut indexes = 0;
        for line in migration.lines() {
            let line = line.trim();
            if line.starts_with("CREATE ") && line.contains(" INDEX contacts_") {
                let renamed = line
                    .replacen(" INDEX contacts_", " INDEX bench_raw_contacts_", 1)
                    .replacen(" ON contacts(", " ON bench_raw_contacts(", 1)
                    .replacen(" ON contacts (", " ON bench_raw_contacts (", 1);
                assert!(renamed.contains("bench_raw_contacts("), "{line}");
                sql.push_str(&renamed);
                sql.push('\n');
                indexes += 1;
            }
        }
        assert!(indexes > 0, "the migration indexes contacts");
        self.execute(&sql).await;
    }

    /// One autocommit INSERT of the row Kith would write for `p`.
    pub(crate) async fn insert(&self, ws: Uuid, p: &Person) {
        const SQL: &str = "INSERT INTO bench_raw_contacts (id, workspace_id, version, created_at, updated_at, first_name, last_name, email, phone, job_title, lifecycle_stage, city, country, custom) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
        let now = Utc::now();
        let id = Uuid::now_v7();
        let r = match self {
            Raw::Sqlite { write, .. } => sqlx::query(SQL)
                .bind(id)
                .bind(ws)
                .bind(sqlite_time(&now))
                .bind(sqlite_time(&now))
                .bind(&p.first)
                .bind(&p.last)
                .bind(&p.email)
                .bind(p.e164())
                .bind(p.job_title)
                .bind(p.stage)
                .bind(p.city)
                .bind(p.country)
                .bind("{}")
                .execute(write)
                .await
                .map(|_| ()),
            Raw::Pg(pool) => sqlx::query(SQL)
                .bind(id)
                .bind(ws)
                .bind(now)
                .bind(now)
                .bind(&p.first)
                .bind(&p.last)
                .bind(&p.email)
                .bind(p.e164())
                .bind(p.job_title)
                .bind(p.stage)
                .bind(p.city)
                .bind(p.country)
                .bind(sqlx::types::Json(json!({})))
                .execute(pool)
                .await
                .map(|_| ()),
        };
        r.expect("raw insert");
    }

    /// Runs a query; answers how many rows came back (reading each row's id).
    pub(crate) async fn rows(&self, sql: &str, args: &[Arg]) -> usize {
        match self {
            Raw::Sqlite { read, .. } => bind_all!(sqlx::query(sql), args)
                .fetch_all(read)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .filter(|r| !r.get::<Uuid, _>("id").is_nil())
                .count(),
            Raw::Pg(p) => bind_all!(sqlx::query(sql), args)
                .fetch_all(p)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .filter(|r| !r.get::<Uuid, _>("id").is_nil())
                .count(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// One backend.
