//! How a list is ordered and paged: sort keys and opaque cursors.

use base64::Engine;
use serde_json::Value;
use uuid::Uuid;

use crate::Error;

/// Most records one page may hold.
pub const MAX_LIMIT: u32 = 500;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 50;

/// A sort order: one field, then the id to break ties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// Field name (checked by the caller against the object).
    pub field: String,
    /// Descending?
    pub desc: bool,
}

impl Sort {
    /// Reads `name` (ascending) or `-name` (descending).
    pub fn parse(s: &str) -> Sort {
        match s.trim().strip_prefix('-') {
            Some(f) => Sort {
                field: f.to_string(),
                desc: true,
            },
            None => Sort {
                field: s.trim().to_string(),
                desc: false,
            },
        }
    }
}

/// Where the next page starts: the last row's sort value and id.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// Sort value of the last row, as JSON (null when it had none).
    pub value: Value,
    /// Id of the last row.
    pub id: Uuid,
}

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        let json = serde_json::json!([self.value, self.id]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
    }

    /// Reads a cursor handed out by [`Cursor::encode`].
    pub fn decode(s: &str) -> Result<Cursor, Error> {
        let bad = || Error::new("cursor_invalid", "cursor is not one this server handed out");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| bad())?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let arr = v.as_array().filter(|a| a.len() == 2).ok_or_else(bad)?;
        let id = arr[1]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(bad)?;
        Ok(Cursor {
            value: arr[0].clone(),
            id,
        })
    }
}

/// Checks a requested page size.
pub fn limit(requested: Option<u32>) -> Result<u32, Error> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(Error::field("limit", "must be at least 1")),
        Some(n) if n > MAX_LIMIT => Err(Error::field(
            "limit",
            format!("must be at most {MAX_LIMIT}"),
        )),
        Some(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            value: Value::String("Søren".into()),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "abc", "!!!", "W10"] {
            assert_eq!(Cursor::decode(bad).unwrap_err().code, "cursor_invalid");
        }
    }

    #[test]
    fn sort_reads_direction() {
        assert_eq!(
            Sort::parse("-name"),
            Sort {
                field: "name".into(),
                desc: true
            }
        );
    }
}
