//! An export imports back into a fresh workspace, field by field.

use std::path::PathBuf;

use kith_app::import::ImportRequest;
use kith_app::Role;
use kith_core::objects::ObjectKind;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::export::download;
use crate::harness::{both, tempfile_dir, Api, TestApp};

/// The same users, custom fields and pipeline in a workspace of their own.
async fn furnish(app: &TestApp) -> Api {
    app.user("sales@acme.test", Role::Member, "acme").await;
    for def in [
        json!({"object": "contact", "key": "tier", "label": "Tier", "kind": "select", "options": ["gold", "silver"]}),
        json!({"object": "contact", "key": "since", "label": "Customer since", "kind": "date"}),
        json!({"object": "deal", "key": "channel", "label": "Channel", "kind": "text"}),
    ] {
        app.api.create("field_definitions", def).await;
    }
    app.sales_pipeline().await;
    app.api.clone()
}

pub(crate) async fn file(dir: &tempfile_dir::Dir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = PathBuf::from(dir.path()).join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

pub(crate) async fn import(app: &TestApp, path: &std::path::Path, object: ObjectKind) {
    let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let report = app
        .app
        .import_file(&caller, path, &ImportRequest::new(object, &name), &|_| {})
        .await
        .expect("import runs");
    assert_eq!(report.import.failed, 0, "{name}: {:?}", report.rejects);
    assert!(report.import.created > 0, "{name}: {:?}", report.import);
}

async fn all(api: &Api, objects: &str) -> Vec<Value> {
    let res = api
        .get(&format!("/api/v1/{objects}?limit=500&sort=created_at"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["data"].as_array().unwrap().clone()
}

/// A record's links as names and emails, the rest as it is, without what a new
/// workspace gives anew (ids, versions, times of its own); when it was made is kept, to
/// the second an export writes.
async fn portable(api: &Api, rec: &Value) -> Value {
    let mut m = rec.as_object().unwrap().clone();
    for k in ["id", "version", "updated_at", "deleted_at", "closed_at"] {
        m.remove(k);
    }
    if let Some(t) = m.get_mut("created_at") {
        let at: chrono::DateTime<chrono::Utc> = t.as_str().unwrap().parse().unwrap();
        *t = at.format("%FT%TZ").to_string().into();
    }
    let name_of = |objects: &'static str, field: &'static str, id: Value| async move {
        match id.as_str() {
            Some(id) => api.get(&format!("/api/v1/{objects}/{id}")).await.body[field].clone(),
            None => Value::Null,
        }
    };
    for (link, objects, field) in [
        ("company_id", "companies", "name"),
        ("contact_id", "contacts", "email"),
        ("stage_id", "stages", "name"),
        ("pipeline_id", "pipelines", "name"),
    ] {
        if let Some(id) = m.remove(link) {
            m.insert(link.replace("_id", ""), name_of(objects, field, id).await);
        }
    }
    if let Some(Value::Array(items)) = m.remove("identities") {
        // The importer keeps the exported id as an external id: checked by the caller.
        let kept: Vec<Value> = items
            .into_iter()
            .filter(|i| i["kind"] != "external")
            .collect();
        if !kept.is_empty() {
            m.insert("identities".into(), Value::Array(kept));
        }
    }
    Value::Object(m)
}

async fn owner_email(app: &TestApp, rec: &Value) -> String {
    let id = rec["owner_id"].as_str().unwrap();
    let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
    app.app
        .users(&caller)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.id.to_string() == id)
        .map(|u| u.email)
        .unwrap()
}

both!(
    an_export_imports_back_into_a_fresh_workspace_field_by_field,
    |app| async move {
        let api = furnish(app).await;
        let sales = app
            .app
            .caller_by_email("sales@acme.test")
            .await
            .unwrap()
            .user
            .id;
        let lego = api
            .create(
                "companies",
                json!({"name": "Lego A/S", "domain": "lego.dk", "city": "Billund",
                "country": "DK", "employees": 18000, "tags": ["toys"]}),
            )
            .await;
        let soren = api
            .create("contacts", json!({"first_name": "Søren", "last_name": "Kierkegaard",
                "email": "soren@lego.dk", "phone": "+45 20 12 34 56", "job_title": "Filosof; forfatter",
                "birthday": "1813-05-05", "company_id": lego["id"], "owner_id": sales,
                "lifecycle_stage": "customer", "source": "messe, 2024",
                "address_line1": "Nytorv 2", "city": "København", "postcode": "1450", "country": "DK",
                "tags": ["vip", "nordic"], "custom": {"tier": "gold", "since": "2020-02-29"},
                "consent": {"email": "granted", "sms": "denied", "post": "unknown"},
                "identities": [{"kind": "email", "value": "sk@home.dk"}, {"kind": "phone", "value": "+45 30 11 22 33"}]}))
            .await;
        api.create(
            "contacts",
            json!({"first_name": "伟", "last_name": "张", "email": "zhang@example.cn",
            "phone": "+86 138 0013 8000", "job_title": "总经理", "company_id": lego["id"],
            "lifecycle_stage": "lead", "tags": ["中国"]}),
        )
        .await;
        api.create("deals", json!({"name": "Klodser til Kina", "amount": 1_234_567, "currency": "DKK",
            "stage_id": app.api.get("/api/v1/stages?filter=name%20%3D%20Proposal").await.body["data"][0]["id"],
            "expected_close": "2026-06-30", "company_id": lego["id"], "contact_id": soren["id"],
            "owner_id": sales, "tags": ["big"], "custom": {"channel": "partner"}}))
            .await;
        api.create(
            "deals",
            json!({"name": "Småting", "amount": 50, "currency": "DKK"}),
        )
        .await;

        let dir = tempfile_dir::Dir::new();
        let companies = download(&api, "/api/v1/companies/export?format=csv").await;
        let contacts = download(&api, "/api/v1/contacts/export?format=csv").await;
        let deals = download(&api, "/api/v1/deals/export?format=xlsx").await;
        for f in [&companies, &contacts, &deals] {
            assert_eq!(f.status, StatusCode::OK);
        }
        let fresh = TestApp::spawn(app.backend).await;
        furnish(&fresh).await;
        import(
            &fresh,
            &file(&dir, "companies.csv", &companies.bytes).await,
            ObjectKind::Company,
        )
        .await;
        import(
            &fresh,
            &file(&dir, "contacts.csv", &contacts.bytes).await,
            ObjectKind::Contact,
        )
        .await;
        import(
            &fresh,
            &file(&dir, "deals.xlsx", &deals.bytes).await,
            ObjectKind::Deal,
        )
        .await;

        for objects in ["companies", "contacts", "deals"] {
            let before = all(&api, objects).await;
            let after = all(&fresh.api, objects).await;
            assert!(!before.is_empty(), "{objects}");
            assert_eq!(before.len(), after.len(), "{objects}");
            for (b, a) in before.iter().zip(&after) {
                assert_eq!(
                    owner_email(app, b).await,
                    owner_email(&fresh, a).await,
                    "{objects} owner"
                );
                let mut pb = portable(&api, b).await;
                let mut pa = portable(&fresh.api, a).await;
                // Owners are compared by email above; ids differ between workspaces.
                pb.as_object_mut().unwrap().remove("owner_id");
                pa.as_object_mut().unwrap().remove("owner_id");
                assert_eq!(pb, pa, "{objects}: {b}\n{a}");
            }
        }
        // The old id comes along as an external id, so a second import finds the contact.
        let moved = &all(&fresh.api, "contacts").await[0];
        assert!(
            moved["identities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["kind"] == "external" && i["value"] == soren["id"]),
            "{moved}"
        );
        fresh.finish().await;
    }
);
