//! Sequences against a real SMTP server: steps in order with their waits, one
//! enrolment per contact, and the exits (reply, order, unsubscribe, removal).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{both, Api, TestApp};
use crate::jobs::acme;
use crate::mail::configure;
use crate::mail_servers::{ImapServer, SmtpSink};
use kith_app::mail::Outgoing;

async fn template(api: &Api, name: &str, subject: &str) -> Value {
    let res = api
        .post("/api/v1/email-templates", json!({"name": name, "language": "da", "subject": subject, "html": "<p>{{ contact.first_name }}</p>", "text": ""}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body
}

async fn person(api: &Api, first: &str) -> Value {
    api.create("contacts", json!({"first_name": first, "email": format!("{}@kunde.test", first.to_lowercase()), "consent": {"email": "granted"}}))
        .await
}

async fn enrol(api: &Api, seq: &Value, c: &Value) -> StatusCode {
    api.post(
        &format!(
            "/api/v1/sequences/{}/enrolments",
            seq["id"].as_str().unwrap()
        ),
        json!({"contact_id": c["id"]}),
    )
    .await
    .status
}

async fn enrolment(api: &Api, seq: &Value, c: &Value) -> Value {
    let list = api
        .get(&format!(
            "/api/v1/sequences/{}/enrolments",
            seq["id"].as_str().unwrap()
        ))
        .await;
    list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["contact_id"] == c["id"])
        .cloned()
        .unwrap_or(Value::Null)
}

fn subjects_to(smtp: &SmtpSink, to: &str) -> Vec<String> {
    smtp.messages()
        .into_iter()
        .filter(|m| m.to.contains(to))
        .map(|m| m.subject)
        .collect()
}

async fn tick(app: &TestApp) {
    app.app.sequence_tick(acme(app).await).await.unwrap();
}

both!(
    a_sequence_sends_its_steps_in_order_and_lets_contacts_leave,
    |app| async move {
        let smtp = SmtpSink::start().await;
        let imap = ImapServer::start(&smtp.maildir(), "svar@acme.test", "imap-kodeord").await;
        configure(app, smtp.port, Some(&imap)).await;
        let api = &app.api;
        api.send(
            reqwest::Method::PUT,
            "/api/v1/settings/campaigns",
            Some(json!({"public_url": api.base})),
            &[],
        )
        .await;
        let t1 = template(api, "Velkommen 1", "Velkommen, {{ contact.first_name }}").await;
        let t2 = template(api, "Velkommen 2", "Gode råd").await;

        let bad = api
        .post("/api/v1/sequences", json!({"name": "X", "steps": [{"wait_minutes": 0, "template_id": t1["id"]}, {"wait_minutes": -1, "template_id": t2["id"]}]}))
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body["error"]["fields"]["steps[1].wait_minutes"].is_string(),
            "{}",
            bad.body
        );
        let bad = api
        .post("/api/v1/sequences", json!({"name": "X", "steps": [{"wait_minutes": 0, "template_id": uuid::Uuid::now_v7()}]}))
        .await;
        assert!(
            bad.body["error"]["fields"]["steps[0].template_id"].is_string(),
            "{}",
            bad.body
        );

        let welcome = api
        .post("/api/v1/sequences", json!({"name": "Velkomst", "steps": [{"wait_minutes": 0, "template_id": t1["id"]}, {"wait_minutes": 0, "template_id": t2["id"]}]}))
        .await
        .body;
        let anna = person(api, "Anna").await;
        let bo = person(api, "Bo").await;
        let carl = person(api, "Carl").await;
        let dina = person(api, "Dina").await;
        for c in [&anna, &bo, &carl, &dina] {
            assert_eq!(enrol(api, &welcome, c).await, StatusCode::CREATED);
        }
        assert_eq!(
            enrol(api, &welcome, &anna).await,
            StatusCode::OK,
            "a contact is enrolled once"
        );
        // Carl buys and Dina replies before the first step goes out.
        api.create("orders", json!({"contact_id": carl["id"], "total": 10000}))
            .await;
        // Dina's reply arrives by IMAP (Dovecot serves the sink's Maildir); a Date header
        // has whole seconds, so it is written a second after her enrolment.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let customer = smtp.mailer();
        customer
            .send(&Outgoing {
                from_name: "Dina".into(),
                from_email: "dina@kunde.test".into(),
                to: "svar@acme.test".into(),
                subject: "Re: hej".into(),
                text: "Tak, jeg ringer.".into(),
                html: None,
                headers: vec![],
                message_id: "<dina-1@kunde.test>".into(),
            })
            .await
            .unwrap();
        smtp.wait_for(1).await;
        let r = app.app.fetch_replies(acme(app).await).await.unwrap();
        assert_eq!(r.logged, 1, "{r:?}");
        tick(app).await;
        assert_eq!(
            enrolment(api, &welcome, &carl).await["exit_reason"],
            "ordered"
        );
        assert_eq!(
            enrolment(api, &welcome, &dina).await["exit_reason"],
            "replied"
        );
        smtp.wait_for(3).await;
        assert_eq!(subjects_to(&smtp, "anna@"), vec!["Velkommen, Anna"]);
        tick(app).await;
        smtp.wait_for(5).await;
        assert_eq!(
            subjects_to(&smtp, "anna@"),
            vec!["Velkommen, Anna", "Gode råd"]
        );
        assert_eq!(subjects_to(&smtp, "bo@"), vec!["Velkommen, Bo", "Gode råd"]);
        assert!(subjects_to(&smtp, "carl@").is_empty() && subjects_to(&smtp, "dina@").is_empty());
        assert_eq!(enrolment(api, &welcome, &anna).await["status"], "completed");
        tick(app).await;
        assert_eq!(smtp.messages().len(), 5, "nothing is sent twice");

        // A day's wait holds the second step; unsubscribing from the first ends the series.
        let nurture = api
        .post("/api/v1/sequences", json!({"name": "Pleje", "steps": [{"wait_minutes": 0, "template_id": t1["id"]}, {"wait_minutes": 1440, "template_id": t2["id"]}]}))
        .await
        .body;
        let eva = person(api, "Eva").await;
        let finn = person(api, "Finn").await;
        enrol(api, &nurture, &eva).await;
        enrol(api, &nurture, &finn).await;
        tick(app).await;
        let first = smtp.wait_for(7).await;
        let e = enrolment(api, &nurture, &eva).await;
        assert_eq!(
            (e["status"].as_str(), e["step"].as_i64()),
            (Some("active"), Some(1)),
            "{e}"
        );
        tick(app).await;
        assert_eq!(smtp.messages().len(), 7, "the second step waits a day");
        let to_eva = first.iter().find(|m| m.to.contains("eva@")).unwrap();
        let unsubscribe = to_eva
            .header("List-Unsubscribe")
            .unwrap()
            .trim_matches(['<', '>'])
            .to_string();
        let res = reqwest::Client::new()
            .post(&unsubscribe)
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            enrolment(api, &nurture, &eva).await["exit_reason"],
            "unsubscribed"
        );
        let res = api
            .delete(&format!(
                "/api/v1/sequences/{}/enrolments/{}",
                nurture["id"].as_str().unwrap(),
                finn["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(res.body["removed"], true, "{}", res.body);
        assert_eq!(
            enrolment(api, &nurture, &finn).await["exit_reason"],
            "removed"
        );
        let sends = api
            .get(&format!(
                "/api/v1/contacts/{}/email-sends",
                eva["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            sends.body["data"].as_array().unwrap().len(),
            1,
            "{}",
            sends.body
        );
    }
);
