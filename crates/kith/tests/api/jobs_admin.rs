//! Durable jobs for admins: each workspace's admins alone see and retry its jobs, in the
//! API and on the settings page.

use kith_app::jobs::{JobOptions, Worker};
use kith_app::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{both, TestApp};
use crate::jobs::{acme, counting, job, quick};

both!(
    jobs_are_for_their_workspaces_admins_only,
    |app| async move {
        let e = app
            .app
            .enqueue(
                acme(app).await,
                "test.broken",
                json!({}),
                JobOptions::default(),
            )
            .await
            .unwrap();
        let worker = Worker::new(
            app.app.clone(),
            counting(Default::default(), Default::default()),
            quick(),
        );
        worker.run_until_idle().await.unwrap();
        assert_eq!(job(app, e.id).await["status"], "dead");
        let other = app.user("admin@globex.test", Role::Admin, "globex").await;
        let res = other.get("/api/v1/jobs").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.body["data"], json!([]));
        let res = other
            .post(&format!("/api/v1/jobs/{}/retry", e.id), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        for role in [Role::Member, Role::ReadOnly] {
            let who = app
                .user(&format!("{}@acme.test", role.as_str()), role, "acme")
                .await;
            for res in [
                who.get("/api/v1/jobs?status=dead").await,
                who.get("/api/v1/schedules").await,
                who.post(&format!("/api/v1/jobs/{}/retry", e.id), json!({}))
                    .await,
            ] {
                assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
            }
        }
        assert_eq!(
            job(app, e.id).await["status"],
            "dead",
            "refused retries change nothing"
        );
        let anon = app.anonymous().get("/api/v1/jobs").await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_retries_a_dead_job_from_the_settings_page() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let e = app
        .app
        .enqueue(
            acme(&app).await,
            "test.broken",
            json!({}),
            JobOptions::default(),
        )
        .await
        .unwrap();
    let worker = Worker::new(
        app.app.clone(),
        counting(Default::default(), Default::default()),
        quick(),
    );
    worker.run_until_idle().await.unwrap();
    let b = crate::browser::Browser::open(&app.api.base, "da", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/settings").await;
    b.find("a[href='/settings/jobs']")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('#dead tbody tr') !== null")
        .await;
    assert_eq!(b.text("h1").await, "Baggrundsjob");
    assert!(b.text("#dead").await.contains("payload has no recipient"));
    b.find(&format!("#job-{} button", e.id))
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('.notice') !== null").await;
    assert_eq!(b.text(".notice").await, "Sat i kø igen.");
    assert_eq!(job(&app, e.id).await["status"], "queued");
    b.close().await;
    app.finish().await;
}
