//! Segments and customer value at scale: a workspace of 1M contacts, 20k companies and
//! 5M orders (fixed seed), then
//! - the full recompute of order figures, RFM scores, behaviour and value tiers,
//! - count and first page of a segment with three conditions, one on orders,
//! - the membership refresh of that segment (enter events for every member),
//!
//! each beside the plain SQL a database expert would write for the same question.
//!
//! `scripts/bench` runs it; alone: `cargo bench -p kith --bench segments` with
//! `KITH_TEST_PG` set. `KITH_BENCH_CONTACTS` (default 1000000), `KITH_BENCH_ORDERS`
//! (default 5 × contacts), `KITH_BENCH_BACKENDS` (default `sqlite,postgres`).

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kith_app::App;
use kith_core::filter::{resolve_field, Filter};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use kith_store::segments::SegmentDef;
use kith_store::{bulk, Db, Exec, ListSpec, Sql, WorkspaceId};
use uuid::Uuid;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SEGMENT: &str = "lifecycle_stage = customer and company.employees >= 50 \
    and sum(orders.total where ordered_at > -90d) >= 500000";

const CITIES: &[&str] = &[
    "København",
    "Aarhus",
    "Odense",
    "Aalborg",
    "北京",
    "上海",
    "London",
];

async fn load(db: &Db, ws: WorkspaceId, contacts: usize, orders: usize) -> f64 {
    let started = Instant::now();
    let now = Utc::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let companies: Vec<(Uuid, i64)> = (0..20_000)
        .map(|_| (Uuid::now_v7(), (rng.below(400)) as i64))
        .collect();
    let w = Scalar::Uuid(ws.0);
    let mut tx = db.begin().await.unwrap();
    let rows: Vec<Vec<Scalar>> = companies
        .iter()
        .enumerate()
        .map(|(i, (id, employees))| {
            vec![
                Scalar::Uuid(*id),
                w.clone(),
                Scalar::Int(1),
                Scalar::Time(now),
                Scalar::Time(now),
                Scalar::Text(format!("Company {i}")),
                Scalar::Int(*employees),
            ]
        })
        .collect();
    bulk::insert_rows(
        &mut tx,
        "companies",
        &[
            "id",
            "workspace_id",
            "version",
            "created_at",
            "updated_at",
            "name",
            "employees",
        ],
        &rows,
        "",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut ids = Vec::with_capacity(contacts);
    for chunk in 0..contacts.div_ceil(50_000) {
        let mut tx = db.begin().await.unwrap();
        let n = 50_000.min(contacts - chunk * 50_000);
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let id = Uuid::now_v7();
            let company = companies[rng.below(companies.len() as u64) as usize].0;
            // 60% are customers (and will have orders).
            let customer = rng.below(10) < 6;
            ids.push((id, company, customer));
            let created = now - chrono::Duration::seconds(rng.below(3 * 365 * 86400) as i64);
            rows.push(vec![
                Scalar::Uuid(id),
                w.clone(),
                Scalar::Int(1),
                Scalar::Time(created),
                Scalar::Time(created),
                Scalar::Text(format!("Person{}", rng.below(100_000))),
                Scalar::Text(CITIES[rng.below(CITIES.len() as u64) as usize].into()),
                Scalar::Text(if customer { "customer" } else { "lead" }.into()),
                Scalar::Uuid(company),
            ]);
        }
        bulk::insert_rows(
            &mut tx,
            "contacts",
            &[
                "id",
                "workspace_id",
                "version",
                "created_at",
                "updated_at",
                "first_name",
                "city",
                "lifecycle_stage",
                "company_id",
            ],
            &rows,
            "",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let customers: Vec<(Uuid, Uuid)> = ids.iter().filter(|c| c.2).map(|c| (c.0, c.1)).collect();
    for chunk in 0..orders.div_ceil(50_000) {
        let mut tx = db.begin().await.unwrap();
        let n = 50_000.min(orders - chunk * 50_000);
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            // Some customers buy far more often than others.
            let pick = rng.below(customers.len() as u64);
            let pick = (pick * rng.below(customers.len() as u64) / customers.len() as u64) as usize;
            let (contact, company) = customers[pick];
            let at = now - chrono::Duration::seconds(rng.below(3 * 365 * 86400) as i64);
            let status = if rng.below(100) < 3 {
                "cancelled"
            } else {
                "paid"
            };
            rows.push(vec![
                Scalar::Uuid(Uuid::now_v7()),
                w.clone(),
                Scalar::Int(1),
                Scalar::Time(at),
                Scalar::Time(at),
                Scalar::Uuid(contact),
                Scalar::Uuid(company),
                Scalar::Time(at),
                Scalar::Text(status.into()),
                Scalar::Text("DKK".into()),
                Scalar::Int(5_000 + rng.below(400_000) as i64),
            ]);
        }
        bulk::insert_rows(
            &mut tx,
            "orders",
            &[
                "id",
                "workspace_id",
                "version",
                "created_at",
                "updated_at",
                "contact_id",
                "company_id",
                "ordered_at",
                "status",
                "currency",
                "total",
            ],
            &rows,
            "",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    db.clone().execute(Sql::new("ANALYZE")).await.unwrap();
    started.elapsed().as_secs_f64()
}

/// Median of `runs` timings of `f`, in milliseconds, and its last result.
async fn time<T, F: std::future::Future<Output = T>>(
    runs: usize,
    mut f: impl FnMut() -> F,
) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f().await);
        times.push(t.elapsed());
    }
    times.sort();
    (ms(times[times.len() / 2]), last.unwrap())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The plain SQL of the segment question: a join to companies and a grouped subquery.
fn expert_segment(ws: WorkspaceId, since: DateTime<Utc>, select: &str, tail: &str) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" FROM contacts c JOIN companies co ON co.id = c.company_id WHERE c.workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND c.deleted_at IS NULL AND c.lifecycle_stage = 'customer' AND co.employees >= 50")
        .push(" AND c.id IN (SELECT contact_id FROM orders WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND deleted_at IS NULL AND ordered_at > ")
        .bind(Scalar::Time(since))
        .push(" GROUP BY contact_id HAVING SUM(total) >= 500000)")
        .push(tail);
    sql
}

/// The plain SQL of RFM written back: one UPDATE from the ranked aggregate.
fn expert_rfm_update(ws: WorkspaceId) -> Sql {
    let mut sql = Sql::new(
        "UPDATE contacts SET rfm_recency = b.r, rfm_frequency = b.f, rfm_monetary = b.m FROM \
         (SELECT contact_id, NTILE(5) OVER (ORDER BY l) AS r, NTILE(5) OVER (ORDER BY n) AS f, \
         NTILE(5) OVER (ORDER BY v) AS m FROM (SELECT contact_id, COUNT(*) AS n, SUM(total) AS v, \
         MAX(ordered_at) AS l FROM orders WHERE workspace_id = ",
    );
    sql.bind(Scalar::Uuid(ws.0)).push(
        " AND deleted_at IS NULL AND status NOT IN ('cancelled', 'refunded') AND contact_id IS NOT NULL \
         GROUP BY contact_id) a) b WHERE contacts.id = b.contact_id",
    );
    sql
}

/// The plain SQL of RFM: aggregate orders per customer, rank in fifths, no writes.
fn expert_rfm(ws: WorkspaceId) -> Sql {
    let mut sql = Sql::new(
        "SELECT COUNT(*) AS n, SUM(r + f + m) AS s FROM (SELECT NTILE(5) OVER (ORDER BY l) AS r, \
         NTILE(5) OVER (ORDER BY n) AS f, NTILE(5) OVER (ORDER BY v) AS m FROM (SELECT contact_id, \
         COUNT(*) AS n, SUM(total) AS v, MAX(ordered_at) AS l FROM orders WHERE workspace_id = ",
    );
    sql.bind(Scalar::Uuid(ws.0)).push(
        " AND deleted_at IS NULL AND status NOT IN ('cancelled', 'refunded') GROUP BY contact_id) a) b",
    );
    sql
}

async fn run(backend: &str, url: &str, contacts: usize, orders: usize) {
    let db = Db::connect(url).await.unwrap();
    kith_store::migrate::run(&db).await.unwrap();
    let app = App::new(db.clone());
    let ws = app
        .configure_workspace("bench", "DKK", Some("DK"), "Europe/Copenhagen")
        .await
        .unwrap()
        .id;
    let load_s = load(&db, ws, contacts, orders).await;
    eprintln!("{backend}: loaded {contacts} contacts and {orders} orders in {load_s:.1} s");

    let t = Instant::now();
    let first = app.recompute_workspace(ws, "DKK").await.unwrap();
    let recompute_s = t.elapsed().as_secs_f64();
    eprintln!("{backend}: first recompute {first:?}");
    let t = Instant::now();
    let again = app.recompute_workspace(ws, "DKK").await.unwrap();
    let again_s = t.elapsed().as_secs_f64();
    eprintln!("{backend}: second recompute {again:?}");
    db.clone().execute(Sql::new("ANALYZE")).await.unwrap();
    let mut ex = db.clone();
    let (rfm_ms, _) = time(3, || {
        let mut ex = ex.clone();
        async move { ex.fetch_all(expert_rfm(ws)).await.unwrap() }
    })
    .await;

    let now = Utc::now();
    let resolved = Filter::parse_text(SEGMENT)
        .unwrap()
        .resolve(ObjectKind::Contact, &[], now)
        .unwrap();
    let (count_ms, count) = time(5, || {
        let mut ex = ex.clone();
        let f = resolved.clone();
        async move {
            kith_store::segments::count(&mut ex, ws, ObjectKind::Contact, &f)
                .await
                .unwrap()
        }
    })
    .await;
    // `-90d` counts from the start of today (UTC), as the filter language does.
    let since =
        now.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc() - chrono::Duration::days(90);
    let (expert_count_ms, rows) = time(5, || {
        let mut ex = ex.clone();
        async move {
            ex.fetch_all(expert_segment(ws, since, "SELECT COUNT(*) AS n", ""))
                .await
                .unwrap()
        }
    })
    .await;
    let expert_count = rows[0].int("n").unwrap().unwrap_or(0);
    assert_eq!(
        count, expert_count,
        "Kith and plain SQL agree on the segment"
    );
    let spec = ListSpec {
        filter: Some(resolved.clone()),
        terms: vec![],
        sort: resolve_field(ObjectKind::Contact, "created_at", &[]).unwrap(),
        desc: false,
        cursor: None,
        limit: 50,
        deleted: false,
    };
    let (page_ms, page) = time(5, || {
        let mut ex = ex.clone();
        let spec = spec.clone();
        async move {
            kith_store::list(&mut ex, ws, ObjectKind::Contact, &spec)
                .await
                .unwrap()
                .0
        }
    })
    .await;
    let (expert_page_ms, expert_page) = time(5, || {
        let mut ex = ex.clone();
        async move {
            ex.fetch_all(expert_segment(
                ws,
                since,
                "SELECT c.id AS id",
                " ORDER BY c.created_at, c.id LIMIT 50",
            ))
            .await
            .unwrap()
        }
    })
    .await;
    assert_eq!(page.len(), expert_page.len());

    let seg = SegmentDef {
        id: Uuid::now_v7(),
        name: "bench".into(),
        object: ObjectKind::Contact,
        filter: SEGMENT.into(),
    };
    let mut sql = Sql::new("INSERT INTO segments (id, workspace_id, version, created_at, updated_at, name, object, filter) VALUES (");
    sql.bind(Scalar::Uuid(seg.id))
        .push(", ")
        .bind(Scalar::Uuid(ws.0))
        .push(", 1, ")
        .bind(Scalar::Time(now))
        .push(", ")
        .bind(Scalar::Time(now))
        .push(", 'bench', 'contact', ")
        .bind(Scalar::Text(SEGMENT.into()))
        .push(")");
    ex.execute(sql).await.unwrap();
    let t = Instant::now();
    let mut tx = db.begin().await.unwrap();
    let r = kith_store::segments::refresh(&mut tx, ws, &seg, &resolved, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let refresh_ms = ms(t.elapsed());

    // Last, because it overwrites the scores with its own.
    let t = Instant::now();
    ex.execute(expert_rfm_update(ws)).await.unwrap();
    let expert_update_s = t.elapsed().as_secs_f64();

    println!("\n## {backend}: {contacts} contacts, {orders} orders (loaded in {load_s:.0} s)\n");
    println!("| question | Kith | plain SQL | ratio |");
    println!("|---|---:|---:|---:|");
    println!(
        "| full recompute (figures, RFM, behaviour, tiers; first run) | {recompute_s:.1} s | {expert_update_s:.1} s (one UPDATE of R, F, M) | {:.1}× |",
        recompute_s / expert_update_s
    );
    println!(
        "| (RFM computed, not written) | | {:.2} s | |",
        rfm_ms / 1000.0
    );
    println!("| recompute again, nothing changed | {again_s:.1} s | | |");
    println!(
        "| segment count ({count} members) | {count_ms:.0} ms | {expert_count_ms:.0} ms | {:.2}× |",
        count_ms / expert_count_ms
    );
    println!(
        "| segment first page (50, by created_at) | {page_ms:.0} ms | {expert_page_ms:.0} ms | {:.2}× |",
        page_ms / expert_page_ms
    );
    println!(
        "| segment refresh ({} entered events) | {refresh_ms:.0} ms | | |",
        r.entered.len()
    );
    println!("\nSegment: `{SEGMENT}`");
    db.close().await;
}

fn main() {
    let contacts: usize = std::env::var("KITH_BENCH_CONTACTS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1_000_000);
    let orders: usize = std::env::var("KITH_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(contacts * 5);
    let backends = std::env::var("KITH_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    let dir = common::scratch_dir("bench-segments");
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "# Segments and RFM, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for b in backends.split(',').map(str::trim) {
        let url = common::fresh_database(&rt, b, &dir, "segments");
        rt.block_on(run(b, &url, contacts, orders));
    }
}
