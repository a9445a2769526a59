//! Marketing consent moves in with the contacts: Shopify's and a Danish shop's yes/no
//! columns, Mailchimp's opt-in and unsubscribe times; and an import never turns a "no"
//! back into a "yes".

use kith_app::import::OnDuplicate;
use kith_core::objects::ObjectKind;
use serde_json::{json, Value};

use crate::harness::{both, tempfile_dir, TestApp};
use crate::import::{find, import, refused, req, write};

async fn consent(app: &TestApp, email: &str) -> Value {
    let found = find(app, email).await;
    assert_eq!(found.len(), 1, "{email}");
    found[0]["consent"].clone()
}

both!(
    consent_is_imported_and_an_import_never_turns_a_no_into_a_yes,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        // Shopify's customer export.
        let csv = "First Name,Last Name,Email,Accepts Email Marketing,Accepts SMS Marketing\n\
                   Ane,Hansen,ane@example.dk,yes,no\n\
                   Bo,Berg,bo@example.dk,no,\n\
                   Cai,Chen,cai@example.cn,maybe,\n\
                   Eva,Ek,eva@example.dk,,\n";
        let path = write(&dir, "customers_export.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "customers.csv")).await;
        assert_eq!((report.import.created, report.import.failed), (3, 1));
        let rejects = refused(app, report.import.id).await;
        assert_eq!(rejects[0].line, 4);
        assert_eq!(rejects[0].errors[0].0, "Accepts Email Marketing");
        assert!(rejects[0].errors[0].1.starts_with("not a consent"));
        assert_eq!(
            consent(app, "ane@example.dk").await,
            json!({"email": "granted", "sms": "denied"})
        );
        assert_eq!(
            consent(app, "bo@example.dk").await,
            json!({"email": "denied"})
        );
        assert_eq!(consent(app, "eva@example.dk").await, json!({}));

        // Mailchimp's unsubscribed export: Ane opted in, then out. Dan is new, and opted
        // in; Eva opted out, then in again.
        let csv = "Email Address,First Name,OPTIN_TIME,UNSUB_TIME\n\
                   ane@example.dk,Ane,2023-01-01 10:00:00,2024-02-01 09:00:00\n\
                   dan@example.dk,Dan,2023-01-01 10:00:00,\n\
                   eva@example.dk,Eva,2024-05-01 10:00:00,2024-02-01 09:00:00\n";
        let path = write(&dir, "unsubscribed.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "unsubscribed.csv");
        r.on_duplicate = OnDuplicate::Update;
        let report = import(app, &path, r).await;
        let i = &report.import;
        assert_eq!((i.created, i.updated, i.failed), (1, 2, 0), "{i:?}");
        assert_eq!(
            consent(app, "ane@example.dk").await,
            json!({"email": "denied", "sms": "denied"}),
            "the other channel is left as it was"
        );
        assert_eq!(
            consent(app, "dan@example.dk").await,
            json!({"email": "granted"})
        );
        assert_eq!(
            consent(app, "eva@example.dk").await,
            json!({"email": "granted"})
        );

        // An old newsletter list says yes to everyone: the two who said no keep it.
        let csv = "E-mail,Nyhedsbrev\nane@example.dk,ja\nbo@example.dk,ja\ndan@example.dk,nej\n";
        let path = write(&dir, "nyhedsbrev.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "nyhedsbrev.csv");
        r.on_duplicate = OnDuplicate::Update;
        let report = import(app, &path, r).await;
        assert_eq!(consent(app, "ane@example.dk").await["email"], "denied");
        assert_eq!(consent(app, "bo@example.dk").await["email"], "denied");
        assert_eq!(consent(app, "dan@example.dk").await["email"], "denied");
        assert_eq!(
            report.notes,
            vec![
                "2 contacts who had said no to marketing kept their no where the file says \
                 yes: an import never gives consent back, only the person can"
                    .to_string()
            ]
        );
        // Reverting that import gives Dan his yes back: it was the import's doing.
        app.app
            .revert_import(
                &app.app.caller_by_email("admin@acme.test").await.unwrap(),
                report.import.id,
            )
            .await
            .unwrap();
        assert_eq!(consent(app, "dan@example.dk").await["email"], "granted");
    }
);
