//! Bad input of every kind gets a 4xx with a clear message: never a 500, never a panic.
//! (The harness fails any test that sees a 500.)

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::both;

both!(malformed_bodies_get_clear_errors, |app| async move {
    let api = &app.api;
    let raw = |body: &'static str, ct: &'static str| {
        let api = api.clone();
        async move {
            let res = api
                .client
                .post(format!("{}/api/v1/contacts", api.base))
                .bearer_auth(api.token.as_ref().unwrap())
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: serde_json::Value = res.json().await.unwrap();
            (status, body)
        }
    };
    let (s, b) = raw("{\"first_name\": ", "application/json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"]["code"], "json_invalid");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("line 1"),
        "{b}"
    );
    let (s, b) = raw("[1, 2]", "application/json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"]["code"], "json_invalid");
    let (s, b) = raw("first_name=Ana", "application/x-www-form-urlencoded").await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(b["error"]["code"], "content_type");
    let big = format!("{{\"first_name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    // A client of its own: the server closes the connection after refusing a body it did
    // not read, and a pooled connection reused by the next request would fail with it.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/contacts", api.base))
        .bearer_auth(api.token.as_ref().unwrap())
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        app.api.get("/api/v1/contacts").await.body["data"],
        json!([]),
        "nothing was stored"
    );
});

both!(
    unknown_fields_and_wrong_types_name_every_field,
    |app| async move {
        let api = &app.api;
        let res = api
        .post("/api/v1/contacts", json!({
            "first_name": 42, "email": "not-an-email", "phone": "12", "birthday": "31.02.2020",
            "shoe": "big", "company_id": "nope", "lifecycle_stage": "king", "custom": {"ghost": 1},
            "tags": "vip", "consent": {"email": "maybe"}, "id": "x"
        }))
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.code(), "validation_failed");
        let fields = res.body["error"]["fields"].as_object().unwrap();
        for f in [
            "first_name",
            "email",
            "phone",
            "birthday",
            "shoe",
            "company_id",
            "lifecycle_stage",
            "custom.ghost",
            "tags",
            "consent",
            "id",
        ] {
            assert!(fields.contains_key(f), "{f} not named in {fields:?}");
        }
        assert!(fields["shoe"].as_str().unwrap().contains("unknown field"));
        let res = api
            .post("/api/v1/contacts", json!({"job_title": "CEO"}))
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a contact needs a name, email or phone"
        );
        let res = api
            .post(
                "/api/v1/companies",
                json!({"name": "A", "employees": -1, "website": "javascript:alert(1)"}),
            )
            .await;
        let fields = res.body["error"]["fields"].as_object().unwrap();
        assert!(
            fields.contains_key("employees") && fields.contains_key("website"),
            "{fields:?}"
        );
        let res = api
            .post(
                "/api/v1/companies",
                json!({"name": "A", "owner_id": uuid::Uuid::now_v7()}),
            )
            .await;
        assert!(res.body["error"]["fields"]["owner_id"]
            .as_str()
            .unwrap()
            .contains("no user"));
        api.create(
            "field_definitions",
            json!({"object": "contact", "key": "size", "label": "Size", "kind": "number"}),
        )
        .await;
        let res = api
            .post(
                "/api/v1/contacts",
                json!({"first_name": "A", "custom": {"size": "huge"}}),
            )
            .await;
        assert_eq!(
            res.body["error"]["fields"]["custom.size"],
            "must be a number, not a string"
        );
        let res = api
            .post(
                "/api/v1/field_definitions",
                json!({"object": "contact", "key": "size", "label": "Again", "kind": "text"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "a key cannot be reused");
        let res = api
            .post(
                "/api/v1/field_definitions",
                json!({"object": "contact", "key": "Bad Key", "label": "x", "kind": "select"}),
            )
            .await;
        let fields = res.body["error"]["fields"].as_object().unwrap();
        assert!(
            fields.contains_key("key") && fields.contains_key("options"),
            "{fields:?}"
        );
        assert_eq!(api.get("/api/v1/contacts").await.body["data"], json!([]));
    }
);

both!(bad_list_parameters_are_refused_clearly, |app| async move {
    let api = &app.api;
    api.create("contacts", json!({"first_name": "Ana"})).await;
    for (url, status, code) in [
        (
            "/api/v1/contacts?cursor=garbage",
            StatusCode::BAD_REQUEST,
            "cursor_invalid",
        ),
        (
            "/api/v1/contacts?filter=shoe_size%20%3D%204",
            StatusCode::BAD_REQUEST,
            "filter_invalid",
        ),
        (
            "/api/v1/contacts?filter=first_name%20%3D",
            StatusCode::BAD_REQUEST,
            "filter_invalid",
        ),
        (
            "/api/v1/contacts?filter=%7B%22and%22%3A5%7D",
            StatusCode::BAD_REQUEST,
            "filter_invalid",
        ),
        (
            "/api/v1/contacts?filter=birthday%20~%20x",
            StatusCode::BAD_REQUEST,
            "filter_invalid",
        ),
        (
            "/api/v1/contacts?sort=shoe_size",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/v1/contacts?sort=tags",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/v1/contacts?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/v1/contacts?limit=100000",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/v1/contacts?limit=abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/v1/contacts?colour=red",
            StatusCode::BAD_REQUEST,
            "parameter_unknown",
        ),
        (
            "/api/v1/pipelines?q=call",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        ("/api/v1/widgets", StatusCode::NOT_FOUND, "not_found"),
        (
            "/api/v1/contacts/not-a-uuid",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let res = api.get(url).await;
        assert_eq!(res.status, status, "{url}: {}", res.body);
        assert_eq!(res.code(), code, "{url}");
        assert!(!res.body["error"]["message"].as_str().unwrap().is_empty());
    }
    // A cursor made for one sort is refused by another.
    api.create("contacts", json!({"first_name": "Bo"})).await;
    let page = api.get("/api/v1/contacts?limit=1&sort=first_name").await;
    let cursor = page.body["next_cursor"]
        .as_str()
        .expect("two contacts make two pages")
        .to_string();
    let res = api
        .get(&format!("/api/v1/contacts?sort=birthday&cursor={cursor}"))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert_eq!(res.code(), "cursor_invalid");
    let res = api
        .send(
            Method::PATCH,
            "/api/v1/contacts/00000000-0000-0000-0000-000000000000",
            Some(json!({"first_name": "x"})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let ana = api.get("/api/v1/contacts?sort=first_name").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = api
        .send(
            Method::PATCH,
            &format!("/api/v1/contacts/{ana}"),
            Some(json!({"first_name": "x"})),
            &[("if-match", "banana")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
});

both!(sql_looking_strings_are_plain_values, |app| async move {
    let api = &app.api;
    let evil = "Robert'); DROP TABLE contacts;--";
    let c = api
        .create(
            "contacts",
            json!({"first_name": evil, "last_name": "<img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(c["first_name"], evil);
    let filter = format!("first_name = \"{}\"", evil.replace('"', "\\\""));
    let enc: String = filter.bytes().map(|b| format!("%{b:02X}")).collect();
    let res = api.get(&format!("/api/v1/contacts?filter={enc}")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["data"].as_array().unwrap().len(), 1);
    let res = api
        .post(
            "/api/v1/contacts/query",
            json!({"filter": {"field": "first_name", "op": "contains", "value": "%' OR 1=1 --"}}),
        )
        .await;
    assert_eq!(
        res.body["data"],
        json!([]),
        "LIKE wildcards in values are escaped"
    );
    let res = api
        .post(
            "/api/v1/contacts/query",
            json!({"q": "1' OR '1'='1", "sort": "first_name"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["data"], json!([]));
    let res = api
        .post(
            "/api/v1/contacts/query",
            json!({"sort": "first_name; DROP TABLE contacts"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        api.get("/api/v1/contacts").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
});

both!(
    nul_characters_anywhere_get_an_answer_never_a_500,
    |app| async move {
        // PostgreSQL stores no NUL in text or JSON; SQLite does. Every way a NUL can come in
        // must be refused (or dropped) the same on both, never reach the database as a 500.
        let api = &app.api;
        let send = |method: Method, path: String, body: Option<serde_json::Value>| {
            let api = api.clone();
            async move {
                let mut req = api
                    .client
                    .request(method.clone(), format!("{}{}", api.base, path))
                    .bearer_auth(api.token.as_ref().unwrap());
                if let Some(b) = &body {
                    req = req.json(b);
                }
                let res = req.send().await.unwrap();
                let status = res.status();
                (
                    status,
                    format!("{method} {path} {body:?}: {}", res.text().await.unwrap()),
                )
            }
        };
        let nul = "a\u{0}b";
        let mut failures = vec![];
        let mut check = |(status, what): (StatusCode, String)| {
            if status.is_server_error() {
                failures.push(what);
            }
        };
        for object in kith_core::objects::ObjectKind::ALL {
            let path = format!("/api/v1/{}", object.plural());
            for spec in object.fields().iter().filter(|f| !f.read_only) {
                check(send(Method::POST, path.clone(), Some(json!({ spec.name: nul }))).await);
                check(
                    send(
                        Method::POST,
                        path.clone(),
                        Some(json!({ spec.name: [nul] })),
                    )
                    .await,
                );
                check(
                    send(
                        Method::POST,
                        path.clone(),
                        Some(json!({ spec.name: {nul: nul} })),
                    )
                    .await,
                );
            }
            check(
                send(
                    Method::POST,
                    path.clone(),
                    Some(json!({"custom": {nul: nul}})),
                )
                .await,
            );
            check(send(Method::GET, format!("{path}?q=a%00b"), None).await);
            check(send(Method::GET, format!("{path}?sort=a%00b"), None).await);
            check(
                send(
                    Method::GET,
                    format!("{path}?filter=name%20%3D%20%22a%00b%22"),
                    None,
                )
                .await,
            );
            check(
            send(
                Method::POST,
                format!("{path}/query"),
                Some(json!({"filter": {"field": "name", "op": "contains", "value": nul}, "q": nul})),
            )
            .await,
        );
        }
        let c = api
            .create(
                "contacts",
                json!({"first_name": "Ane", "email": "ane@example.dk"}),
            )
            .await;
        let id = c["id"].as_str().unwrap();
        check(
            send(
                Method::PATCH,
                format!("/api/v1/contacts/{id}"),
                Some(json!({"first_name": nul, "tags": [nul], "version": c["version"]})),
            )
            .await,
        );
        for path in [
            "/api/v1/search?q=a%00b",
            "/api/v1/contacts?q=%00",
            "/api/v1/contacts/export?format=csv&q=a%00b",
            "/api/v1/duplicates?object=a%00b",
        ] {
            check(send(Method::GET, path.to_string(), None).await);
        }
        let writes = [
            (
                "/api/v1/email-templates".to_string(),
                json!({"name": nul, "subject": nul, "html": nul, "text": nul}),
            ),
            (
                "/api/v1/auth/login".to_string(),
                json!({"email": nul, "password": nul}),
            ),
            (
                "/api/v1/merges".to_string(),
                json!({"object": nul, "survivor": nul, "merged": [nul]}),
            ),
            (
                "/api/v1/duplicates/dismiss".to_string(),
                json!({"a": nul, "b": nul}),
            ),
            (
                "/api/v1/workflows".to_string(),
                json!({"name": nul, "trigger": {"kind": nul}, "steps": []}),
            ),
            (
                "/api/v1/campaigns".to_string(),
                json!({"name": nul, "template_id": nul, "segment_id": nul}),
            ),
            (
                "/api/v1/sequences".to_string(),
                json!({"name": nul, "steps": [{"subject": nul}]}),
            ),
            (
                format!("/api/v1/contacts/{id}/emails"),
                json!({"subject": nul, "text": nul}),
            ),
        ];
        for (path, body) in writes {
            check(send(Method::POST, path, Some(body)).await);
        }
        assert!(
            failures.is_empty(),
            "{} answers were 500:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
);
