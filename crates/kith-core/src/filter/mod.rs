//! The one filter language of Kith: list views, segments, automation conditions and
//! reports all use it. It has a JSON form (the API) and a short text form (CLI, URL):
//!
//! ```text
//! lifecycle_stage = customer and (city = "Århus" or tags has vip) and created_at > -90d
//! ```
//!
//! A parsed [`Filter`] is untyped; [`Filter::resolve`] checks it against an object's
//! fields and returns a [`Resolved`] tree whose values are typed, ready for the store to
//! compile into parameterised SQL.

mod resolve;
mod text;

use serde_json::{json, Map, Value};

pub use resolve::{resolve_field, FieldRef, Measure, Resolved};

use crate::Error;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `~` case-insensitive substring.
    Contains,
    /// `^=` case-insensitive prefix.
    StartsWith,
    /// `in (a, b)`
    In,
    /// `not in (a, b)`
    NotIn,
    /// `is empty`
    IsEmpty,
    /// `is not empty`
    IsNotEmpty,
    /// `has` (a tag).
    Has,
    /// `has not` (a tag).
    HasNot,
}

impl Op {
    const NAMES: [(Op, &'static str); 14] = [
        (Op::Eq, "eq"),
        (Op::Ne, "ne"),
        (Op::Lt, "lt"),
        (Op::Lte, "lte"),
        (Op::Gt, "gt"),
        (Op::Gte, "gte"),
        (Op::Contains, "contains"),
        (Op::StartsWith, "starts_with"),
        (Op::In, "in"),
        (Op::NotIn, "not_in"),
        (Op::IsEmpty, "is_empty"),
        (Op::IsNotEmpty, "is_not_empty"),
        (Op::Has, "has"),
        (Op::HasNot, "has_not"),
    ];

    /// The operator's name in the JSON form.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(o, _)| *o == self)
            .map(|(_, n)| *n)
            .unwrap_or("eq")
    }

    /// The operator with JSON name `s`.
    pub fn from_name(s: &str) -> Option<Op> {
        Self::NAMES.iter().find(|(_, n)| *n == s).map(|(o, _)| *o)
    }

    /// Whether the operator takes no value.
    pub fn is_unary(self) -> bool {
        matches!(self, Op::IsEmpty | Op::IsNotEmpty)
    }
}

/// One `field op value` test.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Field name: built-in, `custom.KEY`, `consent.CHANNEL` or `tags`.
    pub field: String,
    /// Operator.
    pub op: Op,
    /// Values as written (one, or several for `in`).
    pub values: Vec<Value>,
}

/// An untyped filter tree, as parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All must hold.
    And(Vec<Filter>),
    /// One must hold.
    Or(Vec<Filter>),
    /// Must not hold.
    Not(Box<Filter>),
    /// A test on one field.
    Cond(Condition),
    /// A test on related records (`has deals(status = open)`, `count(orders) >= 3`).
    Related(Related),
}

/// A test on the records related through a to-many link.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    /// The link: the related object's plural (`deals`, `orders`, `activities`).
    pub relation: String,
    /// What is asked of the related records that match `filter`.
    pub test: RelatedTest,
    /// Which related records count (empty And: all of them).
    pub filter: Box<Filter>,
}

/// What a test on related records asks.
#[derive(Debug, Clone, PartialEq)]
pub enum RelatedTest {
    /// At least one matches.
    Any,
    /// None matches.
    None,
    /// How many match, compared with a number.
    Count {
        /// Comparison.
        op: Op,
        /// Number compared with.
        value: Value,
    },
    /// The sum of a number field over those that match, compared with a number.
    Sum {
        /// Summed field of the related object.
        field: String,
        /// Comparison.
        op: Op,
        /// Number compared with.
        value: Value,
    },
}

const MAX_DEPTH: usize = 16;
const MAX_CONDITIONS: usize = 200;

impl Filter {
    /// Parses the text form, e.g. `city = Aarhus and tags has vip`.
    pub fn parse_text(s: &str) -> Result<Filter, Error> {
        text::parse(s)
    }

    /// Parses the JSON form, e.g. `{"and": [{"field": "city", "op": "eq", "value": "Aarhus"}]}`.
    pub fn from_json(v: &Value) -> Result<Filter, Error> {
        let mut count = 0;
        from_json(v, 0, &mut count)
    }

    /// Parses either form: JSON when the text starts with `{`.
    pub fn parse_any(s: &str) -> Result<Filter, Error> {
        if s.trim_start().starts_with('{') {
            let v: Value = serde_json::from_str(s).map_err(|e| {
                Error::new("filter_invalid", format!("filter is not valid JSON: {e}"))
            })?;
            Self::from_json(&v)
        } else {
            Self::parse_text(s)
        }
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Filter::And(v) => json!({"and": v.iter().map(Filter::to_json).collect::<Vec<_>>()}),
            Filter::Or(v) => json!({"or": v.iter().map(Filter::to_json).collect::<Vec<_>>()}),
            Filter::Not(f) => json!({"not": f.to_json()}),
            Filter::Cond(c) => {
                let mut m = Map::new();
                m.insert("field".into(), c.field.clone().into());
                m.insert("op".into(), c.op.name().into());
                match c.op {
                    Op::In | Op::NotIn => {
                        m.insert("value".into(), Value::Array(c.values.clone()));
                    }
                    _ => {
                        if let Some(v) = c.values.first() {
                            m.insert("value".into(), v.clone());
                        }
                    }
                }
                Value::Object(m)
            }
            Filter::Related(r) => {
                let mut m = Map::new();
                m.insert("related".into(), r.relation.clone().into());
                match &r.test {
                    RelatedTest::Any => {
                        m.insert("test".into(), "any".into());
                    }
                    RelatedTest::None => {
                        m.insert("test".into(), "none".into());
                    }
                    RelatedTest::Count { op, value } => {
                        m.insert("test".into(), "count".into());
                        m.insert("op".into(), op.name().into());
                        m.insert("value".into(), value.clone());
                    }
                    RelatedTest::Sum { field, op, value } => {
                        m.insert("test".into(), "sum".into());
                        m.insert("field".into(), field.clone().into());
                        m.insert("op".into(), op.name().into());
                        m.insert("value".into(), value.clone());
                    }
                }
                if !matches!(&*r.filter, Filter::And(v) if v.is_empty()) {
                    m.insert("where".into(), r.filter.to_json());
                }
                Value::Object(m)
            }
        }
    }
}

/// Operators that compare a count or a sum.
const COMPARISONS: [Op; 6] = [Op::Eq, Op::Ne, Op::Lt, Op::Lte, Op::Gt, Op::Gte];

fn bad(msg: impl Into<String>) -> Error {
    Error::new("filter_invalid", msg)
}

fn from_json(v: &Value, depth: usize, count: &mut usize) -> Result<Filter, Error> {
    if depth > MAX_DEPTH {
        return Err(bad(format!(
            "filter is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let obj = v
        .as_object()
        .ok_or_else(|| bad("each filter node must be a JSON object"))?;
    let list = |key: &str, items: &Value, count: &mut usize| -> Result<Vec<Filter>, Error> {
        let arr = items
            .as_array()
            .ok_or_else(|| bad(format!("`{key}` must hold an array")))?;
        arr.iter().map(|i| from_json(i, depth + 1, count)).collect()
    };
    if let Some(items) = obj.get("and") {
        return Ok(Filter::And(list("and", items, count)?));
    }
    if let Some(items) = obj.get("or") {
        return Ok(Filter::Or(list("or", items, count)?));
    }
    if let Some(inner) = obj.get("not") {
        return Ok(Filter::Not(Box::new(from_json(inner, depth + 1, count)?)));
    }
    *count += 1;
    if let Some(rel) = obj.get("related") {
        return related_from_json(obj, rel, depth, count);
    }
    if *count > MAX_CONDITIONS {
        return Err(bad(format!(
            "filter has more than {MAX_CONDITIONS} conditions"
        )));
    }
    if let Some(k) = obj
        .keys()
        .find(|k| !["field", "op", "value"].contains(&k.as_str()))
    {
        return Err(bad(format!("unknown key `{k}` in filter condition")));
    }
    let field = obj
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("a condition needs `field` (a string)"))?;
    let op_name = obj.get("op").and_then(Value::as_str).unwrap_or("eq");
    let op = Op::from_name(op_name).ok_or_else(|| {
        let names: Vec<_> = Op::NAMES.iter().map(|(_, n)| *n).collect();
        bad(format!(
            "unknown operator `{op_name}` (use {})",
            names.join(", ")
        ))
    })?;
    let values = match (op, obj.get("value")) {
        (o, _) if o.is_unary() => vec![],
        (Op::In | Op::NotIn, Some(Value::Array(a))) => a.clone(),
        (Op::In | Op::NotIn, _) => {
            return Err(bad(format!(
                "`{op_name}` on `{field}` needs an array value"
            )))
        }
        (_, Some(v)) => vec![v.clone()],
        (_, None) => return Err(bad(format!("condition on `{field}` needs a `value`"))),
    };
    Ok(Filter::Cond(Condition {
        field: field.to_string(),
        op,
        values,
    }))
}

fn related_from_json(
    obj: &Map<String, Value>,
    rel: &Value,
    depth: usize,
    count: &mut usize,
) -> Result<Filter, Error> {
    if let Some(k) = obj
        .keys()
        .find(|k| !["related", "test", "field", "op", "value", "where"].contains(&k.as_str()))
    {
        return Err(bad(format!("unknown key `{k}` in related condition")));
    }
    let relation = rel
        .as_str()
        .ok_or_else(|| bad("`related` must name a related list, e.g. \"orders\""))?
        .to_string();
    let op = || -> Result<(Op, Value), Error> {
        let name = obj.get("op").and_then(Value::as_str).unwrap_or("gte");
        let op = Op::from_name(name)
            .filter(|o| COMPARISONS.contains(o))
            .ok_or_else(|| bad(format!("`{name}` cannot compare a count or a sum")))?;
        let value = obj
            .get("value")
            .cloned()
            .ok_or_else(|| bad(format!("the test on `{relation}` needs a `value`")))?;
        Ok((op, value))
    };
    let test = match obj.get("test").and_then(Value::as_str).unwrap_or("any") {
        "any" => RelatedTest::Any,
        "none" => RelatedTest::None,
        "count" => {
            let (op, value) = op()?;
            RelatedTest::Count { op, value }
        }
        "sum" => {
            let field = obj
                .get("field")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("a sum over `{relation}` needs `field`")))?
                .to_string();
            let (op, value) = op()?;
            RelatedTest::Sum { field, op, value }
        }
        other => {
            return Err(bad(format!(
                "unknown test `{other}` on `{relation}` (use any, none, count or sum)"
            )))
        }
    };
    let filter = match obj.get("where") {
        Some(w) => from_json(w, depth + 1, count)?,
        None => Filter::And(vec![]),
    };
    Ok(Filter::Related(Related {
        relation,
        test,
        filter: Box::new(filter),
    }))
}
