//! Field types and the validation of what a client writes into them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

mod currency;
mod custom;
mod line_items;
mod value;

pub use currency::is_currency;
use custom::parse_custom;
pub use custom::{custom_value, CustomDef, MAX_CUSTOM_FIELDS};
pub use line_items::lines_total;
pub use value::{date, datetime, parse};

/// The domain of a website's address (`https://www.Nordlys.dk/kontakt` → `nordlys.dk`),
/// when it is the company's own: a page on a shared site (facebook.com/firma) names the
/// site, which many companies would then share.
pub fn domain_of_website(website: &str) -> Option<String> {
    const SHARED: &[&str] = &[
        "facebook.com",
        "m.facebook.com",
        "fb.com",
        "linkedin.com",
        "instagram.com",
        "twitter.com",
        "x.com",
        "youtube.com",
        "tiktok.com",
        "sites.google.com",
        "google.com",
        "linktr.ee",
        "bit.ly",
        "weibo.com",
        "mp.weixin.qq.com",
        "qq.com",
        "douyin.com",
        "taobao.com",
        "tmall.com",
        "jd.com",
        "1688.com",
    ];
    value::domain(website)
        .ok()
        .filter(|d| !SHARED.contains(&d.as_str()))
}
use value::{expect_str, json_type, parse_tags, text, url};

use crate::objects::{FieldSpec, ObjectKind};
use crate::{Error, FieldErrors, PhoneRegion, Scalar, ScalarType};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_website_gives_its_own_domain_not_a_shared_sites() {
        assert_eq!(
            domain_of_website("https://www.Nordlys.dk/kontakt").as_deref(),
            Some("nordlys.dk")
        );
        assert_eq!(
            domain_of_website("firma.wixsite.com/home").as_deref(),
            Some("firma.wixsite.com")
        );
        assert_eq!(domain_of_website("https://www.facebook.com/firmaA"), None);
        assert_eq!(
            domain_of_website("https://sites.google.com/view/firma"),
            None
        );
        assert_eq!(domain_of_website("not a site"), None);
    }
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
}
