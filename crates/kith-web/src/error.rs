//! The one place where errors become HTTP responses.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// An error answered as `{"error": {"code", "message", "fields"?}}` (boxed: handlers
/// return it in every `Result`, so it stays one pointer wide).
#[derive(Debug)]
pub struct ApiError(Box<Details>);

#[derive(Debug)]
struct Details {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Option<Value>,
    extra: Option<(&'static str, Value)>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// A plain error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(Box::new(Details {
            status,
            code,
            message: message.into(),
            fields: None,
            extra: None,
            retry_after: None,
        }))
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422 naming one field.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        kith_app::Error::Invalid(kith_core::Error::field(field, reason)).into()
    }
}

impl From<kith_app::Error> for ApiError {
    fn from(e: kith_app::Error) -> Self {
        use kith_app::Error as E;
        let message = e.to_string();
        match e {
            E::Invalid(inner) => {
                let status = if inner.code == "validation_failed" {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::BAD_REQUEST
                };
                let mut err = ApiError::new(status, inner.code, inner.message);
                if !inner.fields.is_empty() {
                    err.0.fields = Some(json!(inner.fields));
                }
                err
            }
            E::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            E::Unauthorized(_) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message),
            E::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::Stale { current, .. } => {
                let mut err =
                    ApiError::new(StatusCode::PRECONDITION_FAILED, "version_conflict", message);
                err.0.extra = Some(("current", current.to_json()));
                err
            }
            E::MailServer(_) => ApiError::new(StatusCode::BAD_GATEWAY, "mail_server", message),
            E::Conflict => ApiError::new(StatusCode::CONFLICT, "version_conflict", message),
            E::Duplicate(_) => ApiError::new(StatusCode::CONFLICT, "duplicate", message),
            E::RateLimited { retry_after_secs } => {
                let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
                err.0.retry_after = Some(retry_after_secs);
                err
            }
            E::Store(inner) => {
                // Details go to the log only: they may name tables or hosts.
                tracing::error!(error = %inner, "storage error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                )
            }
        }
    }
}

impl From<kith_core::Error> for ApiError {
    fn from(e: kith_core::Error) -> Self {
        kith_app::Error::Invalid(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let d = *self.0;
        let mut body = json!({"code": d.code, "message": d.message});
        if let Some(f) = d.fields {
            body["fields"] = f;
        }
        if let Some((k, v)) = d.extra {
            body[k] = v;
        }
        let mut res = (d.status, Json(json!({ "error": body }))).into_response();
        if let Some(secs) = d.retry_after {
            if let Ok(v) = secs.to_string().parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// The id in a path segment; anything else is a 404 that says what was expected.
pub(crate) fn path_id(s: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s)
        .map_err(|_| ApiError::not_found(format!("`{s}` is not a valid {what} id")))
}
