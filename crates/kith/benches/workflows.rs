//! Workflow dispatch throughput: outbox events taken, matched against an enabled
//! workflow (trigger `contact.created`, condition `country = DK` checked on the record),
//! turned into a run and its job, and marked dispatched — events/s — next to a raw
//! baseline that only inserts the same run and job rows in batches.
//!
//! `cargo bench -p kith --bench workflows` with `KITH_TEST_PG` set for PostgreSQL.
//! `KITH_BENCH_EVENTS` (default 20000), `KITH_BENCH_BACKENDS` (default `sqlite,postgres`).

mod common;

use std::time::Instant;

use chrono::Utc;
use kith_app::{App, Role};
use kith_core::Scalar;
use kith_store::bulk::insert_rows;
use kith_store::{Db, Exec, Sql, WorkspaceId};
use serde_json::json;
use uuid::Uuid;

const CONTACTS: usize = 200;

async fn setup(app: &App) -> (WorkspaceId, Vec<Uuid>, Uuid) {
    app.configure_workspace("bench", "DKK", Some("DK"), "Europe/Copenhagen")
        .await
        .unwrap();
    app.add_user(
        "admin@bench.test",
        Role::Admin,
        "bench",
        "correct horse battery staple",
    )
    .await
    .unwrap();
    let caller = app.caller_by_email("admin@bench.test").await.unwrap();
    let mut contacts = Vec::new();
    for i in 0..CONTACTS {
        let country = if i % 2 == 0 { "DK" } else { "SE" };
        let body = json!({"first_name": format!("C{i}"), "country": country});
        let rec = app
            .create(
                &caller,
                kith_core::objects::ObjectKind::Contact,
                body.as_object().unwrap(),
            )
            .await
            .unwrap();
        contacts.push(rec.id);
    }
    let wf = app
        .create_workflow(
            &caller,
            &json!({"name": "Bench", "enabled": true,
                "trigger": {"type": "record_created", "object": "contact"},
                "conditions": "country = DK",
                "actions": [{"type": "add_tag", "tag": "new"}]}),
        )
        .await
        .unwrap();
    (caller.workspace.id, contacts, wf.id)
}

async fn clear(app: &App) {
    let mut db = app.db().clone();
    for sql in [
        "UPDATE events SET processed_at = at WHERE processed_at IS NULL",
        "DELETE FROM jobs",
        "DELETE FROM workflow_runs",
    ] {
        db.execute(Sql::new(sql)).await.unwrap();
    }
}

/// `n` synthetic `contact.created` events about the bench contacts.
async fn events(app: &App, ws: WorkspaceId, contacts: &[Uuid], n: usize) {
    let now = Utc::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<Vec<Scalar>> = chunk
            .iter()
            .map(|i| {
                vec![
                    Scalar::Uuid(Uuid::now_v7()),
                    Scalar::Uuid(ws.0),
                    Scalar::Time(now),
                    Scalar::Text("contact.created".into()),
                    Scalar::Text("contact".into()),
                    Scalar::Uuid(contacts[i % contacts.len()]),
                    Scalar::Json(json!({})),
                ]
            })
            .collect();
        let mut tx = app.db().begin().await.unwrap();
        insert_rows(
            &mut tx,
            "events",
            kith_store::bulk::EVENT_COLUMNS,
            &rows,
            "",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn dispatch(app: &App) -> f64 {
    let start = Instant::now();
    while app.dispatch_events(500).await.unwrap() > 0 {}
    start.elapsed().as_secs_f64()
}

/// Inserts `runs` run rows and as many job rows, 500 of each per transaction.
async fn raw(app: &App, ws: WorkspaceId, wf: Uuid, contacts: &[Uuid], runs: usize) -> f64 {
    let start = Instant::now();
    let now = Utc::now();
    for chunk in (0..runs).collect::<Vec<_>>().chunks(500) {
        let mut run_rows = Vec::new();
        let mut job_rows = Vec::new();
        for i in chunk {
            let id = Uuid::now_v7();
            run_rows.push(vec![
                Scalar::Uuid(id),
                Scalar::Uuid(ws.0),
                Scalar::Uuid(wf),
                Scalar::Int(1),
                Scalar::Text(Uuid::now_v7().to_string()),
                Scalar::Text("contact".into()),
                Scalar::Uuid(contacts[(i * 2) % contacts.len()]),
                Scalar::Text("running".into()),
                Scalar::Time(now),
            ]);
            job_rows.push(vec![
                Scalar::Uuid(Uuid::now_v7()),
                Scalar::Uuid(ws.0),
                Scalar::Text("workflow.run".into()),
                Scalar::Json(json!({"run_id": id})),
                Scalar::Text("queued".into()),
                Scalar::Time(now),
                Scalar::Int(5),
                Scalar::Text(format!("run:{id}")),
                Scalar::Time(now),
                Scalar::Time(now),
            ]);
        }
        let mut tx = app.db().begin().await.unwrap();
        let cols = [
            "id",
            "workspace_id",
            "workflow_id",
            "version",
            "trigger_key",
            "object",
            "record_id",
            "status",
            "started_at",
        ];
        insert_rows(&mut tx, "workflow_runs", &cols, &run_rows, "")
            .await
            .unwrap();
        let cols = [
            "id",
            "workspace_id",
            "kind",
            "payload",
            "status",
            "run_at",
            "max_attempts",
            "idempotency_key",
            "created_at",
            "updated_at",
        ];
        insert_rows(&mut tx, "jobs", &cols, &job_rows, "")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    start.elapsed().as_secs_f64()
}

async fn count(app: &App, table: &str) -> i64 {
    let mut db = app.db().clone();
    let sql = Sql::new("SELECT COUNT(*) AS n FROM ").and(table);
    db.fetch_optional(sql)
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap()
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::var("KITH_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(20_000);
    let backends = std::env::var("KITH_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    let dir = common::scratch_dir("bench-workflows");
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "# {n} contact.created events, one workflow with a condition (half pass), {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| backend | Kith dispatcher | events/s | runs started | raw insert of runs + jobs | runs/s | ratio (per run) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for b in backends.split(',').map(str::trim) {
        let url = common::fresh_database(&rt, b, &dir, "workflows");
        rt.block_on(async {
            let db = Db::connect(&url).await.unwrap();
            kith_store::migrate::run(&db).await.unwrap();
            let app = App::new(db);
            let (ws, contacts, wf) = setup(&app).await;
            clear(&app).await;
            events(&app, ws, &contacts, n).await;
            let secs = dispatch(&app).await;
            let runs = count(&app, "workflow_runs").await;
            assert_eq!(runs as usize, n / 2, "half the events pass the condition");
            clear(&app).await;
            let raw_secs = raw(&app, ws, wf, &contacts, runs as usize).await;
            println!(
                "| {b} | {secs:.2} s | {:.0} | {runs} | {raw_secs:.2} s | {:.0} | {:.1}× |",
                n as f64 / secs,
                runs as f64 / raw_secs,
                (secs / runs as f64) / (raw_secs / runs as f64)
            );
            app.db().close().await;
        });
    }
}
