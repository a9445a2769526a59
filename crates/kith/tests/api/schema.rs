//! Migrations: the two dialects agree, re-running is harmless, newer schemas are refused.

use kith_store::{Db, Exec, Sql};

use crate::harness::{both, fresh_database, Backend};

async fn columns(db: &Db) -> Vec<(String, String)> {
    let mut db = db.clone();
    let sql = match db.dialect() {
        kith_store::Dialect::Sqlite => Sql::new(
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2",
        ),
        kith_store::Dialect::Postgres => Sql::new(
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2",
        ),
    };
    db.fetch_all(sql)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.text("t").unwrap().unwrap(), r.text("c").unwrap().unwrap()))
        .collect()
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let (sqlite_url, _dir) = fresh_database(Backend::Sqlite).await;
    let (pg_url, _) = fresh_database(Backend::Postgres).await;
    let sqlite = Db::connect(&sqlite_url).await.unwrap();
    let pg = Db::connect(&pg_url).await.unwrap();
    kith_store::migrate::run(&sqlite).await.unwrap();
    kith_store::migrate::run(&pg).await.unwrap();
    let a = columns(&sqlite).await;
    let b = columns(&pg).await;
    assert!(a.len() > 100, "{} columns", a.len());
    assert_eq!(a, b);
    // Every table but the global ones is scoped to a workspace.
    let tables: std::collections::BTreeSet<&String> = a.iter().map(|(t, _)| t).collect();
    for t in tables {
        if [
            "workspaces",
            "schema_migrations",
            "login_attempts",
            "sessions",
        ]
        .contains(&t.as_str())
        {
            continue;
        }
        assert!(
            a.contains(&(t.clone(), "workspace_id".to_string())),
            "{t} has no workspace_id"
        );
    }
}

both!(
    migrating_twice_changes_nothing_and_newer_schemas_are_refused,
    |app| async move {
        let db = app.app.db();
        let again = kith_store::migrate::run(db).await.unwrap();
        assert!(again.applied.is_empty());
        let mut w = db.clone();
        w.execute(Sql::new(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')",
        ))
        .await
        .unwrap();
        let err = kith_store::migrate::run(db).await.unwrap_err();
        assert!(
            err.to_string().contains("newer than this Kith knows"),
            "{err}"
        );
    }
);

#[tokio::test]
async fn a_sqlite_database_is_copied_aside_before_its_schema_changes() {
    let (url, dir) = fresh_database(Backend::Sqlite).await;
    let db = Db::connect(&url).await.unwrap();
    // An old database: version 1 applied, pretend a version 0 existed before by
    // running migrations from a database already at some version.
    let first = kith_store::migrate::run(&db).await.unwrap();
    assert_eq!(first.backup, None, "a new, empty database needs no copy");
    let mut w = db.clone();
    w.execute(Sql::new("DELETE FROM schema_migrations"))
        .await
        .unwrap();
    w.execute(Sql::new(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (0, 'older', 'x')",
    ))
    .await
    .unwrap();
    w.execute(Sql::new("CREATE TABLE marker (x INTEGER)"))
        .await
        .unwrap();
    // Migration 1 runs again on a non-empty database: it fails (tables exist), is rolled
    // back, and the copy taken before it is intact.
    let err = kith_store::migrate::run(&db).await;
    assert!(err.is_err(), "re-creating existing tables must fail");
    let backups: Vec<_> = std::fs::read_dir(dir.as_ref().unwrap().path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1, "one copy before the migration");
    let mut check = db.clone();
    let v = check
        .fetch_all(Sql::new("SELECT version FROM schema_migrations"))
        .await
        .unwrap();
    assert_eq!(v.len(), 1, "the failed migration left no trace");
    assert_eq!(v[0].int("version").unwrap(), Some(0));
}
