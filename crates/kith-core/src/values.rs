use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use uuid::Uuid;

/// The storage type of a column or a filter value; both backends map each one to a
/// native type (see kith-store's migrations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    /// UTF-8 text.
    Text,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
    /// UUID.
    Uuid,
    /// Calendar date.
    Date,
    /// UTC timestamp.
    Time,
    /// JSON document.
    Json,
}

/// One typed value bound to a query: never spliced into SQL text.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A NULL that still knows its type (PostgreSQL needs it).
    Null(ScalarType),
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// UUID.
    Uuid(Uuid),
    /// Date.
    Date(NaiveDate),
    /// Timestamp.
    Time(DateTime<Utc>),
    /// JSON.
    Json(serde_json::Value),
}

impl Scalar {
    /// The value as it appears in the API's JSON.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Scalar::Null(_) => Value::Null,
            Scalar::Text(s) => Value::String(s.clone()),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Float(f) => Value::from(*f),
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Uuid(u) => Value::String(u.to_string()),
            Scalar::Date(d) => Value::String(d.to_string()),
            Scalar::Time(t) => Value::String(format_time(t)),
            Scalar::Json(j) => j.clone(),
        }
    }

    /// True for a NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null(_))
    }
}

/// Formats a timestamp the one way Kith shows and stores them: RFC 3339, UTC, microseconds.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}
