use std::collections::BTreeMap;

use serde::Serialize;

/// Errors in a field-by-field form, keyed by the field's name as the user wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    /// Records why `field` is wrong; the first reason given for a field wins.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| reason.into());
    }

    /// True when no field is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The one error of kith-core: input that cannot be accepted, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// Stable machine-readable code, e.g. `validation_failed`, `filter_invalid`.
    pub code: &'static str,
    /// Human sentence for logs and developers.
    pub message: String,
    /// Per-field reasons, empty when the error is not about fields.
    pub fields: FieldErrors,
}

impl Error {
    /// An error that is not about particular fields.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: FieldErrors::default(),
        }
    }

    /// A validation error naming every bad field.
    pub fn fields(fields: FieldErrors) -> Self {
        let names: Vec<&str> = fields.0.keys().map(String::as_str).collect();
        Self {
            code: "validation_failed",
            message: format!("invalid fields: {}", names.join(", ")),
            fields,
        }
    }

    /// A validation error for a single field.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        let mut f = FieldErrors::default();
        f.add(field, reason);
        Self::fields(f)
    }
}
