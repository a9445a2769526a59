//! Email against real servers: settings, templates, one-off emails through an SMTP
//! server (aiosmtpd) with its failure paths; replies by IMAP are in mail_replies.rs.

use std::time::Duration;

use kith_app::jobs::{Handlers, Worker};
use kith_app::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{both, Api, TestApp};
use crate::jobs::{acme, quick};
use crate::mail_servers::{free_port, ImapServer, SmtpSink};

/// Points the workspace's SMTP (and IMAP, if given) settings at the test servers.
pub(crate) async fn configure(app: &TestApp, smtp_port: u16, imap: Option<&ImapServer>) {
    let mut body = json!({
        "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "none",
        "from_name": "Acme Salg", "from_email": "salg@acme.test", "reply_to": "svar@acme.test",
    });
    if let Some(i) = imap {
        body["imap_host"] = json!("127.0.0.1");
        body["imap_port"] = json!(i.port);
        body["imap_security"] = json!("none");
        body["imap_username"] = json!(i.user);
        body["imap_password"] = json!(i.password);
    }
    let res = app
        .api
        .send(Method::PUT, "/api/v1/settings/mail", Some(body), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

pub(crate) fn worker(app: &TestApp) -> Worker {
    Worker::new(app.app.clone(), Handlers::standard(), quick())
}

pub(crate) async fn emails_on_timeline(api: &Api, contact: &Value) -> Vec<Value> {
    let res = api
        .get(&format!(
            "/api/v1/contacts/{}/timeline",
            contact["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "activity" && e["data"]["kind"] == "email")
        .map(|e| e["data"].clone())
        .collect()
}

pub(crate) fn send_path(c: &Value) -> String {
    format!("/api/v1/contacts/{}/emails", c["id"].as_str().unwrap())
}

both!(
    mail_settings_never_show_passwords_and_need_an_admin,
    |app| async move {
        let api = &app.api;
        let body = json!({
            "smtp_host": "smtp.acme.test", "smtp_port": 587, "smtp_security": "starttls",
            "smtp_username": "salg", "smtp_password": "hemmeligt-smtp",
            "from_name": "Acme", "from_email": "Salg@Acme.test",
            "imap_host": "imap.acme.test", "imap_username": "salg", "imap_password": "hemmeligt-imap",
        });
        let res = api
            .send(Method::PUT, "/api/v1/settings/mail", Some(body), &[])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let got = api.get("/api/v1/settings/mail").await;
        assert_eq!(got.status, StatusCode::OK);
        let text = got.body.to_string();
        assert!(!text.contains("hemmeligt"), "a password came back: {text}");
        assert!(got.body.get("smtp_password").is_none());
        assert_eq!(got.body["smtp_password_set"], true);
        assert_eq!(got.body["imap_password_set"], true);
        assert_eq!(got.body["from_email"], "salg@acme.test");
        assert_eq!(got.body["imap_folder"], "INBOX");
        // An empty password keeps the stored one; the job list does not show it either.
        let keep = json!({"smtp_host": "smtp.acme.test", "smtp_password": "", "from_email": "salg@acme.test"});
        let res = api
            .send(Method::PUT, "/api/v1/settings/mail", Some(keep), &[])
            .await;
        assert_eq!(res.body["smtp_password_set"], true, "{}", res.body);
        assert_eq!(res.body["imap_password_set"], true, "{}", res.body);
        let stored = kith_store::mail::settings(&mut app.app.db().clone(), acme(app).await)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.smtp_password, "hemmeligt-smtp");
        assert!(!format!("{stored:?}").contains("hemmeligt"));
        // Bad input names its field and changes nothing.
        let bad = json!({"smtp_host": "x", "smtp_security": "ssl3", "from_email": "nope"});
        let res = api
            .send(Method::PUT, "/api/v1/settings/mail", Some(bad), &[])
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body["error"]["fields"]["smtp_security"].is_string(),
            "{}",
            res.body
        );
        assert!(
            res.body["error"]["fields"]["from_email"].is_string(),
            "{}",
            res.body
        );
        assert_eq!(
            api.get("/api/v1/settings/mail").await.body["smtp_host"],
            "smtp.acme.test"
        );
        // Members neither see nor change them.
        let member = app.user("sælger@acme.test", Role::Member, "acme").await;
        assert_eq!(
            member.get("/api/v1/settings/mail").await.status,
            StatusCode::FORBIDDEN
        );
        let res = member
            .send(
                Method::PUT,
                "/api/v1/settings/mail",
                Some(json!({"smtp_host": "evil"})),
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(
            member
                .post("/api/v1/settings/mail/test", json!({}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
);

both!(a_test_message_reaches_the_smtp_server, |app| async move {
    let sink = SmtpSink::start().await;
    configure(app, sink.port, None).await;
    let res = app
        .api
        .post("/api/v1/settings/mail/test", json!({"to": "ops@acme.test"}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let m = sink.wait_for(1).await;
    assert_eq!(m[0].to, "ops@acme.test");
    assert_eq!(m[0].from, "salg@acme.test");
    assert_eq!(m[0].header("Reply-To"), Some("svar@acme.test"));
    // A refusing server is reported with its reason.
    sink.reject("nobody@acme.test");
    let res = app
        .api
        .post(
            "/api/v1/settings/mail/test",
            json!({"to": "nobody@acme.test"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_GATEWAY, "{}", res.body);
    assert!(
        res.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mailbox unavailable"),
        "{}",
        res.body
    );
});

both!(
    email_templates_are_checked_on_save_and_previewed_for_a_contact,
    |app| async move {
        let api = &app.api;
        let bad = json!({"name": "Velkommen", "language": "da", "subject": "Hej {{ contact.first_name",
                     "html": "<p>{{ contact.first_name | shout }}</p>"});
        let res = api.post("/api/v1/email-templates", bad).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        let fields = &res.body["error"]["fields"];
        assert!(
            fields["subject"]
                .as_str()
                .unwrap()
                .starts_with("line 1, column 5:"),
            "{}",
            res.body
        );
        assert!(
            fields["html"]
                .as_str()
                .unwrap()
                .contains("unknown filter `shout`"),
            "{}",
            res.body
        );
        assert_eq!(
            api.get("/api/v1/email-templates").await.body["data"],
            json!([])
        );
        let res = api
            .post(
                "/api/v1/email-templates",
                json!({"name": "x", "language": "fr", "subject": "s", "text": "t"}),
            )
            .await;
        assert!(
            res.body["error"]["fields"]["language"].is_string(),
            "{}",
            res.body
        );

        let t = api
        .create(
            "email-templates",
            json!({"name": "Velkommen", "language": "da",
                   "subject": "Velkommen, {{ contact.first_name | default: \"ven\" }}",
                   "html": "<p>Kære {{ contact.first_name }} {{ contact.last_name }} fra {{ company.name }},</p><p>{{ user.name }}</p>"}),
        )
        .await;
        assert_eq!(
        t["text"], "Kære {{ contact.first_name }} {{ contact.last_name }} fra {{ company.name }},\n\n{{ user.name }}",
        "text derived from the HTML"
    );
        let company = api
            .create("companies", json!({"name": "Æblegård & Søn"}))
            .await;
        let c = api
            .create(
                "contacts",
                json!({"first_name": "Søren", "last_name": "<Kierkegaard>",
                                   "company_id": company["id"], "email": "soren@kunde.dk"}),
            )
            .await;
        let id = t["id"].as_str().unwrap();
        let p = api
            .post(
                &format!("/api/v1/email-templates/{id}/preview"),
                json!({"contact_id": c["id"]}),
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert_eq!(p.body["subject"], "Velkommen, Søren");
        assert!(
            p.body["html"]
                .as_str()
                .unwrap()
                .starts_with("<p>Kære Søren &lt;Kierkegaard&gt; fra Æblegård &amp; Søn,</p>"),
            "{}",
            p.body
        );
        assert!(
            p.body["text"]
                .as_str()
                .unwrap()
                .starts_with("Kære Søren <Kierkegaard> fra Æblegård & Søn,"),
            "{}",
            p.body
        );
        // A contact of another workspace is no contact here.
        let other = app.user("boss@other.test", Role::Admin, "other").await;
        let stranger = other.create("contacts", json!({"first_name": "Li"})).await;
        let res = api
            .post(
                &format!("/api/v1/email-templates/{id}/preview"),
                json!({"contact_id": stranger["id"]}),
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(
            other
                .get(&format!("/api/v1/email-templates/{id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Read-only users read templates but neither change them nor send email.
        let reader = app.user("laeser@acme.test", Role::ReadOnly, "acme").await;
        let res = reader.get(&format!("/api/v1/email-templates/{id}")).await;
        assert_eq!(res.status, StatusCode::OK);
        let res = reader
            .post(
                "/api/v1/email-templates",
                json!({"name": "Mine", "subject": "s", "text": "t"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = reader
            .post(&send_path(&c), json!({"template_id": id}))
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);

        // Changing keeps the checks; a stale version is refused; delete removes it.
        let upd = json!({"name": "Velkommen", "language": "zh-CN", "subject": "欢迎 {{ contact.first_name }}", "text": "你好", "version": 1});
        let res = api
            .send(
                Method::PUT,
                &format!("/api/v1/email-templates/{id}"),
                Some(upd.clone()),
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["version"], 2);
        let res = api
            .send(
                Method::PUT,
                &format!("/api/v1/email-templates/{id}"),
                Some(upd),
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT);
        assert_eq!(
            api.delete(&format!("/api/v1/email-templates/{id}"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api.get(&format!("/api/v1/email-templates/{id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);

both!(
    a_one_off_email_arrives_personalised_once_and_is_on_the_timeline,
    |app| async move {
        let api = &app.api;
        let sink = SmtpSink::start().await;
        configure(app, sink.port, None).await;
        let c = api
            .create(
                "contacts",
                json!({"first_name": "Søren", "last_name": "<b>K</b>", "email": "soren@kunde.dk"}),
            )
            .await;
        let body = json!({"subject": "Hej {{ contact.first_name }}", "html": "<p>Kære {{ contact.last_name }}</p>"});
        let key = [("idempotency-key", "klik-1")];
        let first = api
            .send(Method::POST, &send_path(&c), Some(body.clone()), &key)
            .await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
        let second = api
            .send(Method::POST, &send_path(&c), Some(body), &key)
            .await;
        assert_eq!(
            second.body["job_id"], first.body["job_id"],
            "a double click sends once"
        );
        assert_eq!(second.body["created"], false);
        worker(app).run_until_idle().await.unwrap();
        let m = sink.wait_for(1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(sink.messages().len(), 1);
        assert_eq!(m[0].to, "soren@kunde.dk");
        assert_eq!(m[0].subject, "Hej Søren");
        assert_eq!(
            m[0].html.as_deref(),
            Some("<p>Kære &lt;b&gt;K&lt;/b&gt;</p>")
        );
        assert_eq!(m[0].text.trim(), "Kære <b>K</b>");
        let emails = emails_on_timeline(api, &c).await;
        assert_eq!(emails.len(), 1, "{emails:?}");
        assert_eq!(emails[0]["direction"], "outbound");
        assert_eq!(emails[0]["email_status"], "sent");
        assert_eq!(emails[0]["subject"], "Hej Søren");
        assert_eq!(emails[0]["message_id"], format!("<{}>", m[0].message_id));
        // Bad requests say what is wrong.
        let res = api
            .post(
                &send_path(&c),
                json!({"subject": "x {% if %}", "text": "y"}),
            )
            .await;
        assert!(
            res.body["error"]["fields"]["subject"].is_string(),
            "{}",
            res.body
        );
        let nobody = api.create("contacts", json!({"first_name": "Ingen"})).await;
        let res = api
            .post(&send_path(&nobody), json!({"subject": "x", "text": "y"}))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body["error"]["fields"]["to"].is_string(),
            "{}",
            res.body
        );
    }
);

both!(
    a_rejected_recipient_fails_with_the_servers_reason_and_others_still_send,
    |app| async move {
        let api = &app.api;
        let sink = SmtpSink::start().await;
        configure(app, sink.port, None).await;
        sink.reject("gone@kunde.dk");
        let gone = api
            .create(
                "contacts",
                json!({"first_name": "Gone", "email": "gone@kunde.dk"}),
            )
            .await;
        let here = api
            .create(
                "contacts",
                json!({"first_name": "Here", "email": "here@kunde.dk"}),
            )
            .await;
        for c in [&gone, &here] {
            let res = api
                .post(
                    &send_path(c),
                    json!({"subject": "Tilbud", "text": "Hej {{ contact.first_name }}"}),
                )
                .await;
            assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
        }
        worker(app).run_until_idle().await.unwrap();
        let m = sink.wait_for(1).await;
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].to, "here@kunde.dk");
        let failed = emails_on_timeline(api, &gone).await;
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0]["email_status"], "failed");
        let reason = failed[0]["email_error"].as_str().unwrap();
        assert!(
            reason.contains("550") && reason.contains("mailbox unavailable"),
            "{reason}"
        );
        assert_eq!(
            emails_on_timeline(api, &here).await[0]["email_status"],
            "sent"
        );
    }
);

both!(
    an_smtp_server_that_is_down_is_retried_until_it_comes_up,
    |app| async move {
        let api = &app.api;
        let port = free_port();
        configure(app, port, None).await;
        let c = api
            .create(
                "contacts",
                json!({"first_name": "Åse", "email": "aase@kunde.dk"}),
            )
            .await;
        let res = api
            .post(
                &send_path(&c),
                json!({"subject": "Hej {{ contact.first_name }}", "text": "Snart"}),
            )
            .await;
        let job_id: uuid::Uuid = res.body["job_id"].as_str().unwrap().parse().unwrap();
        let w = worker(app);
        w.run_until_idle().await.unwrap();
        let j = crate::jobs::job(app, job_id).await;
        assert_eq!(j["status"], "failed", "waiting for its retry: {j}");
        assert!(j["last_error"].as_str().unwrap().contains("onnect"), "{j}");
        assert!(
            emails_on_timeline(api, &c).await.is_empty(),
            "nothing logged while retrying"
        );
        // The server comes up (a 451 for a moment first), and the retry delivers.
        let sink = SmtpSink::start_on(port).await;
        sink.defer("aase@kunde.dk");
        tokio::time::sleep(Duration::from_millis(400)).await;
        w.run_until_idle().await.unwrap();
        let j = crate::jobs::job(app, job_id).await;
        assert!(j["last_error"].as_str().unwrap().contains("451"), "{j}");
        assert!(sink.messages().is_empty());
        std::fs::remove_file(sink.maildir().join("../defer")).unwrap();
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            w.run_until_idle().await.unwrap();
            if !sink.messages().is_empty() {
                break;
            }
        }
        let m = sink.wait_for(1).await;
        assert_eq!(m[0].subject, "Hej Åse");
        assert_eq!(crate::jobs::job(app, job_id).await["status"], "done");
        let emails = emails_on_timeline(api, &c).await;
        assert_eq!(emails.len(), 1);
        assert_eq!(emails[0]["email_status"], "sent");
    }
);
