//! Replies by IMAP against real servers: a customer answers (to the aiosmtpd sink, whose
//! Maildir Dovecot serves), Kith fetches, logs it once and announces `email.replied`.

use kith_app::mail::Outgoing;
use kith_store::Exec;
use serde_json::{json, Value};

use crate::harness::both;
use crate::jobs::acme;
use crate::mail::{configure, emails_on_timeline, send_path, worker};
use crate::mail_servers::{ImapServer, SmtpSink};

both!(
    an_imap_reply_is_logged_once_with_its_event,
    |app| async move {
        let api = &app.api;
        let sink = SmtpSink::start().await;
        let imap = ImapServer::start(&sink.maildir(), "svar@acme.test", "imap-kodeord").await;
        configure(app, sink.port, Some(&imap)).await;
        let c = api
            .create(
                "contacts",
                json!({"first_name": "Søren", "email": "soren@kunde.dk"}),
            )
            .await;
        // We write; the customer answers (to the sink, which is the mailbox IMAP serves).
        api.post(
            &send_path(&c),
            json!({"subject": "Tilbud", "text": "Vil du?"}),
        )
        .await;
        worker(app).run_until_idle().await.unwrap();
        let ours = sink.wait_for(1).await[0].message_id.clone();
        let customer = sink.mailer();
        let reply = |from: &str, subject: &str, id: &str| Outgoing {
            from_name: "Kunde".into(),
            from_email: from.into(),
            to: "svar@acme.test".into(),
            subject: subject.into(),
            text: "Ja tak, gerne! 好的".into(),
            html: None,
            headers: vec![("In-Reply-To".into(), format!("<{ours}>"))],
            message_id: id.into(),
        };
        customer
            .send(&reply("Soren@Kunde.dk", "Re: Tilbud", "<svar-1@kunde.dk>"))
            .await
            .unwrap();
        customer
            .send(&reply("stranger@else.dk", "Spam", "<spam-1@else.dk>"))
            .await
            .unwrap();
        sink.wait_for(3).await;

        let ws = acme(app).await;
        let r = app.app.fetch_replies(ws).await.unwrap();
        assert_eq!((r.seen, r.logged, r.unknown_sender), (3, 1, 2), "{r:?}");
        let again = app.app.fetch_replies(ws).await.unwrap();
        assert_eq!((again.seen, again.logged), (0, 0), "{again:?}");
        let emails = emails_on_timeline(api, &c).await;
        let inbound: Vec<&Value> = emails
            .iter()
            .filter(|e| e["direction"] == "inbound")
            .collect();
        assert_eq!(inbound.len(), 1, "{emails:?}");
        assert_eq!(inbound[0]["subject"], "Re: Tilbud");
        assert_eq!(inbound[0]["email_status"], "received");
        assert_eq!(inbound[0]["in_reply_to"], format!("<{ours}>"));
        assert!(inbound[0]["body"]
            .as_str()
            .unwrap()
            .contains("Ja tak, gerne! 好的"));
        let mut db = app.app.db().clone();
        let events = db
            .fetch_all(kith_store::Sql::new(
                "SELECT record_id, payload FROM events WHERE kind = 'email.replied'",
            ))
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].uuid("record_id").unwrap().unwrap().to_string(),
            c["id"].as_str().unwrap()
        );
        let payload = events[0].json("payload").unwrap().unwrap();
        assert_eq!(payload["message_id"], "<svar-1@kunde.dk>");
        assert_eq!(payload["in_reply_to"], format!("<{ours}>"));
        // A new reply later is fetched by the scheduled job as well.
        customer
            .send(&reply(
                "soren@kunde.dk",
                "Re: Re: Tilbud",
                "<svar-2@kunde.dk>",
            ))
            .await
            .unwrap();
        sink.wait_for(4).await;
        app.app
            .enqueue(
                ws,
                kith_app::mail::MAIL_FETCH,
                json!({}),
                Default::default(),
            )
            .await
            .unwrap();
        worker(app).run_until_idle().await.unwrap();
        let inbound = emails_on_timeline(api, &c)
            .await
            .into_iter()
            .filter(|e| e["direction"] == "inbound")
            .count();
        assert_eq!(inbound, 2);
    }
);
