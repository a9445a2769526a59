//! More workflow triggers and actions: segments entered and left, the scan's overdue
//! tasks and quiet records, a delayed step, owners assigned by rule.

use chrono::{Duration, Utc};
use kith_app::Role;
use kith_core::Scalar;
use kith_store::{Exec, Sql};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{both, TestApp};
use crate::jobs::acme;
use crate::workflows::{runs_of, settle, workflow};

async fn tags(app: &TestApp, c: &Value) -> Value {
    let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
    app.api.get(&path).await.body["tags"].clone()
}

both!(
    entering_and_leaving_a_segment_trigger_workflows,
    |app| async move {
        let seg = app
            .api
            .create(
                "segments",
                json!({"name": "Danes", "object": "contact", "filter": "country = DK"}),
            )
            .await;
        for (kind, action) in [
            ("segment_entered", "add_tag"),
            ("segment_left", "remove_tag"),
        ] {
            workflow(
                app,
                json!({"name": kind, "trigger": {"type": kind, "segment_id": seg["id"]},
            "actions": [{"type": action, "tag": "dane"}]}),
            )
            .await;
        }
        let c = app
            .api
            .create("contacts", json!({"first_name": "Ida", "country": "DK"}))
            .await;
        settle(app).await;
        assert_eq!(tags(app, &c).await, json!(["dane"]));
        let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
        let res = app.api.patch(&path, json!({"country": "SE"})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        settle(app).await;
        assert_eq!(tags(app, &c).await, json!([]));
        assert_eq!(runs_of(app, "contacts", &c["id"]).await.len(), 2);
    }
);

both!(
    the_scan_finds_overdue_tasks_and_quiet_contacts_once,
    |app| async move {
        let admin = app.app.caller_by_email("admin@acme.test").await.unwrap();
        workflow(
            app,
            json!({"name": "Late", "trigger": {"type": "task_overdue"},
        "actions": [{"type": "notify", "title": "A task is late"}]}),
        )
        .await;
        workflow(app, json!({"name": "Quiet", "trigger": {"type": "no_activity", "object": "contact", "days": 30},
        "conditions": "lifecycle_stage = customer",
        "actions": [{"type": "create_task", "title": "Wake them up"}]})).await;
        let due = Utc::now() + Duration::hours(1);
        let task = app
        .api
        .create("tasks", json!({"title": "Send offer", "due_at": due.to_rfc3339(), "assignee_id": admin.user.id}))
        .await;
        let customer = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Quiet", "lifecycle_stage": "customer"}),
            )
            .await;
        let lead = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Lead", "lifecycle_stage": "lead"}),
            )
            .await;
        let ws = acme(app).await;
        assert_eq!(app.app.scan_workflows(ws, Utc::now()).await.unwrap(), 0);
        let later = Utc::now() + Duration::days(31);
        assert_eq!(app.app.scan_workflows(ws, later).await.unwrap(), 2);
        assert_eq!(app.app.scan_workflows(ws, later).await.unwrap(), 0);
        settle(app).await;
        assert_eq!(runs_of(app, "tasks", &task["id"]).await.len(), 1);
        assert_eq!(runs_of(app, "contacts", &customer["id"]).await.len(), 1);
        assert!(runs_of(app, "contacts", &lead["id"]).await.is_empty());
        let notes = app.api.get("/api/v1/notifications").await;
        assert_eq!(notes.body["data"][0]["title"], "A task is late");
    }
);

both!(a_delayed_step_waits_as_a_scheduled_job, |app| async move {
    workflow(app, json!({"name": "Drip", "trigger": {"type": "record_created", "object": "contact"},
        "actions": [{"type": "add_tag", "tag": "now"}, {"type": "add_tag", "tag": "later", "delay_minutes": 30}]})).await;
    let c = app
        .api
        .create("contacts", json!({"first_name": "Drip"}))
        .await;
    settle(app).await;
    let runs = runs_of(app, "contacts", &c["id"]).await;
    assert_eq!(runs[0]["status"], "running");
    assert_eq!(runs[0]["steps"][1]["status"], "waiting", "{}", runs[0]);
    assert_eq!(tags(app, &c).await, json!(["now"]));
    // Half an hour passes.
    let sql = Sql::new("UPDATE jobs SET run_at = ")
        .arg(Scalar::Time(Utc::now()))
        .and(" WHERE kind = 'workflow.run' AND status = 'queued'");
    assert_eq!(app.app.db().clone().execute(sql).await.unwrap(), 1);
    let sql = Sql::new("UPDATE workflow_runs SET steps = ")
        .arg(Scalar::Json(json!([runs[0]["steps"][0], {"index": 1, "status": "waiting", "until": Utc::now().to_rfc3339()}])));
    app.app.db().clone().execute(sql).await.unwrap();
    settle(app).await;
    let runs = runs_of(app, "contacts", &c["id"]).await;
    assert_eq!(runs[0]["status"], "succeeded", "{}", runs[0]);
    assert_eq!(tags(app, &c).await, json!(["later", "now"]));
});

both!(
    owners_are_assigned_by_rule_with_a_fallback,
    |app| async move {
        let mut ids = Vec::new();
        for email in ["dk@acme.test", "se@acme.test"] {
            app.user(email, Role::Member, "acme").await;
            ids.push(app.app.caller_by_email(email).await.unwrap().user.id);
        }
        let admin = app
            .app
            .caller_by_email("admin@acme.test")
            .await
            .unwrap()
            .user
            .id;
        workflow(app, json!({"name": "Route", "trigger": {"type": "record_created", "object": "contact"},
        "actions": [{"type": "assign_owner", "by_field": "country", "rules": {"DK": ids[0], "se": ids[1]}, "users": [admin]}]})).await;
        let mut made = Vec::new();
        for country in ["DK", "SE", "NO"] {
            made.push(
                app.api
                    .create(
                        "contacts",
                        json!({"first_name": country, "country": country}),
                    )
                    .await,
            );
        }
        settle(app).await;
        let want = [ids[0], ids[1], admin];
        for (c, owner) in made.iter().zip(want) {
            let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
            assert_eq!(app.api.get(&path).await.body["owner_id"], json!(owner));
        }
    }
);

both!(
    a_workflow_sends_a_template_to_the_contact,
    |app| async move {
        let sink = crate::mail_servers::SmtpSink::start().await;
        crate::mail::configure(app, sink.port, None).await;
        let t = app
            .api
            .post(
                "/api/v1/email-templates",
                json!({"name": "Velkommen", "language": "da",
        "subject": "Hej {{ contact.first_name }}", "html": "<p>Velkommen!</p>", "text": ""}),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
        workflow(app, json!({"name": "Welcome mail", "trigger": {"type": "record_created", "object": "contact"},
        "conditions": "not email is empty",
        "actions": [{"type": "send_email", "template_id": t.body["id"]}]})).await;
        let c = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Åse", "email": "aase@example.test"}),
            )
            .await;
        settle(app).await;
        crate::mail::worker(app).run_until_idle().await.unwrap();
        let got = sink.wait_for(1).await;
        assert_eq!(got[0].subject, "Hej Åse");
        assert!(got[0].to.contains("aase@example.test"));
        let runs = runs_of(app, "contacts", &c["id"]).await;
        assert_eq!(runs[0]["status"], "succeeded", "{}", runs[0]);
        // The email is on the timeline like a one-off email.
        assert_eq!(crate::mail::emails_on_timeline(&app.api, &c).await.len(), 1);
    }
);

both!(a_deal_reaching_a_stage_gets_a_task, |app| async move {
    let (p, stages) = app.sales_pipeline().await;
    let (lead, proposal, won) = (&stages[0]["id"], &stages[1]["id"], &stages[2]["id"]);
    workflow(
        app,
        json!({"name": "Invoice", "trigger": {"type": "deal_stage_changed", "to_stage_id": won},
        "actions": [{"type": "create_task", "title": "Send the invoice", "due_in_days": 1}]}),
    )
    .await;
    let mut deals = Vec::new();
    for (name, to) in [("Big", won), ("Small", proposal)] {
        let d = app
            .api
            .create(
                "deals",
                json!({"name": name, "pipeline_id": p["id"], "stage_id": lead}),
            )
            .await;
        let path = format!("/api/v1/deals/{}", d["id"].as_str().unwrap());
        let res = app.api.patch(&path, json!({"stage_id": to})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        deals.push(d);
    }
    settle(app).await;
    let runs = runs_of(app, "deals", &deals[0]["id"]).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let task_id = runs[0]["steps"][0]["output"]["task_id"].as_str().unwrap();
    let task = app.api.get(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!(task.body["deal_id"], deals[0]["id"]);
    assert!(runs_of(app, "deals", &deals[1]["id"]).await.is_empty());
});

both!(
    another_workspace_sees_nothing_of_our_workflows,
    |app| async move {
        let wf = workflow(
            app,
            json!({"name": "Ours", "trigger": {"type": "record_created", "object": "contact"},
        "actions": [{"type": "notify", "title": "New"}]}),
        )
        .await;
        let c = app
            .api
            .create("contacts", json!({"first_name": "Ours"}))
            .await;
        settle(app).await;
        let other = app.user("admin@globex.test", Role::Admin, "globex").await;
        let list = other.get("/api/v1/workflows").await;
        assert_eq!(list.body["data"], json!([]));
        let id = wf["id"].as_str().unwrap();
        for path in [
            format!("/api/v1/workflows/{id}"),
            format!("/api/v1/workflows/{id}/runs"),
            format!("/api/v1/workflows/{id}/versions"),
            format!(
                "/api/v1/contacts/{}/workflow-runs",
                c["id"].as_str().unwrap()
            ),
        ] {
            assert_eq!(
                other.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let res = other
            .post(&format!("/api/v1/workflows/{id}/disable"), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let notes = other.get("/api/v1/notifications").await;
        assert_eq!(notes.body["data"], json!([]));
        let ours = app.api.get("/api/v1/notifications").await;
        assert_eq!(ours.body["unread"], 1);
    }
);
