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
    // Every table but the global ones is scoped to a workspace (search entries through
    // their scope number, migration 0011).
    let tables: std::collections::BTreeSet<&String> = a.iter().map(|(t, _)| t).collect();
    for t in tables {
        if [
            "workspaces",
            "schema_migrations",
            "login_attempts",
            "sessions",
            "search_terms",
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

/// Search entries written by an older Kith (keyed by workspace, object and record UUID)
/// are found the same after migration 0011 keys them by scope and document number, and
/// records indexed after it come first as the newest.
async fn search_entries_survive_the_compact_key(backend: Backend) {
    use kith_core::objects::ObjectKind;
    use kith_core::search::highlight::Term;
    use kith_core::Scalar;
    use kith_store::search::{candidates, Tier};
    use kith_store::WorkspaceId;
    use std::collections::BTreeSet;

    let (url, _dir) = fresh_database(backend).await;
    let db = Db::connect(&url).await.unwrap();
    kith_store::migrate::run_to(&db, 10).await.unwrap();
    let mut w = db.clone();
    let now = chrono::Utc::now();
    let (ws, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    for (id, name) in [(ws, "Old"), (other, "Other")] {
        w.execute(
            Sql::new("INSERT INTO workspaces (id, name, created_at) VALUES (")
                .arg(Scalar::Uuid(id))
                .and(", ")
                .arg(Scalar::Text(name.into()))
                .and(", ")
                .arg(Scalar::Time(now))
                .and(")"),
        )
        .await
        .unwrap();
    }
    // Three Jensens in `ws` (one deleted), one in the other workspace, and a company.
    let mut contacts = vec![];
    for (space, deleted) in [(ws, false), (ws, true), (ws, false), (other, false)] {
        let id = uuid::Uuid::now_v7();
        w.execute(
            Sql::new("INSERT INTO contacts (id, workspace_id, version, created_at, updated_at, last_name, deleted_at) VALUES (")
                .arg(Scalar::Uuid(id))
                .and(", ")
                .arg(Scalar::Uuid(space))
                .and(", 1, ")
                .arg(Scalar::Time(now))
                .and(", ")
                .arg(Scalar::Time(now))
                .and(", 'Jensen', ")
                .arg(if deleted { Scalar::Time(now) } else { Scalar::Null(kith_core::ScalarType::Time) })
                .and(")"),
        )
        .await
        .unwrap();
        contacts.push(id);
    }
    let company = uuid::Uuid::now_v7();
    let old_terms = contacts
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            let space = if i == 3 { other } else { ws };
            [
                ("jensen", *id, space, "contact"),
                ("kbh", *id, space, "contact"),
            ]
        })
        .chain([
            ("jensen", company, ws, "company"),
            ("jensens", company, ws, "company"),
        ]);
    for (term, id, space, object) in old_terms {
        w.execute(
            Sql::new("INSERT INTO search_terms (workspace_id, term, record_id, object) VALUES (")
                .arg(Scalar::Uuid(space))
                .and(", ")
                .arg(Scalar::Text(term.into()))
                .and(", ")
                .arg(Scalar::Uuid(id))
                .and(", ")
                .arg(Scalar::Text(object.into()))
                .and(")"),
        )
        .await
        .unwrap();
    }

    let report = kith_store::migrate::run(&db).await.unwrap();
    assert!(report.applied.contains(&11), "{:?}", report.applied);
    let entries = w
        .fetch_optional(Sql::new("SELECT COUNT(*) AS n FROM search_terms"))
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap();
    assert_eq!(entries, Some(10), "every entry moved over");

    let ws = WorkspaceId(ws);
    let find = |terms: Vec<Term>, tier: Tier| {
        let mut ex = db.clone();
        async move {
            candidates(&mut ex, ws, ObjectKind::Contact, &terms, tier, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|(r, _)| r.id)
                .collect::<Vec<_>>()
        }
    };
    let mut found = find(vec![Term::prefix("jensen")], Tier::Whole).await;
    found.sort();
    assert_eq!(
        found,
        vec![contacts[0], contacts[2]],
        "the live Jensens of this workspace, not the deleted one nor the other workspace's"
    );
    // Two words: the second is checked on each candidate's own entries.
    let both = find(
        vec![Term::prefix("jensen"), Term::prefix("kbh")],
        Tier::Whole,
    )
    .await;
    assert_eq!(both.len(), 2);
    assert!(
        find(vec![Term::prefix("jensen"), Term::prefix("x")], Tier::Whole)
            .await
            .is_empty()
    );

    // A record indexed after the migration gets the next number: it comes first.
    let newest = uuid::Uuid::now_v7();
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        Sql::new("INSERT INTO contacts (id, workspace_id, version, created_at, updated_at, last_name) VALUES (")
            .arg(Scalar::Uuid(newest))
            .and(", ")
            .arg(Scalar::Uuid(ws.0))
            .and(", 1, ")
            .arg(Scalar::Time(now))
            .and(", ")
            .arg(Scalar::Time(now))
            .and(", 'Jensen')"),
    )
    .await
    .unwrap();
    let terms: BTreeSet<String> = ["jensen".to_string()].into();
    kith_store::records::reindex(&mut tx, ws, ObjectKind::Contact, newest, &terms)
        .await
        .unwrap();
    // Re-indexing a migrated record replaces its entries rather than adding to them.
    kith_store::records::reindex(&mut tx, ws, ObjectKind::Contact, contacts[0], &terms)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let found = find(vec![Term::prefix("jensen")], Tier::Whole).await;
    assert_eq!(found.len(), 3);
    assert_eq!(found[0], newest, "newest first: {found:?}");
    assert!(
        find(
            vec![Term::prefix("jensen"), Term::prefix("kbh")],
            Tier::Whole
        )
        .await
        .iter()
        .all(|id| *id == contacts[2]),
        "contacts[0] lost its kbh when re-indexed"
    );
}

#[tokio::test]
async fn search_entries_survive_the_compact_key_sqlite() {
    search_entries_survive_the_compact_key(Backend::Sqlite).await;
}

#[tokio::test]
async fn search_entries_survive_the_compact_key_postgres() {
    search_entries_survive_the_compact_key(Backend::Postgres).await;
}
