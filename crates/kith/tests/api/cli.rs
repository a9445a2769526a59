//! The `kith` binary as an admin uses it: user add, token create, backup, bad arguments.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::harness::{both, Backend};

pub(crate) fn kith(db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("KITH_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kith");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

both!(
    cli_creates_users_and_tokens_that_the_api_accepts,
    |app| async move {
        let db = app.db_url.clone();
        let (ok, out, err) = tokio::task::spawn_blocking({
            let db = db.clone();
            move || {
                kith(
                    &db,
                    &[
                        "user",
                        "add",
                        "ana@example.com",
                        "--role",
                        "admin",
                        "--workspace",
                        "Nordic",
                        "--password-stdin",
                        "--name",
                        "Ana  Andersen",
                    ],
                    Some("a long enough password\n"),
                )
            }
        })
        .await
        .unwrap();
        assert!(ok, "{out}{err}");
        let (ok, out, err) = tokio::task::spawn_blocking({
            let db = db.clone();
            move || kith(&db, &["token", "create", "ana@example.com"], None)
        })
        .await
        .unwrap();
        assert!(ok, "{err}");
        let token = out.lines().last().unwrap().trim().to_string();
        assert!(token.starts_with("kith_"), "{out}");
        let api = crate::harness::Api {
            token: Some(token),
            ..app.anonymous()
        };
        let me = api.get("/api/v1/me").await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.body["workspace"]["name"], "Nordic");
        assert_eq!(me.body["role"], "admin");
        assert_eq!(me.body["name"], "Ana Andersen");
        // Errors are one clear line and a non-zero exit.
        let (ok, _, err) = tokio::task::spawn_blocking({
            let db = db.clone();
            move || {
                kith(
                    &db,
                    &[
                        "user",
                        "add",
                        "ana@example.com",
                        "--role",
                        "admin",
                        "--password-stdin",
                    ],
                    Some("another long password"),
                )
            }
        })
        .await
        .unwrap();
        assert!(!ok);
        assert!(
            err.trim().starts_with("error:") && err.contains("exists"),
            "{err}"
        );
        let (ok, _, err) = tokio::task::spawn_blocking({
            let db = db.clone();
            move || {
                kith(
                    &db,
                    &[
                        "user",
                        "add",
                        "bo@example.com",
                        "--role",
                        "king",
                        "--password-stdin",
                    ],
                    Some("long enough pass"),
                )
            }
        })
        .await
        .unwrap();
        assert!(!ok && err.contains("--role"), "{err}");
        // A bad name is refused before the user is made.
        let (ok, _, err) = tokio::task::spawn_blocking({
            let db = db.clone();
            move || {
                let long = "x".repeat(101);
                let args = [
                    "user",
                    "add",
                    "cy@example.com",
                    "--password-stdin",
                    "--name",
                    &long,
                ];
                kith(&db, &args, Some("long enough pass"))
            }
        })
        .await
        .unwrap();
        assert!(!ok && err.contains("--name must be at most 100"), "{err}");
        assert!(app.app.caller_by_email("cy@example.com").await.is_err());
        let (ok, _, err) = tokio::task::spawn_blocking({
            let db = db.clone();
            move || kith(&db, &["token", "create", "ghost@example.com"], None)
        })
        .await
        .unwrap();
        assert!(!ok && err.contains("not found"), "{err}");
    }
);

both!(backup_copies_a_live_database, |app| async move {
    if app.backend == Backend::Postgres
        && Command::new("pg_dump").arg("--version").output().is_err()
    {
        panic!(
            "pg_dump is needed for PostgreSQL backups; scripts/test installs the PostgreSQL client"
        );
    }
    app.api
        .create("contacts", serde_json::json!({"first_name": "Kept"}))
        .await;
    let dir = crate::harness::tempfile_dir::Dir::new();
    let target = format!("{}/backup.db", dir.path());
    let db = app.db_url.clone();
    let t = target.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || kith(&db, &["backup", &t], None))
        .await
        .unwrap();
    assert!(ok, "{out}{err}");
    let len = std::fs::metadata(&target).unwrap().len();
    assert!(len > 0);
    if app.backend == Backend::Sqlite {
        let copy = kith_store::Db::connect(&format!("sqlite://{target}"))
            .await
            .unwrap();
        let n = kith_store::migrate::current(&copy).await.unwrap();
        assert_eq!(n, kith_store::migrate::latest());
        let mut copy2 = copy.clone();
        use kith_store::Exec;
        let rows = copy2
            .fetch_all(kith_store::Sql::new("SELECT first_name FROM contacts"))
            .await
            .unwrap();
        assert_eq!(rows[0].text("first_name").unwrap().as_deref(), Some("Kept"));
        copy.close().await;
    }
    let db = app.db_url.clone();
    let t = target.clone();
    let (ok, _, err) = tokio::task::spawn_blocking(move || kith(&db, &["backup", &t], None))
        .await
        .unwrap();
    assert!(!ok, "an existing backup is never overwritten: {err}");
});
