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
// Data: a fixed-seed xorshift, so every run creates the same contacts.

struct Rng(u64);

impl Rng {
    /// The generator for item `i` of a stream: the same numbers whichever task asks.
    fn for_item(stream: u64, i: usize) -> Rng {
        let mut r = Rng((SEED ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93))
            .wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            | 1);
        for _ in 0..4 {
            r.next();
        }
        r
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const ZH_FAMILY: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
];
const ZH_GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
];
const ZH_CITY: &[&str] = &["北京", "上海", "深圳", "广州", "杭州", "成都", "København"];
const DA_FIRST: &[&str] = &[
    "Søren", "Mette", "Lars", "Anne", "Jens", "Kirsten", "Niels", "Hanne", "Rasmus", "Line",
    "Mads", "Sofie", "Jørgen", "Birgitte", "Frederik", "Ida", "Bjørn", "Åse", "Æbele", "Ulla",
];
const DA_LAST: &[&str] = &[
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
    "Madsen",
    "Kristensen",
    "Østergaard",
    "Brønnum",
    "Kjær",
    "Lærke",
];
const DA_CITY: &[&str] = &[
    "København",
    "Århus",
    "Odense",
    "Aalborg",
    "Esbjerg",
    "Randers",
    "Kolding",
    "Horsens",
    "Vejle",
    "Roskilde",
    "Næstved",
    "Helsingør",
];
const EN_FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Sarah",
];
const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Clark",
];
const EN_CITY: &[(&str, &str)] = &[
    ("London", "GB"),
    ("Manchester", "GB"),
    ("Edinburgh", "GB"),
    ("New York", "US"),
    ("Boston", "US"),
    ("Dublin", "IE"),
    ("København", "DK"),
];
const JOBS: &[&str] = &[
    "Sales Manager",
    "Indkøbschef",
    "工程师",
    "CEO",
    "Developer",
    "Økonomichef",
    "Account Executive",
    "项目经理",
];
/// Danish mobile number prefixes (20 included, so that `q=2012` finds numbers).
const DK_MOBILE: &[u32] = &[
    20, 21, 22, 24, 26, 28, 30, 31, 40, 41, 42, 50, 51, 52, 53, 60, 61,
];
const STAGES: &[&str] = &["subscriber", "lead", "customer"];

/// One generated contact, as a client would type it.
struct Person {
    first: String,
    last: String,
    email: String,
    /// As typed: `20 12 34 56`.
    phone: String,
    job_title: Option<&'static str>,
    city: &'static str,
    stage: &'static str,
    country: &'static str,
}

fn ascii_name(s: &str) -> String {
    s.to_lowercase()
        .replace('æ', "ae")
        .replace('ø', "oe")
        .replace('å', "aa")
}

/// Contact number `i`: the same every run. 0 is 张伟 and 1 is Søren Jensen.
fn person(i: usize) -> Person {
    let mut r = Rng::for_item(1, i);
    let culture = match i {
        0 => 0,
        1 => 1,
        _ => r.below(3),
    };
    let (first, last, email, city, country) = match culture {
        0 => {
            let (fam, fam_py) = if i == 0 {
                ZH_FAMILY[2]
            } else {
                *r.pick(ZH_FAMILY)
            };
            let (giv, giv_py) = if i == 0 {
                ZH_GIVEN[0]
            } else {
                *r.pick(ZH_GIVEN)
            };
            let (city, country) = match r.below(4) {
                0 => ("København", "DK"),
                _ => (*r.pick(&ZH_CITY[..ZH_CITY.len() - 1]), "CN"),
            };
            let email = format!("{giv_py}.{fam_py}{i}@example.cn");
            (giv.to_string(), fam.to_string(), email, city, country)
        }
        1 => {
            let first = if i == 1 {
                DA_FIRST[0]
            } else {
                *r.pick(DA_FIRST)
            };
            let last = if i == 1 { DA_LAST[0] } else { *r.pick(DA_LAST) };
            let email = format!("{}.{}{i}@example.dk", ascii_name(first), ascii_name(last));
            (
                first.to_string(),
                last.to_string(),
                email,
                *r.pick(DA_CITY),
                "DK",
            )
        }
        _ => {
            let first = *r.pick(EN_FIRST);
            let last = *r.pick(EN_LAST);
            let (city, country) = *r.pick(EN_CITY);
            let email = format!(
                "{}.{}{i}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            );
            (first.to_string(), last.to_string(), email, city, country)
        }
    };
    let phone = format!(
        "{} {} {:02} {:02}",
        r.pick(DK_MOBILE),
        10 + r.below(90),
        r.below(100),
        r.below(100)
    );
    let job_title = (r.below(2) == 0).then(|| *r.pick(JOBS));
    Person {
        first,
        last,
        email,
        phone,
        job_title,
        city,
        stage: STAGES[r.below(STAGES.len())],
        country,
    }
}

impl Person {
    fn body(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("first_name".into(), json!(self.first));
        m.insert("last_name".into(), json!(self.last));
        m.insert("email".into(), json!(self.email));
        m.insert("phone".into(), json!(self.phone));
        if let Some(j) = self.job_title {
            m.insert("job_title".into(), json!(j));
        }
        m.insert("city".into(), json!(self.city));
        m.insert("lifecycle_stage".into(), json!(self.stage));
        m.insert("country".into(), json!(self.country));
        m
    }
    /// The phone as Kith stores it (E.164).
    fn e164(&self) -> String {
        format!("+45{}", self.phone.replace(' ', ""))
    }
}

// ---------------------------------------------------------------------------------------
// Timing.

/// Latencies (sorted) and the wall time they took.
struct Stats {
    wall: Duration,
    lat: Vec<Duration>,
    /// Rows the question answered (lists only).
    rows: Option<usize>,
    /// Share of the machine's CPU time that other processes used meanwhile.
    others: f64,
}

impl Stats {
    fn new(wall: Duration, mut lat: Vec<Duration>, rows: Option<usize>, before: Cpu) -> Stats {
        lat.sort();
        let others = Cpu::now().others_since(&before);
        Stats {
            wall,
            lat,
            rows,
            others,
        }
    }
    fn rate(&self) -> f64 {
        self.lat.len() as f64 / self.wall.as_secs_f64()
    }
    fn ms(&self, q: f64) -> f64 {
        let i = ((self.lat.len() as f64 * q).ceil() as usize).clamp(1, self.lat.len()) - 1;
        self.lat[i].as_secs_f64() * 1000.0
    }
}

/// Runs `f(0..n)` on `clients` concurrent tasks; returns the timings and `f`'s answers.
async fn concurrent<T, F, Fut>(n: usize, clients: usize, f: F) -> (Stats, Vec<(usize, T)>)
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = Cpu::now();
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (f, next) = (f.clone(), next.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break out;
                    }
                    let t = Instant::now();
                    let v = f(i).await;
                    out.push((t.elapsed(), i, v));
                }
            })
        })
        .collect();
    let mut lat = Vec::with_capacity(n);
    let mut answers = Vec::with_capacity(n);
    for t in tasks {
        for (d, i, v) in t.await.expect("bench task") {
            lat.push(d);
            answers.push((i, v));
        }
    }
    (Stats::new(start.elapsed(), lat, None, cpu), answers)
}

/// Asks `f` `LIST_WARMUP` unmeasured then `LIST_RUNS` measured times, one after another;
/// `f` answers how many rows it got.
async fn sequential<F, Fut>(f: F) -> Stats
where
    F: Fn() -> Fut,
    Fut: Future<Output = usize>,
{
    let mut rows = 0;
    for _ in 0..LIST_WARMUP {
        rows = f().await;
    }
    let mut lat = Vec::with_capacity(LIST_RUNS);
    let cpu = Cpu::now();
    let start = Instant::now();
    for _ in 0..LIST_RUNS {
        let t = Instant::now();
        f().await;
        lat.push(t.elapsed());
    }
    Stats::new(start.elapsed(), lat, Some(rows), cpu)
}

/// The PostgreSQL server's main process, when it runs on this machine (0: unknown).
static POSTMASTER: AtomicU32 = AtomicU32::new(0);

/// CPU time (clock ticks) of the machine, of this process and of the local PostgreSQL.
struct Cpu {
    busy: u64,
    total: u64,
    ours: u64,
}

/// (ppid, utime + stime) of a process, from /proc/PID/stat.
fn proc_stat(pid: &str) -> Option<(u32, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = s[s.rfind(')')? + 1..].split_whitespace().collect();
    Some((
        f.get(1)?.parse().ok()?,
        f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
    ))
}

impl Cpu {
    fn now() -> Cpu {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let t: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal
        let busy = [0, 1, 2, 5, 6].iter().filter_map(|&i| t.get(i)).sum();
        let total = t.iter().take(8).sum();
        let mut ours = proc_stat("self").map_or(0, |(_, c)| c);
        let pm = POSTMASTER.load(Ordering::Relaxed);
        if pm != 0 {
            for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let name = e.file_name();
                let Some(pid) = name
                    .to_str()
                    .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                else {
                    continue;
                };
                if let Some((ppid, c)) = proc_stat(pid) {
                    if ppid == pm || pid == pm.to_string() {
                        ours += c;
                    }
                }
            }
        }
        Cpu { busy, total, ours }
    }

    /// Share of all CPU time since `before` spent by processes other than this one
    /// and its PostgreSQL server.
    fn others_since(&self, before: &Cpu) -> f64 {
        let total = self.total.saturating_sub(before.total).max(1) as f64;
        let busy = self.busy.saturating_sub(before.busy) as f64;
        let ours = self.ours.saturating_sub(before.ours) as f64;
        ((busy - ours) / total).max(0.0)
    }
}

/// The 1, 5 and 15 minute load averages: other work on the machine skews the figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
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

// ---------------------------------------------------------------------------------------
// The raw baseline: a plain sqlx pool on the same database, none of Kith's code.

enum Raw {
    /// Pools as Kith sizes them: 4 readers, one writer (SQLite has one writer anyway).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Pg(PgPool),
}

#[derive(Clone)]
enum Arg {
    Uuid(Uuid),
    Text(String),
    Int(i64),
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Uuid(u) => q.bind(*u),
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

fn sqlite_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Raw {
    async fn connect(url: &str) -> Raw {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("cache_size", "-32000");
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await
                .expect("raw SQLite writer");
            let read = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts)
                .await
                .expect("raw SQLite readers");
            Raw::Sqlite { read, write }
        } else {
            let opts = PgConnectOptions::from_str(url).expect("PostgreSQL URL");
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(opts)
                .await
                .expect("raw PostgreSQL pool");
            // A local server's backends are children of its main process: find it, so
            // that their CPU time is not counted as other work on the machine.
            let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(&pool)
                .await
                .expect("backend pid");
            if let Some((postmaster, _)) = proc_stat(&backend.to_string()) {
                POSTMASTER.store(postmaster, Ordering::Relaxed);
            }
            Raw::Pg(pool)
        }
    }

    async fn version(&self) -> String {
        match self {
            Raw::Sqlite { read, .. } => sqlx::query_scalar("SELECT 'SQLite ' || sqlite_version()")
                .fetch_one(read)
                .await
                .expect("version"),
            Raw::Pg(p) => sqlx::query_scalar("SELECT version()")
                .fetch_one(p)
                .await
                .expect("version"),
        }
    }

    /// Brings the planner's statistics up to date.
    async fn settle(&self) {
        self.execute(match self {
            Raw::Sqlite { .. } => "ANALYZE",
            Raw::Pg(_) => "VACUUM ANALYZE",
        })
        .await;
    }

    /// How many rows `sql` (which ends in `LIMIT $n`, its last argument) finds unlimited.
    async fn count(&self, sql: &str, args: &[Arg]) -> i64 {
        let inner = &sql[..sql.rfind(" LIMIT ").expect("a LIMIT")];
        let sql = format!("SELECT count(*) FROM ({inner}) x");
        let args = &args[..args.len() - 1];
        match self {
            Raw::Sqlite { read, .. } => bind_all!(sqlx::query_scalar(&sql), args)
                .fetch_one(read)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Raw::Pg(p) => bind_all!(sqlx::query_scalar(&sql), args)
                .fetch_one(p)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    async fn close(&self) {
        match self {
            Raw::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Raw::Pg(p) => p.close().await,
        }
    }

    async fn execute(&self, sql: &str) {
        match self {
            Raw::Sqlite { write, .. } => sqlx::raw_sql(sql).execute(write).await.map(|_| ()),
            Raw::Pg(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// `bench_raw_contacts`: the `contacts` table and its indexes, copied from the
    /// migration of this dialect and renamed.
    async fn create_table(&self) {
        let migration = match self {
            Raw::Sqlite { .. } => include_str!("../../kith-store/migrations/sqlite/0001_init.sql"),
            Raw::Pg(_) => include_str!("../../kith-store/migrations/postgres/0001_init.sql"),
        };
        let start = migration
            .find("CREATE TABLE contacts (")
            .expect("the migration creates contacts");
        let end = start
            + migration[start..]
                .find("\n);")
                .expect("CREATE TABLE contacts ends")
            + 3;
        let mut sql = migration[start..end].replacen(
            "CREATE TABLE contacts (",
            "CREATE TABLE bench_raw_contacts (",
            1,
        ) + "\n";
        let mut indexes = 0;
        for line in migration.lines() {
            let line = line.trim();
            if line.starts_with("CREATE ") && line.contains(" INDEX contacts_") {
                let renamed = line
                    .replacen(" INDEX contacts_", " INDEX bench_raw_contacts_", 1)
                    .replacen(" ON contacts(", " ON bench_raw_contacts(", 1)
                    .replacen(" ON contacts (", " ON bench_raw_contacts (", 1);
                assert!(renamed.contains("bench_raw_contacts("), "{line}");
                sql.push_str(&renamed);
                sql.push('\n');
                indexes += 1;
            }
        }
        assert!(indexes > 0, "the migration indexes contacts");
        self.execute(&sql).await;
    }

    /// One autocommit INSERT of the row Kith would write for `p`.
    async fn insert(&self, ws: Uuid, p: &Person) {
        const SQL: &str = "INSERT INTO bench_raw_contacts (id, workspace_id, version, created_at, updated_at, first_name, last_name, email, phone, job_title, lifecycle_stage, city, country, custom) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
        let now = Utc::now();
        let id = Uuid::now_v7();
        let r = match self {
            Raw::Sqlite { write, .. } => sqlx::query(SQL)
                .bind(id)
                .bind(ws)
                .bind(sqlite_time(&now))
                .bind(sqlite_time(&now))
                .bind(&p.first)
                .bind(&p.last)
                .bind(&p.email)
                .bind(p.e164())
                .bind(p.job_title)
                .bind(p.stage)
                .bind(p.city)
                .bind(p.country)
                .bind("{}")
                .execute(write)
                .await
                .map(|_| ()),
            Raw::Pg(pool) => sqlx::query(SQL)
                .bind(id)
                .bind(ws)
                .bind(now)
                .bind(now)
                .bind(&p.first)
                .bind(&p.last)
                .bind(&p.email)
                .bind(p.e164())
                .bind(p.job_title)
                .bind(p.stage)
                .bind(p.city)
                .bind(p.country)
                .bind(sqlx::types::Json(json!({})))
                .execute(pool)
                .await
                .map(|_| ()),
        };
        r.expect("raw insert");
    }

    /// Runs a query; answers how many rows came back (reading each row's id).
    async fn rows(&self, sql: &str, args: &[Arg]) -> usize {
        match self {
            Raw::Sqlite { read, .. } => bind_all!(sqlx::query(sql), args)
                .fetch_all(read)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .filter(|r| !r.get::<Uuid, _>("id").is_nil())
                .count(),
            Raw::Pg(p) => bind_all!(sqlx::query(sql), args)
                .fetch_all(p)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .filter(|r| !r.get::<Uuid, _>("id").is_nil())
                .count(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// One backend.

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
        "{COLS} AND id IN (SELECT record_id FROM search_terms WHERE workspace_id = $2 AND term >= $3 AND term < $4) ORDER BY created_at, id LIMIT $5"
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
