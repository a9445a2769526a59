//! Mail over TLS against real servers: aiosmtpd speaking TLS from the first byte and
//! requiring STARTTLS, Dovecot offering IMAPS and STARTTLS, each with a certificate from
//! a throwaway CA (the `openssl` CLI, as for webhooks). Trusted through the extra CA
//! (`KITH_EXTRA_CA`), mail goes out and replies come in on both; without it the same
//! servers are refused with the certificate problem named, and nothing is sent.

use std::path::Path;

use kith_app::jobs::{Handlers, Worker};
use kith_app::mail::{Outgoing, SendError};
use kith_app::ExtraCa;
use kith_store::WorkspaceId;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{both, tempfile_dir::Dir, TestApp};
use crate::jobs::{acme, quick};
use crate::mail::{emails_on_timeline, send_path};
use crate::mail_servers::{ImapServer, SmtpSink};
use crate::workflows_https::certificates;

/// Saves the workspace's mail settings: the sender and then `servers`.
async fn set_mail(app: &TestApp, servers: Value) {
    let mut body = json!({
        "from_name": "Acme Salg", "from_email": "salg@acme.test",
        "smtp_host": "127.0.0.1", "smtp_security": "none",
    });
    for (k, v) in servers.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app
        .api
        .send(Method::PUT, "/api/v1/settings/mail", Some(body), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

/// A directory with the throwaway CA `internal` and its server certificate, the app as
/// `KITH_EXTRA_CA` naming that CA makes it (on this test's App alone: the web server's
/// App trusts the public roots only), the workspace, and a contact.
async fn setup(app: &TestApp) -> (Dir, kith_app::App, WorkspaceId, Value) {
    let dir = Dir::new();
    let d = Path::new(dir.path());
    certificates(d, "internal");
    let ca = ExtraCa::from_pem_file(&d.join("internal-ca.pem")).expect("the test CA is usable");
    let trusting = app.app.clone().with_extra_ca(Some(ca));
    let c = app
        .api
        .create(
            "contacts",
            json!({"first_name": "Søren", "email": "soren@kunde.dk"}),
        )
        .await;
    (dir, trusting, acme(app).await, c)
}

fn message(subject: &str, from: &str, to: &str) -> Outgoing {
    Outgoing {
        from_name: "Kith".into(),
        from_email: from.into(),
        to: to.into(),
        subject: subject.into(),
        text: "Sikker post, 安全邮件".into(),
        html: None,
        headers: vec![],
        message_id: kith_app::mail::new_message_id(from),
    }
}

both!(
    mail_goes_out_over_tls_and_starttls_to_servers_the_extra_ca_certifies,
    |app| async move {
        let (dir, trusting, ws, c) = setup(app).await;
        let d = Path::new(dir.path());
        certificates(d, "stranger");
        let (cert, key) = (d.join("internal.pem"), d.join("internal.key"));

        for (implicit, security) in [(true, "tls"), (false, "starttls")] {
            let login = Some(("salg", "smtp-kodeord"));
            let sink = SmtpSink::start_tls(implicit, &cert, &key, login).await;
            let smtp = json!({"smtp_port": sink.port, "smtp_security": security,
                              "smtp_username": "salg", "smtp_password": "smtp-kodeord"});
            set_mail(app, smtp.clone()).await;
            // A one-off email, sent by its job through the pooled transport.
            let subject = format!("Tilbud over {security}");
            let res = app
                .api
                .post(
                    &send_path(&c),
                    json!({"subject": subject, "text": "Vil du?"}),
                )
                .await;
            assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
            Worker::new(trusting.clone(), Handlers::standard(), quick())
                .run_until_idle()
                .await
                .unwrap();
            let got = sink.wait_for(1).await;
            assert_eq!(got[0].subject, subject);
            assert_eq!(got[0].to, "soren@kunde.dk");
            let sent = emails_on_timeline(&app.api, &c).await;
            assert!(
                sent.iter()
                    .any(|e| e["subject"] == subject.as_str() && e["email_status"] == "sent"),
                "{sent:?}"
            );
            // Campaigns send command by command on a session of their own.
            let mailer = trusting.mailer(ws).await.unwrap();
            let mut session = mailer.session().await.unwrap_or_else(|e| {
                panic!("a session over {security}: {e}");
            });
            let (envelope, bytes) = mailer
                .wire(&message("Nyhedsbrev", "salg@acme.test", "kunde@kunde.dk"))
                .unwrap();
            session
                .send(&envelope, &bytes, || async { Ok(()) })
                .await
                .unwrap();
            session.close().await;
            assert_eq!(sink.wait_for(2).await[1].subject, "Nyhedsbrev");

            // The server's App does not trust the internal CA: the test message names
            // the certificate problem and nothing reaches the server.
            let res = app
                .api
                .post("/api/v1/settings/mail/test", json!({"to": "ops@acme.test"}))
                .await;
            assert_eq!(res.status, StatusCode::BAD_GATEWAY, "{}", res.body);
            let error = res.body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                error.contains("UnknownIssuer") && error.contains("KITH_EXTRA_CA"),
                "the reason and what to do: {security}: {error}"
            );
            assert_eq!(sink.messages().len(), 2);

            // A wrong password is the server's refusal, not a connection problem.
            let mut wrong = smtp.clone();
            wrong["smtp_password"] = json!("forkert");
            set_mail(app, wrong).await;
            let refused = trusting.mailer(ws).await.unwrap().session().await.err();
            assert!(
                matches!(&refused, Some(SendError::Rejected(m)) if m.contains("535")),
                "{security}: {refused:?}"
            );
            assert_eq!(sink.messages().len(), 2);
        }

        // The extra CA adds one issuer; it does not lower the bar for others.
        let (cert, key) = (d.join("stranger.pem"), d.join("stranger.key"));
        let stranger = SmtpSink::start_tls(false, &cert, &key, None).await;
        set_mail(
            app,
            json!({"smtp_port": stranger.port, "smtp_security": "starttls"}),
        )
        .await;
        let mailer = trusting.mailer(ws).await.unwrap();
        match mailer.session().await {
            Err(refused) => assert!(refused.to_string().contains("UnknownIssuer"), "{refused}"),
            Ok(_) => panic!("a server certified by an untrusted CA was accepted"),
        }
        assert!(stranger.messages().is_empty());
    }
);

both!(
    replies_come_in_over_imaps_and_starttls_from_a_server_the_extra_ca_certifies,
    |app| async move {
        let (dir, trusting, ws, c) = setup(app).await;
        let d = Path::new(dir.path());
        let sink = SmtpSink::start().await;
        let imap = ImapServer::start_tls(
            &sink.maildir(),
            "svar@acme.test",
            "imap-kodeord",
            &d.join("internal.pem"),
            &d.join("internal.key"),
        )
        .await;
        let customer = sink.mailer();

        let ports = [
            ("tls", imap.tls_port.expect("IMAPS")),
            ("starttls", imap.port),
        ];
        for (n, (security, port)) in ports.into_iter().enumerate() {
            let subject = format!("Svar over {security}");
            customer
                .send(&message(&subject, "soren@kunde.dk", "svar@acme.test"))
                .await
                .unwrap();
            sink.wait_for(n + 1).await;
            set_mail(
                app,
                json!({"imap_host": "127.0.0.1", "imap_port": port, "imap_security": security,
                       "imap_username": imap.user, "imap_password": imap.password}),
            )
            .await;
            // Without the extra CA: refused, with the reason, and nothing logged.
            let refused = app.app.fetch_replies(ws).await.expect_err("untrusted");
            assert!(
                refused.to_string().contains("UnknownIssuer")
                    && refused.to_string().contains("KITH_EXTRA_CA"),
                "{security}: {refused}"
            );
            let r = trusting
                .fetch_replies(ws)
                .await
                .unwrap_or_else(|e| panic!("fetching over {security}: {e}"));
            // New settings start the folder over: the earlier reply is seen again and
            // known by its Message-ID.
            assert_eq!((r.logged, r.duplicate), (1, n as u32), "{security}: {r:?}");
            let inbound: Vec<Value> = emails_on_timeline(&app.api, &c)
                .await
                .into_iter()
                .filter(|e| e["direction"] == "inbound")
                .collect();
            assert_eq!(inbound.len(), n + 1, "{inbound:?}");
            assert!(inbound.iter().any(|e| e["subject"] == subject.as_str()));
        }
    }
);
