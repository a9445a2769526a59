//! Field types and the validation of what a client writes into them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

mod custom;
mod line_items;

use custom::parse_custom;
pub use custom::{custom_value, CustomDef};
pub use line_items::lines_total;

use crate::objects::{FieldSpec, ObjectKind};
use crate::{
    normalise_email, normalise_phone, Error, FieldErrors, PhoneRegion, Scalar, ScalarType,
};

/// The type of a built-in field, which decides how input is checked and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Single-line text up to N characters.
    Text(usize),
    /// Multi-line text up to 100,000 characters.
    LongText,
    /// Email address, lower-cased.
    Email,
    /// Phone number, stored in E.164.
    Phone,
    /// http(s) URL.
    Url,
    /// Internet domain, lower-cased.
    Domain,
    /// Integer within bounds.
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// true/false.
    Bool,
    /// Calendar date.
    Date,
    /// UTC timestamp.
    DateTime,
    /// ISO 4217 code.
    Currency,
    /// ISO 3166-1 alpha-2 code.
    Country,
    /// One of a fixed list.
    Choice(&'static [&'static str]),
    /// Id of another record.
    Ref(ObjectKind),
    /// Id of a user of the workspace.
    UserRef,
    /// Consent per channel.
    Consent,
    /// Further emails, phones and external ids.
    Identities,
    /// A custom field key.
    Key,
    /// A list of select options.
    Options,
    /// Line items of an order.
    LineItems,
}

impl Kind {
    /// The storage type of the column.
    pub fn scalar_type(self) -> ScalarType {
        match self {
            Kind::Int { .. } => ScalarType::Int,
            Kind::Bool => ScalarType::Bool,
            Kind::Date => ScalarType::Date,
            Kind::DateTime => ScalarType::Time,
            Kind::Ref(_) | Kind::UserRef => ScalarType::Uuid,
            Kind::Consent | Kind::Identities | Kind::Options | Kind::LineItems => ScalarType::Json,
            _ => ScalarType::Text,
        }
    }

    /// Name of the type in the API reference.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Text(_) | Kind::LongText | Kind::Key => "string",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Url => "uri",
            Kind::Domain => "hostname",
            Kind::Int { .. } => "integer",
            Kind::Bool => "boolean",
            Kind::Date => "date",
            Kind::DateTime => "date-time",
            Kind::Currency => "currency",
            Kind::Country => "country",
            Kind::Choice(_) => "enum",
            Kind::Ref(_) | Kind::UserRef => "uuid",
            Kind::Consent | Kind::Identities | Kind::Options => "object",
            Kind::LineItems => "array",
        }
    }
}

/// Types a custom field can have.
pub const CUSTOM_KINDS: &[&str] = &[
    "text",
    "number",
    "date",
    "boolean",
    "select",
    "multi_select",
    "url",
    "email",
    "phone",
    "money",
];

/// Channels whose consent a contact can give or refuse.
pub const CONSENT_CHANNELS: &[&str] = &["email", "sms", "phone", "whatsapp", "post"];
const CONSENT_STATES: &[&str] = &["granted", "denied", "unknown"];

/// What validation needs to know of the workspace.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// Region for phone numbers written without `+`.
    pub phone_region: Option<PhoneRegion>,
    /// Custom fields of the object being written.
    pub custom: &'a [CustomDef],
}

/// A validated write: typed column values, custom values and tags.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Built-in columns to set.
    pub columns: Vec<(&'static FieldSpec, Scalar)>,
    /// Custom values to set; `null` removes a value.
    pub custom: BTreeMap<String, Value>,
    /// The record's complete new set of tag names, if given.
    pub tags: Option<Vec<String>>,
    /// The version the client based the write on, if it sent one in the body.
    pub expected_version: Option<i64>,
}

impl Changes {
    /// The new value of column `name`, if this write sets it.
    pub fn get(&self, name: &str) -> Option<&Scalar> {
        self.columns
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| v)
    }

    /// Sets (or replaces) a column value.
    pub fn set(&mut self, spec: &'static FieldSpec, value: Scalar) {
        match self.columns.iter_mut().find(|(f, _)| f.name == spec.name) {
            Some(slot) => slot.1 = value,
            None => self.columns.push((spec, value)),
        }
    }
}

/// Whether a write creates a record or changes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// POST: required fields must be present.
    Create,
    /// PATCH: only the given fields change.
    Update,
}

const SYSTEM_FIELDS: &[&str] = &["id", "created_at", "updated_at", "deleted_at"];

/// Checks a client's JSON object against `object`'s fields and returns the typed
/// changes, or an error naming every bad field at once.
pub fn validate(
    object: ObjectKind,
    input: &Map<String, Value>,
    mode: Mode,
    ctx: &Context<'_>,
) -> Result<Changes, Error> {
    let (changes, errors) = validate_all(object, input, mode, ctx);
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(Error::fields(errors))
    }
}

/// Like [`validate`], but returns the valid part with the errors, so that later checks
/// (which need the valid part) can add theirs and every bad field is named in one answer.
pub fn validate_all(
    object: ObjectKind,
    input: &Map<String, Value>,
    mode: Mode,
    ctx: &Context<'_>,
) -> (Changes, FieldErrors) {
    let mut errors = FieldErrors::default();
    let mut changes = Changes::default();
    for (name, value) in input {
        if let Some(spec) = object.field(name) {
            if spec.read_only {
                errors.add(name, "is read-only");
            } else if spec.create_only && mode == Mode::Update {
                errors.add(name, "cannot be changed after creation");
            } else if value.is_null() && spec.required {
                errors.add(name, "is required");
            } else {
                match parse(spec.kind, value, ctx) {
                    Ok(Scalar::Null(_)) if spec.required => errors.add(name, "is required"),
                    Ok(v) => changes.columns.push((spec, v)),
                    Err(e) => errors.add(name, e),
                }
            }
        } else if name == "custom" && object.is_customisable() {
            match parse_custom(value, ctx) {
                Ok(c) => changes.custom = c,
                Err(fields) => {
                    for (k, v) in fields.0 {
                        errors.add(k, v);
                    }
                }
            }
        } else if name == "tags" && object.is_customisable() {
            match parse_tags(value) {
                Ok(t) => changes.tags = Some(t),
                Err(e) => errors.add(name, e),
            }
        } else if name == "version" {
            match value.as_i64() {
                Some(v) if mode == Mode::Update => changes.expected_version = Some(v),
                Some(_) => errors.add(name, "is set by Kith on create"),
                None => errors.add(name, "must be an integer"),
            }
        } else if SYSTEM_FIELDS.contains(&name.as_str()) {
            errors.add(name, "is read-only");
        } else {
            errors.add(name, format!("unknown field of {}", object.singular()));
        }
    }
    if mode == Mode::Create {
        for spec in object.fields().iter().filter(|f| f.required) {
            if !input.contains_key(spec.name) {
                errors.add(spec.name, "is required");
            }
        }
    }
    (changes, errors)
}

fn expect_str(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("must be a string, not {}", json_type(value)))
}

fn json_type(value: &Value) -> &'static str {
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
            if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
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

fn text(s: &str, max: usize) -> Result<String, String> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err("contains a control character".into());
    }
    Ok(s.to_string())
}

fn url(s: &str) -> Result<String, String> {
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

fn domain(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('.').to_lowercase();
    let s = s.strip_prefix("www.").unwrap_or(&s).to_string();
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

fn uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s.trim()).map_err(|_| format!("`{s}` is not an id"))
}

fn consent(value: &Value) -> Result<Value, String> {
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

fn identities(value: &Value, ctx: &Context<'_>) -> Result<Value, String> {
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

fn options(value: &Value) -> Result<Value, String> {
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

fn parse_tags(value: &Value) -> Result<Vec<String>, String> {
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
    use serde_json::json;

    fn ctx() -> Context<'static> {
        Context {
            phone_region: PhoneRegion::parse("DK").ok(),
            custom: &[],
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let err = validate(
            ObjectKind::Contact,
            &obj(json!({"email": "nope", "birthday": "31/02/2020", "phone": "12", "shoe": 1})),
            Mode::Create,
            &ctx(),
        )
        .unwrap_err();
        let keys: Vec<_> = err.fields.0.keys().cloned().collect();
        assert_eq!(keys, ["birthday", "email", "phone", "shoe"]);
        assert_eq!(err.code, "validation_failed");
    }

    #[test]
    fn contact_values_are_normalised() {
        let c = validate(
            ObjectKind::Contact,
            &obj(json!({"first_name": "  Søren ", "email": "S@X.DK", "phone": "20123456", "country": "dk"})),
            Mode::Create,
            &ctx(),
        )
        .unwrap();
        assert_eq!(c.get("first_name"), Some(&Scalar::Text("Søren".into())));
        assert_eq!(c.get("email"), Some(&Scalar::Text("s@x.dk".into())));
        assert_eq!(c.get("phone"), Some(&Scalar::Text("+4520123456".into())));
        assert_eq!(c.get("country"), Some(&Scalar::Text("DK".into())));
    }

    #[test]
    fn required_fields_are_required_on_create_only() {
        let err = validate(ObjectKind::Company, &Map::new(), Mode::Create, &ctx()).unwrap_err();
        assert!(err.fields.0.contains_key("name"));
        assert!(validate(ObjectKind::Company, &Map::new(), Mode::Update, &ctx()).is_ok());
        let err = validate(
            ObjectKind::Company,
            &obj(json!({"name": ""})),
            Mode::Update,
            &ctx(),
        )
        .unwrap_err();
        assert_eq!(err.fields.0["name"], "is required");
    }

    #[test]
    fn wrong_json_types_are_explained() {
        let err = validate(
            ObjectKind::Company,
            &obj(json!({"name": 5, "employees": "many"})),
            Mode::Create,
            &ctx(),
        )
        .unwrap_err();
        assert_eq!(err.fields.0["name"], "must be a string, not a number");
        assert_eq!(
            err.fields.0["employees"],
            "must be a whole number, not a string"
        );
    }

    #[test]
    fn read_only_and_create_only_fields_are_refused() {
        let err = validate(
            ObjectKind::Deal,
            &obj(json!({"status": "won", "id": "x"})),
            Mode::Update,
            &ctx(),
        )
        .unwrap_err();
        assert_eq!(err.fields.0["status"], "is read-only");
        assert_eq!(err.fields.0["id"], "is read-only");
        let err = validate(
            ObjectKind::FieldDefinition,
            &obj(json!({"kind": "text"})),
            Mode::Update,
            &ctx(),
        )
        .unwrap_err();
        assert!(err.fields.0["kind"].contains("cannot be changed"));
    }

    #[test]
    fn custom_values_are_type_checked() {
        let defs = vec![
            CustomDef {
                key: "size".into(),
                kind: "number".into(),
                options: vec![],
            },
            CustomDef {
                key: "tier".into(),
                kind: "select".into(),
                options: vec!["gold".into()],
            },
            CustomDef {
                key: "budget".into(),
                kind: "money".into(),
                options: vec![],
            },
        ];
        let ctx = Context {
            phone_region: None,
            custom: &defs,
        };
        let err = validate(
            ObjectKind::Contact,
            &obj(json!({"custom": {"size": "big", "tier": "silver", "nope": 1}})),
            Mode::Update,
            &ctx,
        )
        .unwrap_err();
        assert_eq!(err.fields.0.len(), 3);
        assert!(err.fields.0.contains_key("custom.nope"));
        let ok = validate(
            ObjectKind::Contact,
            &obj(json!({"custom": {"size": 12.5, "tier": "gold", "budget": {"amount": 500000, "currency": "dkk"}}})),
            Mode::Update,
            &ctx,
        )
        .unwrap();
        assert_eq!(
            ok.custom["budget"],
            json!({"amount": 500000, "currency": "DKK"})
        );
    }

    #[test]
    fn identities_are_normalised_and_deduplicated() {
        let c = validate(
            ObjectKind::Contact,
            &obj(json!({"identities": [
                {"kind": "email", "value": "A@B.DK"},
                {"kind": "email", "value": "a@b.dk"},
                {"kind": "phone", "value": "20 12 34 56"},
                {"kind": "external", "channel": "Shopify", "value": "42"}
            ]})),
            Mode::Update,
            &ctx(),
        )
        .unwrap();
        let Some(Scalar::Json(Value::Array(items))) = c.get("identities") else {
            panic!()
        };
        assert_eq!(items.len(), 3);
        assert_eq!(items[1]["value"], "+4520123456");
        assert_eq!(items[2]["channel"], "shopify");
    }

    #[test]
    fn urls_and_domains_are_tidied() {
        assert_eq!(url("example.com/x").unwrap(), "https://example.com/x");
        assert!(url("javascript:alert(1)").is_err());
        assert_eq!(domain("WWW.Example.DK.").unwrap(), "example.dk");
        assert!(domain("not a domain").is_err());
    }
}
