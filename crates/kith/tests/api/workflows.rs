//! Workflows end to end: triggers (created, field changed, date-relative scan),
//! conditions, actions (task, tag, owner round-robin, notification, signed webhook with
//! retries), every run recorded, loops prevented, bad definitions named field by field.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, Utc};
use kith_app::jobs::{Handlers, Worker};
use kith_app::Role;
use kith_core::Scalar;
use kith_store::{Exec, Sql};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use crate::harness::{both, TestApp};
use crate::jobs::{acme, quick};

/// Dispatches events and runs jobs until no workflow job is waiting (retries included).
pub(crate) async fn settle(app: &TestApp) {
    settle_with(app, app.app.clone()).await
}

/// As [`settle`], with the jobs run by `runner`: the same database under other settings
/// (such as an extra CA for webhooks).
pub(crate) async fn settle_with(app: &TestApp, runner: kith_app::App) {
    let worker = Worker::new(runner, Handlers::standard(), quick());
    for _ in 0..200 {
        worker.run_until_idle().await.unwrap();
        // Jobs waiting for a retry count; a step delayed for minutes does not.
        let soon = Utc::now() + chrono::Duration::seconds(5);
        let sql = Sql::new("SELECT COUNT(*) AS n FROM jobs WHERE kind = ")
            .arg(Scalar::Text("workflow.run".into()))
            .and(" AND status IN ('queued', 'failed', 'running') AND run_at <= ")
            .arg(Scalar::Time(soon));
        let row = app.app.db().clone().fetch_optional(sql).await.unwrap();
        if row.and_then(|r| r.int("n").unwrap()).unwrap_or(0) == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("workflow jobs did not settle");
}

pub(crate) async fn workflow(app: &TestApp, body: Value) -> Value {
    let mut body = body;
    body["enabled"] = json!(true);
    let res = app.api.post("/api/v1/workflows", body.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{body}: {}", res.body);
    res.body
}

pub(crate) async fn runs_of(app: &TestApp, objects: &str, id: &Value) -> Vec<Value> {
    let res = app
        .api
        .get(&format!(
            "/api/v1/{objects}/{}/workflow-runs",
            id.as_str().unwrap()
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["data"].as_array().unwrap().clone()
}

both!(
    a_new_contact_gets_a_task_even_after_a_failing_action,
    |app| async move {
        // A switched-off sequence refuses enrolments: the first action fails for good.
        let t = app.api.post("/api/v1/email-templates", json!({"name": "W", "language": "en", "subject": "Hi", "html": "<p>Hi</p>", "text": ""})).await.body;
        let off = app.api.post("/api/v1/sequences", json!({"name": "Off", "enabled": false, "steps": [{"wait_minutes": 0, "template_id": t["id"]}]})).await.body;
        let wf = workflow(
            app,
            json!({"name": "Welcome", "trigger": {"type": "record_created", "object": "contact"},
        "actions": [{"type": "enrol_sequence", "sequence_id": off["id"]},
                    {"type": "create_task", "title": "Welcome call", "due_in_days": 2}]}),
        )
        .await;
        let c = app
            .api
            .create("contacts", json!({"first_name": "Ada"}))
            .await;
        settle(app).await;
        let runs = runs_of(app, "contacts", &c["id"]).await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        let run = &runs[0];
        assert_eq!(run["workflow_id"], wf["id"]);
        assert_eq!(run["status"], "failed", "{run}");
        assert_eq!(run["steps"][0]["status"], "failed");
        assert!(
            run["steps"][0]["error"]
                .as_str()
                .unwrap()
                .contains("sequence_id"),
            "{run}"
        );
        assert_eq!(run["steps"][1]["status"], "succeeded", "{run}");
        let task_id = run["steps"][1]["output"]["task_id"].as_str().unwrap();
        let task = app.api.get(&format!("/api/v1/tasks/{task_id}")).await;
        assert_eq!(task.body["title"], "Welcome call");
        assert_eq!(task.body["contact_id"], c["id"]);
        assert!(task.body["due_at"].is_string());
        // The run is on the contact's timeline and in the workflow's history.
        let tl = app
            .api
            .get(&format!(
                "/api/v1/contacts/{}/timeline",
                c["id"].as_str().unwrap()
            ))
            .await;
        assert!(
            tl.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["type"] == "workflow_run"),
            "{}",
            tl.body
        );
        let hist = app
            .api
            .get(&format!(
                "/api/v1/workflows/{}/runs",
                wf["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(hist.body["data"].as_array().unwrap().len(), 1);
        // Dispatching again starts nothing new.
        settle(app).await;
        assert_eq!(runs_of(app, "contacts", &c["id"]).await.len(), 1);
    }
);

both!(
    field_changed_from_to_respects_conditions,
    |app| async move {
        workflow(app, json!({"name": "New customers in Denmark",
        "trigger": {"type": "field_changed", "object": "contact", "field": "lifecycle_stage", "from": "lead", "to": "customer"},
        "conditions": "country = DK",
        "actions": [{"type": "add_tag", "tag": "vip"}]})).await;
        let mk = |name: &str, country: &str, stage: &str| json!({"first_name": name, "country": country, "lifecycle_stage": stage});
        let dk = app.api.create("contacts", mk("Dorte", "DK", "lead")).await;
        let se = app.api.create("contacts", mk("Sven", "SE", "lead")).await;
        let sub = app
            .api
            .create("contacts", mk("Søren", "DK", "subscriber"))
            .await;
        for c in [&dk, &se, &sub] {
            let res = app
                .api
                .patch(
                    &format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()),
                    json!({"lifecycle_stage": "customer"}),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        }
        settle(app).await;
        let tags = |c: &Value| {
            let c = c.clone();
            async move {
                app.api
                    .get(&format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()))
                    .await
                    .body["tags"]
                    .clone()
            }
        };
        assert_eq!(tags(&dk).await, json!(["vip"]));
        assert_eq!(tags(&se).await, json!([]), "condition false: no run");
        assert_eq!(tags(&sub).await, json!([]), "from did not match: no run");
        assert!(runs_of(app, "contacts", &se["id"]).await.is_empty());
        assert_eq!(runs_of(app, "contacts", &dk["id"]).await.len(), 1);
    }
);

both!(
    a_workflow_changing_its_own_trigger_field_runs_once,
    |app| async move {
        workflow(app, json!({"name": "Title keeper",
        "trigger": {"type": "field_changed", "object": "contact", "field": "job_title"},
        "actions": [{"type": "update_field", "field": "job_title", "value": "Checked by workflow"}]})).await;
        let c = app
            .api
            .create("contacts", json!({"first_name": "Loop"}))
            .await;
        let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
        app.api.patch(&path, json!({"job_title": "CEO"})).await;
        settle(app).await;
        settle(app).await;
        let runs = runs_of(app, "contacts", &c["id"]).await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0]["status"], "succeeded");
        assert_eq!(
            app.api.get(&path).await.body["job_title"],
            "Checked by workflow"
        );
    }
);

both!(owners_are_assigned_round_robin, |app| async move {
    let mut ids = Vec::new();
    for email in ["kim@acme.test", "li@acme.test"] {
        app.user(email, Role::Member, "acme").await;
        ids.push(app.app.caller_by_email(email).await.unwrap().user.id);
    }
    workflow(
        app,
        json!({"name": "Share leads", "trigger": {"type": "record_created", "object": "contact"},
        "actions": [{"type": "assign_owner", "users": ids}]}),
    )
    .await;
    let mut contacts = Vec::new();
    for n in 0..4 {
        contacts.push(
            app.api
                .create("contacts", json!({"first_name": format!("Lead {n}")}))
                .await,
        );
    }
    settle(app).await;
    let mut owners = Vec::new();
    for c in &contacts {
        let c = app
            .api
            .get(&format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()))
            .await;
        owners.push(c.body["owner_id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let n = owners.iter().filter(|o| **o == id.to_string()).count();
        assert_eq!(n, 2, "{owners:?}");
    }
});

both!(a_birthday_scan_notifies_once_a_year, |app| async move {
    let admin = app.app.caller_by_email("admin@acme.test").await.unwrap();
    workflow(app, json!({"name": "Birthday soon", "trigger": {"type": "date_relative", "object": "contact", "field": "birthday", "offset_days": -3, "yearly": true},
        "actions": [{"type": "notify", "user_id": admin.user.id, "title": "Birthday in 3 days", "body": "Send a card"}]})).await;
    let tz: chrono_tz::Tz = "Europe/Copenhagen".parse().unwrap();
    let due = Utc::now().with_timezone(&tz).date_naive() + chrono::Duration::days(3);
    let Some(born) = due.with_year(1990) else {
        return; // 29 February: covered by the unit test of anniversaries.
    };
    let c = app
        .api
        .create(
            "contacts",
            json!({"first_name": "Bo", "birthday": born.to_string()}),
        )
        .await;
    app.api
        .create(
            "contacts",
            json!({"first_name": "Other", "birthday": "1990-01-01"}),
        )
        .await;
    let ws = acme(app).await;
    let n = app.app.scan_workflows(ws, Utc::now()).await.unwrap();
    let again = app.app.scan_workflows(ws, Utc::now()).await.unwrap();
    settle(app).await;
    let runs = runs_of(app, "contacts", &c["id"]).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        runs[0]["trigger_key"],
        format!("date:{}:{due}", c["id"].as_str().unwrap())
    );
    // Other contacts have other birthdays (the one created above is never 3 days away
    // on 29 December only; then it counts too).
    assert!(n >= 1 && again == 0, "{n} then {again}");
    let list = app.api.get("/api/v1/notifications").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["unread"], n as u64);
    let note = &list.body["data"][0];
    assert_eq!(note["title"], "Birthday in 3 days");
    let read = app
        .api
        .post(
            &format!(
                "/api/v1/notifications/{}/read",
                note["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let list = app.api.get("/api/v1/notifications?unread=true").await;
    assert_eq!(list.body["unread"], n as u64 - 1);
});

/// Reads one HTTP/1.1 request: its head (request line and headers) and its body (by
/// Content-Length). Empty when the client closes first.
pub(crate) async fn read_request(
    sock: &mut (impl tokio::io::AsyncRead + Unpin),
) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break (String::new(), vec![]);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            break (head, buf[end + 4..].to_vec());
        }
    }
}

/// Asserts that a webhook request carries `X-Kith-Signature: sha256=HEX`, the HMAC of
/// its body under the workflow's secret.
pub(crate) fn assert_signed(secret: &str, head: &str, body: &[u8]) {
    let sig = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-kith-signature:")
                .map(|v| v.trim().to_string())
        })
        .expect("signature header");
    let want = format!(
        "sha256={}",
        kith_app::workflows::webhook_signature(secret.as_bytes(), body)
    );
    assert_eq!(sig, want);
}

/// Requests a test listener received: head and body.
type Requests = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A tiny HTTP server: answers 500 to the first request and 200 after, keeping each
/// request's headers and body.
async fn flaky_listener() -> (String, Requests) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Requests = Default::default();
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (head, body) = read_request(&mut sock).await;
            let mut seen = s.lock().await;
            seen.push((head, body));
            let status = if seen.len() == 1 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let reply =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    (url, seen)
}

both!(
    a_webhook_is_signed_and_retried_after_a_failure,
    |app| async move {
        let (url, seen) = flaky_listener().await;
        let wf = workflow(app, json!({"name": "Tell the ERP", "trigger": {"type": "record_created", "object": "company"},
        "actions": [{"type": "webhook", "url": url}]})).await;
        let co = app
            .api
            .create("companies", json!({"name": "Hook A/S"}))
            .await;
        settle(app).await;
        let seen = seen.lock().await;
        assert_eq!(seen.len(), 2, "one failure, one success");
        let secret = wf["webhook_secret"].as_str().unwrap();
        for (head, body) in seen.iter() {
            assert_signed(secret, head, body);
            let v: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(v["record_id"], co["id"]);
            assert_eq!(v["record"]["name"], "Hook A/S");
        }
        let runs = runs_of(app, "companies", &co["id"]).await;
        assert_eq!(runs[0]["status"], "succeeded", "{}", runs[0]);
        assert_eq!(runs[0]["steps"][0]["attempts"], 2);
    }
);

both!(bad_definitions_are_named_field_by_field, |app| async move {
    let res = app
        .api
        .post(
            "/api/v1/workflows",
            json!({"name": "Bad",
        "trigger": {"type": "field_changed", "object": "contact", "field": "shoe_size"},
        "conditions": "country ~~ DK",
        "actions": [{"type": "send_email", "template_id": "01890000-0000-7000-8000-000000000000"},
                    {"type": "webhook", "url": "http://erp.example/hook"},
                    {"type": "update_field", "field": "lifecycle_stage", "value": "emperor"}]}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let fields = &res.body["error"]["fields"];
    for f in [
        "trigger.field",
        "conditions",
        "actions[0].template_id",
        "actions[2].value",
    ] {
        assert!(fields[f].is_string(), "{f} not named: {}", res.body);
    }
    // The shape is checked first: a bad URL or an unknown key is named before the
    // workspace is asked about the rest.
    let res = app
        .api
        .post(
            "/api/v1/workflows",
            json!({"name": "Bad URL",
        "trigger": {"type": "record_created", "object": "contact", "colour": "red"},
        "actions": [{"type": "webhook", "url": "not a url"}]}),
        )
        .await;
    let fields = &res.body["error"]["fields"];
    for f in ["trigger.colour", "actions[0].url"] {
        assert!(fields[f].is_string(), "{f} not named: {}", res.body);
    }
    let res = app.api.post("/api/v1/workflows", json!({"name": "Bad 2", "trigger": {"type": "record_born", "object": "contact"}, "actions": []})).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body["error"]["fields"]["trigger.type"].is_string(),
        "{}",
        res.body
    );
    assert!(
        res.body["error"]["fields"]["actions"].is_string(),
        "{}",
        res.body
    );
    let member = app.user("m@acme.test", Role::Member, "acme").await;
    let res = member.post("/api/v1/workflows", json!({"name": "Mine", "trigger": {"type": "task_overdue"}, "actions": [{"type": "notify", "title": "Late"}]})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Versions: a save adds one; enable/disable do not.
    let wf = workflow(app, json!({"name": "Late tasks", "trigger": {"type": "task_overdue"}, "actions": [{"type": "notify", "title": "Late"}]})).await;
    let path = format!("/api/v1/workflows/{}", wf["id"].as_str().unwrap());
    let res = app.api.send(reqwest::Method::PUT, &path, Some(json!({"name": "Late tasks", "version": 1, "trigger": {"type": "task_overdue"}, "actions": [{"type": "notify", "title": "Overdue!"}]})), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["version"], 2);
    let stale = app.api.send(reqwest::Method::PUT, &path, Some(json!({"name": "Late tasks", "version": 1, "trigger": {"type": "task_overdue"}, "actions": [{"type": "notify", "title": "x"}]})), &[]).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let off = app.api.post(&format!("{path}/disable"), json!({})).await;
    assert_eq!(off.body["enabled"], false);
    let versions = app.api.get(&format!("{path}/versions")).await;
    let v = versions.body["data"].as_array().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["definition"]["actions"][0]["title"], "Overdue!");
    // Members read but do not see the secret.
    let seen = member.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body["webhook_secret"].is_null());
});

both!(
    the_cli_lists_shows_and_switches_workflows,
    |app| async move {
        workflow(
            app,
            json!({"name": "Welcome", "trigger": {"type": "record_created", "object": "contact"},
        "actions": [{"type": "add_tag", "tag": "new"}]}),
        )
        .await;
        let c = app
            .api
            .create("contacts", json!({"first_name": "Cli"}))
            .await;
        settle(app).await;
        let db = app.db_url.clone();
        let (ok, out, err) = crate::cli::kith(&db, &["workflows", "list"], None);
        assert!(ok, "{err}");
        assert!(out.contains("Welcome") && out.contains("on"), "{out}");
        let (ok, out, err) = crate::cli::kith(&db, &["workflows", "show", "Welcome"], None);
        assert!(ok, "{err}");
        assert!(
            out.contains("succeeded") && out.contains(c["id"].as_str().unwrap()),
            "{out}"
        );
        let (ok, out, _) = crate::cli::kith(&db, &["workflows", "disable", "Welcome"], None);
        assert!(ok && out.contains("off"), "{out}");
        let (ok, _, err) = crate::cli::kith(&db, &["workflows", "show", "Nope"], None);
        assert!(!ok && err.contains("kith workflows list"), "{err}");
    }
);

both!(
    workflows_triggering_each_other_stop_after_five_steps,
    |app| async move {
        for (name, from, to) in [("Ping", "ping", "pong"), ("Pong", "pong", "ping")] {
            workflow(
                app,
                json!({"name": name, "trigger": {"type": "record_updated", "object": "contact"},
            "conditions": format!("job_title = {from}"),
            "actions": [{"type": "update_field", "field": "job_title", "value": to}]}),
            )
            .await;
        }
        let c = app
            .api
            .create("contacts", json!({"first_name": "Ball"}))
            .await;
        let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
        app.api.patch(&path, json!({"job_title": "ping"})).await;
        settle(app).await;
        settle(app).await;
        let runs = runs_of(app, "contacts", &c["id"]).await;
        assert_eq!(runs.len(), 5, "{runs:?}");
        assert!(runs.iter().all(|r| r["status"] == "succeeded"));
        // Ping ran at depths 1, 3 and 5, so the ball stopped on "pong".
        assert_eq!(app.api.get(&path).await.body["job_title"], "pong");
    }
);

both!(
    a_workflow_enrols_contacts_in_a_sequence_and_takes_them_out,
    |app| async move {
        let t = app.api.post("/api/v1/email-templates", json!({"name": "Welcome", "language": "en", "subject": "Hi", "html": "<p>Hi</p>", "text": ""})).await.body;
        let seq = app.api.post("/api/v1/sequences", json!({"name": "Welcome series", "steps": [{"wait_minutes": 60, "template_id": t["id"]}]})).await.body;
        let bad = app
            .api
            .post(
                "/api/v1/workflows",
                json!({"name": "X", "trigger": {"type": "record_created", "object": "contact"},
        "actions": [{"type": "enrol_sequence", "sequence_id": uuid::Uuid::now_v7()}]}),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert!(
            bad.body["error"]["fields"]
                .to_string()
                .contains("sequence_id"),
            "{}",
            bad.body
        );
        workflow(
            app,
            json!({"name": "Enrol", "trigger": {"type": "record_created", "object": "contact"},
        "actions": [{"type": "enrol_sequence", "sequence_id": seq["id"]}]}),
        )
        .await;
        workflow(app, json!({"name": "Stop", "trigger": {"type": "field_changed", "object": "contact", "field": "lifecycle_stage", "to": "customer"},
        "actions": [{"type": "remove_from_sequence", "sequence_id": seq["id"]}]})).await;
        let c = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Ada", "email": "ada@kunde.test", "lifecycle_stage": "lead"}),
            )
            .await;
        settle(app).await;
        let path = format!(
            "/api/v1/sequences/{}/enrolments",
            seq["id"].as_str().unwrap()
        );
        let list = app.api.get(&path).await.body;
        assert_eq!(list["data"][0]["contact_id"], c["id"], "{list}");
        assert_eq!(list["data"][0]["status"], "active");
        app.api
            .patch(
                &format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()),
                json!({"lifecycle_stage": "customer"}),
            )
            .await;
        settle(app).await;
        let list = app.api.get(&path).await.body;
        assert_eq!(
            (
                list["data"][0]["status"].as_str(),
                list["data"][0]["exit_reason"].as_str()
            ),
            (Some("exited"), Some("removed")),
            "{list}"
        );
    }
);
