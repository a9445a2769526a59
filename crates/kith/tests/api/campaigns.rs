//! Campaigns and sequences against a real SMTP server (aiosmtpd): consent, personal
//! messages with their headers, the report, opens, clicks, one-click unsubscribe end to
//! end, bounces, retries while the server is away, and sequences with their exits.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{both, Api, TestApp};
use crate::jobs::acme;
use crate::mail::{configure, worker};
use crate::mail_servers::{free_port, Received, SmtpSink};

const TEMPLATE_HTML: &str = r#"<p>Hej {{ contact.first_name | default: "ven" }}!</p><p><a href="https://shop.example/udsalg?a=1&amp;b=2">Til udsalget</a></p><p><a href="{{ unsubscribe_url }}">Afmeld</a></p>"#;

/// A template, a segment of the Aarhus contacts and the public URL: what a campaign needs.
async fn setup(app: &TestApp, smtp_port: u16) -> (Value, Value) {
    configure(app, smtp_port, None).await;
    let api = &app.api;
    let res = api
        .send(
            Method::PUT,
            "/api/v1/settings/campaigns",
            Some(json!({"public_url": format!("{}/", api.base)})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = api
        .post(
            "/api/v1/email-templates",
            json!({"name": "Udsalg", "language": "da", "subject": "Udsalg for {{ contact.first_name | default: \"dig\" }}", "html": TEMPLATE_HTML, "text": ""}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let template = res.body;
    let segment = api
        .create(
            "segments",
            json!({"name": "Aarhus", "object": "contact", "filter": "city = Aarhus"}),
        )
        .await;
    (template, segment)
}

async fn contact(api: &Api, first: &str, email: &str, consent: &str) -> Value {
    api.create(
        "contacts",
        json!({"first_name": first, "last_name": "Test", "email": email, "city": "Aarhus", "consent": {"email": consent}}),
    )
    .await
}

async fn create_campaign(api: &Api, template: &Value, segment: &Value) -> Value {
    let res = api
        .post("/api/v1/campaigns", json!({"name": "Vinterudsalg", "segment_id": segment["id"], "template_id": template["id"]}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body
}

async fn report(api: &Api, c: &Value) -> Value {
    let res = api
        .get(&format!(
            "/api/v1/campaigns/{}/report",
            c["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body
}

fn link(html: &str, starts: &str) -> String {
    let at = html
        .find(starts)
        .unwrap_or_else(|| panic!("no link starting {starts} in {html}"));
    let rest = &html[at..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

fn by_to<'a>(msgs: &'a [Received], to: &str) -> Vec<&'a Received> {
    msgs.iter().filter(|m| m.to.contains(to)).collect()
}

both!(
    a_campaign_reaches_each_consenting_contact_once_and_unsubscribe_works_end_to_end,
    |app| async move {
        let smtp = SmtpSink::start().await;
        let (template, segment) = setup(app, smtp.port).await;
        let api = &app.api;
        let mette = contact(api, "Mette", "mette@kunde.test", "granted").await;
        contact(api, "Søren", "soeren@kunde.test", "granted").await;
        contact(api, "Ukendt", "ukendt@kunde.test", "unknown").await;
        contact(api, "Nej", "nej@kunde.test", "denied").await;
        contact(api, "Forkert", "forkert@kunde.test", "granted").await;
        api.create("contacts", json!({"first_name": "Kbh", "email": "kbh@kunde.test", "city": "København", "consent": {"email": "granted"}})).await;
        smtp.reject("forkert@kunde.test");
        let c = create_campaign(api, &template, &segment).await;
        assert_eq!(c["status"], "draft");
        let id = c["id"].as_str().unwrap();
        let res = api
            .post(&format!("/api/v1/campaigns/{id}/send"), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["status"], "scheduled");
        worker(app).run_until_idle().await.unwrap();

        let msgs = smtp.wait_for(2).await;
        assert_eq!(
            msgs.len(),
            2,
            "only the two who granted consent and were not refused: {:?}",
            msgs.iter().map(|m| &m.to).collect::<Vec<_>>()
        );
        let m = by_to(&msgs, "mette@kunde.test")[0];
        assert_eq!(m.subject, "Udsalg for Mette");
        let html = m.html.clone().expect("an HTML part");
        assert!(html.contains("Hej Mette!"), "{html}");
        let unsubscribe = m
            .header("List-Unsubscribe")
            .expect("List-Unsubscribe")
            .trim_matches(['<', '>'])
            .to_string();
        assert!(
            unsubscribe.starts_with(&format!("{}/u/", api.base)),
            "{unsubscribe}"
        );
        assert_eq!(
            m.header("List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click")
        );
        assert!(
            html.contains(&unsubscribe),
            "the body's unsubscribe link is the header's: {html}"
        );
        assert!(m.text.contains(&unsubscribe), "{}", m.text);
        assert!(
            !html.contains("https://shop.example/udsalg\""),
            "links are tracked: {html}"
        );
        let s = by_to(&msgs, "soeren@kunde.test")[0];
        assert_eq!(s.subject, "Udsalg for Søren");

        let r = report(api, &c).await;
        assert_eq!(r["campaign"]["status"], "sent", "{r}");
        let f = &r["figures"];
        assert_eq!(
            (
                f["total"].as_i64(),
                f["sent"].as_i64(),
                f["bounced"].as_i64(),
                f["skipped"].as_i64(),
                f["pending"].as_i64()
            ),
            (Some(5), Some(2), Some(1), Some(2), Some(0)),
            "{r}"
        );
        let sends = api
            .get(&format!("/api/v1/campaigns/{id}/sends?status=skipped"))
            .await;
        let reasons: Vec<&str> = sends.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["error"].as_str().unwrap())
            .collect();
        assert!(
            reasons.contains(&"no email consent given")
                && reasons.contains(&"email consent denied"),
            "{reasons:?}"
        );
        let bounced = api
            .get(&format!("/api/v1/campaigns/{id}/sends?status=bounced"))
            .await;
        assert!(
            bounced.body["data"][0]["error"]
                .as_str()
                .unwrap()
                .contains("550"),
            "{}",
            bounced.body
        );
        let sent = api
            .get(&format!("/api/v1/campaigns/{id}/sends?status=sent"))
            .await;
        let ids: Vec<&str> = sent.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["message_id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&format!("<{}>", m.message_id.trim_matches(['<', '>'])).as_str()),
            "the log knows the Message-ID {} ({ids:?})",
            m.message_id
        );

        // The contact's timeline shows the campaign email.
        let tl = api
            .get(&format!(
                "/api/v1/contacts/{}/timeline",
                mette["id"].as_str().unwrap()
            ))
            .await;
        let entry = tl.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "email_send")
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (
                entry["data"]["source_name"].as_str(),
                entry["data"]["status"].as_str()
            ),
            (Some("Vinterudsalg"), Some("sent")),
            "{}",
            tl.body
        );

        // Opens and clicks, through signed links only.
        let anon = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let pixel = link(&html, &format!("{}/t/o/", api.base));
        let res = anon.get(&pixel).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "image/gif");
        let click = link(&html, &format!("{}/t/c/", api.base));
        let res = anon.get(&click).send().await.unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        assert_eq!(
            res.headers()["location"],
            "https://shop.example/udsalg?a=1&b=2"
        );
        let forged = click.replace("shop.example", "evil.example");
        assert_eq!(
            anon.get(&forged).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        let f = report(api, &c).await["figures"].clone();
        assert_eq!(
            (f["opened"].as_i64(), f["clicked"].as_i64()),
            (Some(1), Some(1)),
            "{f}"
        );

        // Unsubscribe: the page asks, a one-click POST acts, twice is harmless.
        let page = anon.get(&unsubscribe).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("mette@kunde.test"));
        let before = api
            .get(&format!(
                "/api/v1/contacts/{}",
                mette["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            before.body["consent"]["email"], "granted",
            "the page alone changes nothing"
        );
        for _ in 0..2 {
            let res = anon
                .post(&unsubscribe)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
        let after = api
            .get(&format!(
                "/api/v1/contacts/{}",
                mette["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(after.body["consent"]["email"], "denied", "{}", after.body);
        assert_eq!(
            after.body["version"].as_i64(),
            Some(before.body["version"].as_i64().unwrap() + 1),
            "one new version, audited"
        );
        let list = api.get("/api/v1/email/suppressions").await;
        let listed: Vec<(&str, &str)> = list.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["email"].as_str().unwrap(), s["reason"].as_str().unwrap()))
            .collect();
        assert!(
            listed.contains(&("mette@kunde.test", "unsubscribed"))
                && listed.contains(&("forkert@kunde.test", "bounced")),
            "{listed:?}"
        );
        assert_eq!(
            report(api, &c).await["figures"]["unsubscribed"].as_i64(),
            Some(1)
        );
        let bad = format!("{}x", &unsubscribe[..unsubscribe.len() - 1]);
        assert_eq!(
            anon.post(&bad)
                .body("List-Unsubscribe=One-Click")
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );

        // A second campaign to the same segment leaves out who unsubscribed or bounced.
        let c2 = create_campaign(api, &template, &segment).await;
        api.post(
            &format!("/api/v1/campaigns/{}/send", c2["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
        worker(app).run_until_idle().await.unwrap();
        let f = report(api, &c2).await["figures"].clone();
        assert_eq!(
            (f["sent"].as_i64(), f["skipped"].as_i64()),
            (Some(1), Some(4)),
            "{f}"
        );
        assert_eq!(smtp.messages().len(), 3);
    }
);

both!(
    campaign_input_and_state_errors_name_the_field,
    |app| async move {
        let api = &app.api;
        let res = api.post("/api/v1/campaigns", json!({"name": "", "segment_id": uuid::Uuid::now_v7(), "consent_mode": "maybe", "rate_per_minute": -1})).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        let fields = &res.body["error"]["fields"];
        for f in [
            "name",
            "segment_id",
            "template_id",
            "consent_mode",
            "rate_per_minute",
        ] {
            assert!(fields[f].is_string(), "{f}: {}", res.body);
        }
        let res = api
            .post("/api/v1/campaigns", json!({"name": "x", "colour": "red"}))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body["error"]["fields"]["colour"].is_string(),
            "{}",
            res.body
        );

        // No SMTP server and no public URL yet: sending says which is missing.
        let t = api.post("/api/v1/email-templates", json!({"name": "T", "language": "en", "subject": "Hi", "html": "<p>Hi</p>", "text": ""})).await.body;
        let seg = api
            .create(
                "segments",
                json!({"name": "All", "object": "contact", "filter": "city = Aarhus"}),
            )
            .await;
        let c = create_campaign(api, &t, &seg).await;
        let id = c["id"].as_str().unwrap();
        let res = api
            .post(&format!("/api/v1/campaigns/{id}/send"), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body["error"]["fields"]["public_url"].is_string(),
            "{}",
            res.body
        );
        let res = api
            .send(
                Method::PUT,
                "/api/v1/settings/campaigns",
                Some(json!({"public_url": "javascript:alert(1)"})),
                &[],
            )
            .await;
        assert!(
            res.body["error"]["fields"]["public_url"].is_string(),
            "{}",
            res.body
        );
        // A stale change is refused; a sent campaign cannot be changed or deleted.
        let res = api.patch(&format!("/api/v1/campaigns/{id}"), json!({"name": "Ny", "segment_id": seg["id"], "template_id": t["id"], "version": 0})).await;
        assert!(
            res.body["error"]["fields"]["version"].is_string(),
            "{}",
            res.body
        );
        let res = api
            .post(&format!("/api/v1/campaigns/{id}/pause"), json!({}))
            .await;
        assert!(
            res.body["error"]["fields"]["status"].is_string(),
            "a draft cannot be paused: {}",
            res.body
        );
        // Read-only users look but do not send.
        let viewer = app
            .user("kig@acme.test", kith_app::Role::ReadOnly, "acme")
            .await;
        assert_eq!(
            viewer.get(&format!("/api/v1/campaigns/{id}")).await.status,
            StatusCode::OK
        );
        assert_eq!(
            viewer
                .post(&format!("/api/v1/campaigns/{id}/send"), json!({}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // Another workspace does not see it.
        let other = app
            .user("ejer@andet.test", kith_app::Role::Admin, "andet")
            .await;
        assert_eq!(
            other.get(&format!("/api/v1/campaigns/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            api.delete(&format!("/api/v1/campaigns/{id}")).await.status,
            StatusCode::NO_CONTENT
        );
    }
);

both!(
    an_smtp_server_that_is_down_or_defers_gets_the_messages_later,
    |app| async move {
        let port = free_port();
        let (template, segment) = setup(app, port).await;
        let api = &app.api;
        for i in 0..3 {
            contact(
                api,
                &format!("Kunde{i}"),
                &format!("k{i}@kunde.test"),
                "granted",
            )
            .await;
        }
        let c = create_campaign(api, &template, &segment).await;
        let id = c["id"].as_str().unwrap();
        // Nobody listens on the port: sending is refused at once with the reason.
        let res = api
            .post(&format!("/api/v1/campaigns/{id}/send"), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        worker(app).run_until_idle().await.unwrap();
        let f = report(api, &c).await["figures"].clone();
        assert_eq!(
            (f["sent"].as_i64(), f["pending"].as_i64()),
            (Some(0), Some(3)),
            "{f}"
        );
        let waiting = api.get(&format!("/api/v1/campaigns/{id}/sends")).await;
        assert!(
            waiting.body["data"][0]["error"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                .contains("connect"),
            "{}",
            waiting.body
        );
        // The server comes up, deferring one address: the others arrive, that one waits.
        let smtp = SmtpSink::start_on(port).await;
        smtp.defer("k1@kunde.test");
        let mut db = app.app.db().clone();
        let ws = acme(app).await;
        // Time passes: the retries and the slice that looks for them are due.
        for sql in [
            "UPDATE email_sends SET next_at = created_at",
            "UPDATE jobs SET run_at = created_at WHERE status = 'queued'",
        ] {
            kith_store::Exec::execute(&mut db, kith_store::Sql::new(sql))
                .await
                .unwrap();
        }
        assert_eq!(
            kith_store::email_sends::pending(&mut db, ws, uuid::Uuid::parse_str(id).unwrap())
                .await
                .unwrap(),
            3
        );
        worker(app).run_until_idle().await.unwrap();
        let msgs = smtp.wait_for(2).await;
        assert_eq!(msgs.len(), 2);
        assert!(by_to(&msgs, "k1@kunde.test").is_empty());
        let deferred = api
            .get(&format!("/api/v1/campaigns/{id}/sends?status=queued"))
            .await;
        assert!(
            deferred.body["data"][0]["error"]
                .as_str()
                .unwrap()
                .contains("451"),
            "{}",
            deferred.body
        );
    }
);

both!(
    a_delivery_failure_report_fetched_by_imap_marks_the_send_bounced,
    |app| async move {
        let smtp = SmtpSink::start().await;
        let imap = crate::mail_servers::ImapServer::start(
            &smtp.maildir(),
            "svar@acme.test",
            "imap-kodeord",
        )
        .await;
        let (template, segment) = setup(app, smtp.port).await;
        configure(app, smtp.port, Some(&imap)).await;
        let api = &app.api;
        contact(api, "Gone", "gone@kunde.test", "granted").await;
        contact(api, "Here", "here@kunde.test", "granted").await;
        let c = create_campaign(api, &template, &segment).await;
        api.post(
            &format!("/api/v1/campaigns/{}/send", c["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
        worker(app).run_until_idle().await.unwrap();
        let msgs = smtp.wait_for(2).await;
        let original = by_to(&msgs, "gone@")[0]
            .message_id
            .trim_matches(['<', '>'])
            .to_string();
        // The receiving server accepted it, then reports it undeliverable to the Reply-To box.
        let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.kunde.test>\r\nTo: svar@acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.kunde.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.kunde.test\r\n\r\nFinal-Recipient: rfc822; gone@kunde.test\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: Acme Salg <salg@acme.test>\r\nTo: gone@kunde.test\r\nMessage-ID: <{original}>\r\nSubject: Udsalg for Gone\r\n--b1--\r\n"
    );
        std::fs::write(smtp.maildir().join("new").join("1700000000.dsn1.kith"), dsn).unwrap();
        let r = app.app.fetch_replies(acme(app).await).await.unwrap();
        assert_eq!(r.bounced, 1, "{r:?}");
        let bounced = api
            .get(&format!(
                "/api/v1/campaigns/{}/sends?status=bounced",
                c["id"].as_str().unwrap()
            ))
            .await;
        let rows = bounced.body["data"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{}", bounced.body);
        assert_eq!(rows[0]["email"], "gone@kunde.test");
        assert!(
            rows[0]["error"].as_str().unwrap().contains("5.1.1"),
            "{}",
            bounced.body
        );
        let list = api.get("/api/v1/email/suppressions").await;
        assert!(
            list.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["email"] == "gone@kunde.test" && s["reason"] == "bounced"),
            "{}",
            list.body
        );
        let f = report(api, &c).await["figures"].clone();
        assert_eq!(
            (f["sent"].as_i64(), f["bounced"].as_i64()),
            (Some(1), Some(1)),
            "{f}"
        );
    }
);
