//! Campaign delivery: a campaign to N contacts (default 100,000) queued, rendered
//! (personalised template, unsubscribe link, tracked links, open pixel) and delivered by
//! Kith's worker to a local SMTP server, next to the baseline of lettre alone sending
//! the same number of pre-rendered messages over the same 8 connections.
//!
//! The SMTP server is a minimal one in this process (it answers every command with
//! success and counts messages), so the figure is Kith's cost, not a mail server's.
//! `cargo bench -p kith --bench campaigns` with `KITH_TEST_PG` set;
//! `KITH_BENCH_RECIPIENTS` (default 100000), `KITH_BENCH_BACKENDS` (default
//! `sqlite,postgres`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kith_app::campaigns::CampaignInput;
use kith_app::jobs::{Handlers, Worker, WorkerConfig};
use kith_app::mail::{EmailTemplateInput, MailSettingsInput};
use kith_app::{App, Role};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use kith_store::bulk::{insert_records, NewRecord};
use kith_store::Db;
use lettre::message::{header::ContentType, Mailbox};
use lettre::Message;
use serde_json::{json, Map};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

/// A minimal SMTP server: success to everything, one count per message.
async fn sink(count: Arc<AtomicUsize>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let count = count.clone();
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                if w.write_all(b"220 bench ESMTP\r\n").await.is_err() {
                    return;
                }
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line == "." {
                            in_data = false;
                            count.fetch_add(1, Ordering::Relaxed);
                            b"250 ok\r\n"
                        } else {
                            continue;
                        }
                    } else {
                        let cmd = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        match cmd.as_str() {
                            "EHLO" => b"250-bench\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                let _ = w.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        }
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

const HTML: &str = r#"<html><body><p>Hej {{ contact.first_name | default: "kunde" }},</p><p>Vinterudsalget er i gang: 30% på alt til og med søndag.</p><p><a href="https://shop.example/udsalg?utm_source=kith">Se udsalget</a> · <a href="https://shop.example/nyheder">Nyheder</a></p><p><a href="{{ unsubscribe_url }}">Afmeld</a></p></body></html>"#;

async fn load(app: &App, ws: kith_store::WorkspaceId, n: usize) {
    let f = |name: &str| ObjectKind::Contact.field(name).unwrap();
    for chunk in 0..n.div_ceil(1000) {
        let recs: Vec<NewRecord> = (chunk * 1000..((chunk + 1) * 1000).min(n))
            .map(|i| NewRecord {
                id: Uuid::now_v7(),
                columns: vec![
                    (f("first_name"), Scalar::Text(format!("Kunde{i}"))),
                    (f("email"), Scalar::Text(format!("k{i}@kunde.test"))),
                    (f("city"), Scalar::Text("Aarhus".into())),
                    (f("consent"), Scalar::Json(json!({"email": "granted"}))),
                ],
                custom: Map::new(),
                created_at: None,
            })
            .collect();
        let mut tx = app.db().begin().await.unwrap();
        insert_records(&mut tx, ws, ObjectKind::Contact, chrono::Utc::now(), &recs)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

/// Seconds for lettre alone to send `n` pre-rendered messages of the same size over 8
/// connections (each a `TCP_NODELAY` stream, as Kith's).
async fn baseline(port: u16, n: usize, body: &str) -> f64 {
    use lettre::transport::smtp::client::AsyncSmtpConnection;
    use lettre::transport::smtp::extension::ClientId;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (next, body) = (next.clone(), body.to_string());
        set.spawn(async move {
            let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            stream.set_nodelay(true).unwrap();
            let mut conn =
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &ClientId::default())
                    .await
                    .unwrap();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    let _ = conn.quit().await;
                    return;
                }
                let m = Message::builder()
                    .from("Salg <salg@bench.test>".parse::<Mailbox>().unwrap())
                    .to(format!("k{i}@kunde.test").parse::<Mailbox>().unwrap())
                    .subject("Vinterudsalg")
                    .header(ContentType::TEXT_HTML)
                    .body(body.clone())
                    .unwrap();
                conn.send(m.envelope(), &m.formatted()).await.unwrap();
            }
        });
    }
    while set.join_next().await.is_some() {}
    start.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("KITH_BENCH_RECIPIENTS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(100_000);
    let backends = std::env::var("KITH_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    let dir = common::scratch_dir("bench-campaigns");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let port = rt.block_on(sink(count.clone()));
    println!(
        "# a campaign to {n} contacts, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| backend | Kith: send log, render, deliver | messages/s | lettre alone | messages/s | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    for b in backends.split(',').map(str::trim) {
        let url = common::fresh_database(&rt, b, &dir, "campaigns");
        rt.block_on(async {
            let db = Db::connect(&url).await.unwrap();
            kith_store::migrate::run(&db).await.unwrap();
            let app = App::new(db);
            app.configure_workspace("bench", "DKK", Some("DK"), "Europe/Copenhagen")
                .await
                .unwrap();
            app.add_user(
                "admin@bench.test",
                Role::Admin,
                "bench",
                "bench password 123",
            )
            .await
            .unwrap();
            let me = app.caller_by_email("admin@bench.test").await.unwrap();
            let ws = me.workspace.id;
            app.save_mail_settings(
                &me,
                MailSettingsInput {
                    smtp_host: "127.0.0.1".into(),
                    smtp_port: Some(port),
                    smtp_security: Some("none".into()),
                    from_name: "Salg".into(),
                    from_email: "salg@bench.test".into(),
                    ..MailSettingsInput::default()
                },
            )
            .await
            .unwrap();
            app.save_public_url(ws, "https://crm.bench.test")
                .await
                .unwrap();
            load(&app, ws, n).await;
            let t = app
                .create_email_template(
                    &me,
                    EmailTemplateInput {
                        name: "Udsalg".into(),
                        language: "da".into(),
                        subject: "Udsalg, {{ contact.first_name }}".into(),
                        html: HTML.into(),
                        ..EmailTemplateInput::default()
                    },
                )
                .await
                .unwrap();
            let mut seg = Map::new();
            seg.insert("name".into(), json!("Aarhus"));
            seg.insert("object".into(), json!("contact"));
            seg.insert("filter".into(), json!("city = Aarhus"));
            let seg = app.create(&me, ObjectKind::Segment, &seg).await.unwrap();
            let c = app
                .create_campaign(
                    &me,
                    CampaignInput {
                        name: "Bench".into(),
                        segment_id: Some(seg.id),
                        template_id: Some(t.id),
                        ..CampaignInput::default()
                    },
                )
                .await
                .unwrap();
            count.store(0, Ordering::SeqCst);
            let worker = Worker::new(app.clone(), Handlers::standard(), WorkerConfig::default());
            let start = Instant::now();
            app.send_campaign(&me, c.id, None).await.unwrap();
            // The start job queues the whole send log; the slices follow.
            loop {
                worker.run_until_idle().await.unwrap();
                if app.campaign(&me, c.id).await.unwrap().status == "sent" {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let total = start.elapsed().as_secs_f64();
            let sent = count.load(Ordering::SeqCst);
            assert_eq!(sent, n, "every recipient got one message");
            let report = app.campaign_report(&me, c.id).await.unwrap();
            assert_eq!(report.figures.sent as usize, n);
            count.store(0, Ordering::SeqCst);
            let rendered_size = HTML.len() + 600;
            let raw = baseline(port, n, &"x".repeat(rendered_size)).await;
            println!(
                "| {b} | {total:.1} s | {:.0} | {raw:.1} s | {:.0} | {:.1}× |",
                n as f64 / total,
                n as f64 / raw,
                total / raw
            );
            app.db().close().await;
        });
    }
}
