//! The bulk write path (`insert_rows`) stores every value as given: on PostgreSQL by
//! `COPY` (no tail) exactly as by `INSERT` (with a tail), on SQLite by `INSERT`.

use chrono::{DateTime, NaiveDate, Utc};
use kith_core::{Scalar, ScalarType};
use kith_store::bulk::{insert_rows, pipelined, Insert};
use kith_store::{Db, Dialect, Exec, List, Sql};
use serde_json::json;

use crate::harness::both;

const COLUMNS: &[&str] = &["k", "t", "i", "f", "b", "u", "d", "ts", "j"];
const TYPES: &[ScalarType] = &[
    ScalarType::Int,
    ScalarType::Text,
    ScalarType::Int,
    ScalarType::Float,
    ScalarType::Bool,
    ScalarType::Uuid,
    ScalarType::Date,
    ScalarType::Time,
    ScalarType::Json,
];

/// Text that COPY's format reads specially, and text a CRM holds.
const AWKWARD: &[&str] = &[
    "tab\there",
    "line\nbreak",
    "carriage\r\nreturn",
    "back\\slash\\",
    "\\N",
    "\\.",
    "\\",
    "'single' \"double\"",
    "Søren Østergård, Ærø, Åse",
    "张伟",
    "",
    " leading and trailing ",
];

async fn create_table(db: &Db, name: &str) {
    let cols = match db.dialect() {
        Dialect::Sqlite => {
            "k INTEGER PRIMARY KEY, t TEXT, i INTEGER, f REAL, b INTEGER, u BLOB, d TEXT, ts TEXT, j TEXT"
        }
        Dialect::Postgres => {
            "k bigint PRIMARY KEY, t text, i bigint, f double precision, b boolean, u uuid, d date, ts timestamptz, j jsonb"
        }
    };
    db.clone()
        .execute(Sql::new(&format!("CREATE TABLE {name} ({cols})")))
        .await
        .unwrap();
}

async fn read_back(db: &Db, name: &str) -> Vec<Vec<Scalar>> {
    let sql = Sql::new(&format!(
        "SELECT {} FROM {name} ORDER BY k",
        COLUMNS.join(", ")
    ));
    db.clone()
        .fetch_all(sql)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            COLUMNS
                .iter()
                .zip(TYPES)
                .map(|(c, ty)| r.scalar(c, *ty).unwrap())
                .collect()
        })
        .collect()
}

/// A fresh table `name` holding [`rows`], committed; the rows it holds.
async fn stored(db: &Db, name: &str) -> Vec<Vec<Scalar>> {
    create_table(db, name).await;
    let rows = rows();
    let mut tx = db.begin().await.unwrap();
    insert_rows(&mut tx, name, COLUMNS, &rows, "")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows
}

fn time(micros: i64) -> Scalar {
    Scalar::Time(DateTime::<Utc>::from_timestamp_micros(micros).unwrap())
}

fn date(y: i32, m: u32, d: u32) -> Scalar {
    Scalar::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

/// Rows both backends store exactly: every awkward text, NULLs of each type, JSON
/// holding the same text, and enough rows to fill several COPY chunks.
fn rows() -> Vec<Vec<Scalar>> {
    let mut rows = vec![TYPES
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            if i == 0 {
                Scalar::Int(0)
            } else {
                Scalar::Null(*ty)
            }
        })
        .collect::<Vec<_>>()];
    let floats = [0.1, -2.5, 1e300, 1e-300, 123_456.789, 0.0, f64::EPSILON];
    let ints = [i64::MIN, i64::MAX, 0, -1, 42];
    let dates = [date(2024, 2, 29), date(1900, 1, 1), date(9999, 12, 31)];
    let times = [
        1_765_000_000_123_456,
        0,
        -1,
        946_684_799_999_999,
        253_402_300_799_999_999,
    ];
    for k in 1..6000i64 {
        let n = k as usize;
        let text = AWKWARD[n % AWKWARD.len()];
        let long = AWKWARD.join("|");
        rows.push(vec![
            Scalar::Int(k),
            Scalar::Text(if n.is_multiple_of(5) {
                long
            } else {
                text.to_string()
            }),
            Scalar::Int(ints[n % ints.len()]),
            Scalar::Float(floats[n % floats.len()] * (k as f64)),
            Scalar::Bool(k % 2 == 0),
            Scalar::Uuid(uuid::Uuid::now_v7()),
            dates[n % dates.len()].clone(),
            time(times[n % times.len()] - k),
            Scalar::Json(json!({
                "text": text,
                "all": AWKWARD,
                "n": k,
                "x": 1.5,
                "nested": {"none": null, "yes": true, "list": [text, "\\N"]},
            })),
        ]);
    }
    rows
}

/// Values only PostgreSQL holds (SQLite's REAL drops the sign of zero; its dates and
/// times are text): the COPY path must store them as binding does.
fn edge_rows() -> Vec<Vec<Scalar>> {
    let at = |d: NaiveDate, nanos: u32| {
        Scalar::Time(d.and_hms_nano_opt(23, 59, 59, nanos).unwrap().and_utc())
    };
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let floats = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
    ];
    let times = [
        at(d(2026, 12, 6), 123_456_789),
        at(d(1999, 12, 31), 999_999_500),
        at(d(2016, 12, 31), 1_500_000_999),
        at(d(0, 6, 1), 1_000),
        at(d(10_000, 1, 1), 0),
    ];
    let dates = [d(0, 3, 1), d(-100, 1, 1), d(12_345, 6, 7)];
    (0..floats.len().max(times.len()))
        .map(|i| {
            vec![
                Scalar::Int(-1 - i as i64),
                Scalar::Text(format!("edge {i}")),
                Scalar::Int(i as i64),
                Scalar::Float(floats[i % floats.len()]),
                Scalar::Bool(true),
                Scalar::Uuid(uuid::Uuid::nil()),
                Scalar::Date(dates[i % dates.len()]),
                times[i % times.len()].clone(),
                Scalar::Json(json!(null)),
            ]
        })
        .collect()
}

both!(
    bulk_insert_stores_awkward_text_nulls_json_and_times_exactly,
    |app| async move {
        let db = app.app.db();
        create_table(db, "bulk_probe").await;
        let rows = rows();
        let mut tx = db.begin().await.unwrap();
        insert_rows(&mut tx, "bulk_probe", COLUMNS, &rows, "")
            .await
            .unwrap();
        // The transaction goes on after the bulk insert.
        let n = tx
            .fetch_optional(Sql::new("SELECT count(*) AS n FROM bulk_probe"))
            .await
            .unwrap()
            .and_then(|r| r.int("n").unwrap());
        assert_eq!(n, Some(rows.len() as i64));
        tx.commit().await.unwrap();
        assert_eq!(read_back(db, "bulk_probe").await, rows);

        // A refused bulk insert (every key taken) reports the unique violation and
        // leaves the database usable.
        let mut tx = db.begin().await.unwrap();
        let err = insert_rows(&mut tx, "bulk_probe", COLUMNS, &rows[1..], "")
            .await
            .unwrap_err();
        assert!(
            matches!(err.unique_as("k"), kith_store::Error::Duplicate(_)),
            "not a unique violation"
        );
        drop(tx);
        assert_eq!(read_back(db, "bulk_probe").await.len(), rows.len());

        if db.dialect() == Dialect::Postgres {
            // COPY (no tail) and INSERT (a tail) store the same values, bit for bit.
            create_table(db, "bulk_probe_insert").await;
            let mut all = rows.clone();
            all.extend(edge_rows());
            let mut tx = db.begin().await.unwrap();
            insert_rows(&mut tx, "bulk_probe", COLUMNS, &edge_rows(), "")
                .await
                .unwrap();
            insert_rows(
                &mut tx,
                "bulk_probe_insert",
                COLUMNS,
                &all,
                " ON CONFLICT DO NOTHING",
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            let differ = db
                .clone()
                .fetch_all(Sql::new(
                    "SELECT coalesce(c.k, s.k) AS k FROM bulk_probe c FULL JOIN bulk_probe_insert s ON c.k = s.k \
                     WHERE c::text IS DISTINCT FROM s::text ORDER BY 1",
                ))
                .await
                .unwrap()
                .iter()
                .map(|r| r.int("k").unwrap().unwrap())
                .collect::<Vec<_>>();
            assert_eq!(differ, Vec::<i64>::new(), "rows COPY stored otherwise");
            assert_eq!(
                read_back(db, "bulk_probe").await.len(),
                rows.len() + edge_rows().len()
            );
        }
    }
);

both!(
    pipelined_writes_store_every_row_in_order_and_report_a_refused_one,
    |app| async move {
        let db = app.app.db();
        create_table(db, "bulk_probe").await;
        create_table(db, "bulk_probe_tail").await;
        let rows = rows();
        let insert = |table: &'static str, rows: Vec<Vec<Scalar>>, tail: &'static str| Insert {
            table,
            columns: COLUMNS.to_vec(),
            rows,
            tail,
        };
        // Two tables, the second with a tail (INSERT on both backends), each spanning
        // several statements; what the builder returns comes back.
        let mut tx = db.begin().await.unwrap();
        let (a, b) = (rows.clone(), rows.clone());
        let made = pipelined(&mut tx, move |out| {
            let first = out.put(insert("bulk_probe", a, ""));
            let second = out.put(insert("bulk_probe_tail", b, " ON CONFLICT DO NOTHING"));
            (first, second, 42)
        })
        .await
        .unwrap();
        assert_eq!(made, (true, true, 42));
        tx.commit().await.unwrap();
        assert_eq!(read_back(db, "bulk_probe").await, rows);
        assert_eq!(read_back(db, "bulk_probe_tail").await, rows);

        // A statement refused part-way (its keys are taken): the write ends with that
        // error, the builder learns it and stops, and nothing of the transaction stays.
        create_table(db, "bulk_probe_more").await;
        let mut tx = db.begin().await.unwrap();
        let fresh: Vec<Vec<Scalar>> = rows
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r[0] = match r[0] {
                    Scalar::Int(k) => Scalar::Int(k + 1_000_000),
                    _ => unreachable!("keys are integers"),
                };
                r
            })
            .collect();
        let (taken, more) = (rows[1..].to_vec(), fresh.clone());
        let (told, seen) = std::sync::mpsc::channel();
        let err = pipelined(&mut tx, move |out| {
            out.put(insert("bulk_probe_more", more.clone(), ""));
            out.put(insert("bulk_probe", taken, ""));
            // Everything after the refused table is thrown away; the builder is told.
            let mut accepted = true;
            for _ in 0..1000 {
                accepted = out.put(insert("bulk_probe_more", more.clone(), ""));
                if !accepted {
                    break;
                }
            }
            told.send(accepted).unwrap();
        })
        .await
        .unwrap_err();
        let shown = err.to_string();
        assert!(
            matches!(err.unique_as("k"), kith_store::Error::Duplicate(_)),
            "not a unique violation: {shown}"
        );
        assert!(
            !tokio::task::spawn_blocking(move || seen.recv().unwrap())
                .await
                .unwrap(),
            "the builder was not told the write stopped"
        );
        drop(tx);
        assert_eq!(read_back(db, "bulk_probe").await, rows);
        assert_eq!(
            read_back(db, "bulk_probe_more").await,
            Vec::<Vec<Scalar>>::new()
        );
    }
);

both!(
    a_bound_list_matches_its_values_on_both_backends,
    |app| async move {
        let db = app.app.db();
        let rows = stored(db, "bulk_probe").await;
        let keys = |sql: Sql| async move {
            db.clone()
                .fetch_all(sql)
                .await
                .unwrap()
                .iter()
                .map(|r| r.int("k").unwrap().unwrap())
                .collect::<Vec<_>>()
        };
        let uuid_of = |k: usize| match &rows[k][5] {
            Scalar::Uuid(u) => *u,
            _ => unreachable!("column u holds uuids"),
        };

        // Ids, with values around the list (placeholders before and after keep their
        // places), one absent and one repeated.
        let wanted: Vec<uuid::Uuid> = (1..3000).step_by(7).map(uuid_of).collect();
        let mut ids = wanted.clone();
        ids.push(uuid::Uuid::now_v7());
        ids.push(wanted[0]);
        let mut sql = Sql::new("SELECT k FROM bulk_probe WHERE k > ");
        sql.bind(Scalar::Int(0)).push(" AND u");
        sql.bind_in(List::uuids(&ids))
            .push(" AND k < ")
            .bind(Scalar::Int(3000))
            .push(" ORDER BY k");
        let expect: Vec<i64> = (1..3000).step_by(7).map(|k| k as i64).collect();
        assert_eq!(keys(sql).await, expect);

        // Texts, awkward ones included, and a statement appended to another.
        let mut sql = Sql::new("SELECT k FROM bulk_probe WHERE k < ");
        sql.bind(Scalar::Int(30));
        let mut part = Sql::new(" AND t");
        part.bind_in(List::texts(&["张伟", "\\N", "tab\there", "nobody"]));
        sql.append(part);
        sql.push(" ORDER BY k");
        let expect: Vec<i64> = (1..30)
            .filter(|k| {
                let n = *k as usize;
                !n.is_multiple_of(5)
                    && ["张伟", "\\N", "tab\there"].contains(&AWKWARD[n % AWKWARD.len()])
            })
            .collect();
        assert!(!expect.is_empty());
        assert_eq!(keys(sql).await, expect);

        // An empty list matches nothing, and is no syntax error.
        let mut sql = Sql::new("SELECT k FROM bulk_probe WHERE t");
        sql.bind_in(List::texts::<String>(&[]));
        assert_eq!(keys(sql).await, Vec::<i64>::new());
    }
);

both!(
    a_nul_is_refused_as_bad_input_by_every_write_path,
    |app| async move {
        let db = app.app.db();
        let rows = stored(db, "bulk_probe").await;
        let mut with_nul = rows[1].clone();
        with_nul[0] = Scalar::Int(1_000_000);
        with_nul[1] = Scalar::Text("a\0b".into());
        let mut in_json = rows[2].clone();
        in_json[0] = Scalar::Int(1_000_001);
        in_json[8] = Scalar::Json(json!({"nested": ["ok", {"k\0": "v"}]}));
        for row in [with_nul, in_json] {
            // COPY on PostgreSQL (no tail), INSERT with a tail, and a bound statement.
            for tail in ["", " ON CONFLICT DO NOTHING"] {
                let mut tx = db.begin().await.unwrap();
                let err = insert_rows(
                    &mut tx,
                    "bulk_probe",
                    COLUMNS,
                    std::slice::from_ref(&row),
                    tail,
                )
                .await
                .unwrap_err();
                assert!(
                    matches!(&err, kith_store::Error::Invalid(e) if e.code == "nul_character"),
                    "{err}"
                );
            }
            let mut sql = Sql::new("SELECT k FROM bulk_probe WHERE t = ");
            sql.bind(row[1].clone())
                .push(" OR j = ")
                .bind(row[8].clone());
            let refused = db.clone().fetch_all(sql).await.err();
            assert!(
                matches!(refused, Some(kith_store::Error::Invalid(_))),
                "{refused:?}"
            );
        }
        assert_eq!(read_back(db, "bulk_probe").await, rows, "nothing written");
    }
);
