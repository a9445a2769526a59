//! Durable jobs, the pure parts: a job's status, how long to wait before the next
//! attempt, and when a recurring schedule is next due. The queue itself is kith-store's;
//! the clock and the random jitter are handed in.

use std::time::Duration;

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};

use crate::Error;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Waiting for its first run (at `run_at`).
    Queued,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Finished well.
    Done,
    /// The last attempt failed; it runs again at `run_at`.
    Failed,
    /// Gave up (attempts used up, or a permanent error): waits for an admin's retry.
    Dead,
}

impl JobStatus {
    /// Every status, in the order a job passes through them.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Failed,
        JobStatus::Dead,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Dead => "dead",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(s: &str) -> Result<JobStatus, Error> {
        JobStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim())
            .ok_or_else(|| Error::field("status", "must be queued, running, done, failed or dead"))
    }
}

/// Checks a job kind or schedule name: `dedup.scan`, `campaign.send_step`.
pub fn check_kind(field: &str, s: &str) -> Result<(), Error> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.' || c == ':'
        });
    if ok {
        Ok(())
    } else {
        Err(Error::field(
            field,
            "must be 1-64 characters of a-z, 0-9, _, . and :, starting with a letter",
        ))
    }
}

/// How long to wait after failed attempt number `attempt` (1 = the first): exponential
/// from `base`, capped at `cap`, then "equal jitter" — half fixed, half random by
/// `jitter` in 0..1 — so that many jobs failing together (an SMTP server down) do not
/// come back together and fail together again.
pub fn retry_delay(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let full = base.saturating_mul(1u32 << exp).min(cap);
    let half = full / 2;
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    half + half.mul_f64(jitter)
}

/// When a recurring schedule is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// Every so many seconds (at least one).
    Every(u64),
    /// Each day at this wall-clock time in the workspace's time zone.
    DailyAt(NaiveTime),
}

impl Cadence {
    /// An interval of `secs` seconds (refuses 0: a schedule that never waits).
    pub fn every(secs: u64) -> Result<Cadence, Error> {
        if secs == 0 || secs > i64::MAX as u64 / 1000 {
            return Err(Error::field(
                "every",
                "must be a positive number of seconds",
            ));
        }
        Ok(Cadence::Every(secs))
    }

    /// Daily at `HH:MM` (24-hour clock).
    pub fn daily_at(hh_mm: &str) -> Result<Cadence, Error> {
        NaiveTime::parse_from_str(hh_mm.trim(), "%H:%M")
            .map(Cadence::DailyAt)
            .map_err(|_| Error::field("daily_at", "must be a time of day as HH:MM"))
    }

    /// The first tick strictly after `after`. For [`Cadence::Every`] ticks are counted
    /// from `anchor` (the previous tick), so a late worker does not make them drift; a
    /// worker that was down for several ticks fires once, not once per missed tick.
    pub fn next_after<Tz: TimeZone>(
        &self,
        tz: &Tz,
        anchor: DateTime<Utc>,
        after: DateTime<Utc>,
    ) -> DateTime<Utc> {
        match *self {
            Cadence::Every(secs) => {
                let step = chrono::Duration::seconds(secs.max(1) as i64);
                if anchor > after {
                    return anchor;
                }
                let behind = (after - anchor).num_seconds() / step.num_seconds();
                let mut next = anchor + step * (behind as i32).max(0);
                while next <= after {
                    next += step;
                }
                next
            }
            Cadence::DailyAt(at) => {
                let local_day = after.with_timezone(tz).date_naive();
                // Today's tick if still ahead, else tomorrow's; a day whose time falls in
                // a daylight-saving gap ticks as far past the gap as the time was into it.
                for offset in 0..3 {
                    let Some(day) = local_day.checked_add_days(Days::new(offset)) else {
                        break;
                    };
                    let naive = day.and_time(at);
                    if let Some(t) = crate::wall_clock::to_utc(naive, tz) {
                        if t > after {
                            return t;
                        }
                    }
                }
                after + chrono::Duration::days(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn retry_delay_doubles_with_jitter_and_stops_at_the_cap() {
        let base = Duration::from_secs(10);
        let cap = Duration::from_secs(3600);
        assert_eq!(retry_delay(1, base, cap, 0.0), Duration::from_secs(5));
        assert_eq!(retry_delay(1, base, cap, 1.0), Duration::from_secs(10));
        assert_eq!(retry_delay(3, base, cap, 0.0), Duration::from_secs(20));
        assert_eq!(retry_delay(3, base, cap, 1.0), Duration::from_secs(40));
        assert_eq!(retry_delay(40, base, cap, 1.0), cap);
        assert_eq!(retry_delay(40, base, cap, 0.0), cap / 2);
        assert_eq!(retry_delay(2, base, cap, f64::NAN), Duration::from_secs(10));
        assert_eq!(retry_delay(0, base, cap, 2.0), base);
    }

    #[test]
    fn interval_ticks_stay_on_their_grid_and_skip_missed_ones() {
        let c = Cadence::every(3600).unwrap();
        let anchor = t("2026-01-01T00:00:00Z");
        assert_eq!(
            c.next_after(&Utc, anchor, t("2026-01-01T00:00:00Z")),
            t("2026-01-01T01:00:00Z")
        );
        assert_eq!(
            c.next_after(&Utc, anchor, t("2026-01-01T00:10:00Z")),
            t("2026-01-01T01:00:00Z")
        );
        // Down for five hours: one tick, the next on the grid.
        assert_eq!(
            c.next_after(&Utc, anchor, t("2026-01-01T05:30:00Z")),
            t("2026-01-01T06:00:00Z")
        );
        assert_eq!(
            c.next_after(&Utc, t("2026-01-02T00:00:00Z"), t("2026-01-01T05:30:00Z")),
            t("2026-01-02T00:00:00Z")
        );
        assert!(Cadence::every(0).is_err());
    }

    #[test]
    fn daily_ticks_follow_the_workspace_clock() {
        let c = Cadence::daily_at("07:30").unwrap();
        let cph = FixedOffset::east_opt(3600).unwrap();
        let anchor = t("2026-01-01T00:00:00Z");
        // 05:00 UTC is 06:00 local: today 07:30 local = 06:30 UTC.
        assert_eq!(
            c.next_after(&cph, anchor, t("2026-01-05T05:00:00Z")),
            t("2026-01-05T06:30:00Z")
        );
        // Just after the tick: tomorrow.
        assert_eq!(
            c.next_after(&cph, anchor, t("2026-01-05T06:30:00Z")),
            t("2026-01-06T06:30:00Z")
        );
        assert!(Cadence::daily_at("25:00").is_err());
        assert!(Cadence::daily_at("soon").is_err());
    }

    #[test]
    fn kinds_and_statuses_parse_strictly() {
        assert!(check_kind("kind", "dedup.scan").is_ok());
        assert!(check_kind("kind", "Dedup").is_err());
        assert!(check_kind("kind", "").is_err());
        assert!(check_kind("kind", "a b").is_err());
        assert_eq!(JobStatus::parse("dead").unwrap(), JobStatus::Dead);
        assert!(JobStatus::parse("gone").is_err());
    }
}
