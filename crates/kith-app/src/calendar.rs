//! A user's calendar as iCalendar (RFC 5545): their open tasks with a due time and
//! their meetings, and the secret feed URL calendar apps poll without a session.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use kith_core::filter::Filter;
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use kith_store::calendar as store;

use crate::accounts::{secret, token_hash};
use crate::export::lines::{escape, push};
use crate::records::ListRequest;
use crate::{App, Caller, Error, Record};

/// Longest description written into an event; calendars show little more.
const MAX_DESCRIPTION: usize = 2000;

/// `20260301T093000Z`: a UTC time as iCalendar writes it.
fn ics_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
        .replace(['-', ':'], "")
}

fn event(
    out: &mut String,
    rec: &Record,
    summary: &str,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    description: Option<&str>,
) {
    push(out, "BEGIN:VEVENT");
    // Stable per record, so a calendar updates the event rather than adding another.
    push(out, &format!("UID:{}@kith", rec.id));
    push(out, &format!("DTSTAMP:{}", ics_time(rec.updated_at)));
    push(out, &format!("LAST-MODIFIED:{}", ics_time(rec.updated_at)));
    push(out, &format!("SEQUENCE:{}", rec.version.max(1) - 1));
    push(out, &format!("DTSTART:{}", ics_time(start)));
    if let Some(end) = end.filter(|e| *e > start) {
        push(out, &format!("DTEND:{}", ics_time(end)));
    }
    push(out, &format!("SUMMARY:{}", escape(summary)));
    if let Some(d) = description.map(str::trim).filter(|d| !d.is_empty()) {
        let d: String = d.chars().take(MAX_DESCRIPTION).collect();
        push(out, &format!("DESCRIPTION:{}", escape(&d)));
    }
    push(out, "END:VEVENT");
}

fn time(rec: &Record, field: &str) -> Option<DateTime<Utc>> {
    match rec.get(field) {
        Some(Scalar::Time(t)) => Some(*t),
        _ => None,
    }
}

impl App {
    /// Every record of `object` matching `filter`, page by page.
    async fn all(
        &self,
        caller: &Caller,
        object: ObjectKind,
        filter: &str,
        sort: &str,
    ) -> Result<Vec<Record>, Error> {
        let mut req = ListRequest {
            filter: Some(Filter::parse_text(filter)?),
            sort: Some(sort.into()),
            limit: Some(500),
            ..Default::default()
        };
        let mut out = vec![];
        loop {
            let page = self.list(caller, object, &req).await?;
            out.extend(page.records);
            match page.next_cursor {
                Some(c) => req.cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// The caller's calendar: open tasks with a due time (as events at that time, which
    /// take up no time) and meetings (from when they happen, for their duration).
    pub async fn calendar_ics(&self, caller: &Caller) -> Result<String, Error> {
        let me = caller.user.id;
        let tasks = self
            .all(
                caller,
                ObjectKind::Task,
                &format!("assignee_id = {me} and done = false and due_at is not empty"),
                "due_at",
            )
            .await?;
        let meetings = self
            .all(
                caller,
                ObjectKind::Activity,
                &format!("owner_id = {me} and kind = meeting and occurred_at is not empty"),
                "occurred_at",
            )
            .await?;
        let mut out = String::new();
        push(&mut out, "BEGIN:VCALENDAR");
        push(&mut out, "VERSION:2.0");
        push(&mut out, "PRODID:-//Kith//Kith CRM//EN");
        push(&mut out, "CALSCALE:GREGORIAN");
        push(&mut out, "METHOD:PUBLISH");
        push(
            &mut out,
            &format!("NAME:{}", escape(&format!("Kith — {}", caller.user.email))),
        );
        push(
            &mut out,
            &format!(
                "X-WR-CALNAME:{}",
                escape(&format!("Kith — {}", caller.user.email))
            ),
        );
        // Calendar apps poll at their own pace; this asks for hourly (RFC 7986).
        push(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
        push(&mut out, "X-PUBLISHED-TTL:PT1H");
        for t in &tasks {
            if let Some(due) = time(t, "due_at") {
                let title = t.text("title").unwrap_or("Task");
                event(&mut out, t, title, due, None, t.text("notes"));
            }
        }
        for m in &meetings {
            if let Some(start) = time(m, "occurred_at") {
                let minutes = match m.get("duration_minutes") {
                    Some(Scalar::Int(n)) => *n,
                    _ => 0,
                };
                let end = (minutes > 0).then(|| start + Duration::minutes(minutes));
                let subject = m
                    .text("subject")
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or("Meeting");
                event(&mut out, m, subject, start, end, m.text("body"));
            }
        }
        push(&mut out, "END:VCALENDAR");
        Ok(out)
    }

    /// Creates the caller's calendar feed, replacing an earlier one, and returns its
    /// secret: shown once, stored only as a hash.
    pub async fn create_calendar_feed(&self, caller: &Caller) -> Result<String, Error> {
        let token = secret(32);
        store::set_feed(
            &self.db,
            caller.workspace.id,
            caller.user.id,
            &token_hash(&token),
            Utc::now(),
        )
        .await?;
        Ok(token)
    }

    /// Revokes the caller's calendar feed; false when there was none.
    pub async fn revoke_calendar_feed(&self, caller: &Caller) -> Result<bool, Error> {
        Ok(store::delete_feed(&self.db, caller.workspace.id, caller.user.id).await?)
    }

    /// The user a feed secret belongs to; an unknown or revoked secret is not found.
    pub async fn calendar_feed_caller(&self, token: &str) -> Result<Caller, Error> {
        let user = store::feed_user(&self.db, &token_hash(token), Utc::now())
            .await?
            .ok_or(Error::NotFound("calendar feed"))?;
        // A disabled user's feed answers like an unknown one.
        self.caller_by_id(user.id)
            .await
            .map_err(|_| Error::NotFound("calendar feed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_in_basic_format() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:30:00+01:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ics_time(t), "20260301T093000Z");
    }
}
