//! Checking a filter against an object's fields and typing its values.

use chrono::{DateTime, Duration, Months, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{bad, Condition, Filter, Op, Related, RelatedTest};
use crate::fields::{CustomDef, Kind};
use crate::objects::{ObjectKind, Relation};
use crate::{Error, Scalar, ScalarType};

/// Where a filter or sort reads a value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRef {
    /// A column of the object's table.
    Column {
        /// Column name (from the object's spec, never from input).
        name: &'static str,
        /// Its type.
        ty: ScalarType,
        /// Email columns compare lower-cased.
        email: bool,
    },
    /// A key inside a JSON column (`custom.KEY`, `consent.CHANNEL`).
    Json {
        /// `custom` or `consent`.
        column: &'static str,
        /// Key inside it (checked against definitions).
        key: String,
        /// Type of the value.
        ty: ScalarType,
        /// Money values compare on their `amount`.
        money: bool,
        /// Multi-select values are arrays; they take `has`.
        array: bool,
    },
    /// The record's tags.
    Tags,
}

impl FieldRef {
    /// The type of the values compared.
    pub fn scalar_type(&self) -> ScalarType {
        match self {
            FieldRef::Column { ty, .. } | FieldRef::Json { ty, .. } => *ty,
            FieldRef::Tags => ScalarType::Text,
        }
    }
}

/// A filter checked against an object: fields known, operators fitting, values typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// All must hold (empty: always true).
    And(Vec<Resolved>),
    /// One must hold (empty: always false).
    Or(Vec<Resolved>),
    /// Must not hold.
    Not(Box<Resolved>),
    /// A test on related records: the record's link (to-one) or the records linking
    /// to it (to-many).
    Related {
        /// The link followed.
        link: Relation,
        /// What is measured over the related records that pass `filter`.
        measure: Measure,
        /// Which related records count; resolved against the related object.
        filter: Box<Resolved>,
    },
    /// A typed test.
    Cond {
        /// Field read.
        field: FieldRef,
        /// Operator.
        op: Op,
        /// Typed values.
        values: Vec<Scalar>,
    },
}

/// What a related test measures, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// At least one related record passes.
    Any,
    /// None passes.
    None,
    /// The number that pass, compared.
    Count(Op, i64),
    /// The sum of an integer column over those that pass, compared.
    Sum {
        /// Column of the related object (from its spec, never from input).
        column: &'static str,
        /// Comparison.
        op: Op,
        /// Number compared with.
        value: i64,
    },
}

impl Measure {
    /// Whether a record with no related record passing holds (a count or sum of 0).
    pub fn holds_for_zero(&self) -> bool {
        let cmp = |op: Op, v: i64| match op {
            Op::Eq => 0 == v,
            Op::Ne => 0 != v,
            Op::Lt => 0 < v,
            Op::Lte => 0 <= v,
            Op::Gt => 0 > v,
            _ => 0 >= v,
        };
        match self {
            Measure::Any => false,
            Measure::None => true,
            Measure::Count(op, v) => cmp(*op, *v),
            Measure::Sum { op, value, .. } => cmp(*op, *value),
        }
    }
}

/// The to-many links of `object`, for error messages.
fn to_many_names(object: ObjectKind) -> String {
    ObjectKind::ALL
        .iter()
        .filter(|o| object.to_many(o.plural()).is_some())
        .map(|o| o.plural())
        .collect::<Vec<_>>()
        .join(", ")
}

fn related(object: ObjectKind, r: &Related, now: DateTime<Utc>) -> Result<Resolved, Error> {
    let link = object
        .to_many(&r.relation)
        .or_else(|| object.to_one(&r.relation))
        .ok_or_else(|| {
            bad(format!(
                "`{}` is not linked to {} (use {})",
                r.relation,
                object.singular(),
                to_many_names(object)
            ))
        })?;
    let number = |v: &Value| -> Result<i64, Error> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            bad(format!(
                "the test on `{}` needs a whole number, not {v}",
                r.relation
            ))
        })
    };
    let measure = match &r.test {
        RelatedTest::Any => Measure::Any,
        RelatedTest::None => Measure::None,
        RelatedTest::Count { op, value } => Measure::Count(*op, number(value)?),
        RelatedTest::Sum { field, op, value } => {
            let spec = link
                .target
                .field(field)
                .filter(|f| matches!(f.kind, crate::fields::Kind::Int { .. }))
                .ok_or_else(|| {
                    bad(format!(
                        "`{field}` is not a number field of {} that can be summed",
                        link.target.singular()
                    ))
                })?;
            Measure::Sum {
                column: spec.name,
                op: *op,
                value: number(value)?,
            }
        }
    };
    if !link.many && !matches!(measure, Measure::Any | Measure::None) {
        return Err(bad(format!(
            "`{}` is a single record: use `has {}(…)`",
            r.relation, r.relation
        )));
    }
    // Custom fields of related records are not offered yet: their definitions live
    // with the related object, which the caller did not load.
    let filter = r.filter.resolve(link.target, &[], now)?;
    Ok(Resolved::Related {
        link,
        measure,
        filter: Box::new(filter),
    })
}

/// Finds the field called `name` on `object`: a system field, a built-in field,
/// `custom.KEY`, `consent.CHANNEL` or `tags`.
pub fn resolve_field(object: ObjectKind, name: &str, defs: &[CustomDef]) -> Option<FieldRef> {
    let col = |name: &'static str, ty| FieldRef::Column {
        name,
        ty,
        email: false,
    };
    match name {
        "id" => return Some(col("id", ScalarType::Uuid)),
        "version" => return Some(col("version", ScalarType::Int)),
        "created_at" => return Some(col("created_at", ScalarType::Time)),
        "updated_at" => return Some(col("updated_at", ScalarType::Time)),
        "tags" if object.is_customisable() => return Some(FieldRef::Tags),
        _ => {}
    }
    if let Some(spec) = object.field(name) {
        return match spec.kind {
            Kind::Consent | Kind::Identities | Kind::Options => None,
            kind => Some(FieldRef::Column {
                name: spec.name,
                ty: kind.scalar_type(),
                email: kind == Kind::Email,
            }),
        };
    }
    if let Some(key) = name.strip_prefix("custom.") {
        let def = defs.iter().find(|d| d.key == key)?;
        return Some(FieldRef::Json {
            column: "custom",
            key: def.key.clone(),
            ty: def.scalar_type(),
            money: def.kind == "money",
            array: def.kind == "multi_select",
        });
    }
    if let Some(channel) = name.strip_prefix("consent.") {
        if object == ObjectKind::Contact && crate::fields::CONSENT_CHANNELS.contains(&channel) {
            return Some(FieldRef::Json {
                column: "consent",
                key: channel.to_string(),
                ty: ScalarType::Text,
                money: false,
                array: false,
            });
        }
    }
    None
}

impl Filter {
    /// Checks the filter against `object` and types its values; relative dates such as
    /// `-90d` count from `now`.
    pub fn resolve(
        &self,
        object: ObjectKind,
        defs: &[CustomDef],
        now: DateTime<Utc>,
    ) -> Result<Resolved, Error> {
        Ok(match self {
            Filter::And(v) => Resolved::And(
                v.iter()
                    .map(|f| f.resolve(object, defs, now))
                    .collect::<Result<_, _>>()?,
            ),
            Filter::Or(v) => Resolved::Or(
                v.iter()
                    .map(|f| f.resolve(object, defs, now))
                    .collect::<Result<_, _>>()?,
            ),
            Filter::Not(f) => Resolved::Not(Box::new(f.resolve(object, defs, now)?)),
            Filter::Cond(c) => condition(object, c, defs, now)?,
            Filter::Related(r) => related(object, r, now)?,
        })
    }
}

fn condition(
    object: ObjectKind,
    c: &Condition,
    defs: &[CustomDef],
    now: DateTime<Utc>,
) -> Result<Resolved, Error> {
    if resolve_field(object, &c.field, defs).is_none() {
        if let Some((link, rest)) = c.field.split_once('.') {
            if let Some(link) = object.to_one(link) {
                let inner = Condition {
                    field: rest.to_string(),
                    ..c.clone()
                };
                return Ok(Resolved::Related {
                    link,
                    measure: Measure::Any,
                    filter: Box::new(condition(link.target, &inner, &[], now)?),
                });
            }
        }
    }
    let field = resolve_field(object, &c.field, defs).ok_or_else(|| {
        bad(format!(
            "`{}` is not a field of {} that filters can use",
            c.field,
            object.singular()
        ))
    })?;
    let ty = field.scalar_type();
    let mut op = c.op;
    if matches!(op, Op::Eq | Op::Ne) && c.values.first().is_some_and(Value::is_null) {
        op = if op == Op::Eq {
            Op::IsEmpty
        } else {
            Op::IsNotEmpty
        };
    }
    let is_set = matches!(field, FieldRef::Tags | FieldRef::Json { array: true, .. });
    let allowed = match op {
        Op::IsEmpty | Op::IsNotEmpty => true,
        Op::Has | Op::HasNot => is_set,
        _ if is_set => false,
        Op::Contains | Op::StartsWith => ty == ScalarType::Text,
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => ty != ScalarType::Bool && ty != ScalarType::Uuid,
        Op::Eq | Op::Ne | Op::In | Op::NotIn => true,
    };
    if !allowed {
        return Err(bad(format!(
            "operator `{}` does not apply to `{}`",
            op.name(),
            c.field
        )));
    }
    if matches!(op, Op::In | Op::NotIn) && (c.values.is_empty() || c.values.len() > 1000) {
        return Err(bad(format!(
            "`{}` on `{}` needs 1 to 1000 values",
            op.name(),
            c.field
        )));
    }
    let values = if op.is_unary() {
        vec![]
    } else {
        let email = matches!(field, FieldRef::Column { email: true, .. });
        c.values
            .iter()
            .map(|v| typed(ty, v, now, email))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| bad(format!("`{}`: {e}", c.field)))?
    };
    Ok(Resolved::Cond { field, op, values })
}

fn typed(ty: ScalarType, v: &Value, now: DateTime<Utc>, email: bool) -> Result<Scalar, String> {
    let text = || match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("`{v}` is not a text value")),
    };
    match ty {
        ScalarType::Text => {
            let s = text()?;
            Ok(Scalar::Text(if email { s.to_lowercase() } else { s }))
        }
        ScalarType::Int => match v {
            Value::Number(n) => n
                .as_i64()
                .map(Scalar::Int)
                .ok_or(format!("`{v}` is not a whole number")),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Scalar::Int)
                .map_err(|_| format!("`{s}` is not a whole number")),
            _ => Err(format!("`{v}` is not a whole number")),
        },
        ScalarType::Float => match v {
            Value::Number(n) => n
                .as_f64()
                .map(Scalar::Float)
                .ok_or(format!("`{v}` is not a number")),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Scalar::Float)
                .ok_or(format!("`{s}` is not a number")),
            _ => Err(format!("`{v}` is not a number")),
        },
        ScalarType::Bool => match v {
            Value::Bool(b) => Ok(Scalar::Bool(*b)),
            Value::String(s) if s == "true" || s == "false" => Ok(Scalar::Bool(s == "true")),
            _ => Err(format!("`{v}` is not true or false")),
        },
        ScalarType::Uuid => {
            let s = text()?;
            Uuid::parse_str(s.trim())
                .map(Scalar::Uuid)
                .map_err(|_| format!("`{s}` is not an id"))
        }
        ScalarType::Date => {
            let s = text()?;
            if let Some(t) = relative(&s, now) {
                return Ok(Scalar::Date(t.date_naive()));
            }
            crate::fields::date(&s).map(Scalar::Date)
        }
        ScalarType::Time => {
            let s = text()?;
            if let Some(t) = relative(&s, now) {
                return Ok(Scalar::Time(t));
            }
            crate::fields::datetime(&s).map(Scalar::Time)
        }
        ScalarType::Json => Err("cannot compare a JSON value".into()),
    }
}

/// Reads `today`, `now`, `-90d`, `+2w`, `-3m`, `-1y` relative to `now`.
fn relative(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = now.date_naive().and_hms_opt(0, 0, 0)?.and_utc();
    match s {
        "now" => return Some(now),
        "today" => return Some(today),
        _ => {}
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'-' => (-1i64, &s[1..]),
        b'+' => (1, &s[1..]),
        _ => return None,
    };
    let unit = rest.chars().last()?;
    let n: i64 = rest[..rest.len() - unit.len_utf8()].parse().ok()?;
    if n > 100_000 {
        return None;
    }
    let months = |m: i64| -> Option<DateTime<Utc>> {
        let m = Months::new(u32::try_from(m.abs()).ok()?);
        if sign < 0 {
            today.checked_sub_months(m)
        } else {
            today.checked_add_months(m)
        }
    };
    match unit {
        'h' => Some(now + Duration::hours(sign * n)),
        'd' => Some(today + Duration::days(sign * n)),
        'w' => Some(today + Duration::weeks(sign * n)),
        'm' => months(n),
        'y' => months(n * 12),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
    }

    fn resolve(s: &str, defs: &[CustomDef]) -> Result<Resolved, Error> {
        Filter::parse_text(s)
            .unwrap()
            .resolve(ObjectKind::Contact, defs, now())
    }

    #[test]
    fn relative_dates_count_from_today() {
        let Resolved::Cond { values, .. } = resolve("created_at > -90d", &[]).unwrap() else {
            panic!()
        };
        assert_eq!(
            values,
            vec![Scalar::Time(
                Utc.with_ymd_and_hms(2026, 8, 25, 0, 0, 0).unwrap()
            )]
        );
        let Resolved::Cond { values, .. } = resolve("birthday < -1m", &[]).unwrap() else {
            panic!()
        };
        assert_eq!(
            values,
            vec![Scalar::Date(NaiveDate::from_ymd_opt(2026, 10, 23).unwrap())]
        );
    }

    #[test]
    fn unknown_fields_and_wrong_operators_are_named() {
        let e = resolve("shoe_size = 4", &[]).unwrap_err();
        assert!(e.message.contains("shoe_size"), "{}", e.message);
        let e = resolve("birthday ~ 19", &[]).unwrap_err();
        assert!(e.message.contains("contains"), "{}", e.message);
        let e = resolve("birthday = yesterday-ish", &[]).unwrap_err();
        assert!(e.message.contains("birthday"), "{}", e.message);
        assert!(resolve("tags = vip", &[]).is_err());
    }

    #[test]
    fn custom_fields_resolve_with_their_type() {
        let defs = [CustomDef {
            key: "size".into(),
            kind: "number".into(),
            options: vec![],
        }];
        let Resolved::Cond { field, values, .. } = resolve("custom.size >= 50", &defs).unwrap()
        else {
            panic!()
        };
        assert_eq!(field.scalar_type(), ScalarType::Float);
        assert_eq!(values, vec![Scalar::Float(50.0)]);
        assert!(resolve("custom.nope = 1", &defs).is_err());
    }

    #[test]
    fn equals_null_means_is_empty() {
        let Resolved::Cond { op, .. } = resolve("email = null", &[]).unwrap() else {
            panic!()
        };
        assert_eq!(op, Op::IsEmpty);
    }

    #[test]
    fn related_tests_resolve_against_the_related_object() {
        let r = resolve(
            "company.employees >= 50 and has no activities(occurred_at > -60d) \
             and sum(orders.total where ordered_at > -90d) >= 500000",
            &[],
        )
        .unwrap();
        let Resolved::And(items) = r else { panic!() };
        let Resolved::Related { link, measure, .. } = &items[0] else {
            panic!()
        };
        assert_eq!(
            (link.target, link.key, link.many),
            (ObjectKind::Company, "company_id", false)
        );
        assert_eq!(measure, &Measure::Any);
        let Resolved::Related { link, measure, .. } = &items[1] else {
            panic!()
        };
        assert_eq!(
            (link.target, link.key, link.many),
            (ObjectKind::Activity, "contact_id", true)
        );
        assert!(measure.holds_for_zero());
        let Resolved::Related { measure, .. } = &items[2] else {
            panic!()
        };
        assert_eq!(
            measure,
            &Measure::Sum {
                column: "total",
                op: Op::Gte,
                value: 500000
            }
        );
        assert!(!measure.holds_for_zero());
        for (q, says) in [
            ("has invoices", "deals"),
            ("sum(orders.number) > 1", "number field"),
            ("count(company) > 1", "single record"),
            ("company.nope = 1", "nope"),
            ("count(orders) > many", "whole number"),
        ] {
            let e = resolve(q, &[]).unwrap_err().to_string();
            assert!(e.contains(says), "{q}: {e}");
        }
    }
}
