//! The mail API: email templates (CRUD and preview), the workspace's mail settings
//! (admins; passwords write-only), a test message, one-off emails to contacts.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kith_app::mail::{EmailRequest, EmailTemplate, EmailTemplateInput, MailSettingsInput};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::records::read_json;
use crate::State;

/// An email template as the API shows it.
pub(crate) fn template_json(t: &EmailTemplate) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "language": t.language,
        "subject": t.subject,
        "html": t.html,
        "text": t.text,
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    })
}

/// A JSON body as `T`; a wrong or unknown field is a 422 naming it.
fn typed<T: DeserializeOwned>(body: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(body)).map_err(|e| {
        let msg = e.to_string();
        // serde names the field in backticks: "unknown field `x`", "invalid type … `y`".
        let field = msg
            .split('`')
            .nth(1)
            .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or("body")
            .to_string();
        ApiError::field(&field, msg)
    })
}

fn id(s: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::not_found(format!("`{s}` is not an {what} id")))
}

/// `GET /email-templates`.
pub async fn list_templates(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    let list = state.app.email_templates(&caller).await?;
    let data: Vec<Value> = list.iter().map(template_json).collect();
    Ok(Json(json!({ "data": data })).into_response())
}

/// `POST /email-templates` `{name, language, subject, html, text}`.
pub async fn create_template(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: EmailTemplateInput = typed(read_json(&headers, body)?)?;
    let t = state.app.create_email_template(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(template_json(&t))).into_response())
}

/// `GET /email-templates/{id}`.
pub async fn get_template(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let t = state
        .app
        .email_template(&caller, id(&tid, "email template")?)
        .await?;
    Ok(Json(template_json(&t)).into_response())
}

/// `PUT /email-templates/{id}` (whole template; `version` optional, refuses stale writes).
pub async fn update_template(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(tid): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut body = read_json(&headers, body)?;
    let version = match body.remove("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| ApiError::field("version", "must be a number"))?,
        ),
    };
    let input: EmailTemplateInput = typed(body)?;
    let t = state
        .app
        .update_email_template(&caller, id(&tid, "email template")?, input, version)
        .await?;
    Ok(Json(template_json(&t)).into_response())
}

/// `DELETE /email-templates/{id}`.
pub async fn delete_template(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    state
        .app
        .delete_email_template(&caller, id(&tid, "email template")?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /email-templates/{id}/preview` `{contact_id}`: rendered subject, html, text.
pub async fn preview_template(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(tid): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = read_json(&headers, body)?;
    let contact = body
        .get("contact_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::field("contact_id", "must be a contact id"))?;
    let p = state
        .app
        .preview_email_template(&caller, id(&tid, "email template")?, contact)
        .await?;
    Ok(Json(json!(p)).into_response())
}

/// `GET /settings/mail` (admins): settings without passwords.
pub async fn get_settings(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(Json(json!(state.app.mail_settings(&caller).await?)).into_response())
}

/// `PUT /settings/mail` (admins): an empty or missing password keeps the stored one.
pub async fn put_settings(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input: MailSettingsInput = typed(read_json(&headers, body)?)?;
    Ok(Json(json!(state.app.save_mail_settings(&caller, input).await?)).into_response())
}

/// `POST /settings/mail/test` `{to?}` (admins): sends a test message now.
pub async fn test_settings(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = read_json(&headers, body).unwrap_or_default();
    let to = body.get("to").and_then(Value::as_str);
    let to = state.app.send_test_email(&caller, to).await?;
    Ok(Json(json!({ "sent_to": to })).into_response())
}

/// `POST /contacts/{id}/emails` `{subject, html|text}` or `{template_id}`: queues the
/// email (202); an `Idempotency-Key` header makes a repeat give the first job.
pub async fn send(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((objects, cid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if objects != "contacts" {
        return Err(ApiError::not_found("emails are sent to contacts only"));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let req: EmailRequest = typed(read_json(&headers, body)?)?;
    let e = state
        .app
        .send_email(&caller, id(&cid, "contact")?, req, key.as_deref())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"job_id": e.id, "created": e.created})),
    )
        .into_response())
}

/// The routes above, for the API router.
pub(crate) fn routes() -> axum::Router<State> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/email-templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/email-templates/{id}",
            get(get_template)
                .put(update_template)
                .delete(delete_template),
        )
        .route("/email-templates/{id}/preview", post(preview_template))
        .route("/settings/mail", get(get_settings).put(put_settings))
        .route("/settings/mail/test", post(test_settings))
        .route("/{objects}/{id}/emails", post(send))
}
