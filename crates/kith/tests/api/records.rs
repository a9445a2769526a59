//! CRUD of every object, versions and ETags, soft delete, isolation, timelines, roles.

use kith_app::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::both;

both!(
    every_object_can_be_created_read_changed_deleted_and_restored,
    |app| async move {
        let api = &app.api;
        let (pipeline, stages) = app.sales_pipeline().await;
        let tag = api
            .create("tags", json!({"name": "vip", "color": "#cc0000"}))
            .await;
        let field = api
        .create("field_definitions", json!({"object": "contact", "key": "shoe_size", "label": "Shoe size", "kind": "number"}))
        .await;
        let company = api
            .create(
                "companies",
                json!({"name": "Nordlys ApS", "domain": "www.Nordlys.dk", "employees": 40}),
            )
            .await;
        let contact = api
        .create(
            "contacts",
            json!({"first_name": "Søren", "last_name": "Østergaard", "email": "Soren@Nordlys.DK", "phone": "20 12 34 56",
                   "company_id": company["id"], "birthday": "1980-02-29", "tags": ["vip"], "custom": {"shoe_size": 44},
                   "consent": {"email": "granted"}, "identities": [{"kind": "external", "channel": "shopify", "value": "C-1"}]}),
        )
        .await;
        let deal = api
        .create("deals", json!({"name": "Spring order", "pipeline_id": pipeline["id"], "amount": 1250000, "contact_id": contact["id"]}))
        .await;
        let activity = api
            .create(
                "activities",
                json!({"kind": "call", "subject": "Intro", "contact_id": contact["id"]}),
            )
            .await;
        let task = api.create("tasks", json!({"title": "Send offer", "deal_id": deal["id"], "due_at": "2026-12-01T09:00:00Z"})).await;

        // Values come back normalised, with defaults filled in.
        assert_eq!(company["domain"], "nordlys.dk");
        assert_eq!(contact["email"], "soren@nordlys.dk");
        assert_eq!(contact["phone"], "+4520123456");
        assert_eq!(contact["tags"], json!(["vip"]));
        assert_eq!(contact["custom"]["shoe_size"], 44);
        assert_eq!(contact["lifecycle_stage"], "lead");
        assert_eq!(
            deal["stage_id"], stages[0]["id"],
            "a new deal starts in the first stage"
        );
        assert_eq!(deal["currency"], "DKK", "workspace currency is the default");
        let priced = |currency: &str| {
            api.post(
                "/api/v1/deals",
                json!({"name": "Priced", "amount": 100, "currency": currency}),
            )
        };
        assert_eq!(priced("sek").await.body["currency"], "SEK");
        let res = priced("PCS").await;
        assert_eq!(
            res.body["error"]["fields"]["currency"], "`PCS` is not an ISO 4217 currency code",
            "{}",
            res.body
        );
        assert_eq!(deal["status"], "open");
        assert_eq!(task["done"], false);
        assert!(activity["occurred_at"].is_string());
        assert_eq!(field["options"], json!([]));

        for (objects, rec) in [
            ("pipelines", &pipeline),
            ("stages", &stages[1]),
            ("field_definitions", &field),
            ("companies", &company),
            ("contacts", &contact),
            ("deals", &deal),
            ("activities", &activity),
            ("tasks", &task),
            // Last: renaming the tag renames it on the contact too.
            ("tags", &tag),
        ] {
            let path = format!("/api/v1/{objects}/{}", rec["id"].as_str().unwrap());
            let got = api.get(&path).await;
            assert_eq!(got.status, StatusCode::OK, "{objects}");
            // Figures Kith keeps (last activity, behaviour) follow later writes.
            let mut body = got.body.clone();
            let mut rec = (*rec).clone();
            for f in ["last_activity_at", "behaviour"] {
                if objects == "contacts" {
                    body[f] = Value::Null;
                    rec[f] = Value::Null;
                }
            }
            assert_eq!(body, rec, "{objects} reads back as created");
            assert_eq!(got.etag(), "\"1\"");
            let list = api.get(&format!("/api/v1/{objects}")).await;
            assert!(
                list.body["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["id"] == rec["id"]),
                "{objects} listed"
            );

            let change = match objects {
                "pipelines" | "stages" | "tags" | "companies" | "deals" => {
                    json!({"name": format!("Renamed {objects}")})
                }
                "field_definitions" => json!({"label": "Renamed"}),
                "contacts" => json!({"job_title": "CEO"}),
                "activities" => json!({"subject": "Renamed"}),
                _ => json!({"title": "Renamed"}),
            };
            let patched = api
                .send(
                    Method::PATCH,
                    &path,
                    Some(change.clone()),
                    &[("if-match", "\"1\"")],
                )
                .await;
            assert_eq!(
                patched.status,
                StatusCode::OK,
                "{objects}: {}",
                patched.body
            );
            assert_eq!(patched.body["version"], 2);
            assert_eq!(patched.etag(), "\"2\"");
            let (k, v) = change.as_object().unwrap().iter().next().unwrap();
            assert_eq!(&patched.body[k], v);

            let deleted = api.delete(&path).await;
            assert_eq!(deleted.status, StatusCode::OK, "{objects}");
            assert!(deleted.body["deleted_at"].is_string());
            assert_eq!(
                api.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{objects} is gone after delete"
            );
            let bin = api.get(&format!("/api/v1/{objects}?deleted=true")).await;
            assert!(
                bin.body["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["id"] == rec["id"]),
                "{objects} in recycle bin"
            );
            let restored = api.post(&format!("{path}/restore"), json!({})).await;
            assert_eq!(
                restored.status,
                StatusCode::OK,
                "{objects}: {}",
                restored.body
            );
            assert!(restored.body["deleted_at"].is_null());
            assert_eq!(
                api.get(&path).await.status,
                StatusCode::OK,
                "{objects} is back"
            );
            assert_eq!(
                api.post(&format!("{path}/restore"), json!({})).await.status,
                StatusCode::NOT_FOUND,
                "restoring a live record"
            );
        }
        let contact_now = api
            .get(&format!(
                "/api/v1/contacts/{}",
                contact["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(contact_now.body["tags"], json!(["Renamed tags"]));
    }
);

both!(
    stale_if_match_gets_412_and_changes_nothing,
    |app| async move {
        let api = &app.api;
        let c = api.create("contacts", json!({"first_name": "Ana"})).await;
        let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
        let first = api
            .send(
                Method::PATCH,
                &path,
                Some(json!({"last_name": "Berg"})),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(first.status, StatusCode::OK);
        // A second writer still holding version 1.
        let stale = api
            .send(
                Method::PATCH,
                &path,
                Some(json!({"last_name": "Lund"})),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(stale.code(), "version_conflict");
        assert_eq!(
            stale.body["error"]["current"]["last_name"], "Berg",
            "the newer value is shown"
        );
        let del = api
            .send(Method::DELETE, &path, None, &[("if-match", "\"1\"")])
            .await;
        assert_eq!(del.status, StatusCode::PRECONDITION_FAILED);
        let now = api.get(&path).await;
        assert_eq!(now.body["last_name"], "Berg");
        assert_eq!(now.body["version"], 2);
        assert!(now.body["deleted_at"].is_null());
        // A version in the body works like If-Match.
        let body_stale = api
            .patch(&path, json!({"last_name": "Lund", "version": 1}))
            .await;
        assert_eq!(body_stale.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(
            api.patch(&path, json!({"last_name": "Lund", "version": 2}))
                .await
                .status,
            StatusCode::OK
        );
    }
);

both!(
    a_workspace_never_sees_another_workspaces_records,
    |app| async move {
        let other = app.user("eve@other.test", Role::Admin, "other").await;
        let mine = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Secret", "email": "secret@acme.test"}),
            )
            .await;
        let theirs = other
            .create("contacts", json!({"first_name": "Theirs"}))
            .await;
        let path = format!("/api/v1/contacts/{}", mine["id"].as_str().unwrap());
        assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            other
                .patch(&path, json!({"first_name": "Hacked"}))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(other.delete(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            other.get(&format!("{path}/timeline")).await.status,
            StatusCode::NOT_FOUND
        );
        let list = other.get("/api/v1/contacts?q=secret").await;
        assert_eq!(list.body["data"], json!([]));
        let all = other.get("/api/v1/contacts").await;
        assert_eq!(all.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(all.body["data"][0]["id"], theirs["id"]);
        // Linking to another workspace's record is refused as if it did not exist.
        let res = other
            .post(
                "/api/v1/deals",
                json!({"name": "x", "contact_id": mine["id"]}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.api.get(&path).await.body["first_name"], "Secret");
    }
);

both!(read_only_users_can_read_but_not_write, |app| async move {
    let c = app
        .api
        .create("contacts", json!({"first_name": "Ana"}))
        .await;
    let viewer = app.user("viewer@acme.test", Role::ReadOnly, "acme").await;
    let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
    assert_eq!(viewer.get(&path).await.status, StatusCode::OK);
    for res in [
        viewer
            .post("/api/v1/contacts", json!({"first_name": "No"}))
            .await,
        viewer.patch(&path, json!({"first_name": "No"})).await,
        viewer.delete(&path).await,
        viewer.post(&format!("{path}/restore"), json!({})).await,
    ] {
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(res.code(), "forbidden");
    }
    let member = app.user("member@acme.test", Role::Member, "acme").await;
    assert_eq!(
        member
            .post("/api/v1/pipelines", json!({"name": "Mine"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        member
            .post("/api/v1/contacts", json!({"first_name": "Yes"}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(app.api.get(&path).await.body["first_name"], "Ana");
});

both!(
    deals_move_through_stages_with_history_and_status,
    |app| async move {
        let api = &app.api;
        let (pipeline, stages) = app.sales_pipeline().await;
        let other = api.create("pipelines", json!({"name": "Partners"})).await;
        let other_stage = api
            .create(
                "stages",
                json!({"pipeline_id": other["id"], "name": "Intro"}),
            )
            .await;
        let deal = api
            .create(
                "deals",
                json!({"name": "Big one", "stage_id": stages[1]["id"]}),
            )
            .await;
        assert_eq!(
            deal["pipeline_id"], pipeline["id"],
            "the pipeline follows the stage"
        );
        let path = format!("/api/v1/deals/{}", deal["id"].as_str().unwrap());
        let won = api.patch(&path, json!({"stage_id": stages[2]["id"]})).await;
        assert_eq!(won.body["status"], "won");
        assert!(won.body["closed_at"].is_string());
        let mismatch = api
            .patch(
                &path,
                json!({"pipeline_id": pipeline["id"], "stage_id": other_stage["id"]}),
            )
            .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(mismatch.body["error"]["fields"]["stage_id"].is_string());
        let moved = api.patch(&path, json!({"pipeline_id": other["id"]})).await;
        assert_eq!(
            moved.body["stage_id"], other_stage["id"],
            "moving pipeline lands in its first stage"
        );
        assert_eq!(moved.body["status"], "open");
        assert!(moved.body["closed_at"].is_null());
        let timeline = api.get(&format!("{path}/timeline")).await;
        let changes: Vec<&Value> = timeline.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "stage_change")
            .collect();
        assert_eq!(changes.len(), 3, "{}", timeline.body);
        assert_eq!(changes[0]["data"]["to_stage"], "Intro");
        assert_eq!(changes[1]["data"]["to_stage"], "Won");
        assert_eq!(changes[1]["data"]["from_stage"], "Proposal");
        assert!(changes[2]["data"]["from_stage_id"].is_null());
    }
);

both!(timeline_shows_everything_newest_first, |app| async move {
    let api = &app.api;
    app.sales_pipeline().await;
    let company = api.create("companies", json!({"name": "Acme"})).await;
    let contact = api
        .create(
            "contacts",
            json!({"first_name": "Ana", "company_id": company["id"]}),
        )
        .await;
    let cpath = format!("/api/v1/contacts/{}", contact["id"].as_str().unwrap());
    api.create("activities", json!({"kind": "note", "subject": "old note", "contact_id": contact["id"], "occurred_at": "2020-01-01T10:00:00Z"})).await;
    api.create(
        "activities",
        json!({"kind": "meeting", "subject": "kick-off", "contact_id": contact["id"]}),
    )
    .await;
    api.create(
        "tasks",
        json!({"title": "Call back", "contact_id": contact["id"]}),
    )
    .await;
    api.patch(&cpath, json!({"job_title": "CEO"})).await;
    api.create("deals", json!({"name": "D", "contact_id": contact["id"]}))
        .await;
    let t = api.get(&format!("{cpath}/timeline")).await;
    assert_eq!(t.status, StatusCode::OK);
    let entries = t.body["data"].as_array().unwrap();
    let times: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    let types: Vec<&str> = entries
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for t in [
        "activity",
        "task",
        "field_change",
        "created",
        "stage_change",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    assert_eq!(entries.last().unwrap()["data"]["subject"], "old note");
    let change = entries
        .iter()
        .find(|e| e["type"] == "field_change")
        .unwrap();
    assert_eq!(
        change["data"]["changes"]["job_title"],
        json!({"from": null, "to": "CEO"})
    );
    // The company sees its contact's activities too.
    let ct = api
        .get(&format!(
            "/api/v1/companies/{}/timeline",
            company["id"].as_str().unwrap()
        ))
        .await;
    assert!(ct.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["data"]["subject"] == "kick-off"));
    let limited = api.get(&format!("{cpath}/timeline?limit=2")).await;
    assert_eq!(limited.body["data"].as_array().unwrap().len(), 2);
});

both!(tasks_record_when_they_are_done, |app| async move {
    let api = &app.api;
    let t = api.create("tasks", json!({"title": "Call"})).await;
    assert!(t["done_at"].is_null());
    let path = format!("/api/v1/tasks/{}", t["id"].as_str().unwrap());
    let done = api.patch(&path, json!({"done": true})).await;
    assert!(done.body["done_at"].is_string());
    let undone = api.patch(&path, json!({"done": false})).await;
    assert!(undone.body["done_at"].is_null());
    let unchanged = api.patch(&path, json!({"done": false})).await;
    assert_eq!(
        unchanged.body["version"], undone.body["version"],
        "a write that changes nothing is not a new version"
    );
});

both!(
    two_writers_with_the_same_version_cannot_both_win,
    |app| async move {
        let api = &app.api;
        let c = api.create("contacts", json!({"first_name": "Ana"})).await;
        let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
        let mut handles = Vec::new();
        for i in 0..6 {
            let api = api.clone();
            let path = path.clone();
            handles.push(tokio::spawn(async move {
                api.send(
                    Method::PATCH,
                    &path,
                    Some(json!({"job_title": format!("title {i}")})),
                    &[("if-match", "\"1\"")],
                )
                .await
                .status
            }));
        }
        let mut ok = 0;
        for h in handles {
            match h.await.unwrap() {
                StatusCode::OK => ok += 1,
                StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(ok, 1, "exactly one writer of version 1 wins");
        assert_eq!(api.get(&path).await.body["version"], 2);
    }
);

both!(
    every_write_leaves_an_audit_entry_and_an_event,
    |app| async move {
        use kith_store::Exec;
        let api = &app.api;
        let c = api.create("contacts", json!({"first_name": "Ana"})).await;
        let path = format!("/api/v1/contacts/{}", c["id"].as_str().unwrap());
        api.patch(&path, json!({"last_name": "Berg"})).await;
        api.delete(&path).await;
        let mut db = app.app.db().clone();
        let events = db
            .fetch_all(kith_store::Sql::new("SELECT kind FROM events ORDER BY id"))
            .await
            .unwrap();
        let kinds: Vec<String> = events
            .iter()
            .map(|r| r.text("kind").unwrap().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["contact.created", "contact.updated", "contact.deleted"]
        );
        let audit = db
            .fetch_all(kith_store::Sql::new(
                "SELECT action FROM audit_log ORDER BY id",
            ))
            .await
            .unwrap();
        assert_eq!(audit.len(), 3);
        // A refused write leaves no trace.
        api.patch(&path, json!({"email": "bad"})).await;
        api.post("/api/v1/contacts", json!({"email": "bad"})).await;
        let n = db
            .fetch_all(kith_store::Sql::new("SELECT id FROM events"))
            .await
            .unwrap()
            .len();
        assert_eq!(n, 3);
    }
);

both!(
    a_session_made_on_one_node_works_on_another,
    |app| async move {
        // A second server process-equivalent: its own pool on the same database.
        let db = kith_store::Db::connect(&app.db_url).await.unwrap();
        let other = kith_app::App::new(db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = kith_web::router(kith_web::State {
            app: other.clone(),
            secure_cookies: false,
        });
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let login = app
            .api
            .client
            .post(format!("{}/api/v1/auth/login", app.api.base))
            .json(&json!({"email": "admin@acme.test", "password": crate::harness::PASSWORD}))
            .send()
            .await
            .unwrap();
        let cookie = login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let csrf = login.json::<Value>().await.unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .to_string();
        let node2 = crate::harness::Api {
            base,
            token: None,
            csrf: Some(csrf),
            ..app.api.clone()
        };
        let res = node2
            .send(
                Method::POST,
                "/api/v1/contacts",
                Some(json!({"first_name": "Via node 2"})),
                &[("cookie", &cookie)],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        assert_eq!(
            app.api.get("/api/v1/contacts").await.body["data"][0]["first_name"],
            "Via node 2"
        );
        server.abort();
        other.db().close().await;
    }
);
