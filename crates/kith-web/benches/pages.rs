//! How fast the server renders the UI's busiest pages with a large workspace: the
//! contacts table (first page, a deep page, reversed, searched) and a contact's page.
//!
//! `cargo bench -p kith-web --bench pages` (with `KITH_TEST_PG` for PostgreSQL; scripts/bench
//! starts one). `KITH_BENCH_CONTACTS` (default 100000), `KITH_BENCH_BACKENDS`
//! (default `sqlite,postgres`). Contacts are written with multi-row INSERTs through
//! kith-store (seconds instead of minutes); search terms for the searched page are
//! written for the 1,000 contacts named Jensen only.

use std::time::{Duration, Instant};

use chrono::Utc;
use kith_app::{App, Role};
use kith_core::objects::ObjectKind;
use kith_core::search::Document;
use kith_core::Scalar;
use kith_store::{Db, Exec, Sql};
use uuid::Uuid;

const RUNS: usize = 300;
const WARMUP: usize = 10;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Søren", "Mette", "Ana", "伟", "芳", "James", "Olivia", "Åse", "Bjørn", "Ida", "Lars", "敏",
];
const LAST: &[&str] = &[
    "Nielsen",
    "Hansen",
    "Smith",
    "张",
    "王",
    "Østergaard",
    "Aagaard",
    "Brown",
    "Larsen",
    "李",
];
const CITIES: &[&str] = &["Aarhus", "København", "Odense", "上海", "北京", "London"];
const STAGES: &[&str] = &["lead", "customer", "subscriber", "mql"];

fn main() {
    let total: usize = std::env::var("KITH_BENCH_CONTACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let backends = std::env::var("KITH_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        println!("# Kith page rendering: {total} contacts, {RUNS} requests per page, one client\n");
        for b in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
            run(b, total).await;
        }
    });
}

async fn fresh(backend: &str) -> (String, Option<std::path::PathBuf>) {
    match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("kith-pages-{}", Uuid::now_v7()));
            std::fs::create_dir_all(&dir).unwrap();
            (format!("sqlite://{}/kith.db", dir.display()), Some(dir))
        }
        _ => {
            let base = std::env::var("KITH_TEST_PG")
                .expect("KITH_TEST_PG for the PostgreSQL run (scripts/bench sets it)");
            let name = format!("kith_pages_{}", std::process::id());
            let admin = sqlx::PgPool::connect(&base).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&admin)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let i = base.rfind('/').unwrap();
            (format!("{}/{name}", &base[..i]), None)
        }
    }
}

async fn run(backend: &str, total: usize) {
    let (url, dir) = fresh(backend).await;
    let db = Db::connect(&url).await.unwrap();
    kith_store::migrate::run(&db).await.unwrap();
    let app = App::new(db.clone());
    let ws = app
        .configure_workspace("bench", "DKK", Some("DK"), "Europe/Copenhagen")
        .await
        .unwrap();
    app.add_user(
        "bench@kith.local",
        Role::Admin,
        "bench",
        "bench password 123",
    )
    .await
    .unwrap();
    let me = app.caller_by_email("bench@kith.local").await.unwrap();
    // 500 companies through the app, contacts in bulk.
    let mut companies = Vec::new();
    for i in 0..500 {
        let input = serde_json::json!({"name": format!("Company {i} ApS")});
        companies.push(
            app.create(
                &me,
                kith_core::objects::ObjectKind::Company,
                input.as_object().unwrap(),
            )
            .await
            .unwrap()
            .id,
        );
    }
    let started = Instant::now();
    let mut rng = Rng(0x05ee_d0f9_a9e5);
    let now = Utc::now();
    let mut w = db.clone();
    let mut jensens = Vec::new();
    for chunk_start in (0..total).step_by(500) {
        let mut sql = Sql::new("INSERT INTO contacts (id, workspace_id, version, created_at, updated_at, first_name, last_name, email, phone, city, lifecycle_stage, company_id, owner_id) VALUES ");
        for i in chunk_start..(chunk_start + 500).min(total) {
            let id = Uuid::now_v7();
            let last = if i % 100 == 0 {
                "Jensen"
            } else {
                rng.pick(LAST)
            };
            if last == "Jensen" {
                jensens.push(id);
            }
            if i > chunk_start {
                sql.push(", ");
            }
            let t = now - chrono::Duration::seconds((total - i) as i64);
            sql.push("(")
                .bind(Scalar::Uuid(id))
                .push(", ")
                .bind(Scalar::Uuid(ws.id.0))
                .push(", 1, ");
            sql.bind(Scalar::Time(t))
                .push(", ")
                .bind(Scalar::Time(t))
                .push(", ");
            sql.bind(Scalar::Text(rng.pick(FIRST).into()))
                .push(", ")
                .bind(Scalar::Text(last.into()))
                .push(", ");
            sql.bind(Scalar::Text(format!("c{i}@example.dk")))
                .push(", ");
            sql.bind(Scalar::Text(format!("+45{}", 20_000_000 + i)))
                .push(", ");
            sql.bind(Scalar::Text(rng.pick(CITIES).into()))
                .push(", ")
                .bind(Scalar::Text(rng.pick(STAGES).into()))
                .push(", ");
            sql.bind(Scalar::Uuid(companies[(rng.next() % 500) as usize]))
                .push(", ")
                .bind(Scalar::Uuid(me.user.id))
                .push(")");
        }
        w.execute(sql).await.unwrap();
    }
    let terms = Document {
        texts: vec!["Jensen"],
        ..Default::default()
    }
    .terms();
    let mut tx = w.begin().await.unwrap();
    for id in &jensens {
        kith_store::records::reindex(&mut tx, ws.id, ObjectKind::Contact, *id, &terms)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // Fresh statistics, as a database that has been in use has.
    w.execute(Sql::new("ANALYZE")).await.unwrap();
    println!(
        "## {backend}: {total} contacts seeded in {:.1} s\n",
        started.elapsed().as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = kith_web::router(kith_web::State {
        app: app.clone(),
        secure_cookies: false,
    });
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "bench@kith.local", "password": "bench password 123"}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    // A cursor 50 pages in.
    let mut deep = String::from("/contacts");
    for _ in 0..50 {
        let html = client
            .get(format!("{base}{deep}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let marker = "rel=\"next\" href=\"";
        let Some(i) = html.find(marker) else {
            break;
        };
        let rest = &html[i + marker.len()..];
        deep = rest[..rest.find('"').unwrap()].replace("&amp;", "&");
    }
    assert!(deep.contains("cursor="), "no next page found");
    let one = jensens[0];
    println!("| page | p50 | p95 | p99 | bytes |\n|---|---|---|---|---|");
    for (label, path) in [
        (
            "contacts table, first page (sort by last name)",
            "/contacts".to_string(),
        ),
        ("contacts table, 50 pages in (cursor)", deep.clone()),
        (
            "contacts table, last name descending",
            "/contacts?sort=-last_name".to_string(),
        ),
        (
            "contacts table, search `jensen`",
            "/contacts?q=jensen".to_string(),
        ),
        (
            "contacts table, filter `city = Aarhus and lifecycle_stage = customer`",
            "/contacts?filter=city%20%3D%20Aarhus%20and%20lifecycle_stage%20%3D%20customer"
                .to_string(),
        ),
        (
            "contact page (fields, related, timeline)",
            format!("/contacts/{one}"),
        ),
    ] {
        let mut times = Vec::with_capacity(RUNS);
        let mut bytes = 0;
        for i in 0..WARMUP + RUNS {
            let t = Instant::now();
            let res = client
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            bytes = res.bytes().await.unwrap().len();
            if i >= WARMUP {
                times.push(t.elapsed());
            }
        }
        times.sort();
        let q = |p: f64| ms(times[((times.len() as f64 * p) as usize).min(times.len() - 1)]);
        println!(
            "| {label} | {} | {} | {} | {bytes} |",
            q(0.50),
            q(0.95),
            q(0.99)
        );
    }
    println!();
    server.abort();
    db.close().await;
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
