//! The outbox does not grow for ever: the worker deletes events dispatched longer ago
//! than it keeps them, never one still waiting, and the audit log keeps the history.

use std::time::Duration;

use chrono::Utc;
use kith_app::jobs::{Handlers, Worker};
use kith_core::Scalar;
use kith_store::{Exec, Sql};

use crate::harness::both;
use crate::jobs::{quick, start};

both!(
    dispatched_events_are_pruned_after_the_keep_time_and_waiting_ones_never,
    |app| async move {
        let api = &app.api;
        let mut ids = vec![];
        for name in ["Old", "Older", "Recent"] {
            let c = api
                .create("contacts", serde_json::json!({"first_name": name}))
                .await;
            ids.push(c["id"].as_str().unwrap().to_string());
        }
        // Dispatched now; then two of them as if dispatched 40 days ago.
        assert!(app.app.dispatch_events(100).await.unwrap() >= 3);
        let mut db = app.app.db().clone();
        let long_ago = Utc::now() - chrono::Duration::days(40);
        for id in &ids[..2] {
            db.execute(
                Sql::new("UPDATE events SET processed_at = ")
                    .arg(Scalar::Time(long_ago))
                    .and(", at = ")
                    .arg(Scalar::Time(long_ago))
                    .and(" WHERE record_id = ")
                    .arg(Scalar::Uuid(id.parse().unwrap())),
            )
            .await
            .unwrap();
        }
        // Waiting to be dispatched, however old: kept.
        let waiting = api
            .create("contacts", serde_json::json!({"first_name": "Waiting"}))
            .await;
        let waiting_id = waiting["id"].as_str().unwrap().to_string();
        db.execute(
            Sql::new("UPDATE events SET at = ")
                .arg(Scalar::Time(long_ago))
                .and(" WHERE processed_at IS NULL"),
        )
        .await
        .unwrap();
        let left = |db: &mut kith_store::Db| {
            let mut db = db.clone();
            async move {
                let rows = db
                    .fetch_all(Sql::new(
                        "SELECT record_id, CAST(CASE WHEN processed_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS done FROM events ORDER BY id",
                    ))
                    .await
                    .unwrap();
                rows.iter()
                    .map(|r| {
                        (
                            r.uuid("record_id").unwrap().unwrap().to_string(),
                            r.int("done").unwrap() == Some(1),
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(left(&mut db).await.len(), 4);
        // The default keeps dispatched events 30 days; the worker prunes as it maintains.
        let config = kith_app::jobs::WorkerConfig {
            dispatch_events: false,
            ..quick()
        };
        let (stop, task) = start(Worker::new(app.app.clone(), Handlers::new(), config));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while left(&mut db).await.len() > 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "not pruned: {:?}",
                left(&mut db).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = stop.send(());
        task.await.unwrap();
        assert_eq!(
            left(&mut db).await,
            vec![(ids[2].clone(), true), (waiting_id, false)]
        );
        // The history stays: every contact still has its audit entry.
        let audit = db
            .fetch_all(Sql::new(
                "SELECT record_id FROM audit_log WHERE action = 'create' AND object = 'contact'",
            ))
            .await
            .unwrap();
        assert_eq!(audit.len(), 4);
    }
);
