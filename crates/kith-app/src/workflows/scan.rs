//! The periodic workflow scan: date-relative triggers (once per record and date, so a
//! birthday fires once a year however often the scan runs), tasks that became overdue
//! and records with no activity for N days (once per quiet spell).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use kith_core::workflows::{anniversary, due_date, Trigger};
use kith_store::workflows::scans;
use kith_store::WorkspaceId;
use uuid::Uuid;

use super::dispatch::{armed, start, Occurrence};
use crate::{App, Error};

const SCANNED: [&str; 3] = ["date_relative", "task_overdue", "no_activity"];

impl App {
    /// Runs the scan for workspace `ws` as of `now`; returns runs started.
    pub async fn scan_workflows(
        &self,
        ws: WorkspaceId,
        now: DateTime<Utc>,
    ) -> Result<usize, Error> {
        let tz = self.workspace_tz(ws).await?;
        let today = now.with_timezone(&tz).date_naive();
        let mut tx = self.db.begin().await?;
        let flows = armed(&mut tx, ws, &SCANNED, now).await?;
        let mut started = 0;
        for a in &flows {
            let Some(object) = a.object else { continue };
            let found: Vec<(Uuid, String)> = match &a.def.trigger {
                Trigger::DateRelative {
                    field,
                    offset_days,
                    yearly,
                    ..
                } => {
                    let Some(spec) = object.field(field) else {
                        continue;
                    };
                    let target = due_date(today, *offset_days);
                    let mut dates = vec![target];
                    // 29 February birthdays are kept on 28 February in other years.
                    let leap = NaiveDate::from_ymd_opt(target.year(), 2, 29).is_some();
                    if *yearly && !leap && (target.month(), target.day()) == (2, 28) {
                        dates.extend(NaiveDate::from_ymd_opt(2000, 2, 29));
                    }
                    scans::dated(&mut tx, ws, object, spec.name, *yearly, &dates)
                        .await?
                        .into_iter()
                        .map(|(id, d)| {
                            let due = if *yearly {
                                anniversary(d, target.year())
                            } else {
                                d
                            };
                            (id, format!("date:{id}:{due}"))
                        })
                        .collect()
                }
                Trigger::TaskOverdue {} => {
                    scans::overdue_tasks(&mut tx, ws, a.workflow.created_at, now)
                        .await?
                        .into_iter()
                        .map(|(id, due)| (id, format!("overdue:{id}:{}", due.timestamp())))
                        .collect()
                }
                Trigger::NoActivity { days, .. } => {
                    let quiet = chrono::Duration::days(i64::from(*days));
                    let since = a.workflow.created_at - quiet;
                    scans::quiet(&mut tx, ws, object, now - quiet, since)
                        .await?
                        .into_iter()
                        .map(|(id, last)| (id, format!("quiet:{id}:{}", last.timestamp())))
                        .collect()
                }
                _ => continue,
            };
            let ids: Vec<Uuid> = found.iter().map(|(id, _)| *id).collect();
            let passing = a.passing(&mut tx, &ids).await?;
            let list = found
                .into_iter()
                .filter(|(record, _)| passing.contains(record))
                .map(|(record, trigger_key)| {
                    a.run(Occurrence {
                        trigger_key,
                        event_id: None,
                        object,
                        record,
                        depth: 1,
                        now,
                    })
                })
                .collect();
            started += start(&mut tx, list).await?;
        }
        tx.commit().await?;
        if started > 0 {
            self.wake_workers();
        }
        Ok(started)
    }
}
