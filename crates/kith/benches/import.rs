//! Import throughput: `kith import contacts` of a generated CSV (Danish, Chinese and
//! English names, 0.1% bad rows) as a child process on SQLite and PostgreSQL — rows/s
//! and peak RSS — next to the database's own bulk load of the same rows into a bare
//! table (SQLite: multi-row INSERTs in one transaction; PostgreSQL: COPY), and next to
//! the database writing the very rows Kith wrote — every table and index the import
//! filled, copied by `INSERT … SELECT` in the order Kith wrote them — which is the floor
//! for this schema: no parsing, validation, binding or round trips.
//!
//! `scripts/bench` runs it; alone: `cargo bench -p kith --bench import` with
//! `KITH_TEST_PG` set. `KITH_BENCH_IMPORT_ROWS` (default 1000000),
//! `KITH_BENCH_BACKENDS` (default `sqlite,postgres`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use kith_app::{App, Role};
use kith_store::Db;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

const FIRST: &[&str] = &[
    "Søren", "Mette", "Åse", "Jens", "Anne", "Lars", "Kirsten", "Ærling", "Ida", "Mads", "伟",
    "芳", "娜", "敏", "静", "Emma", "Oliver", "Sophia", "James", "Olivia",
];
const LAST: &[&str] = &[
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Østergård",
    "Kierkegaard",
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

fn generate(path: &Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create csv"));
    writeln!(
        f,
        "First Name,Last Name,Email,Phone,Company,City,Birthday,Tags"
    )
    .unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..rows {
        let r = next();
        let first = FIRST[(r % FIRST.len() as u64) as usize];
        let last = LAST[((r >> 8) % LAST.len() as u64) as usize];
        if i % 1000 == 999 {
            writeln!(f, "{first},{last},not-an-email,,,,,").unwrap();
            continue;
        }
        writeln!(
            f,
            "{first},{last},c{i}@example.com,+86 138 {:08},Company {},{},{}-{:02}-{:02},{}",
            i,
            (r >> 16) % 5000,
            ["København", "Aarhus", "Odense", "北京", "上海"][((r >> 24) % 5) as usize],
            1950 + (r >> 28) % 50,
            1 + (r >> 34) % 12,
            1 + (r >> 40) % 28,
            ["vip", "nordic", "newsletter", ""][((r >> 44) % 4) as usize]
        )
        .unwrap();
    }
}

/// Runs `kith import` and samples its peak resident memory.
fn run_import(db: &str, file: &Path) -> (f64, u64, String) {
    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(["--db", db, "import", "contacts"])
        .arg(file)
        .args(["--user", "bench@kith.local"])
        .env("KITH_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kith import");
    let pid = child.id();
    let mut peak_kb = 0u64;
    let out = std::thread::scope(|s| {
        let waiter = s.spawn(|| child.wait_with_output().expect("kith import ends"));
        while !waiter.is_finished() {
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                for line in status.lines().filter(|l| l.starts_with("VmHWM:")) {
                    let kb: u64 = line
                        .split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    peak_kb = peak_kb.max(kb);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        waiter.join().expect("waiter")
    });
    let secs = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "kith import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (secs, peak_kb, String::from_utf8_lossy(&out.stdout).into())
}

async fn raw_sqlite(path: &str, file: &Path) -> f64 {
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
        .unwrap()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE raw_contacts (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, company TEXT, city TEXT, birthday TEXT, tags TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    let started = Instant::now();
    let mut reader = csv::Reader::from_path(file).unwrap();
    let mut tx = pool.begin().await.unwrap();
    let mut batch: Vec<csv::StringRecord> = Vec::with_capacity(100);
    let flush = |batch: &mut Vec<csv::StringRecord>| {
        let mut sql = String::from("INSERT INTO raw_contacts (first_name, last_name, email, phone, company, city, birthday, tags) VALUES ");
        for i in 0..batch.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str("(?,?,?,?,?,?,?,?)");
        }
        let rows = std::mem::take(batch);
        (sql, rows)
    };
    for rec in reader.records() {
        batch.push(rec.unwrap());
        if batch.len() == 100 {
            let (sql, rows) = flush(&mut batch);
            let mut q = sqlx::query(&sql);
            for r in &rows {
                for c in r.iter() {
                    q = q.bind(c.to_string());
                }
            }
            q.execute(&mut *tx).await.unwrap();
        }
    }
    if !batch.is_empty() {
        let (sql, rows) = flush(&mut batch);
        let mut q = sqlx::query(&sql);
        for r in &rows {
            for c in r.iter() {
                q = q.bind(c.to_string());
            }
        }
        q.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    started.elapsed().as_secs_f64()
}

async fn raw_postgres(url: &str, file: &Path) -> f64 {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE raw_contacts (id BIGSERIAL PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, company TEXT, city TEXT, birthday TEXT, tags TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    let started = Instant::now();
    let mut conn = pool.acquire().await.unwrap();
    let mut copy = conn
        .copy_in_raw("COPY raw_contacts (first_name, last_name, email, phone, company, city, birthday, tags) FROM STDIN (FORMAT csv, HEADER true)")
        .await
        .unwrap();
    copy.send(std::fs::read(file).unwrap()).await.unwrap();
    copy.finish().await.unwrap();
    started.elapsed().as_secs_f64()
}

/// Tables a `SELECT *` copies in the order the import wrote them: by record, not by
/// the table's own key (terms and keys are written record by record).
fn copy_order(columns: &[String]) -> String {
    ["record_id", "contact_id", "doc"]
        .iter()
        .find(|c| columns.iter().any(|x| x == *c))
        .map(|c| format!(" ORDER BY {c}"))
        .unwrap_or_default()
}

/// SQLite writing the rows of Kith's database at `kith` into a fresh database with the
/// same schema, in one transaction: seconds.
async fn same_rows_sqlite(kith: &Path, dir: &Path) -> f64 {
    let path = dir.join("same.db");
    let url = format!("sqlite://{}", path.display());
    let db = Db::connect(&url).await.expect("connect");
    kith_store::migrate::run(&db).await.expect("migrate");
    db.close().await;
    // The settings Kith's import runs with.
    let opts = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .pragma("cache_size", "-131072")
        .pragma("temp_store", "2");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    sqlx::query(&format!("ATTACH DATABASE '{}' AS src", kith.display()))
        .execute(&pool)
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM src.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '_sqlx%' ORDER BY rowid",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut plan = vec![];
    for t in tables {
        let seeded: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM main.\"{t}\""))
            .fetch_one(&pool)
            .await
            .unwrap();
        if seeded > 0 {
            continue;
        }
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
            .bind(&t)
            .fetch_all(&pool)
            .await
            .unwrap();
        let order = copy_order(&columns);
        plan.push(format!(
            "INSERT INTO main.\"{t}\" SELECT * FROM src.\"{t}\"{order}"
        ));
    }
    let started = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    for q in &plan {
        sqlx::query(q).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    pool.close().await;
    secs
}

/// PostgreSQL writing the rows of Kith's database at `url` into empty copies of its
/// tables (`LIKE … INCLUDING ALL`: columns, defaults, keys, indexes; not foreign keys)
/// in one transaction: seconds.
async fn same_rows_postgres(url: &str) -> f64 {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%' ORDER BY table_name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    sqlx::query("CREATE SCHEMA same")
        .execute(&pool)
        .await
        .unwrap();
    let mut plan = vec![];
    for t in tables {
        sqlx::query(&format!(
            "CREATE TABLE same.\"{t}\" (LIKE public.\"{t}\" INCLUDING ALL)"
        ))
        .execute(&pool)
        .await
        .unwrap();
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&t)
        .fetch_all(&pool)
        .await
        .unwrap();
        let order = copy_order(&columns);
        plan.push(format!(
            "INSERT INTO same.\"{t}\" SELECT * FROM public.\"{t}\"{order}"
        ));
    }
    let started = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    for q in &plan {
        sqlx::query(q).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    pool.close().await;
    secs
}

async fn prepare(url: &str) {
    let db = Db::connect(url).await.expect("connect");
    kith_store::migrate::run(&db).await.expect("migrate");
    let app = App::new(db);
    app.configure_workspace("bench", "DKK", Some("DK"), "Europe/Copenhagen")
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
    app.db().close().await;
}

fn main() {
    let rows: usize = std::env::var("KITH_BENCH_IMPORT_ROWS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1_000_000);
    let backends = std::env::var("KITH_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-import");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("contacts-{rows}.csv"));
    generate(&file, rows);
    let size = std::fs::metadata(&file).unwrap().len();
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "# Import of {rows} contacts ({:.0} MB CSV, 0.1% bad rows), {} cores",
        size as f64 / 1e6,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| backend | kith import | rows/s | peak RSS | raw bulk load | rows/s | ratio | same rows, database alone | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for b in backends.split(',').map(str::trim) {
        let (url, raw_secs) = match b {
            "sqlite" => {
                let url = format!("sqlite://{}", dir.join("kith.db").display());
                let raw = rt.block_on(raw_sqlite(&dir.join("raw.db").display().to_string(), &file));
                (url, raw)
            }
            "postgres" => {
                let base =
                    std::env::var("KITH_TEST_PG").expect("KITH_TEST_PG for the PostgreSQL run");
                let (head, _) = base.rsplit_once('/').unwrap();
                let name = format!("kith_bench_import_{}", std::process::id());
                let raw_name = format!("{name}_raw");
                rt.block_on(async {
                    let admin = sqlx::PgPool::connect(&base).await.unwrap();
                    for n in [&name, &raw_name] {
                        sqlx::query(&format!("CREATE DATABASE {n}"))
                            .execute(&admin)
                            .await
                            .unwrap();
                    }
                });
                let raw = rt.block_on(raw_postgres(&format!("{head}/{raw_name}"), &file));
                (format!("{head}/{name}"), raw)
            }
            other => panic!("unknown backend {other}"),
        };
        rt.block_on(prepare(&url));
        let (secs, peak_kb, out) = run_import(&url, &file);
        eprintln!("{out}");
        let same_secs = match b {
            "sqlite" => rt.block_on(same_rows_sqlite(&dir.join("kith.db"), &dir)),
            _ => rt.block_on(same_rows_postgres(&url)),
        };
        println!(
            "| {b} | {secs:.1} s | {:.0} | {:.0} MB | {raw_secs:.1} s | {:.0} | {:.1}× | {same_secs:.1} s | {:.1}× |",
            rows as f64 / secs,
            peak_kb as f64 / 1024.0,
            rows as f64 / raw_secs,
            secs / raw_secs,
            secs / same_secs
        );
        // A million contacts are gigabytes: leave no database behind.
        if b == "sqlite" {
            for f in ["kith.db", "same.db", "raw.db"] {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(dir.join(format!("{f}{suffix}")));
                }
            }
        }
        if b == "postgres" {
            let base = std::env::var("KITH_TEST_PG").unwrap();
            let (_, name) = url.rsplit_once('/').unwrap();
            rt.block_on(async {
                let admin = sqlx::PgPool::connect(&base).await.unwrap();
                for n in [name.to_string(), format!("{name}_raw")] {
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"))
                        .execute(&admin)
                        .await
                        .unwrap();
                }
            });
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
