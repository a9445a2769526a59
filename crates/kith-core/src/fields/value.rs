//! One value of a built-in field's kind: checked, normalised and turned into a
//! [`Scalar`], with the reason in words when it cannot be.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{line_items, Context, Kind, CONSENT_CHANNELS, CONSENT_STATES};
use crate::{normalise_email, normalise_phone, PhoneRegion, Scalar, ScalarType};

pub(super) fn expect_str(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("must be a string, not {}", json_type(value)))
}

pub(super) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses one JSON value as a field of `kind`. Empty strings become NULL.
pub fn parse(kind: Kind, value: &Value, ctx: &Context<'_>) -> Result<Scalar, String> {
    let ty = kind.scalar_type();
    if value.is_null() {
        return Ok(Scalar::Null(ty));
    }
    if let Value::String(s) = value {
        if s.trim().is_empty() && ty != ScalarType::Json {
            return Ok(Scalar::Null(ty));
        }
    }
    match kind {
        Kind::Text(max) => text(expect_str(value)?, max).map(Scalar::Text),
        Kind::LongText => {
            let s = expect_str(value)?;
            if s.chars().count() > 100_000 {
                return Err("is longer than 100000 characters".into());
            }
            if s.contains('\0') {
                return Err("contains a NUL character".into());
            }
            Ok(Scalar::Text(s.to_string()))
        }
        Kind::Email => normalise_email(expect_str(value)?).map(Scalar::Text),
        Kind::Phone => normalise_phone(expect_str(value)?, ctx.phone_region).map(Scalar::Text),
        Kind::Url => url(expect_str(value)?).map(Scalar::Text),
        Kind::Domain => domain(expect_str(value)?).map(Scalar::Text),
        Kind::Int { min, max } => {
            let i = value
                .as_i64()
                .ok_or_else(|| format!("must be a whole number, not {}", json_type(value)))?;
            if i < min || i > max {
                return Err(format!("must be between {min} and {max}"));
            }
            Ok(Scalar::Int(i))
        }
        Kind::Bool => value
            .as_bool()
            .map(Scalar::Bool)
            .ok_or_else(|| format!("must be true or false, not {}", json_type(value))),
        Kind::Date => date(expect_str(value)?).map(Scalar::Date),
        Kind::DateTime => datetime(expect_str(value)?).map(Scalar::Time),
        Kind::Currency => {
            let s = expect_str(value)?.trim().to_ascii_uppercase();
            if super::currency::is_currency(&s) {
                Ok(Scalar::Text(s))
            } else {
                Err(format!("`{s}` is not an ISO 4217 currency code"))
            }
        }
        Kind::Country => {
            let s = expect_str(value)?;
            let region = PhoneRegion::parse(s)?;
            Ok(Scalar::Text(region.code().to_string()))
        }
        Kind::Choice(options) => {
            let s = expect_str(value)?.trim().to_lowercase();
            if options.contains(&s.as_str()) {
                Ok(Scalar::Text(s))
            } else {
                Err(format!("must be one of: {}", options.join(", ")))
            }
        }
        Kind::Ref(_) | Kind::UserRef => uuid(expect_str(value)?).map(Scalar::Uuid),
        Kind::Consent => consent(value).map(Scalar::Json),
        Kind::Identities => identities(value, ctx).map(Scalar::Json),
        Kind::Key => {
            let s = expect_str(value)?;
            let ok = s.len() <= 64
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if ok {
                Ok(Scalar::Text(s.to_string()))
            } else {
                Err("must start with a-z and hold only a-z, 0-9 and _ (64 at most)".into())
            }
        }
        Kind::Options => options(value).map(Scalar::Json),
        Kind::LineItems => line_items::line_items(value).map(Scalar::Json),
    }
}

pub(super) fn text(s: &str, max: usize) -> Result<String, String> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err("contains a control character".into());
    }
    Ok(s.to_string())
}

pub(super) fn url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let full = if s.contains("://") {
        s.to_string()
    } else {
        format!("https://{s}")
    };
    let rest = full
        .strip_prefix("https://")
        .or_else(|| full.strip_prefix("http://"))
        .ok_or_else(|| format!("`{s}` is not an http(s) URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty()
        || !host.contains('.')
        || full.chars().any(char::is_whitespace)
        || full.len() > 2000
    {
        return Err(format!("`{s}` is not a valid URL"));
    }
    Ok(full)
}

pub(super) fn domain(s: &str) -> Result<String, String> {
    // People paste the website's address (`https://www.Nordlys.dk/kontakt`): its host
    // is the domain.
    let lower = s.trim().to_lowercase();
    let (address, port_allowed) = ["https://", "http://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .map_or((lower.as_str(), false), |rest| (rest, true));
    let mut host = address.split(['/', '?', '#']).next().unwrap_or("");
    if port_allowed {
        host = host.split(':').next().unwrap_or("");
    }
    let host = host.trim_end_matches('.');
    let s = host.strip_prefix("www.").unwrap_or(host).to_string();
    let ok = s.contains('.')
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if ok {
        Ok(s)
    } else {
        Err(format!("`{s}` is not a domain name"))
    }
}

/// Parses `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
}

/// Parses an RFC 3339 timestamp (or a bare date, read as midnight UTC).
pub fn datetime(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "`{s}` is not a timestamp (RFC 3339, e.g. 2026-03-01T09:30:00Z)"
    ))
}

pub(super) fn uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s.trim()).map_err(|_| format!("`{s}` is not an id"))
}

pub(super) fn consent(value: &Value) -> Result<Value, String> {
    let obj = value
        .as_object()
        .ok_or("must be an object such as {\"email\": \"granted\"}")?;
    let mut out = Map::new();
    for (channel, state) in obj {
        if !CONSENT_CHANNELS.contains(&channel.as_str()) {
            return Err(format!(
                "unknown channel `{channel}` (use {})",
                CONSENT_CHANNELS.join(", ")
            ));
        }
        match state.as_str() {
            Some(s) if CONSENT_STATES.contains(&s) => {
                out.insert(channel.clone(), Value::String(s.into()));
            }
            _ => return Err(format!("{channel} must be granted, denied or unknown")),
        }
    }
    Ok(Value::Object(out))
}

pub(super) fn identities(value: &Value, ctx: &Context<'_>) -> Result<Value, String> {
    let items = value
        .as_array()
        .ok_or("must be an array of {kind, value, channel}")?;
    if items.len() > 100 {
        return Err("holds more than 100 identities".into());
    }
    let mut out = Vec::with_capacity(items.len());
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let obj = item
            .as_object()
            .ok_or(format!("item {i} must be an object"))?;
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let raw = obj.get("value").and_then(Value::as_str).unwrap_or("");
        let channel = obj.get("channel").and_then(Value::as_str).map(str::trim);
        if let Some(k) = obj
            .keys()
            .find(|k| !["kind", "value", "channel"].contains(&k.as_str()))
        {
            return Err(format!("item {i}: unknown key `{k}`"));
        }
        let value = match kind {
            "email" => normalise_email(raw).map_err(|e| format!("item {i}: {e}"))?,
            "phone" => {
                normalise_phone(raw, ctx.phone_region).map_err(|e| format!("item {i}: {e}"))?
            }
            "external" => {
                if channel.is_none_or(str::is_empty) {
                    return Err(format!("item {i}: an external id needs a channel"));
                }
                text(raw, 200).map_err(|e| format!("item {i}: value {e}"))?
            }
            _ => return Err(format!("item {i}: kind must be email, phone or external")),
        };
        if value.is_empty() {
            return Err(format!("item {i}: value must not be empty"));
        }
        let channel = channel.filter(|c| !c.is_empty()).map(|c| c.to_lowercase());
        if seen.insert((kind.to_string(), channel.clone(), value.clone())) {
            let mut o = Map::new();
            o.insert("kind".into(), kind.into());
            if let Some(c) = channel {
                o.insert("channel".into(), c.into());
            }
            o.insert("value".into(), value.into());
            out.push(Value::Object(o));
        }
    }
    Ok(Value::Array(out))
}

pub(super) fn options(value: &Value) -> Result<Value, String> {
    let items = value.as_array().ok_or("must be an array of strings")?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for item in items {
        let s = text(item.as_str().ok_or("must be an array of strings")?, 200)?;
        if s.is_empty() {
            return Err("options must not be empty strings".into());
        }
        if !seen.insert(s.clone()) {
            return Err(format!("option `{s}` is listed twice"));
        }
        out.push(Value::String(s));
    }
    Ok(Value::Array(out))
}

pub(super) fn parse_tags(value: &Value) -> Result<Vec<String>, String> {
    let items = value.as_array().ok_or("must be an array of tag names")?;
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let s = text(item.as_str().ok_or("must be an array of tag names")?, 100)?;
        if s.is_empty() {
            return Err("tag names must not be empty".into());
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_domains_are_tidied() {
        assert_eq!(url("example.com/x").unwrap(), "https://example.com/x");
        assert!(url("javascript:alert(1)").is_err());
        assert_eq!(domain("WWW.Example.DK.").unwrap(), "example.dk");
        assert!(domain("not a domain").is_err());
        for pasted in [
            "https://www.Nordlys.dk/",
            "http://nordlys.dk/kontakt?x=1",
            "HTTPS://nordlys.dk:443",
            "https://www.nordlys.dk.#top",
        ] {
            assert_eq!(domain(pasted).unwrap(), "nordlys.dk", "{pasted}");
        }
        assert!(domain("https://").is_err());
        assert!(domain("ftp://nordlys.dk").is_err());
        assert_eq!(domain("www.nordlys.dk/kontakt").unwrap(), "nordlys.dk");
        assert!(
            domain("nordlys.dk:80").is_err(),
            "a port only after a scheme"
        );
    }
}
