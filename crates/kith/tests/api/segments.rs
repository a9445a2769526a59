//! Segments: filters that reach related records, the built-in segmentations (RFM on a
//! hand-checked order set, behaviour, value, source) and segment enter/leave events.

use chrono::{Duration, Utc};
use kith_core::segmentation::{rfm_group, rfm_scores};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{both, Api, TestApp};

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn names(api: &Api, filter: &str) -> Vec<String> {
    let res = api
        .get(&format!(
            "/api/v1/contacts?sort=first_name&filter={}",
            enc(filter)
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{filter}: {}", res.body);
    res.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["first_name"].as_str().unwrap().to_string())
        .collect()
}

fn days_ago(d: i64) -> String {
    (Utc::now() - Duration::days(d)).to_rfc3339()
}

both!(filters_reach_related_records, |app| async move {
    let api = &app.api;
    let (_, stages) = app.sales_pipeline().await;
    let big = api
        .create("companies", json!({"name": "Big A/S", "employees": 250}))
        .await;
    let small = api
        .create("companies", json!({"name": "Small ApS", "employees": 4}))
        .await;
    let mk = |first: &str, company: Option<&Value>, tags: Value| {
        let mut body = json!({"first_name": first, "tags": tags});
        if let Some(c) = company {
            body["company_id"] = c["id"].clone();
        }
        body
    };
    let ana = api
        .create("contacts", mk("Ana", Some(&big), json!(["a"])))
        .await;
    let bo = api
        .create("contacts", mk("Bo", Some(&small), json!(["a", "b"])))
        .await;
    let cai = api.create("contacts", mk("Cai", None, json!([]))).await;
    let dan = api
        .create("contacts", mk("Dan", Some(&big), json!(["b"])))
        .await;

    // Ana: an open deal in Proposal; Bo: a won deal.
    api.create(
        "deals",
        json!({"name": "Ana's", "stage_id": stages[1]["id"], "contact_id": ana["id"]}),
    )
    .await;
    api.create(
        "deals",
        json!({"name": "Bo's", "stage_id": stages[2]["id"], "contact_id": bo["id"]}),
    )
    .await;
    // Activity: Ana today, Bo 100 days ago.
    api.create(
        "activities",
        json!({"kind": "call", "contact_id": ana["id"]}),
    )
    .await;
    api.create(
        "activities",
        json!({"kind": "note", "contact_id": bo["id"], "occurred_at": days_ago(100)}),
    )
    .await;
    // Orders: Ana 3,000 + 2,500 DKK within 90 days; Bo 9,000 DKK 200 days ago; Dan 100 DKK.
    for (who, total, ago) in [
        (&ana, 300000, 10),
        (&ana, 250000, 80),
        (&bo, 900000, 200),
        (&dan, 10000, 5),
    ] {
        api.create(
            "orders",
            json!({"contact_id": who["id"], "total": total, "ordered_at": days_ago(ago)}),
        )
        .await;
    }
    let stage = stages[1]["id"].as_str().unwrap();
    for (filter, want) in [
        ("company.employees >= 50", vec!["Ana", "Dan"]),
        ("not company.employees >= 50", vec!["Bo", "Cai"]),
        ("has company(name ^= Small)", vec!["Bo"]),
        (
            &format!("has deals(stage_id = {stage} and status = open)"),
            vec!["Ana"],
        ),
        ("has deals(status = won)", vec!["Bo"]),
        ("has no deals", vec!["Cai", "Dan"]),
        (
            "has no activities(occurred_at > -60d)",
            vec!["Bo", "Cai", "Dan"],
        ),
        (
            "sum(orders.total where ordered_at > -90d) >= 500000",
            vec!["Ana"],
        ),
        (
            "sum(orders.total where ordered_at > -90d) < 500000",
            vec!["Bo", "Cai", "Dan"],
        ),
        ("count(orders) = 0", vec!["Cai"]),
        ("count(orders where ordered_at > -365d) >= 2", vec!["Ana"]),
        ("tags has a and tags has not b", vec!["Ana"]),
        (
            "company.employees >= 50 and count(orders) >= 1 and has activities(kind = call)",
            vec!["Ana"],
        ),
    ] {
        assert_eq!(names(api, filter).await, want, "{filter}");
    }
    // The JSON form says the same.
    let res = api
        .post(
            "/api/v1/contacts/query",
            json!({"filter": {"related": "orders", "test": "sum", "field": "total", "op": "gte",
                "value": 500000, "where": {"field": "ordered_at", "op": "gt", "value": "-90d"}}}),
        )
        .await;
    assert_eq!(
        res.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        res.body
    );
    // Bad related filters are named.
    for (filter, says) in [
        ("has invoices", "invoices"),
        ("sum(orders.status) > 1", "status"),
        ("company.nope = 1", "nope"),
    ] {
        let res = api
            .get(&format!("/api/v1/contacts?filter={}", enc(filter)))
            .await;
        assert!(res.status.is_client_error(), "{filter}");
        assert!(
            res.body.to_string().contains(says),
            "{filter}: {}",
            res.body
        );
    }
    let _ = (cai, dan);
});

/// Ten customers whose order counts, revenue and last order were worked out by hand.
async fn customers(app: &TestApp) -> Vec<(Value, i64, i64, i64)> {
    let api = &app.api;
    // (name, orders, total per order, days since last order)
    let set = [
        ("Anna", 1, 10000, 400),
        ("Bent", 1, 20000, 300),
        ("Carl", 1, 5000, 200),
        ("Dora", 1, 80000, 100),
        ("Emil", 2, 15000, 60),
        ("Frida", 2, 30000, 30),
        ("Gustav", 3, 10000, 20),
        ("Hanne", 4, 25000, 10),
        ("Ib", 6, 40000, 5),
        ("Jette", 9, 50000, 1),
    ];
    let mut out = Vec::new();
    for (name, n, each, last) in set {
        let c = api.create("contacts", json!({"first_name": name})).await;
        for i in 0..n {
            api.create(
                "orders",
                json!({"contact_id": c["id"], "total": each, "ordered_at": days_ago(last + i * 7)}),
            )
            .await;
        }
        out.push((c, n, n * each, -last));
    }
    out
}

both!(rfm_scores_match_the_hand_checked_set, |app| async move {
    let api = &app.api;
    let set = customers(app).await;
    let prospect = api.create("contacts", json!({"first_name": "Zoe"})).await;
    let res = api.post("/api/v1/segmentation/recompute", json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let r = rfm_scores(&set.iter().map(|c| c.3).collect::<Vec<_>>());
    let f = rfm_scores(&set.iter().map(|c| c.1).collect::<Vec<_>>());
    let m = rfm_scores(&set.iter().map(|c| c.2).collect::<Vec<_>>());
    // By hand: recency ranks 1..10 → 1,1,2,2,3,3,4,4,5,5; frequency ties as in kith-core.
    assert_eq!(r, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    assert_eq!(f, vec![1, 1, 1, 1, 3, 3, 4, 4, 5, 5]);
    for (i, (c, ..)) in set.iter().enumerate() {
        let got = api
            .get(&format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()))
            .await
            .body;
        let name = got["first_name"].as_str().unwrap();
        assert_eq!(got["rfm_recency"], r[i], "{name}");
        assert_eq!(got["rfm_frequency"], f[i], "{name}");
        assert_eq!(got["rfm_monetary"], m[i], "{name}");
        assert_eq!(got["rfm_group"], rfm_group(r[i], f[i]), "{name}");
    }
    let get = |name: &'static str| {
        let set = &set;
        async move {
            let c = &set.iter().find(|c| c.0["first_name"] == name).unwrap().0;
            api.get(&format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()))
                .await
                .body
        }
    };
    let jette = get("Jette").await;
    assert_eq!(jette["rfm_group"], "champions");
    assert_eq!(jette["behaviour"], "active");
    assert_eq!(jette["value_tier"], "high_value");
    let anna = get("Anna").await;
    assert_eq!(anna["rfm_group"], "hibernating");
    assert_eq!(anna["behaviour"], "churned");
    assert_eq!(anna["value_tier"], "standard");
    assert_eq!(get("Carl").await["behaviour"], "dormant");
    assert_eq!(get("Dora").await["behaviour"], "at_risk");
    // A contact without orders has no scores.
    let z = api
        .get(&format!(
            "/api/v1/contacts/{}",
            prospect["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(
        (
            z["rfm_recency"].clone(),
            z["rfm_group"].clone(),
            z["behaviour"].clone()
        ),
        (Value::Null, Value::Null, Value::Null)
    );

    // Thresholds: bad ones are named, members cannot change them, admins can.
    let res = api
        .send(
            reqwest::Method::PUT,
            "/api/v1/segmentation",
            Some(json!({"active_days": 500})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(
        res.body.to_string().contains("at_risk_days"),
        "{}",
        res.body
    );
    let member = app
        .user("m@acme.test", kith_app::Role::Member, "acme")
        .await;
    let res = member
        .send(
            reqwest::Method::PUT,
            "/api/v1/segmentation",
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = api
        .send(
            reqwest::Method::PUT,
            "/api/v1/segmentation",
            Some(json!({"active_days": 3, "at_risk_days": 150, "dormant_days": 250, "high_value_min": 100000})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(get("Ib").await["behaviour"], "at_risk");
    assert_eq!(get("Carl").await["behaviour"], "dormant");
    // Dora spent 80,000 øre: under the new 100,000 minimum.
    assert_eq!(get("Dora").await["value_tier"], "standard");
    assert_eq!(get("Frida").await["value_tier"], "new");
    assert_eq!(get("Hanne").await["value_tier"], "high_value");
});

both!(sources_are_grouped_on_every_contact, |app| async move {
    let api = &app.api;
    for (first, body, want) in [
        (
            "A",
            json!({"utm_source": "google", "utm_medium": "cpc"}),
            json!("paid"),
        ),
        ("B", json!({"source": "Google"}), json!("organic")),
        (
            "C",
            json!({"source": "Anbefaling fra Bo"}),
            json!("referral"),
        ),
        ("D", json!({"source": "Messe"}), json!("other")),
        ("E", json!({}), Value::Null),
    ] {
        let mut b = body.clone();
        b["first_name"] = json!(first);
        let c = api.create("contacts", b).await;
        assert_eq!(c["source_group"], want, "{first}");
    }
    let c = api
        .create("contacts", json!({"first_name": "F", "source": "Messe"}))
        .await;
    let res = api
        .patch(
            &format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()),
            json!({"utm_medium": "paid_social"}),
        )
        .await;
    assert_eq!(res.body["source_group"], "paid", "{}", res.body);
    let res = api
        .get(&format!(
            "/api/v1/contacts?filter={}",
            enc("source_group = paid")
        ))
        .await;
    assert_eq!(res.body["data"].as_array().unwrap().len(), 2);
});

async fn segment_events(app: &TestApp, kind: &str) -> Vec<String> {
    use kith_store::Exec;
    let rows = app
        .app
        .db()
        .clone()
        .fetch_all(kith_store::Sql::new(
            "SELECT record_id, kind FROM events WHERE kind LIKE 'segment.%' ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .filter(|r| r.text("kind").unwrap().as_deref() == Some(kind))
        .map(|r| r.uuid("record_id").unwrap().unwrap().to_string())
        .collect()
}

both!(segment_membership_changes_are_events, |app| async move {
    let api = &app.api;
    let ana = api.create("contacts", json!({"first_name": "Ana"})).await;
    let bo = api.create("contacts", json!({"first_name": "Bo"})).await;
    api.create("orders", json!({"contact_id": ana["id"], "total": 200000}))
        .await;
    let res = api
        .post(
            "/api/v1/segments",
            json!({"name": "Big spenders", "object": "contact", "filter": "lifetime_value >= 100000 and lifecycle_stage = customer and has orders(channel != marketplace)"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let seg = res.body;
    let sid = seg["id"].as_str().unwrap().to_string();
    let bad = api
        .post(
            "/api/v1/segments",
            json!({"name": "Broken", "object": "contact", "filter": "sum(orders.nope) > 1"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body["error"]["fields"]["filter"].is_string(),
        "{}",
        bad.body
    );

    // Saving the segment filled its membership; a refresh finds nothing new.
    assert_eq!(seg["member_count"], 1, "{seg}");
    let res = api.get(&format!("/api/v1/segments/{sid}/count")).await;
    assert_eq!(res.body["count"], 1, "{}", res.body);
    let res = api
        .post(&format!("/api/v1/segments/{sid}/refresh"), json!({}))
        .await;
    assert_eq!(
        (res.body["entered"].clone(), res.body["members"].clone()),
        (json!(0), json!(1)),
        "{}",
        res.body
    );
    let ana_id = ana["id"].as_str().unwrap().to_string();
    let bo_id = bo["id"].as_str().unwrap().to_string();
    assert_eq!(
        segment_events(app, "segment.entered").await,
        vec![ana_id.clone()]
    );
    // Changing the filter moves members at once.
    let res = api
        .patch(
            &format!("/api/v1/segments/{sid}"),
            json!({"filter": "lifetime_value >= 1000000"}),
        )
        .await;
    assert_eq!(res.body["member_count"], 0, "{}", res.body);
    assert_eq!(
        segment_events(app, "segment.left").await,
        vec![ana_id.clone()]
    );
    let res = api
        .patch(
            &format!("/api/v1/segments/{sid}"),
            json!({"filter": "lifetime_value >= 100000 and lifecycle_stage = customer and has orders(channel != marketplace)"}),
        )
        .await;
    assert_eq!(res.body["member_count"], 1, "{}", res.body);
    assert_eq!(
        segment_events(app, "segment.entered").await,
        vec![ana_id.clone(), ana_id.clone()]
    );

    // Bo's order puts him in at once, in the same transaction as the order.
    let order = api
        .create("orders", json!({"contact_id": bo["id"], "total": 150000}))
        .await;
    assert_eq!(
        segment_events(app, "segment.entered").await,
        vec![ana_id.clone(), ana_id.clone(), bo_id.clone()]
    );
    let res = api.get(&format!("/api/v1/contacts/{bo_id}/segments")).await;
    assert_eq!(res.body["data"][0]["name"], "Big spenders", "{}", res.body);
    let res = api
        .get(&format!("/api/v1/segments/{sid}/members?sort=first_name"))
        .await;
    let members: Vec<&str> = res.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(members, vec!["Ana", "Bo"]);
    let seg_now = api.get(&format!("/api/v1/segments/{sid}")).await.body;
    assert_eq!(seg_now["member_count"], 2);

    // Cancelling it takes him out again.
    let res = api
        .patch(
            &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        segment_events(app, "segment.left").await,
        vec![ana_id.clone(), bo_id.clone()]
    );
    // Deleting a member is leaving too.
    api.delete(&format!("/api/v1/contacts/{ana_id}")).await;
    assert_eq!(
        segment_events(app, "segment.left").await,
        vec![ana_id.clone(), bo_id, ana_id]
    );
    let res = api.get(&format!("/api/v1/segments/{sid}/count")).await;
    assert_eq!(
        (res.body["count"].clone(), res.body["members"].clone()),
        (json!(0), json!(0))
    );
});

both!(
    company_segments_reach_contacts_and_orders,
    |app| async move {
        let api = &app.api;
        let acme = api
            .create("companies", json!({"name": "Acme A/S", "employees": 80}))
            .await;
        let tiny = api.create("companies", json!({"name": "Tiny ApS"})).await;
        let ana = api
        .create(
            "contacts",
            json!({"first_name": "Ana", "company_id": acme["id"], "lifecycle_stage": "advocate"}),
        )
        .await;
        api.create(
            "contacts",
            json!({"first_name": "Bo", "company_id": tiny["id"]}),
        )
        .await;
        // The order's company comes from its contact.
        api.create("orders", json!({"contact_id": ana["id"], "total": 300000}))
            .await;
        let seg = api
        .create(
            "segments",
            json!({"name": "Accounts with advocates that buy", "object": "company",
                   "filter": "has contacts(lifecycle_stage = advocate) and sum(orders.total) >= 250000"}),
        )
        .await;
        assert_eq!(seg["member_count"], 1, "{seg}");
        let res = api
            .get(&format!(
                "/api/v1/segments/{}/members",
                seg["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(res.body["data"][0]["name"], "Acme A/S", "{}", res.body);
        assert_eq!(res.body["data"][0]["lifetime_value"], 300000);
        // A contact segment's filter cannot use company fields unprefixed, and says so.
        let bad = api
            .post(
                "/api/v1/segments",
                json!({"name": "x", "object": "contact", "filter": "employees > 5"}),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.to_string().contains("employees"), "{}", bad.body);
        // Not an id: a clear refusal, not a 500.
        let res = api.get("/api/v1/segments/not-an-id/count").await;
        assert!(res.status.is_client_error());
    }
);
