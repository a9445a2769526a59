//! Job throughput: jobs/s claimed, run (a no-op handler) and recorded by Kith's
//! `Worker` on SQLite and PostgreSQL with 1 and 4 workers — each worker its own
//! connection pool, as separate nodes would be, running 4 jobs at a time — next to a
//! raw SQL baseline: plain sqlx loops doing the least a queue must (claim one row with
//! the same locking and the same index, mark it done) on the same table.
//!
//! `cargo bench -p kith --bench jobs` with `KITH_TEST_PG` set (scripts/bench starts a
//! PostgreSQL). `KITH_BENCH_JOBS` (default 10000), `KITH_BENCH_BACKENDS` (default
//! `sqlite,postgres`).

mod common;

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kith_app::jobs::{Handlers, JobOptions, Worker, WorkerConfig};
use kith_app::App;
use kith_store::{Db, Exec, Sql, WorkspaceId};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

async fn enqueue(app: &App, ws: WorkspaceId, n: usize) {
    for chunk in 0..n.div_ceil(1000) {
        let mut tx = app.db().begin().await.unwrap();
        for _ in chunk * 1000..((chunk + 1) * 1000).min(n) {
            kith_app::jobs::enqueue_in(
                &mut tx,
                ws,
                "bench.noop",
                serde_json::json!({}),
                JobOptions::default(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

async fn remaining(app: &App) -> i64 {
    let mut db = app.db().clone();
    db.fetch_optional(Sql::new(
        "SELECT COUNT(*) AS n FROM jobs WHERE status <> 'done'",
    ))
    .await
    .unwrap()
    .unwrap()
    .int("n")
    .unwrap()
    .unwrap_or(0)
}

async fn clear(app: &App) {
    let mut db = app.db().clone();
    db.execute(Sql::new("DELETE FROM jobs")).await.unwrap();
}

/// Seconds for `workers` Kith workers to run `n` queued no-op jobs. The handler counts
/// its runs, so the clock needs no polling of the table (which would cost the database
/// more than the jobs) until the last few outcomes are written.
async fn kith_workers(url: &str, app: &App, workers: usize, n: usize) -> f64 {
    let ran = Arc::new(AtomicUsize::new(0));
    let all_ran = Arc::new(tokio::sync::Notify::new());
    let mut stops = vec![];
    let mut tasks = vec![];
    let start = Instant::now();
    for _ in 0..workers {
        let node = App::new(Db::connect(url).await.unwrap());
        let mut h = Handlers::new();
        let (ran, all_ran) = (ran.clone(), all_ran.clone());
        h.on("bench.noop", move |_| {
            if ran.fetch_add(1, Ordering::SeqCst) + 1 >= n {
                all_ran.notify_one();
            }
            async { Ok(()) }
        });
        let concurrency = std::env::var("KITH_BENCH_CONCURRENCY")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(4);
        let config = WorkerConfig {
            concurrency,
            ..WorkerConfig::default()
        };
        let w = Worker::new(node.clone(), h, config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        tasks.push(tokio::spawn(async move {
            w.run(async {
                let _ = stopped.await;
            })
            .await;
            node.db().close().await;
        }));
    }
    all_ran.notified().await;
    while remaining(app).await > 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    for s in stops {
        let _ = s.send(());
    }
    for t in tasks {
        t.await.unwrap();
    }
    secs
}

/// Seconds for `workers` plain loops to claim and finish `n` jobs with sqlx.
async fn raw(url: &str, workers: usize) -> f64 {
    let start = Instant::now();
    let mut tasks = vec![];
    for _ in 0..workers {
        let url = url.to_string();
        tasks.push(tokio::spawn(async move {
            if let Some(path) = url.strip_prefix("sqlite://") {
                let opts = SqliteConnectOptions::from_str(path)
                    .unwrap()
                    .filename(path)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts)
                    .await
                    .unwrap();
                loop {
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
                    let id: Option<Vec<u8>> = sqlx::query_scalar("UPDATE jobs SET status = 'running' WHERE id = (SELECT id FROM jobs WHERE status IN ('queued', 'failed') AND run_at <= ? ORDER BY run_at LIMIT 1) RETURNING id")
                        .bind(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
                        .fetch_optional(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    let Some(id) = id else { break };
                    sqlx::query("UPDATE jobs SET status = 'done' WHERE id = ?")
                        .bind(id)
                        .execute(&pool)
                        .await
                        .unwrap();
                }
                pool.close().await;
            } else {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .unwrap();
                loop {
                    let id: Option<uuid::Uuid> = sqlx::query_scalar("UPDATE jobs SET status = 'running' WHERE id = (SELECT id FROM jobs WHERE status IN ('queued', 'failed') AND run_at <= $1 ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id")
                        .bind(chrono::Utc::now())
                        .fetch_optional(&pool)
                        .await
                        .unwrap();
                    let Some(id) = id else { break };
                    sqlx::query("UPDATE jobs SET status = 'done' WHERE id = $1")
                        .bind(id)
                        .execute(&pool)
                        .await
                        .unwrap();
                }
                pool.close().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("KITH_BENCH_JOBS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(10_000);
    let backends = std::env::var("KITH_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    let dir = common::scratch_dir("bench-jobs");
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "# {n} no-op jobs claimed, run and recorded, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| backend | workers | Kith worker | jobs/s | raw SQL | jobs/s | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for b in backends.split(',').map(str::trim) {
        let url = common::fresh_database(&rt, b, &dir, "jobs");
        rt.block_on(async {
            let db = Db::connect(&url).await.unwrap();
            kith_store::migrate::run(&db).await.unwrap();
            let app = App::new(db);
            let ws = app
                .configure_workspace("bench", "DKK", Some("DK"), "Europe/Copenhagen")
                .await
                .unwrap()
                .id;
            for workers in [1, 4] {
                clear(&app).await;
                enqueue(&app, ws, n).await;
                let kith = kith_workers(&url, &app, workers, n).await;
                clear(&app).await;
                enqueue(&app, ws, n).await;
                let raw = raw(&url, workers).await;
                println!(
                    "| {b} | {workers} | {kith:.1} s | {:.0} | {raw:.1} s | {:.0} | {:.1}× |",
                    n as f64 / kith,
                    n as f64 / raw,
                    kith / raw
                );
            }
            app.db().close().await;
        });
    }
}
