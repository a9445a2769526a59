//! Taking imports back: a revert keeps what people changed since, and an import whose
//! later update was itself reverted can still be reverted whole.

use kith_app::import::OnDuplicate;
use kith_core::objects::ObjectKind;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{both, tempfile_dir};
use crate::import::{count, find, import, req, write};

both!(
    a_revert_keeps_records_changed_after_the_import,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let csv = "Email,First Name\na@example.com,A\nb@example.com,B\n";
        let path = write(&dir, "x.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "x.csv")).await;
        let b = find(app, "b@example.com").await;
        let res = app
            .api
            .patch(
                &format!("/api/v1/contacts/{}", b[0]["id"].as_str().unwrap()),
                json!({"job_title": "Edited by hand"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        let res = app
            .api
            .post(
                &format!("/api/v1/imports/{}/revert", report.import.id),
                json!({}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["status"], "reverted");
        assert!(
            res.body["message"]
                .as_str()
                .unwrap()
                .contains("1 kept because they were changed"),
            "{}",
            res.body
        );
        assert!(find(app, "a@example.com").await.is_empty());
        assert_eq!(find(app, "b@example.com").await.len(), 1);
        // The removed row may come in again after the revert.
        let again = import(app, &path, req(ObjectKind::Contact, "x.csv")).await;
        assert_eq!((again.import.created, again.import.skipped), (1, 1));
    }
);

both!(
    an_import_updated_by_a_reverted_import_reverts_whole,
    |app| async move {
        // Import A creates three; import B updates two; B is reverted; then A. A hand
        // edit between B and its revert keeps that one record.
        let dir = tempfile_dir::Dir::new();
        let a = "Email,First Name,City\na@example.com,A,Aarhus\nb@example.com,B,Aarhus\nc@example.com,C,Aarhus\n";
        let path = write(&dir, "a.csv", a.as_bytes());
        let first = import(app, &path, req(ObjectKind::Contact, "a.csv"))
            .await
            .import;
        let b = "Email,City\na@example.com,Odense\nb@example.com,Odense\nc@example.com,Aarhus\n";
        let path = write(&dir, "b.csv", b.as_bytes());
        let mut update = req(ObjectKind::Contact, "b.csv");
        update.on_duplicate = OnDuplicate::Update;
        let second = import(app, &path, update).await.import;
        assert_eq!((second.updated, second.skipped), (2, 1), "{second:?}");
        let b_id = find(app, "b@example.com").await[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let res = app
            .api
            .patch(
                &format!("/api/v1/contacts/{b_id}"),
                json!({"job_title": "Buyer"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);

        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let undone = app.app.revert_import(&caller, second.id).await.unwrap();
        assert_eq!(
            undone.message.as_deref(),
            Some("reverted: 0 records removed, 2 restored")
        );
        assert_eq!(find(app, "a@example.com").await[0]["city"], "Aarhus");
        let undone = app.app.revert_import(&caller, first.id).await.unwrap();
        assert_eq!(
            undone.message.as_deref(),
            Some("reverted: 2 records removed, 0 restored; 1 kept because they were changed after the import"),
        );
        let left = find(app, "example.com").await;
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0]["job_title"], "Buyer");
        assert_eq!(count(app, "contacts").await, 1);
    }
);
