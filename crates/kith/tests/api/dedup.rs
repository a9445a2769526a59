//! Duplicates: the scan finds likely pairs with reasons and leaves namesakes alone;
//! merging keeps every related record; undo puts everything back.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{both, TestApp};

async fn pairs(app: &TestApp, objects: &str) -> Vec<Value> {
    let res = app
        .api
        .get(&format!("/api/v1/duplicates?object={objects}"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["data"].as_array().unwrap().clone()
}

fn has_pair(pairs: &[Value], x: &Value, y: &Value) -> bool {
    pairs.iter().any(|p| {
        let (a, b) = (&p["a"]["id"], &p["b"]["id"]);
        (a == &x["id"] && b == &y["id"]) || (a == &y["id"] && b == &x["id"])
    })
}

both!(
    the_scan_finds_likely_duplicates_with_reasons_and_leaves_namesakes_alone,
    |app| async move {
        let api = &app.api;
        let soren = api.create("contacts", json!({"first_name": "Søren", "last_name": "Jensen", "email": "soren@example.dk", "phone": "+45 20 12 34 56"})).await;
        let soeren = api
            .create(
                "contacts",
                json!({"first_name": "Soeren", "last_name": "Jensen", "phone": "20123456"}),
            )
            .await;
        let zw = api.create("contacts", json!({"first_name": "伟", "last_name": "张", "phone": "+86 138 1234 5678", "email": "zhangwei@example.cn"})).await;
        let zw2 = api
            .create(
                "contacts",
                json!({"first_name": "Wei", "last_name": "Zhang", "email": "zhangwei@example.cn"}),
            )
            .await;
        let m1 = api.create("contacts", json!({"first_name": "Mette", "last_name": "Nielsen", "email": "mette1@example.dk", "birthday": "1980-01-01"})).await;
        let m2 = api.create("contacts", json!({"first_name": "Mette", "last_name": "Nielsen", "email": "mette2@example.dk", "birthday": "1975-06-30"})).await;
        let res = api
            .post("/api/v1/duplicates/scan?object=contacts", json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let found = pairs(app, "contacts").await;
        assert!(has_pair(&found, &soren, &soeren), "{found:#?}");
        assert!(has_pair(&found, &zw, &zw2), "{found:#?}");
        assert!(
            !has_pair(&found, &m1, &m2),
            "namesakes with different emails and birthdays: {found:#?}"
        );
        let p = found
            .iter()
            .find(|p| has_pair(&[(*p).clone()], &soren, &soeren))
            .unwrap();
        assert!(p["score"].as_f64().unwrap() > 0.5);
        let why = p["reasons"].to_string();
        assert!(why.contains("phone"), "{why}");
        // Dismissed stays dismissed when the scan runs again.
        let res = api
            .post(
                "/api/v1/duplicates/dismiss",
                json!({"object": "contacts", "a": zw["id"], "b": zw2["id"]}),
            )
            .await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
        api.post("/api/v1/duplicates/scan?object=contacts", json!({}))
            .await;
        let found = pairs(app, "contacts").await;
        assert!(!has_pair(&found, &zw, &zw2));
        assert!(has_pair(&found, &soren, &soeren));
        let res = api.get("/api/v1/duplicates?object=deals").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both!(
    a_merge_keeps_every_related_record_and_undo_puts_everything_back,
    |app| async move {
        let api = &app.api;
        let (_, stages) = app.sales_pipeline().await;
        let a = api.create("contacts", json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@old.example", "tags": ["vip"]})).await;
        let b = api.create("contacts", json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@new.example", "phone": "+45 20 12 34 56", "job_title": "CTO", "tags": ["nordic"]})).await;
        let deal = api
            .create(
                "deals",
                json!({"name": "Renewal", "contact_id": b["id"], "stage_id": stages[0]["id"]}),
            )
            .await;
        let note = api
            .create(
                "activities",
                json!({"kind": "note", "body": "Met at the fair", "contact_id": b["id"]}),
            )
            .await;
        let task = api
            .create(
                "tasks",
                json!({"title": "Call back", "contact_id": b["id"]}),
            )
            .await;
        let res = api.post("/api/v1/merges", json!({"object": "contacts", "survivor": a["id"], "merged": [b["id"]], "pick": {"email": b["id"]}})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        let merge_id = res.body["merge_id"].as_str().unwrap().to_string();
        let aid = a["id"].as_str().unwrap();
        let now = api.get(&format!("/api/v1/contacts/{aid}")).await.body;
        assert_eq!(now["email"], "ana@new.example", "picked from b");
        assert_eq!(now["phone"], "+4520123456", "filled from b");
        assert_eq!(now["job_title"], "CTO");
        assert_eq!(now["tags"], json!(["nordic", "vip"]));
        assert!(
            now["identities"].to_string().contains("ana@old.example"),
            "{}",
            now["identities"]
        );
        for (objects, rec) in [("deals", &deal), ("activities", &note), ("tasks", &task)] {
            let r = api
                .get(&format!(
                    "/api/v1/{objects}/{}",
                    rec["id"].as_str().unwrap()
                ))
                .await
                .body;
            assert_eq!(r["contact_id"], a["id"], "{objects} moved to the survivor");
        }
        let res = api
            .get(&format!("/api/v1/contacts/{}", b["id"].as_str().unwrap()))
            .await;
        assert_eq!(
            res.status,
            StatusCode::NOT_FOUND,
            "the merged contact is in the recycle bin"
        );
        let found = api.get("/api/v1/contacts?q=ana%40old.example").await.body["data"].clone();
        assert_eq!(found.as_array().unwrap().len(), 1);
        assert_eq!(found[0]["id"], a["id"], "the old email finds the survivor");
        let timeline = api
            .get(&format!("/api/v1/contacts/{aid}/timeline"))
            .await
            .body
            .to_string();
        assert!(
            timeline.contains("Met at the fair"),
            "history moved with the record"
        );

        let res = api
            .post(&format!("/api/v1/merges/{merge_id}/undo"), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let back = api.get(&format!("/api/v1/contacts/{aid}")).await.body;
        assert_eq!(
            (back["email"].as_str(), back["phone"].clone()),
            (Some("ana@old.example"), Value::Null)
        );
        assert_eq!(back["tags"], json!(["vip"]));
        let b_back = api
            .get(&format!("/api/v1/contacts/{}", b["id"].as_str().unwrap()))
            .await;
        assert_eq!(b_back.status, StatusCode::OK);
        let r = api
            .get(&format!("/api/v1/deals/{}", deal["id"].as_str().unwrap()))
            .await
            .body;
        assert_eq!(r["contact_id"], b["id"], "the deal is back with b");
        let found = api.get("/api/v1/contacts?q=ana%40new.example").await.body["data"].clone();
        assert_eq!(found[0]["id"], b["id"]);
        let res = api
            .post(&format!("/api/v1/merges/{merge_id}/undo"), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "undone already");
    }
);

both!(
    undo_refuses_to_overwrite_a_later_edit_and_companies_merge_with_their_contacts,
    |app| async move {
        let api = &app.api;
        let lego = api
            .create(
                "companies",
                json!({"name": "LEGO A/S", "domain": "lego.com"}),
            )
            .await;
        let lego2 = api
            .create(
                "companies",
                json!({"name": "Lego", "domain": "lego.com", "city": "Billund"}),
            )
            .await;
        let kim = api
            .create(
                "contacts",
                json!({"first_name": "Kim", "company_id": lego2["id"]}),
            )
            .await;
        api.post("/api/v1/duplicates/scan?object=companies", json!({}))
            .await;
        assert!(has_pair(&pairs(app, "companies").await, &lego, &lego2));
        let res = api
            .post(
                "/api/v1/merges",
                json!({"object": "companies", "survivor": lego["id"], "merged": [lego2["id"]]}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        assert_eq!(res.body["record"]["city"], "Billund");
        let k = api
            .get(&format!("/api/v1/contacts/{}", kim["id"].as_str().unwrap()))
            .await
            .body;
        assert_eq!(k["company_id"], lego["id"]);
        assert!(
            pairs(app, "companies").await.is_empty(),
            "merged pairs leave the list"
        );
        let res = api
            .patch(
                &format!("/api/v1/companies/{}", lego["id"].as_str().unwrap()),
                json!({"industry": "Toys"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        let undo = api
            .post(
                &format!("/api/v1/merges/{}/undo", res_merge_id(app, &lego).await),
                json!({}),
            )
            .await;
        assert_eq!(undo.status, StatusCode::CONFLICT, "{}", undo.body);
        assert!(undo.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("changed after the merge"));
    }
);

/// The merge into `survivor`.
async fn res_merge_id(app: &TestApp, survivor: &Value) -> String {
    use kith_store::{Exec, Sql};
    let mut db = app.app.db().clone();
    let row = db
        .fetch_optional(Sql::new("SELECT id FROM merges WHERE survivor_id = ").arg(
            kith_core::Scalar::Uuid(
                uuid::Uuid::parse_str(survivor["id"].as_str().unwrap()).unwrap(),
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.uuid("id").unwrap().unwrap().to_string()
}
