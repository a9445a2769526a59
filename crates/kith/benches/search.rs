//! Global search latency at scale: p50/p95/p99 of realistic queries (2-character
//! Chinese names, Danish names, 2–3 letter prefixes, an email part, phone digits,
//! typos) through `App::search`, through `GET /api/v1/search`, and beside the plain SQL
//! a database expert would write for the same question, on SQLite and PostgreSQL.
//!
//! The workspace is written with kith-store's bulk inserts and kith-core's tokeniser,
//! as the import writes it: N contacts, N/20 companies, N/5 deals, 3N/10 notes and
//! N/10 tasks. Run: `cargo bench -p kith --bench search` with `KITH_TEST_PG` set;
//! `KITH_BENCH_SEARCH_CONTACTS` (default 1000000), `KITH_BENCH_BACKENDS`
//! (default `sqlite,postgres`), `KITH_BENCH_SEARCH_RUNS` (per query, default 200).
//!
//! While working on the query code: `KITH_BENCH_SEARCH_KEEP=DIR` keeps the built
//! workspace (SQLite in `DIR/kith-N.db`, PostgreSQL as database `kith_search_bench_N`,
//! each with a `DIR/*.built` note written once the build finished) and reuses it on the
//! next run instead of building it again; `KITH_BENCH_SEARCH_PARTS` (default
//! `app,http,plain`) picks what is timed; `KITH_BENCH_SEARCH_DUMP=FILE` writes every
//! query's hits (type, id, score), to check that a change leaves the results alone.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use kith_app::search::SearchRequest;
use kith_app::{App, Role};
use kith_core::objects::ObjectKind;
use kith_core::search::{cjk_full_name, fold_danish, query_terms, typo, Document};
use kith_core::Scalar;
use kith_store::bulk::{insert_records, NewRecord};
use kith_store::{Db, Exec, Sql, WorkspaceId};
use uuid::Uuid;

const FIRST: &[&str] = &[
    "Søren", "Mette", "Åse", "Jens", "Anne", "Lars", "Kirsten", "Ærling", "Ida", "Mads", "伟",
    "芳", "娜", "敏", "静", "Emma", "Oliver", "Sophia", "James", "Olivia", "Frederik", "Karen",
];
const LAST: &[&str] = &[
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Østergård",
    "Kierkegaard",
    "Mølgaard",
    "张",
    "王",
    "李",
    "刘",
    "陈",
    "Smith",
    "Brown",
    "Taylor",
    "Wilson",
];
const CITIES: &[&str] = &[
    "København",
    "Aarhus",
    "Odense",
    "Aalborg",
    "北京",
    "上海",
    "London",
];
const WORDS: &[&str] = &[
    "Nordlys", "Fjord", "Bølge", "Havn", "Skov", "Lys", "Sten", "Vind", "华盛", "长城", "Acme",
    "Pioneer", "Summit", "Harbour", "Copper", "Maple",
];
const SUFFIX: &[&str] = &["ApS", "A/S", "Trading", "Consulting", "有限公司", "Ltd"];
const PRODUCTS: &[&str] = &[
    "roof renovation",
    "heat pump",
    "solar panels",
    "windows",
    "kitchen",
    "annual service",
    "insulation",
    "bathroom",
];
const PHRASES: &[&str] = &[
    "wants a new offer before Christmas",
    "asked for references",
    "will decide next week",
    "prefers email to calls",
    "budget approved by the board",
    "needs a site visit first",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn spec(o: ObjectKind, f: &str) -> &'static kith_core::objects::FieldSpec {
    o.field(f).expect("field exists")
}

fn text(s: &str) -> Scalar {
    Scalar::Text(s.to_string())
}

/// Writes records and their terms in one transaction, timing the vocabulary apart.
async fn write(
    db: &Db,
    ws: WorkspaceId,
    object: ObjectKind,
    recs: Vec<(NewRecord, BTreeSet<String>)>,
    vocab_time: &mut Duration,
) {
    let now = Utc::now();
    let mut tx = db.begin().await.unwrap();
    let (records, terms): (Vec<NewRecord>, Vec<(Uuid, BTreeSet<String>)>) = recs
        .into_iter()
        .map(|(r, t)| {
            let id = r.id;
            (r, (id, t))
        })
        .unzip();
    insert_records(&mut tx, ws, object, now, &records)
        .await
        .unwrap();
    kith_store::search::index::insert_new(&mut tx, ws, object, &terms)
        .await
        .unwrap();
    let started = Instant::now();
    kith_store::search::add_vocabulary(&mut tx, ws, terms.iter().flat_map(|(_, t)| t))
        .await
        .unwrap();
    *vocab_time += started.elapsed();
    tx.commit().await.unwrap();
}

/// Builds the workspace; returns (seconds, seconds of it spent on the vocabulary, an
/// email local part and a phone's national digits that exist).
async fn build(db: &Db, ws: WorkspaceId, n: usize) -> (f64, f64, String, String) {
    let sample = (n / 2).min(123_456);
    let mut sample_email = String::new();
    let started = Instant::now();
    let mut vocab = Duration::ZERO;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let chunk = 5_000;
    let companies: Vec<(Uuid, String)> = (0..(n / 20).max(1))
        .map(|_| {
            let name = format!("{} {}", rng.pick(WORDS), rng.pick(SUFFIX));
            (Uuid::now_v7(), name)
        })
        .collect();
    let co = ObjectKind::Company;
    for part in companies.chunks(chunk) {
        let recs = part
            .iter()
            .map(|(id, name)| {
                let terms = Document {
                    texts: vec![name],
                    ..Default::default()
                }
                .terms();
                let r = NewRecord {
                    id: *id,
                    columns: vec![(spec(co, "name"), text(name))],
                    custom: Default::default(),
                    created_at: None,
                };
                (r, terms)
            })
            .collect();
        write(db, ws, co, recs, &mut vocab).await;
    }
    let c = ObjectKind::Contact;
    let mut contacts: Vec<(Uuid, String)> = Vec::with_capacity(n);
    for start in (0..n).step_by(chunk) {
        let mut recs = vec![];
        for i in start..(start + chunk).min(n) {
            let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
            let (cid, cname) = &companies[(rng.next() % companies.len() as u64) as usize];
            let city = rng.pick(CITIES);
            let local = match cjk_full_name(first, last) {
                Some(_) => format!("user{i}"),
                None => format!("{}.{}{i}", fold_danish(first), fold_danish(last)),
            };
            let email = format!("{local}@{}.dk", fold_danish(rng.pick(WORDS)));
            // Unique Danish mobile numbers: +45 20 00 00 00 and up.
            let phone = format!("+45{}", 20_000_000 + i);
            if i == sample {
                sample_email = local.clone();
            }
            let full = cjk_full_name(first, last);
            let mut texts = vec![first, last, city, cname.as_str()];
            texts.extend(full.as_deref());
            let terms = Document {
                texts,
                emails: vec![&email],
                phones: vec![&phone],
            }
            .terms();
            let id = Uuid::now_v7();
            contacts.push((id, last.to_string()));
            let columns = vec![
                (spec(c, "first_name"), text(first)),
                (spec(c, "last_name"), text(last)),
                (spec(c, "email"), text(&email)),
                (spec(c, "phone"), text(&phone)),
                (spec(c, "city"), text(city)),
                (spec(c, "company_id"), Scalar::Uuid(*cid)),
            ];
            recs.push((
                NewRecord {
                    id,
                    columns,
                    custom: Default::default(),
                    created_at: None,
                },
                terms,
            ));
        }
        write(db, ws, c, recs, &mut vocab).await;
    }
    let pick_contact =
        |rng: &mut Rng| contacts[(rng.next() % contacts.len() as u64) as usize].clone();
    let d = ObjectKind::Deal;
    for start in (0..n / 5).step_by(chunk) {
        let mut recs = vec![];
        for _ in start..(start + chunk).min(n / 5) {
            let (cid, last) = pick_contact(&mut rng);
            let name = format!("{last} {}", rng.pick(PRODUCTS));
            let terms = Document {
                texts: vec![&name],
                ..Default::default()
            }
            .terms();
            let status = if rng.next().is_multiple_of(4) {
                "won"
            } else {
                "open"
            };
            let columns = vec![
                (spec(d, "name"), text(&name)),
                (spec(d, "contact_id"), Scalar::Uuid(cid)),
                (spec(d, "status"), text(status)),
            ];
            recs.push((
                NewRecord {
                    id: Uuid::now_v7(),
                    columns,
                    custom: Default::default(),
                    created_at: None,
                },
                terms,
            ));
        }
        write(db, ws, d, recs, &mut vocab).await;
    }
    let a = ObjectKind::Activity;
    for start in (0..n * 3 / 10).step_by(chunk) {
        let mut recs = vec![];
        for _ in start..(start + chunk).min(n * 3 / 10) {
            let (cid, last) = pick_contact(&mut rng);
            let body = format!(
                "Called {last} about the {}; {}.",
                rng.pick(PRODUCTS),
                rng.pick(PHRASES)
            );
            let terms = Document {
                texts: vec![&body],
                ..Default::default()
            }
            .terms();
            let columns = vec![
                (spec(a, "kind"), text("note")),
                (spec(a, "body"), text(&body)),
                (spec(a, "contact_id"), Scalar::Uuid(cid)),
            ];
            recs.push((
                NewRecord {
                    id: Uuid::now_v7(),
                    columns,
                    custom: Default::default(),
                    created_at: None,
                },
                terms,
            ));
        }
        write(db, ws, a, recs, &mut vocab).await;
    }
    let t = ObjectKind::Task;
    for start in (0..n / 10).step_by(chunk) {
        let mut recs = vec![];
        for _ in start..(start + chunk).min(n / 10) {
            let (cid, last) = pick_contact(&mut rng);
            let title = format!("Send {} offer to {last}", rng.pick(PRODUCTS));
            let terms = Document {
                texts: vec![&title],
                ..Default::default()
            }
            .terms();
            let columns = vec![
                (spec(t, "title"), text(&title)),
                (spec(t, "contact_id"), Scalar::Uuid(cid)),
            ];
            recs.push((
                NewRecord {
                    id: Uuid::now_v7(),
                    columns,
                    custom: Default::default(),
                    created_at: None,
                },
                terms,
            ));
        }
        write(db, ws, t, recs, &mut vocab).await;
    }
    kith_store::bulk::refresh_statistics(
        db,
        &[
            "companies",
            "contacts",
            "deals",
            "activities",
            "tasks",
            "search_terms",
            "search_docs",
            "search_vocabulary",
        ],
    )
    .await
    .unwrap();
    let national = (20_000_000 + sample).to_string();
    let phone = format!("{} {}", &national[..4], &national[4..]);
    (
        started.elapsed().as_secs_f64(),
        vocab.as_secs_f64(),
        sample_email,
        phone,
    )
}

/// The plain SQL for the same question: per type, the records whose terms match every
/// query word (a typo word: the stored words one edit away), 15 each, no ranking.
async fn plain(db: &Db, ws: WorkspaceId, q: &str) -> usize {
    let mut ex = db.clone();
    let mut terms: Vec<(String, Vec<String>)> = vec![];
    for t in query_terms(q) {
        let cands = typo::one_edit_away(&t);
        let mut probe = Sql::new(
            "SELECT 1 AS one FROM search_terms WHERE scope IN (SELECT scope FROM search_scopes WHERE workspace_id = ",
        );
        probe
            .bind(Scalar::Uuid(ws.0))
            .push(") AND term >= ")
            .bind(text(&t));
        probe
            .push(" AND term < ")
            .bind(text(&format!("{t}{}", char::MAX)))
            .push(" LIMIT 1");
        let typos = if !cands.is_empty() && ex.fetch_optional(probe).await.unwrap().is_none() {
            cands.into_iter().collect()
        } else {
            vec![]
        };
        terms.push((t, typos));
    }
    let cond = |sql: &mut Sql, col: &str, (t, typos): &(String, Vec<String>)| {
        if typos.is_empty() {
            sql.push(col).push(" >= ").bind(text(t));
            sql.push(" AND ")
                .push(col)
                .push(" < ")
                .bind(text(&format!("{t}{}", char::MAX)));
        } else {
            sql.push(col).push(" IN (");
            sql.bind_list(typos.iter().map(|t| text(t)));
            sql.push(")");
        }
    };
    let mut found = 0;
    let Some((first, rest)) = terms.split_first() else {
        return 0;
    };
    for o in kith_app::search::SEARCH_TYPES {
        let mut sql =
            Sql::new("SELECT t.* FROM search_terms s CROSS JOIN search_docs d CROSS JOIN ");
        sql.push(o.table()).push(
            " t WHERE d.doc = s.doc AND t.id = d.record_id AND s.scope = (SELECT scope FROM search_scopes WHERE workspace_id = ",
        );
        sql.bind(Scalar::Uuid(ws.0))
            .push(" AND object = ")
            .bind(text(o.singular()));
        sql.push(") AND ");
        cond(&mut sql, "s.term", first);
        for r in rest {
            sql.push(" AND EXISTS (SELECT 1 FROM search_terms x WHERE x.doc = s.doc AND ");
            cond(&mut sql, "x.term", r);
            sql.push(")");
        }
        sql.push(" AND t.deleted_at IS NULL LIMIT 15");
        found += ex.fetch_all(sql).await.unwrap().len();
    }
    found
}

fn pct(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.50), at(0.95), at(0.99))
}

const QUERIES: &[(&str, &str)] = &[
    ("Chinese 2-char name", "张伟"),
    ("Chinese 2-char name", "王芳"),
    ("Danish name", "Søren"),
    ("Danish name, typed without ø", "soeren jensen"),
    ("Danish name", "Kierkegaard"),
    ("prefix, 2 letters", "je"),
    ("prefix, 3 letters", "mø"),
    ("prefix, 3 letters", "han"),
    ("typo", "Kierkegard"),
    ("typo", "Pedersne"),
];

/// What to time and where to keep things, from the environment.
struct Options {
    runs: usize,
    parts: String,
    /// `(note file of a finished build, if the workspace is kept)`.
    built_note: Option<std::path::PathBuf>,
    dump: Option<String>,
}

async fn run(backend: &str, url: &str, n: usize, opts: &Options) {
    let db = Db::connect(url).await.expect("connect");
    kith_store::migrate::run(&db).await.expect("migrate");
    let app = App::new(db.clone());
    // A kept workspace that finished building: its note holds the email part and phone.
    let kept = opts
        .built_note
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    if kept.is_none() {
        app.configure_workspace("bench", "DKK", Some("DK"), "Europe/Copenhagen")
            .await
            .unwrap();
        app.add_user(
            "bench@kith.local",
            Role::Admin,
            "bench",
            "a long enough password",
        )
        .await
        .unwrap();
    }
    let caller = app.caller_by_email("bench@kith.local").await.unwrap();
    let ws = caller.workspace.id;
    let (email, phone) = match kept {
        Some(note) => {
            let (email, phone) = note.trim().split_once('\t').expect("email<TAB>phone");
            println!("\n## {backend}: {n} contacts (kept from an earlier run)");
            (email.to_string(), phone.to_string())
        }
        None => {
            let (secs, vocab, email, phone) = build(&db, ws, n).await;
            if let Some(p) = &opts.built_note {
                std::fs::write(p, format!("{email}\t{phone}\n")).unwrap();
            }
            println!(
                "\n## {backend}: {n} contacts built in {secs:.1} s (typo vocabulary: {vocab:.2} s of it)"
            );
            (email, phone)
        }
    };
    let mut queries: Vec<(&str, String)> =
        QUERIES.iter().map(|(w, q)| (*w, q.to_string())).collect();
    queries.push(("email part", email));
    queries.push(("phone digits", phone));
    let runs = opts.runs;
    let part = |p: &str| opts.parts.split(',').any(|x| x.trim() == p);
    let mut dump = String::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = kith_web::router(kith_web::State {
        app: app.clone(),
        secure_cookies: false,
    });
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let token = app.create_token("bench@kith.local", "bench").await.unwrap();
    let http = reqwest::Client::new();
    println!("| query | hits | App::search p50 / p95 / p99 | HTTP p50 / p95 / p99 | plain SQL p50 / p95 / p99 |");
    println!("|---|---:|---|---|---|");
    let (mut all_app, mut all_http, mut all_sql) = (vec![], vec![], vec![]);
    for (what, q) in &queries {
        let req = SearchRequest {
            q: q.to_string(),
            types: vec![],
            limit: Some(5),
        };
        let first = app.search(&caller, &req).await.unwrap();
        let hits: usize = first.groups.iter().map(|g| g.hits.len()).sum();
        dump.push_str(&format!("{q} corrected={}\n", first.corrected));
        for g in &first.groups {
            for hit in &g.hits {
                let o = g.object.singular();
                let (id, score, more) = (hit.record.id, hit.score, g.more);
                dump.push_str(&format!("  {o} {id} {score} more={more}\n"));
            }
        }
        let (mut a, mut h, mut p) = (vec![f64::NAN], vec![f64::NAN], vec![f64::NAN]);
        for _ in 0..runs {
            if part("app") {
                let t = Instant::now();
                app.search(&caller, &req).await.unwrap();
                a.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            if part("http") {
                let t = Instant::now();
                let res = http
                    .get(format!("{base}/api/v1/search"))
                    .query(&[("q", q.as_str()), ("limit", "5")])
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert!(res.status().is_success());
                res.bytes().await.unwrap();
                h.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            if part("plain") {
                let t = Instant::now();
                plain(&db, ws, q).await;
                p.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        // A part not timed keeps its one NaN and prints as NaN.
        for v in [&mut a, &mut h, &mut p] {
            if v.len() > 1 {
                v.remove(0);
            }
        }
        all_app.extend(&a);
        all_http.extend(&h);
        all_sql.extend(&p);
        let f = |v: Vec<f64>| {
            let (a, b, c) = pct(v);
            format!("{a:.1} / {b:.1} / {c:.1} ms")
        };
        println!(
            "| {what}: `{q}` | {hits} | {} | {} | {} |",
            f(a),
            f(h),
            f(p)
        );
    }
    let f = |v: Vec<f64>| {
        let (a, b, c) = pct(v);
        format!("{a:.1} / {b:.1} / {c:.1} ms")
    };
    println!(
        "| **all queries** | | {} | {} | {} |",
        f(all_app),
        f(all_http),
        f(all_sql)
    );
    if let Some(path) = &opts.dump {
        std::fs::write(format!("{path}.{backend}"), dump).unwrap();
    }
    server.abort();
    db.close().await;
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("KITH_BENCH_SEARCH_CONTACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("KITH_BENCH_SEARCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let backends =
        std::env::var("KITH_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let keep = std::env::var("KITH_BENCH_SEARCH_KEEP")
        .ok()
        .map(std::path::PathBuf::from);
    if let Some(k) = &keep {
        std::fs::create_dir_all(k).unwrap();
    }
    let mut opts = Options {
        runs,
        parts: std::env::var("KITH_BENCH_SEARCH_PARTS").unwrap_or_else(|_| "app,http,plain".into()),
        built_note: None,
        dump: std::env::var("KITH_BENCH_SEARCH_DUMP").ok(),
    };
    for backend in backends.split(',') {
        match backend.trim() {
            "sqlite" => {
                let dir = match &keep {
                    Some(k) => k.clone(),
                    None => {
                        std::env::temp_dir().join(format!("kith-search-bench-{}", Uuid::now_v7()))
                    }
                };
                std::fs::create_dir_all(&dir).unwrap();
                let file = dir.join(format!("kith-{n}.db"));
                opts.built_note = keep.as_ref().map(|k| k.join(format!("kith-{n}.db.built")));
                if opts.built_note.as_ref().is_some_and(|p| !p.exists()) {
                    // A build that did not finish is started again from nothing.
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                    }
                }
                let url = format!("sqlite://{}", file.display());
                run("SQLite", &url, n, &opts).await;
                if keep.is_none() {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
            "postgres" => {
                let base = std::env::var("KITH_TEST_PG").expect("set KITH_TEST_PG for PostgreSQL");
                let name = match &keep {
                    Some(_) => format!("kith_search_bench_{n}"),
                    None => format!("kith_search_bench_{}", std::process::id()),
                };
                opts.built_note = keep.as_ref().map(|k| k.join(format!("{name}.built")));
                let admin = sqlx::PgPool::connect(&base).await.unwrap();
                if opts.built_note.as_ref().is_none_or(|p| !p.exists()) {
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&admin)
                        .await
                        .unwrap();
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(&admin)
                        .await
                        .unwrap();
                }
                let url = match base.rfind('/') {
                    Some(i) => format!("{}/{name}", &base[..i]),
                    None => panic!("KITH_TEST_PG must end in /DATABASE"),
                };
                run("PostgreSQL", &url, n, &opts).await;
                if keep.is_none() {
                    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                        .execute(&admin)
                        .await
                        .unwrap();
                }
            }
            other => panic!("unknown backend {other}"),
        }
    }
}
