//! Workspace defaults: the phone region reads numbers without `+`, the currency seeds deals.

use kith_app::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::both;

both!(workspace_defaults_shape_what_is_stored, |app| async move {
    let api = &app.api;
    let ws = api.get("/api/v1/workspace").await;
    assert_eq!(ws.body["phone_region"], "DK");
    let dk = api
        .create(
            "contacts",
            json!({"first_name": "A", "phone": "20 12 34 56"}),
        )
        .await;
    assert_eq!(dk["phone"], "+4520123456");
    let res = api
        .patch(
            "/api/v1/workspace",
            json!({"phone_region": "cn", "currency": "cny", "time_zone": "Asia/Shanghai"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["phone_region"], "CN");
    assert_eq!(res.body["currency"], "CNY");
    let cn = api
        .create(
            "contacts",
            json!({"first_name": "B", "phone": "138 0013 8000"}),
        )
        .await;
    assert_eq!(cn["phone"], "+8613800138000");
    api.create(
        "field_definitions",
        json!({"object": "contact", "key": "mobile", "label": "Mobile", "kind": "phone"}),
    )
    .await;
    let c = api
        .create(
            "contacts",
            json!({"first_name": "C", "custom": {"mobile": "139 0000 1111"}}),
        )
        .await;
    assert_eq!(
        c["custom"]["mobile"], "+8613900001111",
        "custom phone fields use the region too"
    );
    let res = api
        .patch("/api/v1/workspace", json!({"phone_region": null}))
        .await;
    assert!(res.body["phone_region"].is_null());
    let res = api
        .post(
            "/api/v1/contacts",
            json!({"first_name": "D", "phone": "20 12 34 56"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body["error"]["fields"]["phone"]
        .as_str()
        .unwrap()
        .contains("country code"));
    let bad = api.patch("/api/v1/workspace", json!({"currency": "kroner", "phone_region": "XX", "time_zone": "nowhere", "name": "x", "colour": 1})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["fields"].as_object().unwrap().len(), 5);
    let member = app.user("m@acme.test", Role::Member, "acme").await;
    assert_eq!(
        member
            .patch("/api/v1/workspace", json!({"currency": "EUR"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(api.get("/api/v1/workspace").await.body["currency"], "CNY");
});

both!(
    invitations_work_once_and_give_the_chosen_role,
    |app| async move {
        let admin = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let token = app
            .app
            .invite(&admin, "new@acme.test", Role::ReadOnly)
            .await
            .unwrap();
        assert_eq!(app.app.invite_email(&token).await.unwrap(), "new@acme.test");
        assert!(
            app.app.accept_invite(&token, "short", "").await.is_err(),
            "weak password refused"
        );
        let session = app
            .app
            .accept_invite(&token, "long enough password", " Nye  Kollega ")
            .await
            .unwrap();
        assert_eq!(session.caller.user.role, "read_only");
        assert_eq!(session.caller.user.name.as_deref(), Some("Nye Kollega"));
        assert_eq!(session.caller.workspace.name, "acme");
        assert!(
            app.app
                .accept_invite(&token, "long enough password", "")
                .await
                .is_err(),
            "used once"
        );
        assert!(
            app.app
                .invite(&admin, "new@acme.test", Role::Member)
                .await
                .is_err(),
            "existing user"
        );
        let member = app.app.caller_by_email("new@acme.test").await.unwrap();
        assert!(
            app.app
                .invite(&member, "x@acme.test", Role::Admin)
                .await
                .is_err(),
            "only admins invite"
        );
        // The last admin cannot step down.
        assert!(app
            .app
            .set_role(&admin, admin.user.id, Role::Member)
            .await
            .is_err());
        app.app
            .set_role(&admin, member.user.id, Role::Admin)
            .await
            .unwrap();
        app.app
            .set_role(&admin, admin.user.id, Role::Member)
            .await
            .unwrap();
    }
);
