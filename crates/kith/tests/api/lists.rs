//! Lists: filters (built-in and custom fields), sort, cursors and quick search.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{both, Api};

fn names(v: &Value, field: &str) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap_or("").to_string())
        .collect()
}

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

async fn people(api: &Api) {
    api.create(
        "field_definitions",
        json!({"object": "contact", "key": "score", "label": "Score", "kind": "number"}),
    )
    .await;
    api.create("field_definitions", json!({"object": "contact", "key": "tier", "label": "Tier", "kind": "select", "options": ["gold", "silver"]})).await;
    api.create(
        "field_definitions",
        json!({"object": "contact", "key": "budget", "label": "Budget", "kind": "money"}),
    )
    .await;
    let acme = api
        .create(
            "companies",
            json!({"name": "Acme Trading", "employees": 120}),
        )
        .await;
    let small = api
        .create("companies", json!({"name": "Lille Butik", "employees": 3}))
        .await;
    for (first, last, email, phone, city, company, custom, tags) in [
        (
            "伟",
            "张",
            "wei@example.cn",
            "+86 138 0013 8000",
            "上海",
            &acme,
            json!({"score": 90, "tier": "gold", "budget": {"amount": 500000, "currency": "DKK"}}),
            json!(["vip"]),
        ),
        (
            "Søren",
            "Østergaard",
            "soren@example.dk",
            "20 12 34 56",
            "Århus",
            &small,
            json!({"score": 40.5, "tier": "silver"}),
            json!(["vip", "nordic"]),
        ),
        (
            "Åse",
            "Aagaard",
            "aase@example.dk",
            "30 11 22 33",
            "København",
            &small,
            json!({"score": 70}),
            json!(["nordic"]),
        ),
        (
            "Ana",
            "Berg",
            "ana.berg@example.com",
            "+44 20 7183 8750",
            "London",
            &acme,
            json!({}),
            json!([]),
        ),
        (
            "三丰",
            "张",
            "sanfeng@example.cn",
            "+86 139 0000 1111",
            "北京",
            &acme,
            json!({"tier": "gold", "budget": {"amount": 90000, "currency": "DKK"}}),
            json!([]),
        ),
    ] {
        api.create("contacts", json!({"first_name": first, "last_name": last, "email": email, "phone": phone, "city": city,
            "company_id": company["id"], "custom": custom, "tags": tags})).await;
    }
}

async fn q(api: &Api, query: &str) -> Vec<String> {
    let res = api
        .get(&format!("/api/v1/contacts?q={}&sort=email", enc(query)))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.body);
    names(&res.body, "email")
}

both!(
    quick_search_finds_chinese_danish_phones_and_emails,
    |app| async move {
        let api = &app.api;
        people(api).await;
        assert_eq!(
            q(api, "张伟").await,
            ["wei@example.cn"],
            "2-character Chinese name"
        );
        assert_eq!(q(api, "张").await, ["sanfeng@example.cn", "wei@example.cn"]);
        assert_eq!(q(api, "张三").await, ["sanfeng@example.cn"]);
        for s in [
            "Søren",
            "soeren",
            "soren",
            "SØR",
            "østergaard",
            "oestergaard",
        ] {
            assert_eq!(q(api, s).await, ["soren@example.dk"], "{s}");
        }
        for s in ["Åse", "aase", "ase"] {
            assert!(
                q(api, s).await.contains(&"aase@example.dk".to_string()),
                "{s}"
            );
        }
        assert_eq!(
            q(api, "2012 3456").await,
            ["soren@example.dk"],
            "phone digits"
        );
        assert_eq!(q(api, "+45 20 12").await, ["soren@example.dk"]);
        assert_eq!(q(api, "ana.berg@ex").await, ["ana.berg@example.com"]);
        assert_eq!(q(api, "acme").await.len(), 3, "company name");
        assert_eq!(
            q(api, "ana acme").await,
            ["ana.berg@example.com"],
            "every word must match"
        );
        assert!(q(api, "nobody").await.is_empty());
        assert!(q(api, "'; DROP TABLE contacts; --").await.is_empty());
        assert_eq!(
            api.get("/api/v1/contacts").await.body["data"]
                .as_array()
                .unwrap()
                .len(),
            5,
            "table still there"
        );
        // Renaming the company refreshes its contacts' search terms in the same transaction.
        let acme = api.get("/api/v1/companies?q=acme").await.body["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        api.patch(
            &format!("/api/v1/companies/{acme}"),
            json!({"name": "Zenit Handel"}),
        )
        .await;
        assert!(q(api, "acme").await.is_empty());
        assert_eq!(q(api, "zenit").await.len(), 3);
    }
);

both!(
    filters_on_built_in_custom_and_related_fields,
    |app| async move {
        let api = &app.api;
        people(api).await;
        let f = |filter: &'static str| async move {
            let res = api
                .get(&format!(
                    "/api/v1/contacts?sort=email&filter={}",
                    enc(filter)
                ))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{filter}: {}", res.body);
            names(&res.body, "email")
        };
        assert_eq!(f("city = Århus").await, ["soren@example.dk"]);
        assert_eq!(
            f("last_name = 张").await,
            ["sanfeng@example.cn", "wei@example.cn"]
        );
        assert_eq!(
            f("city != Århus and tags has nordic").await,
            ["aase@example.dk"]
        );
        assert_eq!(
            f("tags has vip and not tags has nordic").await,
            ["wei@example.cn"]
        );
        assert_eq!(
            f("tags is empty").await,
            ["ana.berg@example.com", "sanfeng@example.cn"]
        );
        assert_eq!(
            f("custom.score >= 70").await,
            ["aase@example.dk", "wei@example.cn"]
        );
        assert_eq!(
            f("custom.tier = gold or custom.score < 50").await,
            ["sanfeng@example.cn", "soren@example.dk", "wei@example.cn"]
        );
        assert_eq!(f("custom.budget > 100000").await, ["wei@example.cn"]);
        assert_eq!(
            f("custom.score is empty").await,
            ["ana.berg@example.com", "sanfeng@example.cn"]
        );
        assert_eq!(
            f("email ~ EXAMPLE.DK").await,
            ["aase@example.dk", "soren@example.dk"]
        );
        assert_eq!(f("email ^= ana").await, ["ana.berg@example.com"]);
        assert_eq!(
            f("city in (London, 北京)").await,
            ["ana.berg@example.com", "sanfeng@example.cn"]
        );
        assert_eq!(f("created_at > -1d and created_at < +1d").await.len(), 5);
        assert_eq!(f("phone = \"+4520123456\"").await, ["soren@example.dk"]);
        // Multi-select values take `has`.
        api.create(
            "field_definitions",
            json!({"object": "contact", "key": "interests", "label": "Interests", "kind": "multi_select", "options": ["golf", "wine", "tea"]}),
        )
        .await;
        let ana = api.get("/api/v1/contacts?q=ana").await.body["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let res = api
            .patch(
                &format!("/api/v1/contacts/{ana}"),
                json!({"custom": {"interests": ["golf", "tea"]}}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            f("custom.interests has tea").await,
            ["ana.berg@example.com"]
        );
        assert_eq!(f("custom.interests has wine").await, Vec::<String>::new());
        assert_eq!(
            f("custom.interests is not empty").await,
            ["ana.berg@example.com"]
        );
        assert_eq!(f("custom.interests is empty").await.len(), 4);
        // The JSON form in a POST body.
        let res = api
            .post(
                "/api/v1/contacts/query",
                json!({"filter": {"and": [
                    {"field": "custom.tier", "op": "eq", "value": "gold"},
                    {"field": "custom.score", "op": "gt", "value": 50}
                ]}}),
            )
            .await;
        assert_eq!(names(&res.body, "email"), ["wei@example.cn"]);
        // Filters on companies.
        let res = api
            .get(&format!(
                "/api/v1/companies?filter={}",
                enc("employees >= 50")
            ))
            .await;
        assert_eq!(names(&res.body, "name"), ["Acme Trading"]);
    }
);

both!(
    sorting_on_any_field_and_cursor_paging_visit_every_record_once,
    |app| async move {
        let api = &app.api;
        people(api).await;
        let sorted = |sort: &'static str| async move {
            let res = api
                .get(&format!("/api/v1/contacts?sort={}", enc(sort)))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{sort}: {}", res.body);
            names(&res.body, "email")
        };
        assert_eq!(
            sorted("-custom.score").await,
            [
                "wei@example.cn",
                "aase@example.dk",
                "soren@example.dk",
                "sanfeng@example.cn",
                "ana.berg@example.com"
            ],
            "descending, empty values last"
        );
        assert_eq!(
            sorted("custom.score").await[..3],
            ["soren@example.dk", "aase@example.dk", "wei@example.cn"]
        );
        assert_eq!(sorted("last_name").await[0], "aase@example.dk");
        assert_eq!(
            sorted("custom.budget").await[..2],
            ["sanfeng@example.cn", "wei@example.cn"]
        );
        for sort in [
            "email",
            "-email",
            "custom.score",
            "-custom.score",
            "last_name",
            "-created_at",
            "custom.tier",
            "company_id",
        ] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..10 {
                let mut url = format!("/api/v1/contacts?limit=2&sort={}", enc(sort));
                if let Some(c) = &cursor {
                    url.push_str(&format!("&cursor={c}"));
                }
                let res = api.get(&url).await;
                assert_eq!(res.status, StatusCode::OK, "{sort}: {}", res.body);
                seen.extend(names(&res.body, "email"));
                match res.body["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
            }
            let full = sorted(sort).await;
            assert_eq!(seen, full, "paging by {sort} matches one big page");
        }
    }
);

both!(
    saved_views_are_private_unless_shared_and_check_their_filter,
    |app| async move {
        let api = &app.api;
        let member = app
            .user("member@acme.test", kith_app::Role::Member, "acme")
            .await;
        let mine = api
            .create("views", json!({"name": "Nordic VIPs", "object": "contact", "filter": "tags has vip and country = DK", "sort": "-created_at", "columns": ["first_name", "email"]}))
            .await;
        assert_eq!(mine["shared"], false);
        let shared = api
            .create(
                "views",
                json!({"name": "Everyone", "object": "company", "shared": true}),
            )
            .await;
        let seen = member.get("/api/v1/views").await;
        let names: Vec<&str> = seen.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Everyone"], "a private view is its owner's alone");
        let path = format!("/api/v1/views/{}", mine["id"].as_str().unwrap());
        assert_eq!(member.get(&path).await.status, StatusCode::NOT_FOUND);
        let spath = format!("/api/v1/views/{}", shared["id"].as_str().unwrap());
        assert_eq!(
            member
                .patch(&spath, json!({"name": "Mine now"}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let bad = api
            .post("/api/v1/views", json!({"name": "Bad", "object": "contact", "filter": "shoe = 1", "sort": "nope", "columns": ["email", "ghost"]}))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields = bad.body["error"]["fields"].as_object().unwrap();
        assert!(
            fields.contains_key("filter")
                && fields.contains_key("sort")
                && fields.contains_key("columns"),
            "{fields:?}"
        );
    }
);
