//! Rules of email campaigns and sequences that need no database: who may be mailed,
//! sequence steps, pacing, and the signed tokens in unsubscribe and tracking links.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

use crate::Error;

/// States of a campaign, in the order they usually pass.
pub const CAMPAIGN_STATUSES: &[&str] = &[
    "draft",
    "scheduled",
    "sending",
    "paused",
    "sent",
    "cancelled",
];
/// Whom a campaign may mail: only contacts who granted email consent, or everyone who
/// did not refuse it.
pub const CONSENT_MODES: &[&str] = &["opted_in", "not_denied"];

/// Why a contact is not mailed, or `Ok` if they may be.
pub fn may_mail(consent: Option<&Value>, mode: &str) -> Result<(), &'static str> {
    let state = consent
        .and_then(|c| c.get("email"))
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    match (mode, state) {
        (_, "denied") => Err("email consent denied"),
        ("not_denied", _) | (_, "granted") => Ok(()),
        _ => Err("no email consent given"),
    }
}

/// The time between two messages for a rate per minute (0: no pause).
pub fn pace(rate_per_minute: i64) -> Option<Duration> {
    (rate_per_minute > 0).then(|| Duration::from_micros(60_000_000 / rate_per_minute as u64))
}

/// One step of a sequence: wait, then send a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Minutes after enrolment (first step) or after the previous step.
    pub wait_minutes: i64,
    /// The template sent.
    pub template_id: Uuid,
}

/// Reads a sequence's steps; errors name the step and key (`steps[1].wait_minutes`).
pub fn parse_steps(value: &Value) -> Result<Vec<Step>, Error> {
    let items = value
        .as_array()
        .ok_or_else(|| Error::field("steps", "must be a list of {wait_minutes, template_id}"))?;
    if items.is_empty() || items.len() > 30 {
        return Err(Error::field("steps", "a sequence has 1 to 30 steps"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let step: Step = serde_json::from_value(item.clone())
                .map_err(|e| Error::field(&format!("steps[{i}]"), e.to_string()))?;
            if !(0..=366 * 24 * 60).contains(&step.wait_minutes) {
                return Err(Error::field(
                    &format!("steps[{i}].wait_minutes"),
                    "must be between 0 and 527040 (a year)",
                ));
            }
            Ok(step)
        })
        .collect()
}

/// What a signed link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Unsubscribe the recipient.
    Unsubscribe,
    /// Count an open.
    Open,
    /// Count a click and go on to one URL.
    Click,
}

impl LinkPurpose {
    fn tag(self) -> char {
        match self {
            LinkPurpose::Unsubscribe => 'u',
            LinkPurpose::Open => 'o',
            LinkPurpose::Click => 'c',
        }
    }
}

fn mac(key: &[u8], send: Uuid, purpose: LinkPurpose, url: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(send.as_bytes());
    m.update(&[purpose.tag() as u8]);
    m.update(url.as_bytes());
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 of `body` under `key`, as lower-case hex (webhook signatures).
pub fn hmac_sha256_hex(key: &[u8], body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(body);
    hex(&m.finalize().into_bytes())
}

/// A token naming one send and purpose (and, for clicks, the URL), signed with the
/// workspace's key so nobody can unsubscribe or count for another send.
pub fn sign(key: &[u8], send: Uuid, purpose: LinkPurpose, url: &str) -> String {
    let tag = mac(key, send, purpose, url).finalize().into_bytes();
    format!("{}{}{}", send.simple(), purpose.tag(), hex(&tag[..16]))
}

/// The send a token names, if it was signed with `key` for `purpose` (and `url`).
pub fn verify(key: &[u8], token: &str, purpose: LinkPurpose, url: &str) -> Option<Uuid> {
    let send = named_send(token)?;
    if token.as_bytes().get(32) != Some(&(purpose.tag() as u8)) {
        return None;
    }
    let sig = token.get(33..)?;
    if sig.len() != 32 {
        return None;
    }
    let bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(sig.get(i * 2..i * 2 + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    mac(key, send, purpose, url)
        .verify_truncated_left(&bytes)
        .ok()
        .map(|()| send)
}

/// The send a token claims to be for (unverified: used to find the workspace's key).
pub fn named_send(token: &str) -> Option<Uuid> {
    Uuid::try_parse(token.get(..32)?).ok()
}

/// Rewrites every `http(s)` link of an HTML body through `track` (given the link's URL,
/// unescaped, it returns the tracked URL); other links (`mailto:`, anchors) and links
/// for which `track` returns None stay as they are.
pub fn track_links(html: &str, track: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(at) = find_href(rest) {
        let (before, after) = rest.split_at(at.start);
        out.push_str(before);
        let value = &after[..at.len];
        let url = value.replace("&amp;", "&");
        match track(&url).filter(|_| url.starts_with("http://") || url.starts_with("https://")) {
            Some(tracked) => out.push_str(&tracked.replace('&', "&amp;").replace('"', "&quot;")),
            None => out.push_str(value),
        }
        rest = &after[at.len..];
    }
    out.push_str(rest);
    out
}

struct Href {
    start: usize,
    len: usize,
}

/// The next `href="…"` (or `'…'`) value: its start and length.
fn find_href(s: &str) -> Option<Href> {
    let lower = s.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("href") {
        let i = from + i;
        let tail = &s[i + 4..];
        let trimmed = tail.trim_start();
        if let Some(eq) = trimmed.strip_prefix('=') {
            let v = eq.trim_start();
            let quote = v.chars().next().filter(|c| *c == '"' || *c == '\'');
            if let Some(q) = quote {
                let start = s.len() - v.len() + 1;
                if let Some(end) = s[start..].find(q) {
                    return Some(Href { start, len: end });
                }
            }
        }
        from = i + 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn consent_modes() {
        let granted = json!({"email": "granted"});
        let denied = json!({"email": "denied", "sms": "granted"});
        let unknown = json!({"sms": "granted"});
        assert_eq!(may_mail(Some(&granted), "opted_in"), Ok(()));
        assert!(may_mail(Some(&unknown), "opted_in").is_err());
        assert!(may_mail(None, "opted_in").is_err());
        assert_eq!(may_mail(Some(&unknown), "not_denied"), Ok(()));
        assert_eq!(
            may_mail(Some(&denied), "not_denied"),
            Err("email consent denied")
        );
    }

    #[test]
    fn tokens_are_bound_to_send_purpose_url_and_key() {
        let key = b"k1";
        let send = Uuid::now_v7();
        let t = sign(key, send, LinkPurpose::Click, "https://shop.dk/a");
        assert_eq!(t.len(), 65);
        assert_eq!(
            verify(key, &t, LinkPurpose::Click, "https://shop.dk/a"),
            Some(send)
        );
        assert_eq!(
            verify(key, &t, LinkPurpose::Click, "https://evil.example/"),
            None
        );
        assert_eq!(
            verify(key, &t, LinkPurpose::Unsubscribe, "https://shop.dk/a"),
            None
        );
        assert_eq!(
            verify(b"k2", &t, LinkPurpose::Click, "https://shop.dk/a"),
            None
        );
        let other = Uuid::now_v7();
        let forged = format!("{}{}", other.simple(), &t[32..]);
        assert_eq!(
            verify(key, &forged, LinkPurpose::Click, "https://shop.dk/a"),
            None
        );
        assert_eq!(verify(key, "short", LinkPurpose::Open, ""), None);
        assert_eq!(
            verify(key, &t[..60], LinkPurpose::Click, "https://shop.dk/a"),
            None
        );
        assert_eq!(named_send(&t), Some(send));
    }

    #[test]
    fn links_are_tracked_but_mailto_and_anchors_are_not() {
        let html = r##"<a href="https://shop.dk/?a=1&amp;b=2">Shop</a> <a HREF = 'http://x.dk'>x</a> <a href="mailto:hi@x.dk">m</a> <a href="#top">t</a>"##;
        let out = track_links(html, |u| Some(format!("https://t/c?u={u}")));
        assert_eq!(
            out,
            r##"<a href="https://t/c?u=https://shop.dk/?a=1&amp;b=2">Shop</a> <a HREF = 'https://t/c?u=http://x.dk'>x</a> <a href="mailto:hi@x.dk">m</a> <a href="#top">t</a>"##
        );
        assert_eq!(track_links("no links", |_| None), "no links");
        assert_eq!(
            track_links("<a href=\"unterminated", |_| Some("x".into())),
            "<a href=\"unterminated"
        );
    }

    #[test]
    fn steps_name_the_bad_key() {
        let id = Uuid::now_v7();
        let ok = json!([{"wait_minutes": 0, "template_id": id}, {"wait_minutes": 1440, "template_id": id}]);
        assert_eq!(parse_steps(&ok).unwrap().len(), 2);
        let bad = json!([{"wait_minutes": 0, "template_id": id}, {"wait_minutes": -5, "template_id": id}]);
        let e = parse_steps(&bad).unwrap_err().to_string();
        assert!(e.contains("steps[1].wait_minutes"), "{e}");
        let e = parse_steps(&json!([{"wait": 1}])).unwrap_err().to_string();
        assert!(e.contains("steps[0]"), "{e}");
        assert!(parse_steps(&json!([])).is_err());
    }

    #[test]
    fn pacing() {
        assert_eq!(pace(0), None);
        assert_eq!(pace(60), Some(Duration::from_secs(1)));
        assert_eq!(pace(600), Some(Duration::from_millis(100)));
    }
}
