//! Which column of a file fills which field: the guessed mapping and the user's choices
//! over it, the targets a column can have, and how the file writes its dates.

use std::collections::BTreeSet;

use kith_core::fields::{CustomDef, Kind, MAX_CUSTOM_FIELDS};
use kith_core::import::columns;
use kith_core::import::values::{order_shown, DateOrder};
use kith_core::objects::{FieldSpec, ObjectKind};
use serde_json::{json, Value};

use super::bad;
use super::source::RawRow;
use crate::Error;

/// Where a column's values go.
#[derive(Debug, Clone)]
pub enum Target {
    /// A built-in field.
    Field(&'static FieldSpec),
    /// A custom field.
    Custom(String),
    /// One of the importer's own targets (`full_name`, `company`, `tags`, …).
    Pseudo(&'static str),
}

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        self.name() == other.name()
    }
}

impl Target {
    /// The name used in `--map COL=NAME` and the API.
    pub fn name(&self) -> String {
        match self {
            Target::Field(f) => f.name.to_string(),
            Target::Custom(k) => format!("custom.{k}"),
            Target::Pseudo(p) => p.to_string(),
        }
    }
}

/// Parses a target name for `object`; `""`, `-` and `ignore` mean "skip this column".
pub fn parse_target(object: ObjectKind, name: &str) -> Result<Option<Target>, String> {
    let name = name.trim();
    if name.is_empty() || name == "-" || name == "ignore" {
        return Ok(None);
    }
    if let Some(key) = name.strip_prefix("custom.") {
        return Ok(Some(Target::Custom(key.to_string())));
    }
    let valid = columns::targets(object);
    match valid.iter().find(|t| **t == name) {
        Some(t) => Ok(Some(match object.field(t) {
            Some(spec) => Target::Field(spec),
            None => Target::Pseudo(t),
        })),
        None => Err(format!(
            "`{name}` is not a field of {}; use one of: {}, custom.KEY or ignore",
            object.singular(),
            valid.join(", ")
        )),
    }
}

/// The columns an error file adds after the file's own.
pub const REPORT_COLUMNS: &[&str] = &["Import line", "Import errors"];

/// Which column fills which target.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// Per column: its header and its target (None: ignored).
    pub columns: Vec<(String, Option<Target>)>,
}

impl Mapping {
    /// Guesses a mapping from the headers, then applies the user's `COL=FIELD` choices.
    /// Unknown columns become custom text fields when `create_fields` is set; returns
    /// the custom keys that do not exist yet.
    pub fn build(
        object: ObjectKind,
        headers: &[String],
        preset: Option<&[Option<&'static str>]>,
        overrides: &[(String, String)],
        defs: &[CustomDef],
        create_fields: bool,
    ) -> Result<(Mapping, Vec<String>), Error> {
        let guesses: Vec<Option<(&'static str, bool)>> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| match preset {
                Some(p) => p.get(i).copied().flatten().map(|g| (g, true)),
                None => columns::guess_ranked(object, h),
            })
            .collect();
        // Columns that name their field claim it before those reaching it through a
        // general word, each kind in the file's order.
        let mut taken = BTreeSet::new();
        let mut claimed: Vec<Option<&'static str>> = vec![None; headers.len()];
        for names_it in [true, false] {
            for (i, guess) in guesses.iter().enumerate() {
                if let Some((g, specific)) = guess {
                    if *specific == names_it {
                        claimed[i] = claim(object, g, &mut taken);
                    }
                }
            }
        }
        let mut cols: Vec<(String, Option<Target>)> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let target = claimed[i]
                    .and_then(|g| parse_target(object, g).ok().flatten())
                    .or_else(|| {
                        let key = h.strip_prefix("custom.")?;
                        defs.iter()
                            .any(|d| d.key == key)
                            .then(|| Target::Custom(key.into()))
                    })
                    .or_else(|| {
                        let key = columns::custom_key(h);
                        defs.iter()
                            .any(|d| d.key == key)
                            .then_some(Target::Custom(key))
                    });
                // The columns Kith adds to an error file are never data.
                let target = target.filter(|_| !REPORT_COLUMNS.contains(&h.as_str()));
                (h.clone(), target)
            })
            .collect();
        for (col, field) in overrides {
            let slot = cols.iter_mut().find(|(h, _)| h == col).ok_or_else(|| {
                bad(format!(
                    "--map {col}={field}: the file has no column `{col}` (columns: {})",
                    headers.join(", ")
                ))
            })?;
            slot.1 = parse_target(object, field)
                .map_err(|e| bad(format!("--map {col}={field}: {e}")))?;
        }
        let mut new_fields = vec![];
        if create_fields && object.is_customisable() {
            for (h, t) in cols.iter_mut() {
                if t.is_none()
                    && !overrides.iter().any(|(c, _)| c == h)
                    && !REPORT_COLUMNS.contains(&h.as_str())
                {
                    let mut key = columns::custom_key(h);
                    if key.is_empty() {
                        key = format!("column_{}", new_fields.len() + 1);
                    }
                    if !defs.iter().any(|d| d.key == key) && !new_fields.contains(&key) {
                        new_fields.push(key.clone());
                    }
                    *t = Some(Target::Custom(key));
                }
            }
        }
        if defs.len() + new_fields.len() > MAX_CUSTOM_FIELDS {
            return Err(bad(format!(
                "the file has {} columns no field matches: as custom fields they would give {} {} custom fields, more than the {MAX_CUSTOM_FIELDS} a workspace may define; check the delimiter, or choose the columns with --map COLUMN=FIELD and leave out --create-fields",
                new_fields.len(),
                object.plural(),
                defs.len() + new_fields.len(),
            )));
        }
        for (h, t) in &cols {
            if let Some(Target::Custom(k)) = t {
                if !defs.iter().any(|d| &d.key == k) && !new_fields.contains(k) {
                    return Err(bad(format!(
                        "column `{h}`: no custom field `{k}`; create it first or pass --create-fields"
                    )));
                }
            }
        }
        Ok((Mapping { columns: cols }, new_fields))
    }

    /// The mapping as stored in the import's options.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.columns
                .iter()
                .map(|(h, t)| json!({"column": h, "target": t.as_ref().map(Target::name)}))
                .collect(),
        )
    }

    /// Whether a column fills `name`.
    pub(super) fn has(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|(_, t)| t.as_ref().is_some_and(|t| t.name() == name))
    }
}

/// Rows a file's date order is judged by: its first ones.
pub const ORDER_SAMPLE: usize = 5_000;

/// How a file writes its dates, from what its date columns show in `rows` (see
/// [`order_shown`]): month first when only that fits somewhere, else `fallback`. With a
/// note when that is not the fallback, or when the file writes dates both ways.
pub fn date_order_of(
    mapping: &Mapping,
    defs: &[CustomDef],
    rows: &[RawRow],
    fallback: DateOrder,
) -> (DateOrder, Option<String>) {
    let dated: Vec<(usize, &str)> = mapping
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, (h, t))| {
            let is_date = match t.as_ref()? {
                Target::Field(spec) => matches!(spec.kind, Kind::Date | Kind::DateTime),
                Target::Custom(key) => defs.iter().any(|d| &d.key == key && d.kind == "date"),
                Target::Pseudo(p) => {
                    matches!(
                        *p,
                        "created_at" | "email_opted_in_at" | "email_opted_out_at"
                    )
                }
            };
            is_date.then_some((i, h.as_str()))
        })
        .collect();
    let (mut day, mut month) = (None, None);
    'rows: for row in rows {
        for (i, header) in &dated {
            let Some(cell) = row.cells.get(*i) else {
                continue;
            };
            let seen = match order_shown(cell) {
                Some(DateOrder::DayFirst) => &mut day,
                Some(DateOrder::MonthFirst) => &mut month,
                None => continue,
            };
            seen.get_or_insert_with(|| format!("`{}` ({header})", cell.trim()));
            if day.is_some() && month.is_some() {
                break 'rows;
            }
        }
    }
    let name = |o: DateOrder| match o {
        DateOrder::DayFirst => "day first (01/03/2026 is 1 March)",
        DateOrder::MonthFirst => "month first (01/03/2026 is 3 January)",
    };
    let shown = |o: DateOrder, example: String| {
        let note =
            (o != fallback).then(|| format!("dates are read {}, as {example} shows", name(o)));
        (o, note)
    };
    match (day, month) {
        (Some(d), Some(m)) => (
            fallback,
            Some(format!(
                "the file writes dates day first ({d}) and month first ({m}); dates that \
                 fit both are read {}: check them",
                name(fallback)
            )),
        ),
        (None, Some(m)) => shown(DateOrder::MonthFirst, m),
        (Some(d), None) => shown(DateOrder::DayFirst, d),
        (None, None) => (fallback, None),
    }
}

/// The target of a column guessed as `guess`. The first column of a meaning wins; a
/// contact's later email and phone columns (`Email`, `Email` as old systems export
/// home and work) add identities, and tags and notes columns add up. Other repeats are
/// offered, not used.
fn claim(
    object: ObjectKind,
    guess: &'static str,
    taken: &mut BTreeSet<&'static str>,
) -> Option<&'static str> {
    let adds_up = ["tags", "notes", "email2", "mobile"].contains(&guess);
    if taken.insert(guess) || adds_up {
        return Some(guess);
    }
    match (object, guess) {
        (ObjectKind::Contact, "email") => Some("email2"),
        (ObjectKind::Contact, "phone") => Some("mobile"),
        _ => None,
    }
}
