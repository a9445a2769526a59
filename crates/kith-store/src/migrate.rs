//! Schema migrations: each in its own transaction, a SQLite file copied aside before its
//! schema changes, and a refusal to touch a database newer than this binary.

use chrono::Utc;
use kith_core::Scalar;

use crate::db::{sqlite_time, Db, Exec, Sql};
use crate::Error;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "imports",
        sqlite: include_str!("../migrations/sqlite/0002_imports.sql"),
        postgres: include_str!("../migrations/postgres/0002_imports.sql"),
    },
    Migration {
        version: 3,
        name: "calendar_feeds",
        sqlite: include_str!("../migrations/sqlite/0003_calendar_feeds.sql"),
        postgres: include_str!("../migrations/postgres/0003_calendar_feeds.sql"),
    },
    Migration {
        version: 4,
        name: "duplicates",
        sqlite: include_str!("../migrations/sqlite/0004_duplicates.sql"),
        postgres: include_str!("../migrations/postgres/0004_duplicates.sql"),
    },
    Migration {
        version: 5,
        name: "orders_segments",
        sqlite: include_str!("../migrations/sqlite/0005_orders_segments.sql"),
        postgres: include_str!("../migrations/postgres/0005_orders_segments.sql"),
    },
    Migration {
        version: 6,
        name: "search",
        sqlite: include_str!("../migrations/sqlite/0006_search.sql"),
        postgres: include_str!("../migrations/postgres/0006_search.sql"),
    },
    Migration {
        version: 7,
        name: "jobs",
        sqlite: include_str!("../migrations/sqlite/0007_jobs.sql"),
        postgres: include_str!("../migrations/postgres/0007_jobs.sql"),
    },
    Migration {
        version: 8,
        name: "workflows",
        sqlite: include_str!("../migrations/sqlite/0008_workflows.sql"),
        postgres: include_str!("../migrations/postgres/0008_workflows.sql"),
    },
    Migration {
        version: 9,
        name: "mail",
        sqlite: include_str!("../migrations/sqlite/0009_mail.sql"),
        postgres: include_str!("../migrations/postgres/0009_mail.sql"),
    },
    Migration {
        version: 10,
        name: "campaigns",
        sqlite: include_str!("../migrations/sqlite/0010_campaigns.sql"),
        postgres: include_str!("../migrations/postgres/0010_campaigns.sql"),
    },
    Migration {
        version: 11,
        name: "search_compact",
        sqlite: include_str!("../migrations/sqlite/0011_search_compact.sql"),
        postgres: include_str!("../migrations/postgres/0011_search_compact.sql"),
    },
    Migration {
        version: 12,
        name: "import_items_by_record",
        sqlite: include_str!("../migrations/sqlite/0012_import_items_by_record.sql"),
        postgres: include_str!("../migrations/postgres/0012_import_items_by_record.sql"),
    },
];

/// The newest schema version this binary knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// What [`run`] did.
#[derive(Debug, Default)]
pub struct Report {
    /// Versions applied now.
    pub applied: Vec<i64>,
    /// Where the SQLite file was copied before its schema changed.
    pub backup: Option<String>,
}

/// The schema version of the database (0 when empty).
pub async fn current(db: &Db) -> Result<i64, Error> {
    let mut db = db.clone();
    db.execute(Sql::new(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    ))
    .await?;
    let row = db
        .fetch_optional(Sql::new("SELECT MAX(version) AS v FROM schema_migrations"))
        .await?;
    Ok(row.map(|r| r.int("v")).transpose()?.flatten().unwrap_or(0))
}

/// Brings the schema up to [`latest`].
pub async fn run(db: &Db) -> Result<Report, Error> {
    run_to(db, latest()).await
}

/// Applies the migrations up to version `target` only: how the tests make a database as
/// an older Kith left it, to check what a migration does to its data.
pub async fn run_to(db: &Db, target: i64) -> Result<Report, Error> {
    let found = current(db).await?;
    if found > latest() {
        return Err(Error::SchemaTooNew {
            found,
            known: latest(),
        });
    }
    // Every migration not recorded yet, not only those above the newest: branches that
    // added migrations side by side may land in either order.
    let applied: Vec<i64> = {
        let mut db = db.clone();
        let mut v = vec![];
        for r in db
            .fetch_all(Sql::new("SELECT version FROM schema_migrations"))
            .await?
        {
            v.extend(r.int("version")?);
        }
        v
    };
    let pending: Vec<&Migration> = MIGRATIONS
        .iter()
        .filter(|m| m.version <= target && !applied.contains(&m.version))
        .collect();
    let mut report = Report::default();
    if pending.is_empty() {
        return Ok(report);
    }
    if let Db::Sqlite { path, .. } = db {
        let mut probe = db.clone();
        let tables = probe
            .fetch_optional(Sql::new(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'",
            ))
            .await?
            .map(|r| r.int("n"))
            .transpose()?
            .flatten()
            .unwrap_or(0);
        if tables > 0 {
            let backup = format!("{path}.v{found}-{}.bak", Utc::now().format("%Y%m%dT%H%M%S"));
            backup_sqlite(db, &backup).await?;
            tracing::info!(%backup, "copied the database aside before migrating");
            report.backup = Some(backup);
        }
    }
    for m in pending {
        let mut tx = db.begin().await?;
        let script = match db.dialect() {
            crate::Dialect::Sqlite => m.sqlite,
            crate::Dialect::Postgres => m.postgres,
        };
        Db::execute_script(&mut tx, script)
            .await
            .map_err(|e| match e {
                Error::Db(source) => Error::Migration {
                    version: m.version,
                    name: m.name,
                    source,
                },
                other => other,
            })?;
        tx.execute(
            Sql::new("INSERT INTO schema_migrations (version, name, applied_at) VALUES (")
                .arg(Scalar::Int(m.version))
                .and(", ")
                .arg(Scalar::Text(m.name.into()))
                .and(", ")
                .arg(Scalar::Text(sqlite_time(&Utc::now())))
                .and(")"),
        )
        .await?;
        tx.commit().await?;
        report.applied.push(m.version);
    }
    Ok(report)
}

/// A consistent copy of a SQLite database while it is in use (`VACUUM INTO`).
pub async fn backup_sqlite(db: &Db, target: &str) -> Result<(), Error> {
    if std::path::Path::new(target).exists() {
        return Err(Error::Config(format!(
            "{target} exists already; choose a new file"
        )));
    }
    let mut db = db.clone();
    db.execute(Sql::new("VACUUM INTO ").arg(Scalar::Text(target.to_string())))
        .await?;
    Ok(())
}
