//! A `kith serve` killed with `kill -9` in the middle of a 2,000-recipient campaign and
//! started again: every recipient ends up with exactly one message.
//!
//! Kith marks a message sent after the server's `354` and before the message's final
//! dot: nobody ever gets a step twice, but a kill that lands between the mark and the
//! dot (microseconds, per open connection) loses that one message — SMTP has no way to
//! make a send idempotent. The test therefore asserts no duplicate at all, and that any
//! recipient without a message is one the log marked sent in that window (at most one
//! per connection), and says how many there were.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kith_core::objects::ObjectKind;
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use crate::harness::{both, tempfile_dir, TestApp};
use crate::mail::configure;
use crate::mail_servers::SmtpSink;

const RECIPIENTS: usize = 2000;

fn serve(app: &TestApp, dir: &tempfile_dir::Dir, name: &str) -> Child {
    let log = std::fs::File::create(format!("{}/{name}.log", dir.path())).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(["--db", &app.db_url, "serve", "--listen", "127.0.0.1:0"])
        .env("KITH_LOG", "warn")
        .env("KITH_JOB_POLL_MS", "50")
        .env("KITH_JOB_LEASE_SECS", "2")
        .env("KITH_EMAIL_LEASE_SECS", "3")
        .env("KITH_DEDUP_EVERY_HOURS", "0")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start kith serve")
}

both!(
    a_campaign_killed_mid_send_and_restarted_sends_exactly_one_message_each,
    |app| async move {
        let smtp = SmtpSink::start().await;
        configure(app, smtp.port, None).await;
        let api = &app.api;
        api.send(
            reqwest::Method::PUT,
            "/api/v1/settings/campaigns",
            Some(json!({"public_url": api.base})),
            &[],
        )
        .await;
        let template = api
        .post("/api/v1/email-templates", json!({"name": "Nyhedsbrev", "language": "da", "subject": "Nyt til {{ contact.first_name }}", "html": "<p>Hej {{ contact.first_name }}</p>", "text": ""}))
        .await
        .body;
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        for i in 0..RECIPIENTS {
            let mut m = Map::new();
            m.insert("first_name".into(), json!(format!("Kunde{i}")));
            m.insert("email".into(), json!(format!("k{i}@kunde.test")));
            m.insert("city".into(), json!("Aarhus"));
            m.insert("consent".into(), json!({"email": "granted"}));
            app.app
                .create(&caller, ObjectKind::Contact, &m)
                .await
                .unwrap();
        }
        let segment = api
            .create(
                "segments",
                json!({"name": "Alle", "object": "contact", "filter": "city = Aarhus"}),
            )
            .await;
        assert_eq!(segment["member_count"], RECIPIENTS as i64, "{segment}");
        let c = api
            .post(
                "/api/v1/campaigns",
                json!({"name": "Stor", "segment_id": segment["id"], "template_id": template["id"]}),
            )
            .await
            .body;
        let id = c["id"].as_str().unwrap().to_string();
        assert_eq!(
            api.post(&format!("/api/v1/campaigns/{id}/send"), json!({}))
                .await
                .status,
            StatusCode::OK
        );

        let dir = tempfile_dir::Dir::new();
        let mut first = serve(app, &dir, "first");
        let deadline = Instant::now() + Duration::from_secs(120);
        while smtp.messages().len() < RECIPIENTS / 5 {
            assert!(
                Instant::now() < deadline,
                "the first server sent too little: {}",
                std::fs::read_to_string(format!("{}/first.log", dir.path())).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        first.kill().expect("kill -9");
        first.wait().unwrap();
        let at_kill = smtp.messages().len();
        assert!(
            at_kill < RECIPIENTS,
            "killed too late to mean anything ({at_kill})"
        );

        let mut second = serve(app, &dir, "second");
        let deadline = Instant::now() + Duration::from_secs(240);
        let report = loop {
            let r = api
                .get(&format!("/api/v1/campaigns/{id}/report"))
                .await
                .body;
            if r["campaign"]["status"] == "sent" {
                break r;
            }
            assert!(
                Instant::now() < deadline,
                "not finished after the restart: {r}\n{}",
                std::fs::read_to_string(format!("{}/second.log", dir.path())).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        second.kill().unwrap();
        second.wait().unwrap();
        assert_eq!(
            report["figures"]["sent"].as_i64(),
            Some(RECIPIENTS as i64),
            "{report}"
        );
        // Give the sink a moment for the last files, then count per recipient.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut per: HashMap<String, usize> = HashMap::new();
        for m in smtp.messages() {
            *per.entry(m.to.clone()).or_default() += 1;
        }
        let twice: Vec<(&String, &usize)> = per.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "{} recipients got more than one message (killed at {at_kill}): {:?}",
            twice.len(),
            twice.iter().take(5).collect::<Vec<_>>()
        );
        let missing: Vec<String> = (0..RECIPIENTS)
            .map(|i| format!("k{i}@kunde.test"))
            .filter(|a| !per.keys().any(|k| k.contains(a.as_str())))
            .collect();
        // Lanes are 8 connections: at most one message each can be in the mark-to-dot window.
        assert!(
            missing.len() <= 8,
            "{} recipients got nothing (killed at {at_kill}): {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        for a in &missing {
            let mut db = app.app.db().clone();
            let row = kith_store::Exec::fetch_optional(
                &mut db,
                kith_store::Sql::new("SELECT status FROM email_sends WHERE email = ")
                    .arg(kith_core::Scalar::Text(a.clone())),
            )
            .await
            .unwrap()
            .unwrap();
            assert_eq!(
                row.text("status").unwrap().as_deref(),
                Some("sent"),
                "{a} got nothing and is not in the kill window"
            );
        }
        if !missing.is_empty() {
            eprintln!("kill window: {} message(s) marked sent at the kill never reached the server: {missing:?}", missing.len());
        }
        let _: Value = report;
    }
);
