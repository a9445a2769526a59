//! Custom fields: their definitions and the checking of the values stored under them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{date, expect_str, json_type, parse, text, url, Context, Kind};
use crate::{normalise_email, normalise_phone, FieldErrors, PhoneRegion, Scalar, ScalarType};

/// The most custom fields a workspace may define for one object: enough for any real
/// migration (Salesforce allows 500 per object), and a guard against an import whose
/// wrong delimiter turns every value into a column.
pub const MAX_CUSTOM_FIELDS: usize = 500;

/// A custom field as defined in a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomDef {
    /// Key in the record's `custom` object.
    pub key: String,
    /// One of [`CUSTOM_KINDS`].
    pub kind: String,
    /// Allowed values of select and multi_select.
    pub options: Vec<String>,
}

impl CustomDef {
    /// The type the value has when compared in a filter or sorted.
    pub fn scalar_type(&self) -> ScalarType {
        match self.kind.as_str() {
            "number" => ScalarType::Float,
            "money" => ScalarType::Int,
            "boolean" => ScalarType::Bool,
            "date" => ScalarType::Date,
            _ => ScalarType::Text,
        }
    }
}

/// Checks custom values against the workspace's definitions.
pub(super) fn parse_custom(
    value: &Value,
    ctx: &Context<'_>,
) -> Result<BTreeMap<String, Value>, FieldErrors> {
    let defs = ctx.custom;
    let mut errors = FieldErrors::default();
    let mut out = BTreeMap::new();
    let Some(obj) = value.as_object() else {
        errors.add("custom", "must be an object of custom field values");
        return Err(errors);
    };
    for (key, v) in obj {
        let name = format!("custom.{key}");
        let Some(def) = defs.iter().find(|d| &d.key == key) else {
            errors.add(name, "no such custom field");
            continue;
        };
        match custom_value(def, v, ctx.phone_region) {
            Ok(v) => {
                out.insert(key.clone(), v);
            }
            Err(e) => errors.add(name, e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks one custom value and returns it in its stored JSON form.
pub fn custom_value(
    def: &CustomDef,
    v: &Value,
    phone_region: Option<PhoneRegion>,
) -> Result<Value, String> {
    if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Ok(Value::Null);
    }
    let ctx = Context {
        phone_region,
        custom: &[],
    };
    let s = || expect_str(v);
    Ok(match def.kind.as_str() {
        "text" => Value::String(text(s()?, 2000)?),
        "number" => {
            let n = v
                .as_f64()
                .ok_or_else(|| format!("must be a number, not {}", json_type(v)))?;
            if !n.is_finite() {
                return Err("must be a finite number".into());
            }
            v.clone()
        }
        "date" => Value::String(date(s()?)?.to_string()),
        "boolean" => Value::Bool(v.as_bool().ok_or("must be true or false")?),
        "select" => {
            let s = s()?.trim();
            if !def.options.iter().any(|o| o == s) {
                return Err(format!("must be one of: {}", def.options.join(", ")));
            }
            Value::String(s.to_string())
        }
        "multi_select" => {
            let items = v.as_array().ok_or("must be an array of options")?;
            let mut out = Vec::new();
            for item in items {
                let s = item.as_str().ok_or("must be an array of options")?;
                if !def.options.iter().any(|o| o == s) {
                    return Err(format!("`{s}` is not one of: {}", def.options.join(", ")));
                }
                out.push(Value::String(s.to_string()));
            }
            Value::Array(out)
        }
        "url" => Value::String(url(s()?)?),
        "email" => Value::String(normalise_email(s()?)?),
        "phone" => Value::String(normalise_phone(s()?, ctx.phone_region)?),
        "money" => {
            let obj = v
                .as_object()
                .ok_or("must be {\"amount\": minor units, \"currency\": \"DKK\"}")?;
            let amount = obj
                .get("amount")
                .and_then(Value::as_i64)
                .ok_or("amount must be a whole number of minor units")?;
            let currency = parse(
                Kind::Currency,
                obj.get("currency").unwrap_or(&Value::Null),
                &ctx,
            )?;
            let Scalar::Text(currency) = currency else {
                return Err("currency is required".into());
            };
            serde_json::json!({"amount": amount, "currency": currency})
        }
        other => return Err(format!("field has unknown kind {other}")),
    })
}
