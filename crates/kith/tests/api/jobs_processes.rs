//! Durable jobs across processes: several `kith worker` processes on one database run
//! every job exactly once; a worker killed with `kill -9` mid-job loses no job.
//!
//! The workers run the test-only kinds of `KITH_TEST_JOBS=1`: `test.log` appends a row
//! per run (so a second run of a job would show), `test.once` records each job once
//! however often it runs (idempotent, as real handlers must be after a crash).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kith_app::jobs::JobOptions;
use kith_core::Scalar;
use kith_store::{Exec, Sql};
use serde_json::json;

use crate::harness::{both, tempfile_dir, TestApp};

fn worker(app: &TestApp, dir: &tempfile_dir::Dir, name: &str, lease_secs: u64) -> Child {
    process(
        app,
        dir,
        name,
        lease_secs,
        &["worker", "--concurrency", "4"],
    )
}

/// `kith ARGS` with the test job kinds, its log in `dir`.
fn process(
    app: &TestApp,
    dir: &tempfile_dir::Dir,
    name: &str,
    lease_secs: u64,
    args: &[&str],
) -> Child {
    let log = std::fs::File::create(format!("{}/{name}.log", dir.path())).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(["--db", &app.db_url])
        .args(args)
        .env("KITH_TEST_JOBS", "1")
        .env("KITH_LOG", "warn")
        .env("KITH_JOB_POLL_MS", "50")
        .env("KITH_JOB_LEASE_SECS", lease_secs.to_string())
        .env("KITH_DEDUP_EVERY_HOURS", "0")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start kith worker")
}

fn logs(dir: &tempfile_dir::Dir) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
        out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    out
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut db = app.app.db().clone();
    db.fetch_optional(Sql::new(sql))
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap()
        .unwrap_or(0)
}

async fn create_tables(app: &TestApp) {
    let mut db = app.app.db().clone();
    for t in [
        "CREATE TABLE test_job_log (job_id TEXT NOT NULL, pid BIGINT NOT NULL)",
        "CREATE TABLE test_job_done (job_id TEXT PRIMARY KEY, pid BIGINT NOT NULL)",
    ] {
        db.execute(Sql::new(t)).await.unwrap();
    }
}

async fn enqueue(app: &TestApp, kind: &str, n: usize, sleep_ms: u64) {
    let ws = app
        .app
        .caller_by_email("admin@acme.test")
        .await
        .unwrap()
        .workspace
        .id;
    for chunk in 0..n.div_ceil(100) {
        let mut tx = app.app.db().begin().await.unwrap();
        for _ in chunk * 100..((chunk + 1) * 100).min(n) {
            kith_app::jobs::enqueue_in(
                &mut tx,
                ws,
                kind,
                json!({"sleep_ms": sleep_ms}),
                JobOptions::default(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

/// Waits (up to `secs`) until every job is done.
async fn all_done(app: &TestApp, n: i64, secs: u64, dir: &tempfile_dir::Dir) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let done = count(app, "SELECT COUNT(*) AS n FROM jobs WHERE status = 'done'").await;
        if done == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {n} jobs done in {secs}s; worker logs:\n{}",
            logs(dir)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both!(
    several_worker_processes_run_every_job_exactly_once,
    |app| async move {
        create_tables(app).await;
        let dir = tempfile_dir::Dir::new();
        // Two lone workers and a web server, which runs a worker of its own.
        let mut workers: Vec<Child> = (0..2)
            .map(|i| worker(app, &dir, &format!("w{i}"), 30))
            .collect();
        workers.push(process(
            app,
            &dir,
            "serve",
            30,
            &["serve", "--listen", "127.0.0.1:0"],
        ));
        // Enqueued while the workers already poll, in batches as an application would.
        let n = 1000;
        enqueue(app, "test.log", n, 0).await;
        all_done(app, n as i64, 240, &dir).await;
        for w in &mut workers {
            w.kill().unwrap();
            w.wait().unwrap();
        }
        let runs = count(app, "SELECT COUNT(*) AS n FROM test_job_log").await;
        let distinct = count(app, "SELECT COUNT(DISTINCT job_id) AS n FROM test_job_log").await;
        assert_eq!(distinct, n as i64, "every job ran");
        assert_eq!(runs, n as i64, "no job ran twice");
        let attempts = count(app, "SELECT MAX(attempts) AS n FROM jobs").await;
        assert_eq!(attempts, 1);
    }
);

both!(a_worker_killed_mid_job_loses_no_job, |app| async move {
    create_tables(app).await;
    let dir = tempfile_dir::Dir::new();
    let mut first = worker(app, &dir, "first", 2);
    let n = 8;
    enqueue(app, "test.once", n, 1500).await;
    // Kill it while it holds jobs.
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(
        app,
        "SELECT COUNT(*) AS n FROM jobs WHERE status = 'running'",
    )
    .await
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the worker never started a job: {}",
            logs(&dir)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().expect("kill -9");
    first.wait().unwrap();
    let stranded = count(
        app,
        "SELECT COUNT(*) AS n FROM jobs WHERE status = 'running'",
    )
    .await;
    assert!(stranded > 0, "nothing was running when the worker died");
    let mut second = worker(app, &dir, "second", 2);
    all_done(app, n as i64, 180, &dir).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let done = count(app, "SELECT COUNT(*) AS n FROM test_job_done").await;
    assert_eq!(done, n as i64, "every job's work is recorded once");
    let taken_over = count(app, "SELECT COUNT(*) AS n FROM jobs WHERE attempts >= 2").await;
    assert!(taken_over >= 1, "the killed worker's jobs ran again");
    // The first worker's pid shows only in work it finished before dying.
    let mut db = app.app.db().clone();
    let rows = db
        .fetch_all(
            Sql::new("SELECT COUNT(*) AS n FROM test_job_done WHERE pid = ")
                .arg(Scalar::Int(i64::from(second.id()))),
        )
        .await
        .unwrap();
    assert!(rows[0].int("n").unwrap().unwrap_or(0) >= 1);
});

both!(
    admins_list_dead_jobs_and_retry_them_from_the_command_line,
    |app| async move {
        let ws = app
            .app
            .caller_by_email("admin@acme.test")
            .await
            .unwrap()
            .workspace
            .id;
        let e = app
            .app
            .enqueue(
                ws,
                "mail.send",
                json!({"to": "ana@example.com"}),
                JobOptions {
                    max_attempts: Some(1),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        // A handler that fails: the job dies after its one attempt.
        let mut h = kith_app::jobs::Handlers::new();
        h.on("mail.send", |_| async {
            Err(kith_app::jobs::JobError::Retry("connection refused".into()))
        });
        kith_app::jobs::Worker::new(app.app.clone(), h, Default::default())
            .run_until_idle()
            .await
            .unwrap();
        let kith = |args: Vec<String>| {
            let db = app.db_url.clone();
            tokio::task::spawn_blocking(move || {
                Command::new(env!("CARGO_BIN_EXE_kith"))
                    .args(["--db", &db])
                    .args(&args)
                    .env("KITH_LOG", "warn")
                    .output()
                    .unwrap()
            })
        };
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let out = kith(args(&[
            "jobs",
            "list",
            "--status",
            "dead",
            "--user",
            "admin@acme.test",
        ]))
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(&e.id.to_string()), "{stdout}");
        assert!(stdout.contains("connection refused"), "{stdout}");
        let id = e.id.to_string();
        let out = kith(args(&["jobs", "retry", &id, "--user", "admin@acme.test"]))
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = kith(args(&["jobs", "retry", &id, "--user", "admin@acme.test"]))
            .await
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("only dead or failed jobs can be retried"),
            "{err}"
        );
        let out = kith(args(&[
            "jobs",
            "list",
            "--status",
            "lost",
            "--user",
            "admin@acme.test",
        ]))
        .await
        .unwrap();
        assert!(!out.status.success());
        let jobs = app.api.get("/api/v1/jobs?status=queued").await;
        assert_eq!(jobs.body["data"][0]["id"], json!(e.id));
    }
);
