//! Sign-in: API tokens, sessions with CSRF, logout, the rate limit.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{both, Api, PASSWORD};

async fn login(api: &Api, email: &str, password: &str) -> reqwest::Response {
    api.client
        .post(format!("{}/api/v1/auth/login", api.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

both!(
    requests_without_credentials_or_with_a_bad_token_are_refused,
    |app| async move {
        let anon = app.anonymous();
        assert_eq!(
            anon.get("/api/v1/contacts").await.status,
            StatusCode::UNAUTHORIZED
        );
        let bad = Api {
            token: Some("kith_not-a-token".into()),
            ..anon.clone()
        };
        let res = bad.get("/api/v1/contacts").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.code(), "unauthorized");
        assert_eq!(
            anon.get("/healthz").await.status,
            StatusCode::OK,
            "health needs no sign-in"
        );
        assert_eq!(
            app.api.get("/api/v1/me").await.body["workspace"]["name"],
            "acme"
        );
    }
);

both!(
    session_cookie_signs_in_and_writes_need_the_csrf_token,
    |app| async move {
        let anon = app.anonymous();
        let res = login(&anon, "ADMIN@acme.test", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = res
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let session = cookie.split(';').next().unwrap().to_string();
        let body: serde_json::Value = res.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_string();
        assert_eq!(body["user"]["email"], "admin@acme.test");

        let with_cookie = |extra: &[(&str, &str)]| {
            let mut h = vec![("cookie", session.as_str())];
            h.extend_from_slice(extra);
            h.into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        let send = |method: Method,
                    path: &str,
                    body: Option<serde_json::Value>,
                    headers: Vec<(String, String)>| {
            let anon = anon.clone();
            let path = path.to_string();
            async move {
                let h: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                anon.send(method, &path, body, &h).await
            }
        };
        assert_eq!(
            send(Method::GET, "/api/v1/me", None, with_cookie(&[]))
                .await
                .status,
            StatusCode::OK
        );
        let no_csrf = send(
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"first_name": "X"})),
            with_cookie(&[]),
        )
        .await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
        assert_eq!(no_csrf.code(), "csrf_failed");
        let wrong = send(
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"first_name": "X"})),
            with_cookie(&[("x-csrf-token", "nope")]),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        let ok = send(
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"first_name": "X"})),
            with_cookie(&[("x-csrf-token", &csrf)]),
        )
        .await;
        assert_eq!(ok.status, StatusCode::CREATED);
        assert_eq!(
            app.api.get("/api/v1/contacts").await.body["data"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "only the CSRF-checked write landed"
        );

        // A second sign-in gets a different session: nothing planted before sign-in survives it.
        let again = login(&anon, "admin@acme.test", PASSWORD).await;
        let cookie2 = again
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_ne!(cookie2.split(';').next().unwrap(), session);

        let out = send(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            with_cookie(&[("x-csrf-token", &csrf)]),
        )
        .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert_eq!(
            send(Method::GET, "/api/v1/me", None, with_cookie(&[]))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
);

both!(
    wrong_passwords_are_refused_and_rate_limited,
    |app| async move {
        let anon = app.anonymous();
        let res = login(&anon, "admin@acme.test", "wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = login(&anon, "nobody@acme.test", "whatever").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        for _ in 0..10 {
            login(&anon, "admin@acme.test", "still wrong").await;
        }
        // Locked even with the right password now.
        let res = login(&anon, "admin@acme.test", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().get("retry-after").is_some());
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
        // Tokens keep working: the lock is on password sign-in.
        assert_eq!(app.api.get("/api/v1/me").await.status, StatusCode::OK);
    }
);

both!(passwords_are_stored_as_argon2id_hashes, |app| async move {
    let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
    let hash = caller.user.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
});

both!(a_user_sets_the_name_they_are_shown_by, |app| async move {
    let bo = app
        .user("bo@acme.test", kith_app::Role::ReadOnly, "acme")
        .await;
    let res = bo
        .patch("/api/v1/me", json!({"name": "  Bo   Berg "}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["name"], "Bo Berg");
    assert_eq!(bo.get("/api/v1/me").await.body["name"], "Bo Berg");
    // Who an owner_id is, for every member: this workspace's people only, no secrets.
    app.user("eve@globex.test", kith_app::Role::Admin, "globex")
        .await;
    let users = bo.get("/api/v1/users").await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.body);
    let people: Vec<(&str, &str)> = users.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap(),
                u["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        people,
        [("admin@acme.test", ""), ("bo@acme.test", "Bo Berg")]
    );
    assert!(!users.body.to_string().contains("argon2"), "{}", users.body);
    for (body, field) in [
        (json!({"name": "Bo\nBerg"}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": 7}), "name"),
        (json!({"role": "admin"}), "role"),
    ] {
        let res = bo.patch("/api/v1/me", body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            res.body["error"]["fields"][field].is_string(),
            "{body}: {}",
            res.body
        );
    }
    assert_eq!(bo.get("/api/v1/me").await.body["name"], "Bo Berg", "kept");
    let res = bo.patch("/api/v1/me", json!({"name": null})).await;
    assert_eq!(res.body["name"], serde_json::Value::Null);
    assert_eq!(bo.get("/api/v1/me").await.body["role"], "read_only");
});
