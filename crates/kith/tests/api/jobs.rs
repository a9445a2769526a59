//! Durable jobs in one process: a job runs once; failures retry with backoff and end in
//! the dead letters, which an admin retries; idempotency keys; scheduled and recurring
//! jobs; permanent errors; the admin API and who may use it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kith_app::jobs::{
    dedup_schedule, Definition, Handlers, JobError, JobOptions, Worker, WorkerConfig,
};
use kith_app::{App, Role};
use kith_core::jobs::Cadence;
use kith_store::{Db, WorkspaceId};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{both, TestApp};

pub(crate) async fn acme(app: &TestApp) -> WorkspaceId {
    app.app
        .caller_by_email("admin@acme.test")
        .await
        .unwrap()
        .workspace
        .id
}

/// Quick retries, so that a test walks through every attempt in moments.
pub(crate) fn quick() -> WorkerConfig {
    WorkerConfig {
        poll: Duration::from_millis(50),
        retry_base: Duration::from_millis(40),
        retry_cap: Duration::from_millis(200),
        ..WorkerConfig::default()
    }
}

/// Handlers counting their runs: `count` succeeds; `flaky` fails until `healed`;
/// `broken` fails for good.
pub(crate) fn counting(runs: Arc<AtomicUsize>, healed: Arc<AtomicBool>) -> Handlers {
    let mut h = Handlers::new();
    let r = runs.clone();
    h.on("test.count", move |_| {
        let r = r.clone();
        async move {
            r.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    let r = runs.clone();
    h.on("test.flaky", move |_| {
        let (r, healed) = (r.clone(), healed.clone());
        async move {
            r.fetch_add(1, Ordering::SeqCst);
            if healed.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err(JobError::Retry(
                    "smtp.example.com refused the connection".into(),
                ))
            }
        }
    });
    h.on("test.broken", move |cx| {
        let r = runs.clone();
        async move {
            r.fetch_add(1, Ordering::SeqCst);
            Err(JobError::Permanent(format!(
                "payload has no recipient: {}",
                cx.job.payload
            )))
        }
    });
    h
}

pub(crate) async fn job(app: &TestApp, id: Uuid) -> Value {
    let res = app.api.get("/api/v1/jobs?limit=500").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == json!(id))
        .cloned()
        .unwrap_or_else(|| panic!("job {id} not listed: {}", res.body))
}

both!(a_job_runs_once_and_shows_as_done, |app| async move {
    let runs = Arc::new(AtomicUsize::new(0));
    let worker = Worker::new(
        app.app.clone(),
        counting(runs.clone(), Default::default()),
        quick(),
    );
    let e = app
        .app
        .enqueue(
            acme(app).await,
            "test.count",
            json!({"n": 1}),
            JobOptions::default(),
        )
        .await
        .unwrap();
    assert!(e.created);
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    assert_eq!(worker.run_until_idle().await.unwrap(), 0);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let j = job(app, e.id).await;
    assert_eq!(j["status"], "done");
    assert_eq!(j["attempts"], 1);
    assert_eq!(j["payload"], json!({"n": 1}));
    assert!(j["finished_at"].is_string());
    assert!(j["locked_by"].is_null());
});

both!(
    a_failing_job_backs_off_then_dies_and_an_admin_retry_runs_it,
    |app| async move {
        let runs = Arc::new(AtomicUsize::new(0));
        let healed = Arc::new(AtomicBool::new(false));
        let worker = Worker::new(
            app.app.clone(),
            counting(runs.clone(), healed.clone()),
            quick(),
        );
        let opts = JobOptions {
            max_attempts: Some(3),
            ..Default::default()
        };
        let e = app
            .app
            .enqueue(
                acme(app).await,
                "test.flaky",
                json!({"to": "ana@example.com"}),
                opts,
            )
            .await
            .unwrap();
        assert_eq!(worker.run_until_idle().await.unwrap(), 1);
        let first = job(app, e.id).await;
        assert_eq!(first["status"], "failed");
        assert_eq!(first["attempts"], 1);
        assert_eq!(
            first["last_error"],
            "smtp.example.com refused the connection"
        );
        // Backoff: the next attempt is set later than the failure was recorded.
        let at = |v: &Value, k: &str| {
            chrono::DateTime::parse_from_rfc3339(v[k].as_str().unwrap()).unwrap()
        };
        assert!(at(&first, "run_at") > at(&first, "updated_at"), "{first}");
        // Walk through the remaining attempts (each waits for its backoff).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            worker.run_until_idle().await.unwrap();
            if job(app, e.id).await["status"] == "dead" {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never died");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let dead = app.api.get("/api/v1/jobs?status=dead").await;
        assert_eq!(dead.status, StatusCode::OK);
        let listed = dead.body["data"].as_array().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["attempts"], 3);
        assert_eq!(listed[0]["kind"], "test.flaky");
        // The SMTP server is back: the admin retries by hand.
        healed.store(true, Ordering::SeqCst);
        let res = app
            .api
            .post(&format!("/api/v1/jobs/{}/retry", e.id), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["status"], "queued");
        assert_eq!(res.body["attempts"], 0);
        assert_eq!(worker.run_until_idle().await.unwrap(), 1);
        assert_eq!(job(app, e.id).await["status"], "done");
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        // A done job is not retried.
        let again = app
            .api
            .post(&format!("/api/v1/jobs/{}/retry", e.id), json!({}))
            .await;
        assert_eq!(
            again.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            again.body
        );
        let missing = app
            .api
            .post(&format!("/api/v1/jobs/{}/retry", Uuid::now_v7()), json!({}))
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let bad = app.api.get("/api/v1/jobs?status=lost").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both!(
    a_permanent_error_goes_straight_to_the_dead_letters,
    |app| async move {
        let runs = Arc::new(AtomicUsize::new(0));
        let worker = Worker::new(
            app.app.clone(),
            counting(runs.clone(), Default::default()),
            quick(),
        );
        let opts = JobOptions {
            max_attempts: Some(5),
            ..Default::default()
        };
        let e = app
            .app
            .enqueue(
                acme(app).await,
                "test.broken",
                json!({"api_token": "s3cret"}),
                opts,
            )
            .await
            .unwrap();
        assert_eq!(worker.run_until_idle().await.unwrap(), 1);
        assert_eq!(worker.run_until_idle().await.unwrap(), 0);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let j = job(app, e.id).await;
        assert_eq!(j["status"], "dead");
        assert_eq!(j["attempts"], 1);
        // Secret-looking payload values are not shown to admins.
        assert_eq!(j["payload"]["api_token"], "[hidden]");
    }
);

both!(
    an_idempotency_key_gives_the_existing_job,
    |app| async move {
        let ws = acme(app).await;
        let key = |k: &str| JobOptions {
            idempotency_key: Some(k.into()),
            ..Default::default()
        };
        let a = app
            .app
            .enqueue(ws, "test.count", json!({}), key("welcome:42"))
            .await
            .unwrap();
        let b = app
            .app
            .enqueue(ws, "test.count", json!({}), key("welcome:42"))
            .await
            .unwrap();
        assert!(a.created);
        assert!(!b.created);
        assert_eq!(a.id, b.id);
        // Inside a caller's transaction too, and scoped by kind and workspace.
        let mut tx = app.app.db().begin().await.unwrap();
        let c = kith_app::jobs::enqueue_in(&mut tx, ws, "test.count", json!({}), key("welcome:42"))
            .await
            .unwrap();
        let d =
            kith_app::jobs::enqueue_in(&mut tx, ws, "test.broken", json!({}), key("welcome:42"))
                .await
                .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(c.id, a.id);
        assert!(d.created);
        app.user("admin@globex.test", Role::Admin, "globex").await;
        let globex = app
            .app
            .caller_by_email("admin@globex.test")
            .await
            .unwrap()
            .workspace
            .id;
        let g = app
            .app
            .enqueue(globex, "test.count", json!({}), key("welcome:42"))
            .await
            .unwrap();
        assert!(g.created);
        // A rolled-back transaction leaves no job.
        let mut tx = app.app.db().begin().await.unwrap();
        let gone =
            kith_app::jobs::enqueue_in(&mut tx, ws, "test.count", json!({}), JobOptions::default())
                .await
                .unwrap();
        drop(tx);
        let runs = Arc::new(AtomicUsize::new(0));
        let worker = Worker::new(
            app.app.clone(),
            counting(runs.clone(), Default::default()),
            quick(),
        );
        assert_eq!(
            worker.run_until_idle().await.unwrap(),
            3,
            "one per key, kind and workspace"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let all = app.api.get("/api/v1/jobs").await.body["data"].clone();
        assert!(all
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["id"] != json!(gone.id)));
        let bad = app
            .app
            .enqueue(ws, "Not A Kind", json!({}), JobOptions::default())
            .await;
        assert!(bad.is_err());
    }
);

/// Runs `worker` in the background until the returned sender is dropped or fired.
pub(crate) fn start(
    worker: Worker,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        worker
            .run(async {
                let _ = stopped.await;
            })
            .await;
    });
    (stop, task)
}

both!(a_scheduled_job_waits_for_its_time, |app| async move {
    let ws = acme(app).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let later = app
        .app
        .enqueue(
            ws,
            "test.count",
            json!({}),
            JobOptions {
                run_at: Some(Utc::now() + chrono::Duration::hours(1)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let run_at = Utc::now() + chrono::Duration::seconds(2);
    let soon = app
        .app
        .enqueue(
            ws,
            "test.count",
            json!({}),
            JobOptions {
                run_at: Some(run_at),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (stop, task) = start(Worker::new(
        app.app.clone(),
        counting(runs.clone(), Default::default()),
        quick(),
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while job(app, soon.id).await["status"] != "done" {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled job never ran"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    task.await.unwrap();
    let done = job(app, soon.id).await;
    let finished =
        chrono::DateTime::parse_from_rfc3339(done["finished_at"].as_str().unwrap()).unwrap();
    assert!(finished >= run_at, "ran before its time: {done}");
    assert_eq!(job(app, later.id).await["status"], "queued");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
});

both!(
    a_recurring_schedule_enqueues_each_tick_once_across_workers,
    |app| async move {
        let ws = acme(app).await;
        let def = Definition {
            name: "digest".into(),
            kind: "test.count".into(),
            payload: json!({"digest": true}),
            cadence: Cadence::Every(3600),
            enabled: true,
        };
        app.app.save_schedule(ws, &def).await.unwrap();
        // Two nodes: their own pools on the same database.
        let other = App::new(Db::connect(&app.db_url).await.unwrap());
        let runs = Arc::new(AtomicUsize::new(0));
        let a = Worker::new(
            app.app.clone(),
            counting(runs.clone(), Default::default()),
            quick(),
        );
        let b = Worker::new(
            other.clone(),
            counting(runs.clone(), Default::default()),
            quick(),
        );
        let now = Utc::now();
        assert_eq!(a.tick_schedules(now).await.unwrap(), 0, "not due yet");
        // Time passes: both tick at the same moment, again and again.
        let t1 = now + chrono::Duration::seconds(3601);
        let (x, y) = tokio::join!(a.tick_schedules(t1), b.tick_schedules(t1));
        assert_eq!(x.unwrap() + y.unwrap(), 1);
        let (x, y) = tokio::join!(a.tick_schedules(t1), b.tick_schedules(t1));
        assert_eq!(x.unwrap() + y.unwrap(), 0);
        let t2 = now + chrono::Duration::seconds(2 * 3600 + 5);
        let (x, y) = tokio::join!(b.tick_schedules(t2), a.tick_schedules(t2));
        assert_eq!(x.unwrap() + y.unwrap(), 1);
        // Each tick's job waits for the tick's time (an hour on): nothing runs now.
        let (x, y) = tokio::join!(a.run_until_idle(), b.run_until_idle());
        assert_eq!(x.unwrap() + y.unwrap(), 0);
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        let jobs = app.api.get("/api/v1/jobs").await.body["data"].clone();
        let keys: Vec<&str> = jobs
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|j| j["idempotency_key"].as_str())
            .collect();
        assert_eq!(keys.len(), 2);
        assert!(
            keys.iter().all(|k| k.starts_with("schedule:digest:")),
            "{keys:?}"
        );
        let res = app.api.get("/api/v1/schedules").await;
        assert_eq!(res.status, StatusCode::OK);
        let s = &res.body["data"][0];
        assert_eq!(s["name"], "digest");
        assert_eq!(s["every_secs"], 3600);
        assert!(s["last_job_id"].is_string());
        // Daily schedules tick in the workspace's time zone (Europe/Copenhagen).
        let daily = Definition {
            name: "birthdays".into(),
            cadence: Cadence::daily_at("07:00").unwrap(),
            ..def
        };
        app.app.save_schedule(ws, &daily).await.unwrap();
        let res = app.api.get("/api/v1/schedules").await;
        let b = res.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "birthdays")
            .unwrap()
            .clone();
        assert_eq!(b["daily_at"], "07:00");
        let next = chrono::DateTime::parse_from_rfc3339(b["next_run_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Copenhagen);
        assert_eq!(next.format("%H:%M").to_string(), "07:00");
        other.db().close().await;
    }
);

both!(
    the_duplicate_scan_runs_as_a_job_on_every_workspaces_schedule,
    |app| async move {
        let api = &app.api;
        api.create(
            "contacts",
            json!({"first_name": "Søren", "last_name": "Jensen", "email": "soren@example.dk"}),
        )
        .await;
        api.create(
            "contacts",
            json!({"first_name": "Soeren", "last_name": "Jensen", "email": "soren@example.dk"}),
        )
        .await;
        let config = WorkerConfig {
            standard_schedules: vec![dedup_schedule(6)],
            ..quick()
        };
        let worker = Worker::new(app.app.clone(), Handlers::standard(), config);
        let (stop, task) = start(worker.clone());
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let s = api.get("/api/v1/schedules").await.body["data"].clone();
            if s.as_array().is_some_and(|a| {
                a.iter()
                    .any(|s| s["name"] == "dedup.scan" && s["every_secs"] == 6 * 3600)
            }) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no dedup schedule: {s}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = stop.send(());
        task.await.unwrap();
        // Its tick comes (six hours on), and the scan finds the pair.
        let later = Utc::now() + chrono::Duration::hours(7);
        assert_eq!(worker.tick_schedules(later).await.unwrap(), 1);
        // The job is due at its tick; run it now by hand, as an admin would.
        let j = api.get("/api/v1/jobs?status=queued").await.body["data"][0].clone();
        assert_eq!(j["kind"], "dedup.scan");
        let mut db = app.app.db().clone();
        kith_store::Exec::execute(
            &mut db,
            kith_store::Sql::new("UPDATE jobs SET run_at = ")
                .arg(kith_core::Scalar::Time(Utc::now()))
                .and(" WHERE kind = 'dedup.scan'"),
        )
        .await
        .unwrap();
        assert_eq!(worker.run_until_idle().await.unwrap(), 1);
        let pairs = api.get("/api/v1/duplicates?object=contacts").await;
        assert_eq!(
            pairs.body["data"].as_array().unwrap().len(),
            1,
            "{}",
            pairs.body
        );
    }
);

both!(
    a_stopping_worker_gives_unfinished_jobs_back,
    |app| async move {
        let mut h = Handlers::new();
        h.on("test.slow", |_| async {
            tokio::time::sleep(Duration::from_secs(600)).await;
            Ok(())
        });
        let config = WorkerConfig {
            grace: Duration::from_millis(100),
            ..quick()
        };
        let e = app
            .app
            .enqueue(
                acme(app).await,
                "test.slow",
                json!({}),
                JobOptions::default(),
            )
            .await
            .unwrap();
        let (stop, task) = start(Worker::new(app.app.clone(), h, config));
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while job(app, e.id).await["status"] != "running" {
            assert!(std::time::Instant::now() < deadline, "never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = stop.send(());
        task.await.unwrap();
        let j = job(app, e.id).await;
        assert_eq!(j["status"], "queued", "{j}");
        assert_eq!(
            j["attempts"], 0,
            "an interrupted run is not a failed attempt"
        );
        assert!(j["locked_by"].is_null());
    }
);
