//! Which columns an export has and what each holds. Headers are the names the importer
//! maps back without asking (`first_name`, `company`, `owner`, `custom.tier`), so an
//! export imports again as it is; links are written as what the importer links by (the
//! company's name, the owner's email, the stage's name), not as ids.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use kith_core::fields::{CustomDef, Kind};
use kith_core::objects::{FieldSpec, ObjectKind};
use kith_core::Scalar;
use serde_json::Value;
use uuid::Uuid;

use crate::{Error, Record};

/// One column of an export.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    /// The record's id (the importer keeps it as the external id).
    Id,
    /// A built-in field holding a plain value.
    Field(&'static FieldSpec),
    /// A custom field.
    Custom(CustomDef),
    /// Tag names, comma-separated.
    Tags,
    /// The linked company's name.
    Company,
    /// The owner's (tasks: the assignee's) email.
    Owner(&'static str),
    /// A deal's stage by name.
    Stage,
    /// A deal's pipeline by name.
    Pipeline,
    /// The linked contact's email.
    ContactEmail,
    /// A contact's further emails.
    Email2,
    /// A contact's further phone numbers.
    Mobile,
    /// A contact's marketing consent on one channel.
    Consent(&'static str),
    /// When the record was created (an import keeps it for the records it makes).
    CreatedAt,
    /// When the record last changed (not imported back).
    UpdatedAt,
}

impl PartialEq for Column {
    /// Columns are the same when their headers are: each header names one column.
    fn eq(&self, other: &Column) -> bool {
        self.header() == other.header()
    }
}

impl Column {
    /// The header: a name `kith_core::import::columns::guess` maps back to this column.
    pub(crate) fn header(&self) -> String {
        match self {
            Column::Id => "id".into(),
            Column::Field(f) => f.name.into(),
            Column::Custom(d) => format!("custom.{}", d.key),
            Column::Tags => "tags".into(),
            Column::Company => "company".into(),
            Column::Owner(_) => "owner".into(),
            Column::Stage => "stage".into(),
            Column::Pipeline => "pipeline".into(),
            Column::ContactEmail => "contact_email".into(),
            Column::Email2 => "email2".into(),
            Column::Mobile => "mobile".into(),
            Column::Consent(channel) => format!("consent.{channel}"),
            Column::CreatedAt => "created_at".into(),
            Column::UpdatedAt => "updated_at".into(),
        }
    }
}

/// The columns a field of the object's spec becomes (none for what cannot be imported
/// back, such as read-only fields and a task's deal).
fn for_field(object: ObjectKind, f: &'static FieldSpec) -> Vec<Column> {
    match (f.name, f.kind) {
        ("company_id", _) => vec![Column::Company],
        ("owner_id" | "assignee_id", _) => vec![Column::Owner(f.name)],
        ("stage_id", _) => vec![Column::Stage],
        ("pipeline_id", _) => vec![Column::Pipeline],
        ("contact_id", _) => vec![Column::ContactEmail],
        ("email", _) if object == ObjectKind::Contact => vec![Column::Field(f), Column::Email2],
        ("phone", _) if object == ObjectKind::Contact => vec![Column::Field(f), Column::Mobile],
        (_, Kind::Consent) => kith_core::fields::CONSENT_CHANNELS
            .iter()
            .map(|c| Column::Consent(c))
            .collect(),
        (_, Kind::Ref(_) | Kind::UserRef | Kind::Identities | Kind::Options) => {
            vec![]
        }
        _ if f.read_only => vec![],
        _ => vec![Column::Field(f)],
    }
}

/// Every column that imports back: the id, the built-in fields in their order, when the
/// record was made, tags, then the custom fields.
pub(crate) fn all(object: ObjectKind, defs: &[CustomDef]) -> Vec<Column> {
    let mut cols = vec![Column::Id];
    for f in object.fields() {
        cols.extend(for_field(object, f));
    }
    if kith_core::import::columns::targets(object).contains(&"created_at") {
        cols.push(Column::CreatedAt);
    }
    if object.is_customisable() {
        cols.push(Column::Tags);
        cols.extend(defs.iter().cloned().map(Column::Custom));
    }
    cols
}

/// The columns a saved view or the list page names (`last_name`, `company_id`,
/// `custom.tier`, `created_at` …), after the id.
pub(crate) fn chosen(
    object: ObjectKind,
    names: &[String],
    defs: &[CustomDef],
) -> Result<Vec<Column>, Error> {
    let mut cols = vec![Column::Id];
    for name in names {
        let add: Vec<Column> = match name.as_str() {
            "id" => vec![],
            // The list's name column shows the whole name.
            "first_name" | "last_name" if object == ObjectKind::Contact => {
                ["first_name", "last_name"]
                    .iter()
                    .filter_map(|n| object.field(n))
                    .map(Column::Field)
                    .collect()
            }
            "tags" if object.is_customisable() => vec![Column::Tags],
            "created_at" => vec![Column::CreatedAt],
            "updated_at" => vec![Column::UpdatedAt],
            "identities" => vec![Column::Email2, Column::Mobile],
            n => {
                if let Some(key) = n.strip_prefix("custom.") {
                    let def = defs.iter().find(|d| d.key == key).ok_or_else(|| {
                        kith_core::Error::field("columns", format!("no custom field `{key}`"))
                    })?;
                    vec![Column::Custom(def.clone())]
                } else {
                    let f = object.field(n).ok_or_else(|| {
                        kith_core::Error::field(
                            "columns",
                            format!("`{n}` is not a field of {}", object.singular()),
                        )
                    })?;
                    match for_field(object, f) {
                        // Read-only fields are shown when asked for by name.
                        v if v.is_empty() && f.read_only => vec![Column::Field(f)],
                        // `email` is the email alone; further ones only by default.
                        v => v.into_iter().take(1).collect(),
                    }
                }
            }
        };
        for c in add {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
    }
    Ok(cols)
}

/// One cell, typed so a spreadsheet gets numbers and dates, not text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// Whole number.
    Int(i64),
    /// Number.
    Float(f64),
    /// Yes or no.
    Bool(bool),
    /// Calendar date.
    Date(NaiveDate),
    /// Instant (written in UTC).
    Time(DateTime<Utc>),
    /// Money in minor units; `code` also names the currency in the cell itself.
    Money {
        /// Minor units.
        minor: i64,
        /// ISO 4217 code.
        currency: String,
        /// Write the code in the cell (custom money fields have no currency column).
        code: bool,
    },
}

/// What links resolve to, loaded by the exporter page by page.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub users: HashMap<Uuid, String>,
    pub stages: HashMap<Uuid, String>,
    pub pipelines: HashMap<Uuid, String>,
    pub companies: HashMap<Uuid, String>,
    pub contacts: HashMap<Uuid, String>,
}

impl Names {
    /// Names of linked companies, or emails of linked contacts.
    pub(crate) fn linked(&mut self, object: ObjectKind) -> &mut HashMap<Uuid, String> {
        if object == ObjectKind::Company {
            &mut self.companies
        } else {
            &mut self.contacts
        }
    }
}

/// Further emails or phones of a contact (its identities other than the primary one).
pub(crate) fn others(rec: &Record, kind: &str, primary: &str) -> Vec<String> {
    let primary = rec.text(primary);
    match rec.get("identities") {
        Some(Scalar::Json(Value::Array(items))) => items
            .iter()
            .filter(|i| i["kind"] == kind)
            .filter_map(|i| i["value"].as_str())
            .filter(|v| Some(*v) != primary)
            .map(String::from)
            .collect(),
        _ => vec![],
    }
}

fn scalar(v: Option<&Scalar>) -> Cell {
    match v {
        None | Some(Scalar::Null(_)) => Cell::Empty,
        Some(Scalar::Text(s)) => Cell::Text(s.clone()),
        Some(Scalar::Int(i)) => Cell::Int(*i),
        Some(Scalar::Float(f)) => Cell::Float(*f),
        Some(Scalar::Bool(b)) => Cell::Bool(*b),
        Some(Scalar::Uuid(u)) => Cell::Text(u.to_string()),
        Some(Scalar::Date(d)) => Cell::Date(*d),
        Some(Scalar::Time(t)) => Cell::Time(*t),
        Some(Scalar::Json(j)) => Cell::Text(j.to_string()),
    }
}

fn custom(def: &CustomDef, v: Option<&Value>) -> Cell {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Cell::Empty;
    };
    match (def.kind.as_str(), v) {
        ("money", Value::Object(m)) => match (
            m.get("amount").and_then(Value::as_i64),
            m.get("currency").and_then(Value::as_str),
        ) {
            (Some(minor), Some(currency)) => Cell::Money {
                minor,
                currency: currency.into(),
                code: true,
            },
            _ => Cell::Text(v.to_string()),
        },
        ("date", Value::String(s)) => kith_core::fields::date(s)
            .map(Cell::Date)
            .unwrap_or_else(|_| Cell::Text(s.clone())),
        (_, Value::String(s)) => Cell::Text(s.clone()),
        (_, Value::Bool(b)) => Cell::Bool(*b),
        (_, Value::Number(n)) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or_default()),
        },
        (_, Value::Array(items)) => Cell::Text(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => Cell::Text(v.to_string()),
    }
}

fn name(map: &HashMap<Uuid, String>, id: Option<Uuid>) -> Cell {
    id.and_then(|id| map.get(&id))
        .map(|n| Cell::Text(n.clone()))
        .unwrap_or(Cell::Empty)
}

fn text(v: String) -> Cell {
    if v.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(v)
    }
}

/// The cell of `col` for `rec`.
pub(crate) fn cell(col: &Column, rec: &Record, names: &Names) -> Cell {
    match col {
        Column::Id => Cell::Text(rec.id.to_string()),
        Column::Field(f) if f.name == "amount" => match rec.get("amount") {
            Some(Scalar::Int(minor)) => Cell::Money {
                minor: *minor,
                currency: rec.text("currency").unwrap_or_default().to_string(),
                code: false,
            },
            _ => Cell::Empty,
        },
        Column::Field(f) => scalar(rec.get(f.name)),
        Column::Custom(def) => custom(def, rec.custom.get(&def.key)),
        Column::Tags => text(rec.tags.join(", ")),
        Column::Company => name(&names.companies, rec.uuid("company_id")),
        Column::Owner(field) => name(&names.users, rec.uuid(field)),
        Column::Stage => name(&names.stages, rec.uuid("stage_id")),
        Column::Pipeline => name(&names.pipelines, rec.uuid("pipeline_id")),
        Column::ContactEmail => name(&names.contacts, rec.uuid("contact_id")),
        Column::Email2 => text(others(rec, "email", "email").join(", ")),
        Column::Mobile => text(others(rec, "phone", "phone").join(", ")),
        Column::Consent(channel) => match rec.get("consent") {
            Some(Scalar::Json(c)) => text(c[*channel].as_str().unwrap_or_default().into()),
            _ => Cell::Empty,
        },
        Column::CreatedAt => Cell::Time(rec.created_at),
        Column::UpdatedAt => Cell::Time(rec.updated_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kith_core::import::columns::guess;

    #[test]
    fn every_default_header_maps_back_to_its_column() {
        let defs = [CustomDef {
            key: "tier".into(),
            kind: "select".into(),
            options: vec!["gold".into()],
        }];
        for object in [
            ObjectKind::Contact,
            ObjectKind::Company,
            ObjectKind::Deal,
            ObjectKind::Activity,
            ObjectKind::Task,
        ] {
            for col in all(object, &defs) {
                let header = col.header();
                let expected = match &col {
                    Column::Id => Some("external_id".to_string()),
                    // The importer maps `custom.KEY` to the custom field itself.
                    Column::Custom(_) => None,
                    _ => Some(header.clone()),
                };
                assert_eq!(
                    guess(object, &header).map(String::from),
                    expected,
                    "{} {header}",
                    object.singular()
                );
            }
        }
    }

    #[test]
    fn chosen_columns_follow_the_list_and_refuse_unknown_fields() {
        let cols = chosen(
            ObjectKind::Contact,
            &[
                "last_name".into(),
                "email".into(),
                "company_id".into(),
                "created_at".into(),
            ],
            &[],
        )
        .unwrap();
        let headers: Vec<String> = cols.iter().map(Column::header).collect();
        assert_eq!(
            headers,
            [
                "id",
                "first_name",
                "last_name",
                "email",
                "company",
                "created_at"
            ]
        );
        let err = chosen(ObjectKind::Deal, &["nope".into()], &[]).unwrap_err();
        assert!(err.to_string().contains("invalid fields: columns"), "{err}");
    }
}
