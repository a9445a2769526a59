//! Marketing consent as old systems export it: a state per channel (`Accepts Email
//! Marketing: yes`, `Nyhedsbrev: ja`, `邮件订阅: 已订阅`), and for email the times a
//! person opted in and out (Mailchimp's `OPTIN_TIME`, `CONFIRM_TIME` and `UNSUB_TIME`,
//! HubSpot's `Unsubscribed from all email`).
//!
//! When a row's evidence disagrees, "no" wins unless the row says the person opted in
//! again after opting out: mailing someone who said no is the mistake that cannot be
//! taken back.

use chrono::{DateTime, TimeZone, Utc};

use super::values::{parse_bool, parse_datetime_in, DateOrder};

const HELP: &str = "not a consent: expected e.g. granted/denied/unknown, yes/no, \
                    subscribed/unsubscribed, ja/nej or 是/否";

/// Words for each consent state (lower case), besides yes and no.
const WORDS: &[(&str, &[&str])] = &[
    (
        "granted",
        &[
            "subscribed",
            "opted in",
            "opted-in",
            "opt-in",
            "optin",
            "opt in",
            "confirmed",
            "accepted",
            "double opt-in",
            "single opt-in",
            "tilmeldt",
            "已订阅",
            "订阅",
            "同意",
            "已同意",
        ],
    ),
    (
        "denied",
        &[
            "unsubscribed",
            "opted out",
            "opted-out",
            "opt-out",
            "optout",
            "opt out",
            "declined",
            "afmeldt",
            "frameldt",
            "afvist",
            "已退订",
            "退订",
            "拒绝",
            "不同意",
        ],
    ),
    (
        "unknown",
        &[
            "pending",
            "not subscribed",
            "no consent",
            "non-subscribed",
            "nonsubscribed",
            "cleaned",
            "ukendt",
            "afventer",
            "未知",
            "未订阅",
        ],
    ),
];

/// The consent state a cell states: `granted`, `denied` or `unknown`.
pub fn consent_state(cell: &str) -> Result<&'static str, String> {
    let lower = cell.trim().to_lowercase();
    if let Some((state, _)) = WORDS
        .iter()
        .find(|(state, words)| *state == lower || words.contains(&lower.as_str()))
    {
        return Ok(state);
    }
    match parse_bool(&lower) {
        Ok(true) => Ok("granted"),
        Ok(false) => Ok("denied"),
        Err(_) => Err(HELP.into()),
    }
}

/// A row's sign that a person opted in or out of email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// They did, at this time.
    At(DateTime<Utc>),
    /// They did; when is not said.
    Yes,
}

/// Which way a column of times or yes/no points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    /// When they opted in (`OPTIN_TIME`).
    In,
    /// When they opted out (`UNSUB_TIME`, Dynamics' `Do not allow Emails`).
    Out,
}

/// Reads an opted-in or opted-out cell: a date and time, or yes; `None` for no (no
/// sign either way). Dynamics writes `Allow` and `Do Not Allow`, which say whether mail
/// is allowed: yes for an opt-in, no for an opt-out.
pub fn opt_mark<Tz: TimeZone>(
    cell: &str,
    order: DateOrder,
    tz: &Tz,
    way: Opt,
) -> Result<Option<Mark>, String> {
    if let Ok(yes) = parse_bool(cell) {
        return Ok(yes.then_some(Mark::Yes));
    }
    let allowed = match cell.trim().to_lowercase().as_str() {
        "allow" | "allowed" | "tillad" | "tilladt" | "允许" => Some(true),
        "do not allow" | "don't allow" | "not allowed" | "tillad ikke" | "不允许" => Some(false),
        _ => None,
    };
    if let Some(allowed) = allowed {
        return Ok((allowed == (way == Opt::In)).then_some(Mark::Yes));
    }
    parse_datetime_in(cell, order, tz)
        .map(|t| Some(Mark::At(t)))
        .map_err(|_| "not a time or yes/no: expected e.g. 2024-03-01 14:30 or yes".into())
}

/// Email consent from a row's evidence: its stated state, when it opted in and when
/// out. `None` when the row says nothing.
pub fn email_consent(
    state: Option<&'static str>,
    opted_in: Option<Mark>,
    opted_out: Option<Mark>,
) -> Option<&'static str> {
    match (opted_in, opted_out) {
        // Opted in again after opting out.
        (Some(Mark::At(i)), Some(Mark::At(o))) if i > o => Some("granted"),
        (_, Some(_)) => Some("denied"),
        (Some(_), None) if state != Some("denied") => Some("granted"),
        _ => state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_read_in_three_languages() {
        for (cell, state) in [
            ("yes", "granted"),
            ("Ja", "granted"),
            ("是", "granted"),
            ("Subscribed", "granted"),
            ("opted in", "granted"),
            ("已订阅", "granted"),
            ("granted", "granted"),
            ("no", "denied"),
            ("NEJ", "denied"),
            ("否", "denied"),
            ("unsubscribed", "denied"),
            ("Afmeldt", "denied"),
            ("退订", "denied"),
            ("denied", "denied"),
            ("unknown", "unknown"),
            ("pending", "unknown"),
            ("cleaned", "unknown"),
            ("未订阅", "unknown"),
        ] {
            assert_eq!(consent_state(cell), Ok(state), "{cell}");
        }
        assert!(consent_state("maybe")
            .unwrap_err()
            .contains("not a consent"));
    }

    #[test]
    fn every_word_means_one_state() {
        let mut seen = std::collections::HashSet::new();
        for (state, words) in WORDS {
            assert!(seen.insert(*state));
            for w in *words {
                assert!(seen.insert(*w), "{w} twice");
                assert!(parse_bool(w).is_err(), "{w} is also yes or no");
            }
        }
    }

    #[test]
    fn no_wins_unless_they_opted_in_again_later() {
        let at = |d: u32| {
            Some(Mark::At(
                Utc.with_ymd_and_hms(2024, 3, d, 12, 0, 0).unwrap(),
            ))
        };
        assert_eq!(email_consent(None, at(1), None), Some("granted"));
        assert_eq!(email_consent(None, at(1), at(2)), Some("denied"));
        assert_eq!(email_consent(None, at(3), at(2)), Some("granted"), "again");
        assert_eq!(email_consent(None, at(3), Some(Mark::Yes)), Some("denied"));
        assert_eq!(email_consent(Some("granted"), None, at(2)), Some("denied"));
        assert_eq!(email_consent(Some("denied"), at(1), None), Some("denied"));
        assert_eq!(email_consent(Some("unknown"), at(1), None), Some("granted"));
        assert_eq!(email_consent(Some("granted"), None, None), Some("granted"));
        assert_eq!(email_consent(None, None, None), None);
    }

    #[test]
    fn opt_marks_are_times_or_yes() {
        let tz = chrono_tz::Europe::Copenhagen;
        let mark = |s: &str| opt_mark(s, DateOrder::DayFirst, &tz, Opt::Out);
        assert_eq!(mark("yes"), Ok(Some(Mark::Yes)));
        assert_eq!(
            mark("Do Not Allow"),
            Ok(Some(Mark::Yes)),
            "Dynamics: opted out"
        );
        assert_eq!(mark("Allow"), Ok(None));
        let opted_in = |s: &str| opt_mark(s, DateOrder::DayFirst, &tz, Opt::In);
        assert_eq!(opted_in("Allow"), Ok(Some(Mark::Yes)));
        assert_eq!(opted_in("Do Not Allow"), Ok(None));
        assert_eq!(mark("false"), Ok(None));
        assert_eq!(
            mark("2024-03-01 13:00:00"),
            Ok(Some(Mark::At(
                Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap()
            )))
        );
        assert!(mark("soon").is_err());
    }
}
