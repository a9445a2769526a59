//! Kith's hot API paths on SQLite and PostgreSQL, next to plain sqlx doing the same work
//! on the same database.
//!
//! Run it with `scripts/bench` (which starts a throwaway PostgreSQL), or
//! `cargo bench -p kith --bench api` with `KITH_TEST_PG` set. Environment:
//!
//! - `KITH_BENCH_CONTACTS`: contacts in the database for the read phases (default 100000);
//! - `KITH_BENCH_BACKENDS`: `sqlite`, `postgres` or both (default `sqlite,postgres`);
//! - `KITH_TEST_PG`: admin URL of a PostgreSQL in which a fresh database is created;
//! - `KITH_BENCH_KEEP=1`: keep the databases afterwards (to look at query plans).
//!
//! Per backend: a fresh migrated database and the real router on 127.0.0.1:0, then
//! (a) contacts created over HTTP by 8 clients, (b) contacts read by id by 8 clients,
//! (c) five list questions asked by one client, each next to the plain SQL a DBA would
//! write for the same answer, run through a separate sqlx pool.

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kith_app::{App, Caller, Role};
use kith_core::objects::ObjectKind;
use kith_store::Db;
use serde_json::{json, Map, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Row as _, SqlitePool};
use uuid::Uuid;

#[path = "api/measure.rs"]
mod measure;
#[path = "api/people.rs"]
mod people;
#[path = "api/raw.rs"]
mod raw;

use measure::*;
use people::*;
use raw::*;

/// Contacts created over HTTP (and raw rows inserted), at most.
const CREATES: usize = 5_000;
/// Reads by id.
const GETS: usize = 5_000;
/// Concurrent clients of the create and read phases.
const CLIENTS: usize = 8;
/// Requests per list question (one client), after a few unmeasured ones.
const LIST_RUNS: usize = 300;
const LIST_WARMUP: usize = 10;
const SEED: u64 = 0x4B17_4B17_2024_0001;

fn main() {
    let total: usize = std::env::var("KITH_BENCH_CONTACTS")
        .ok()
        .map(|v| v.trim().parse().expect("KITH_BENCH_CONTACTS is a number"))
        .unwrap_or(100_000);
    let backends = std::env::var("KITH_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        println!(
            "# Kith API benchmark: {total} contacts, {} cores (= tokio workers), backends {backends}",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        for b in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
            let backend = match b {
                "sqlite" => Backend::Sqlite,
                "postgres" | "postgresql" | "pg" => Backend::Postgres,
                other => panic!("unknown backend `{other}` (use sqlite, postgres)"),
            };
            bench(backend, total).await;
        }
        println!("\npeak RSS of the process (VmHWM): {}", peak_rss());
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

// ---------------------------------------------------------------------------------------
// The database and the application.

static DIR_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh database: its URL, and what to remove afterwards.
async fn fresh_database(backend: Backend) -> (String, Cleanup) {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!(
                "kith-bench-{}-{}",
                std::process::id(),
                DIR_COUNTER.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            let url = format!("sqlite://{}/kith.db", dir.display());
            (url, Cleanup::Dir(dir))
        }
        Backend::Postgres => {
            let base = std::env::var("KITH_TEST_PG").expect(
                "KITH_TEST_PG is not set: run scripts/bench, which starts a throwaway PostgreSQL",
            );
            let name = format!(
                "kith_bench_{}_{}",
                std::process::id(),
                DIR_COUNTER.fetch_add(1, Ordering::SeqCst)
            );
            let admin = PgPool::connect(&base)
                .await
                .expect("connect to KITH_TEST_PG");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("create bench database");
            admin.close().await;
            let url = match base.rfind('/') {
                Some(i)
                    if base[..i].contains('@')
                        || base[..i].ends_with('/')
                        || base[..i].contains(':') =>
                {
                    let (head, tail) = base.split_at(i);
                    let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
                    format!("{head}/{name}{query}")
                }
                _ => panic!("KITH_TEST_PG must look like postgres://user@host:port/db"),
            };
            (url, Cleanup::PgDatabase { admin: base, name })
        }
    }
}

enum Cleanup {
    Dir(std::path::PathBuf),
    PgDatabase { admin: String, name: String },
}

impl Cleanup {
    async fn size(&self, raw: &Raw) -> String {
        let bytes = match (self, raw) {
            (Cleanup::Dir(d), _) => ["kith.db", "kith.db-wal"]
                .iter()
                .filter_map(|f| std::fs::metadata(d.join(f)).ok())
                .map(|m| m.len() as i64)
                .sum(),
            (Cleanup::PgDatabase { .. }, Raw::Pg(p)) => {
                sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                    .fetch_one(p)
                    .await
                    .expect("database size")
            }
            _ => 0,
        };
        format!("{:.0} MB", bytes as f64 / 1e6)
    }

    async fn run(self) {
        match self {
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::PgDatabase { admin, name } => {
                if let Ok(p) = PgPool::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&p)
                        .await;
                    p.close().await;
                }
            }
        }
    }
}

/// An HTTP client speaking as the bench admin.
#[derive(Clone)]
struct Api {
    base: Arc<str>,
    token: Arc<str>,
    client: reqwest::Client,
}

impl Api {
    /// GETs `path`, failing on any status but 2xx; answers the body.
    async fn get(&self, path: &str) -> Vec<u8> {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&*self.token)
            .send()
            .await
            .expect("request reaches the server");
        let status = res.status();
        let body = res.bytes().await.expect("response body");
        assert!(
            status.is_success(),
            "GET {path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        body.to_vec()
    }
}

/// Percent-encodes a query parameter value.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A list question: its name, Kith's URL, and the raw SQL with its arguments.
type Question = (&'static str, String, (String, Vec<Arg>));

/// One line of the result table.
struct Line {
    op: String,
    kith: Stats,
    raw: Stats,
    /// Concurrent (compare throughput) or sequential (compare p50).
    throughput: bool,
}

async fn bench(backend: Backend, total: usize) {
    let name = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    println!("\n## {name}\n\nload average at start: {}", load_average());
    let (url, cleanup) = fresh_database(backend).await;
    let db = Db::connect(&url).await.expect("open bench database");
    kith_store::migrate::run(&db).await.expect("migrate");
    let app = App::new(db);
    app.configure_workspace("bench", "DKK", Some("DK"), "Europe/Copenhagen")
        .await
        .expect("workspace");
    let email = "admin@bench.test";
    app.add_user(email, Role::Admin, "bench", "correct horse battery staple")
        .await
        .expect("add user");
    let token = app.create_token(email, "bench").await.expect("token");
    let caller: Caller = app.caller_by_email(email).await.expect("caller");
    let ws = caller.workspace.id.0;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let router = kith_web::router(kith_web::State {
        app: app.clone(),
        secure_cookies: false,
    });
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("server runs");
    });
    let api = Api {
        base: base.into(),
        token: token.into(),
        client: reqwest::Client::builder().build().expect("HTTP client"),
    };
    let raw = Arc::new(Raw::connect(&url).await);
    println!("server version: {}", raw.version().await);
    let mut lines = Vec::new();

    // (a) Creates over HTTP, then the same rows as plain INSERTs.
    let creates = CREATES.min(total);
    let (kith, created) = {
        let api = api.clone();
        concurrent(creates, CLIENTS, move |i| {
            let api = api.clone();
            async move {
                let res = api
                    .client
                    .post(format!("{}/api/v1/contacts", api.base))
                    .bearer_auth(&*api.token)
                    .json(&person(i).body())
                    .send()
                    .await
                    .expect("request reaches the server");
                let status = res.status();
                let body: Value = res.json().await.expect("JSON body");
                assert_eq!(status.as_u16(), 201, "create contact {i}: {body}");
                Uuid::parse_str(body["id"].as_str().expect("id")).expect("uuid")
            }
        })
        .await
    };
    let mut ids: Vec<Uuid> = created.into_iter().map(|(_, id)| id).collect();
    raw.create_table().await;
    let (raw_ins, _) = {
        let raw = raw.clone();
        concurrent(creates, CLIENTS, move |i| {
            let raw = raw.clone();
            async move { raw.insert(ws, &person(i)).await }
        })
        .await
    };
    lines.push(Line {
        op: format!("create contact ({CLIENTS} clients, {creates} rows)"),
        kith,
        raw: raw_ins,
        throughput: true,
    });

    // Setup, not measured: fill up to `total` through App::create.
    if total > creates {
        println!("filling to {total} contacts through App::create ({CLIENTS} tasks)…");
        let done = Arc::new(AtomicUsize::new(creates));
        let start = Instant::now();
        let (_, more) = {
            let (app, caller, done) = (app.clone(), caller.clone(), done.clone());
            concurrent(total - creates, CLIENTS, move |k| {
                let (app, caller, done) = (app.clone(), caller.clone(), done.clone());
                async move {
                    let i = creates + k;
                    let rec = app
                        .create(&caller, ObjectKind::Contact, &person(i).body())
                        .await
                        .unwrap_or_else(|e| panic!("create contact {i}: {e}"));
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n % 10_000 == 0 {
                        println!(
                            "  {n} contacts ({:.0}/s)",
                            (n - creates) as f64 / start.elapsed().as_secs_f64()
                        );
                    }
                    rec.id
                }
            })
            .await
        };
        ids.extend(more.into_iter().map(|(_, id)| id));
        println!(
            "  filled in {:.1} s ({:.0} creates/s)",
            start.elapsed().as_secs_f64(),
            (total - creates) as f64 / start.elapsed().as_secs_f64()
        );
    }

    // Setup, not measured: statistics, as a long-running server has them (Kith's SQLite
    // connections run PRAGMA optimize when they close; PostgreSQL runs autovacuum).
    let start = Instant::now();
    raw.settle().await;
    println!(
        "settled in {:.1} s ({})",
        start.elapsed().as_secs_f64(),
        match backend {
            Backend::Sqlite => "ANALYZE",
            Backend::Postgres => "VACUUM ANALYZE",
        }
    );

    // (b) Reads by id.
    let mut r = Rng::for_item(2, 0);
    let picks: Arc<Vec<Uuid>> = Arc::new((0..GETS).map(|_| *r.pick(&ids)).collect());
    let (kith, _) = {
        let (api, picks) = (api.clone(), picks.clone());
        concurrent(GETS, CLIENTS, move |i| {
            let (api, id) = (api.clone(), picks[i]);
            async move {
                api.get(&format!("/api/v1/contacts/{id}")).await;
            }
        })
        .await
    };
    let (raw_get, _) = {
        let (raw, picks) = (raw.clone(), picks.clone());
        concurrent(GETS, CLIENTS, move |i| {
            let (raw, id) = (raw.clone(), picks[i]);
            async move {
                let n = raw
                    .rows(
                        "SELECT * FROM contacts WHERE workspace_id = $1 AND id = $2",
                        &[Arg::Uuid(ws), Arg::Uuid(id)],
                    )
                    .await;
                assert_eq!(n, 1, "raw get {id}");
            }
        })
        .await
    };
    lines.push(Line {
        op: format!("get contact by id ({CLIENTS} clients, {GETS} reads)"),
        kith,
        raw: raw_get,
        throughput: true,
    });

    // (c) Lists, one client.
    const COLS: &str = "SELECT * FROM contacts WHERE workspace_id = $1 AND deleted_at IS NULL";
    let search_sql = format!(
        "{COLS} AND id IN (SELECT d.record_id FROM search_terms s JOIN search_docs d ON d.doc = s.doc WHERE s.scope = (SELECT scope FROM search_scopes WHERE workspace_id = $2 AND object = 'contact') AND s.term >= $3 AND s.term < $4) ORDER BY created_at, id LIMIT $5"
    );
    let search = |q: &str| -> (String, Vec<Arg>) {
        let terms = kith_core::search::query_terms(q);
        assert_eq!(terms.len(), 1, "{q} makes one term");
        let t = terms[0].clone();
        (
            search_sql.clone(),
            vec![
                Arg::Uuid(ws),
                Arg::Uuid(ws),
                Arg::Text(t.clone()),
                Arg::Text(format!("{t}{}", char::MAX)),
                Arg::Int(51),
            ],
        )
    };
    let questions: Vec<Question> = vec![
        (
            "list filter `lifecycle_stage = customer and country = DK`",
            format!(
                "/api/v1/contacts?limit=50&filter={}",
                enc("lifecycle_stage = customer and country = DK")
            ),
            (
                format!("{COLS} AND lifecycle_stage = $2 AND country = $3 ORDER BY created_at, id LIMIT $4"),
                vec![
                    Arg::Uuid(ws),
                    Arg::Text("customer".into()),
                    Arg::Text("DK".into()),
                    Arg::Int(51),
                ],
            ),
        ),
        (
            "list `q=张伟`",
            format!("/api/v1/contacts?q={}", enc("张伟")),
            search("张伟"),
        ),
        ("list `q=soeren`", "/api/v1/contacts?q=soeren".into(), search("soeren")),
        (
            "list `q=2012` (phone digits)",
            "/api/v1/contacts?q=2012".into(),
            search("2012"),
        ),
        (
            "list `sort=-last_name&limit=50`",
            "/api/v1/contacts?sort=-last_name&limit=50".into(),
            (
                format!("{COLS} ORDER BY (last_name IS NULL), last_name DESC, id DESC LIMIT $2"),
                vec![Arg::Uuid(ws), Arg::Int(51)],
            ),
        ),
    ];
    for (op, path, (sql, args)) in questions {
        let kith = sequential(|| {
            let (api, path) = (&api, &path);
            async move {
                let body: Value = serde_json::from_slice(&api.get(path).await).expect("JSON");
                body["data"].as_array().map_or(0, Vec::len)
            }
        })
        .await;
        let raw_list = sequential(|| {
            let (raw, sql, args) = (&raw, &sql, &args);
            async move { raw.rows(sql, args).await }
        })
        .await;
        let matches = raw.count(&sql, &args).await;
        lines.push(Line {
            op: format!("{op}, {matches} matching"),
            kith,
            raw: raw_list,
            throughput: false,
        });
    }

    // (e) The table.
    println!(
        "\n### {name}: {} contacts, database {}\n",
        ids.len(),
        cleanup.size(&raw).await
    );
    println!("Ratio: Kith time per operation ÷ raw time per operation (for the concurrent");
    println!("phases from throughput, for the lists from p50). Lists: 300 requests, 1 client.\n");
    println!("Others' CPU: share of the machine's CPU time used by other processes during");
    println!("the Kith or the raw run (the larger), i.e. interference; ideally 0%.\n");
    println!("| operation | Kith (HTTP, in-process) | raw sqlx | ratio | others' CPU |");
    println!("|---|---|---|---|---|");
    for l in &lines {
        let fig = |s: &Stats, unit: &str| {
            let rows = s.rows.map(|r| format!(", {r} rows")).unwrap_or_default();
            if l.throughput {
                format!(
                    "{:.0} {unit}/s (p50 {:.2} ms, p99 {:.2} ms)",
                    s.rate(),
                    s.ms(0.5),
                    s.ms(0.99)
                )
            } else {
                format!("p50 {:.2} ms, p99 {:.2} ms{rows}", s.ms(0.5), s.ms(0.99))
            }
        };
        let ratio = if l.throughput {
            l.raw.rate() / l.kith.rate()
        } else {
            l.kith.ms(0.5) / l.raw.ms(0.5)
        };
        let raw_unit = if l.op.starts_with("create") {
            "rows"
        } else {
            "q"
        };
        let ratio = if ratio < 1.0 {
            format!("{ratio:.2}×")
        } else {
            format!("{ratio:.1}×")
        };
        println!(
            "| {} | {} | {} | {ratio} | {:.0}% |",
            l.op,
            fig(&l.kith, "req"),
            fig(&l.raw, raw_unit),
            100.0 * l.kith.others.max(l.raw.others),
        );
    }
    println!("\nload average at end: {}", load_average());
    println!("peak RSS so far (VmHWM): {}", peak_rss());

    server.abort();
    let _ = server.await;
    raw.close().await;
    app.db().close().await;
    drop(app);
    if std::env::var("KITH_BENCH_KEEP").is_ok_and(|v| v == "1") {
        println!("kept the database: {url}");
    } else {
        cleanup.run().await;
    }
}
