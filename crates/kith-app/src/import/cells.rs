//! How one cell is read: dates, times, money and numbers as people type them, several
//! values in one cell, and cells that become records of their own (a note, a company),
//! checked as the API checks them.

use std::collections::BTreeSet;

use kith_core::fields::{self, Context, Kind};
use kith_core::import::values::{
    parse_birthday, parse_bool, parse_date, parse_datetime_in, parse_money_in, DateOrder,
};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use serde_json::{json, Value};

/// Checks a cell that becomes a record beside the row (a note, a company) as that
/// record's field is checked through the API, so an import stores nothing the API
/// would refuse.
pub(super) fn beside(
    object: ObjectKind,
    field: &str,
    cell: &str,
    ctx: &Context<'_>,
) -> Result<(), String> {
    match object.field(field) {
        Some(spec) => as_field(spec.kind, cell, ctx).map(drop),
        None => Ok(()),
    }
}

/// A cell as a field of `kind` reads it through the API: checked, and in its stored
/// form (`Ana <Ana@x.dk>` → `ana@x.dk`).
pub(super) fn as_field(kind: Kind, cell: &str, ctx: &Context<'_>) -> Result<String, String> {
    match fields::parse(kind, &Value::String(cell.to_string()), ctx)? {
        Scalar::Text(s) => Ok(s),
        _ => Ok(cell.to_string()),
    }
}

pub(super) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The values of a cell that holds several: split at commas and semicolons (Latin and
/// Chinese), and at ` ::: `, which Google Contacts writes between them.
pub(super) fn split_many(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(":::")
        .flat_map(|part| part.split([',', ';', '，', '；']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A label as a tag: Google's system groups are written `* name`; `* myContacts`, which
/// every Google contact has, is no tag at all.
pub(super) fn tag(label: &str) -> Option<&str> {
    match label.strip_prefix('*').map(str::trim) {
        Some(system) if system.eq_ignore_ascii_case("mycontacts") => None,
        Some(system) => Some(system).filter(|s| !s.is_empty()),
        None => Some(label),
    }
}

/// A cell of `field` (email or phone) that holds several, split: the first and the
/// rest. Only when every part looks like one (an `@`; six digits), since a display name
/// (`"Hansen, Ane" <ane@x.dk>`) holds a comma too.
pub(super) fn several<'a>(field: &str, cell: &'a str) -> Option<(&'a str, Vec<&'a str>)> {
    let looks_like = |part: &str| match field {
        "email" => part.contains('@'),
        "phone" => part.chars().filter(char::is_ascii_digit).count() >= 6,
        _ => false,
    };
    let mut parts = split_many(cell);
    let first = parts.next()?;
    let more: Vec<&str> = parts.collect();
    (!more.is_empty() && looks_like(first) && more.iter().all(|p| looks_like(p)))
        .then_some((first, more))
}

/// The currency an amount of a row is in: the row's currency cell, else the workspace's.
pub(super) struct RowCurrency<'a> {
    /// The row's currency cell, when the file has one and it is filled.
    pub column: Option<&'a str>,
    /// The workspace's currency.
    pub default: &'a str,
}

/// Reads a cell for a built-in field: dates, times, money and numbers as people type
/// them; everything else as text for the field checks. Also returns the currency of a
/// money cell.
pub(super) fn cell_value(
    kind: Kind,
    name: &str,
    cell: &str,
    order: DateOrder,
    tz: &chrono_tz::Tz,
    currency: &RowCurrency<'_>,
) -> Result<(Value, Option<String>), String> {
    Ok(match kind {
        Kind::Date if name == "birthday" => {
            let today = chrono::Utc::now().date_naive();
            (parse_birthday(cell, order, today)?.to_string().into(), None)
        }
        Kind::Date => (parse_date(cell, order)?.to_string().into(), None),
        Kind::DateTime => {
            let t = parse_datetime_in(cell, order, tz)?;
            (
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into(),
                None,
            )
        }
        Kind::Int { .. } if name == "amount" || name == "total" => {
            let m = parse_money_in(cell, currency.column, currency.default)?;
            (m.minor.into(), m.currency)
        }
        Kind::Int { .. } if name == "duration_minutes" => (minutes(cell)?.into(), None),
        Kind::Int { .. } => (integer(cell)?.into(), None),
        Kind::Bool => (parse_bool(cell)?.into(), None),
        Kind::Country => (country(cell).into(), None),
        Kind::Currency => (cell.to_uppercase().into(), None),
        Kind::Choice(options) => {
            // Unknown words go on as written, for the field's own check to refuse.
            let v = kith_core::import::choices::option_for(options, cell).unwrap_or(cell);
            (v.into(), None)
        }
        _ => (cell.into(), None),
    })
}

pub(super) fn custom_cell(
    kind: &str,
    cell: &str,
    order: DateOrder,
    currency: &str,
) -> Result<Value, String> {
    Ok(match kind {
        "date" => parse_date(cell, order)?.to_string().into(),
        "boolean" => parse_bool(cell)?.into(),
        "money" => {
            let m = parse_money_in(cell, None, currency)?;
            json!({"amount": m.minor, "currency": m.currency.as_deref().unwrap_or(currency)})
        }
        "number" => serde_json::Number::from_f64(number(cell)?)
            .map(Value::Number)
            .ok_or_else(|| format!("`{cell}` is not a number"))?,
        "multi_select" => split_many(cell)
            .map(String::from)
            .collect::<Vec<_>>()
            .into(),
        _ => cell.into(),
    })
}

/// A duration in whole minutes: `45`, or a clock's `H:MM` or `HH:MM:SS` (HubSpot's call
/// durations), seconds rounded to the nearest minute.
fn minutes(cell: &str) -> Result<i64, String> {
    let parts: Vec<&str> = cell.trim().split(':').collect();
    if parts.len() == 1 {
        return integer(cell);
    }
    let bad = || format!("`{cell}` is not a duration: expected minutes, H:MM or HH:MM:SS");
    let n: Vec<i64> = parts
        .iter()
        .map(|p| {
            (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
                .ok_or_else(bad)
        })
        .collect::<Result<_, _>>()?;
    match n[..] {
        [h, m] if m < 60 => Ok(h * 60 + m),
        [h, m, s] if m < 60 && s < 60 => Ok(h * 60 + m + i64::from(s >= 30)),
        _ => Err(bad()),
    }
}

/// A number with a decimal comma or point: `2,5`, `2.5`, `1,200.50`.
pub(super) fn number(cell: &str) -> Result<f64, String> {
    let t: String = cell.chars().filter(|c| !c.is_whitespace()).collect();
    let t = if t.contains(',') && !t.contains('.') {
        t.replace(',', ".")
    } else {
        t.replace(',', "")
    };
    t.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("`{cell}` is not a number"))
}

/// A whole number written with any thousands separator: `1.200`, `1,200`, `1 200`. A
/// separator before anything but groups of three is a decimal one (`2,5`), and a
/// fraction is no whole number: it was read as 25.
fn integer(cell: &str) -> Result<i64, String> {
    let bad = || {
        // Registers and old CRMs give sizes as bands (`10-19`, `200+`).
        let band = cell
            .trim()
            .trim_end_matches('+')
            .split(['-', '–'])
            .all(|n| {
                let n = n.trim();
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
            });
        if band && cell.trim() != "-" {
            format!(
                "`{cell}` is a range, and the field holds one number: write one, or keep \
                 the ranges in a custom text field (--map \"COLUMN=custom.KEY\")"
            )
        } else {
            format!("`{cell}` is not a whole number")
        }
    };
    let compact: String = cell
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '\u{a0}' | '\u{202f}'))
        .collect();
    let (sign, number) = match compact.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", compact.as_str()),
    };
    let separators: BTreeSet<char> = number.chars().filter(|c| matches!(c, '.' | ',')).collect();
    let mut groups = number.split(['.', ',']);
    let first = groups.next().unwrap_or_default();
    let rest: Vec<&str> = groups.collect();
    let grouped = !rest.is_empty();
    if separators.len() > 1 || (grouped && (first.len() > 3 || rest.iter().any(|g| g.len() != 3))) {
        return Err(bad());
    }
    format!("{sign}{first}{}", rest.concat())
        .parse::<i64>()
        .map_err(|_| bad())
}

/// Country names as old systems write them, to ISO codes; codes pass through.
fn country(cell: &str) -> String {
    let lower = cell.trim().to_lowercase();
    let code = match lower.as_str() {
        "denmark" | "danmark" | "丹麦" => "DK",
        "china" | "kina" | "中国" | "中华人民共和国" | "prc" => "CN",
        "sweden" | "sverige" | "瑞典" => "SE",
        "norway" | "norge" | "挪威" => "NO",
        "germany" | "tyskland" | "deutschland" | "德国" => "DE",
        "united kingdom" | "uk" | "storbritannien" | "england" | "英国" => "GB",
        "united states" | "usa" | "us" | "the united states" | "美国" => "US",
        "finland" | "芬兰" => "FI",
        "iceland" | "island" => "IS",
        "netherlands" | "holland" | "nederland" | "荷兰" => "NL",
        "france" | "frankrig" | "法国" => "FR",
        "hong kong" | "香港" => "HK",
        "taiwan" | "台湾" => "TW",
        "singapore" | "新加坡" => "SG",
        "japan" | "日本" => "JP",
        _ => return cell.trim().to_uppercase(),
    };
    code.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_minutes_or_a_clock() {
        assert_eq!(minutes("45"), Ok(45));
        assert_eq!(minutes("1:30"), Ok(90));
        assert_eq!(minutes("00:12:30"), Ok(13));
        assert_eq!(minutes("00:12:29"), Ok(12));
        for bad in ["1:75", "1:2:3:4", ":30", "a:bc", "00:12:60"] {
            assert!(
                minutes(bad).unwrap_err().contains("not a duration"),
                "{bad}"
            );
        }
    }
}
