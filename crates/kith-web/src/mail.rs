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

use crate::auth::Auth;
use crate::error::{path_id as id, ApiError};
use crate::openapi::err;
use crate::records::{body_uuid, read_json};
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
pub(crate) fn typed<T: DeserializeOwned>(body: Map<String, Value>) -> Result<T, ApiError> {
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
    let contact = body_uuid(&body, "contact_id", "must be a contact id")?;
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

/// The mail endpoints' part of the OpenAPI description.
pub(crate) fn openapi(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let s = |d: &str| json!({"type": "string", "description": d});
    let port = json!({"type": ["integer", "null"], "minimum": 1, "maximum": 65535});
    let security = json!({"type": "string", "enum": ["none", "starttls", "tls"]});
    schemas.insert("EmailTemplate".into(), json!({"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid", "readOnly": true},
        "name": s("Unique in the workspace"),
        "language": {"type": "string", "enum": ["en", "da", "zh-CN"]},
        "subject": s("Template: {{ contact.first_name | default: \"there\" }}; filters default, upcase, downcase, capitalize, date: \"%d.%m.%Y\"; {% if path %}…{% else %}…{% endif %}"),
        "html": s("HTML body template (values are HTML-escaped)"),
        "text": s("Plain-text template; derived from the HTML when empty"),
        "version": {"type": "integer", "readOnly": true},
        "created_at": {"type": "string", "format": "date-time", "readOnly": true},
        "updated_at": {"type": "string", "format": "date-time", "readOnly": true}}}));
    schemas.insert("MailSettings".into(), json!({"type": "object", "description": "Passwords are write-only: a response says only whether one is set; an empty password in a PUT keeps the stored one.", "properties": {
        "smtp_host": s("SMTP server; empty: no sending"), "smtp_port": port, "smtp_security": security,
        "smtp_username": s("SMTP login"), "smtp_password": {"type": "string", "writeOnly": true},
        "smtp_password_set": {"type": "boolean", "readOnly": true},
        "from_name": s("Sender's name"), "from_email": {"type": "string", "format": "email"},
        "reply_to": {"type": "string", "description": "Reply-To address (the IMAP mailbox, to log replies)"},
        "imap_host": s("IMAP server for replies; empty: no fetching"), "imap_port": port, "imap_security": security,
        "imap_username": s("IMAP login"), "imap_password": {"type": "string", "writeOnly": true},
        "imap_password_set": {"type": "boolean", "readOnly": true},
        "imap_folder": s("Folder replies arrive in (default INBOX)")}}));
    let tpl = json!({"$ref": "#/components/schemas/EmailTemplate"});
    let settings = json!({"$ref": "#/components/schemas/MailSettings"});
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]);
    let body = |schema: &Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let ok = |d: &str, schema: &Value| json!({"description": d, "content": {"application/json": {"schema": schema}}});
    paths.insert("/api/v1/email-templates".into(), json!({
        "get": {"tags": ["email"], "summary": "Email templates by name", "operationId": "list_email_templates",
            "responses": {"200": ok("Templates", &json!({"type": "object", "properties": {"data": {"type": "array", "items": tpl}}}))}},
        "post": {"tags": ["email"], "summary": "Create an email template; each part is checked (errors name the part and line:column)", "operationId": "create_email_template",
            "requestBody": body(&tpl), "responses": {"201": ok("Created", &tpl), "409": err("Name taken"), "422": err("A part does not parse, or a field is wrong")}}}));
    paths.insert("/api/v1/email-templates/{id}".into(), json!({
        "parameters": id,
        "get": {"tags": ["email"], "summary": "One email template", "operationId": "get_email_template", "responses": {"200": ok("The template", &tpl), "404": err("No such template")}},
        "put": {"tags": ["email"], "summary": "Replace an email template (send `version` to refuse a stale write)", "operationId": "update_email_template",
            "requestBody": body(&tpl), "responses": {"200": ok("Changed", &tpl), "404": err("No such template"), "409": err("Changed meanwhile, or name taken"), "422": err("A part does not parse")}},
        "delete": {"tags": ["email"], "summary": "Delete an email template", "operationId": "delete_email_template", "responses": {"204": {"description": "Deleted"}, "404": err("No such template")}}}));
    paths.insert("/api/v1/email-templates/{id}/preview".into(), json!({"parameters": id, "post": {"tags": ["email"],
        "summary": "Render a template for one contact (its fields, company, owner as user, workspace)", "operationId": "preview_email_template",
        "requestBody": body(&json!({"type": "object", "required": ["contact_id"], "properties": {"contact_id": {"type": "string", "format": "uuid"}}})),
        "responses": {"200": ok("Rendered", &json!({"type": "object", "properties": {"subject": {"type": "string"}, "html": {"type": "string"}, "text": {"type": "string"},
            "missing": {"type": "array", "items": {"type": "string"}, "description": "Variables the contact has no value for"}}})),
            "404": err("No such template or contact")}}}));
    paths.insert("/api/v1/settings/mail".into(), json!({
        "get": {"tags": ["email"], "summary": "The workspace's SMTP and IMAP settings, without passwords (admins)", "operationId": "get_mail_settings",
            "responses": {"200": ok("Settings", &settings), "403": err("Not an admin")}},
        "put": {"tags": ["email"], "summary": "Save SMTP and IMAP settings (admins); IMAP replies are then fetched every 2 minutes", "operationId": "put_mail_settings",
            "requestBody": body(&settings), "responses": {"200": ok("Saved", &settings), "403": err("Not an admin"), "422": err("A setting is wrong")}}}));
    paths.insert("/api/v1/settings/mail/test".into(), json!({"post": {"tags": ["email"], "summary": "Send a test message now through the saved SMTP settings (admins)", "operationId": "test_mail_settings",
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"to": {"type": "string", "format": "email", "description": "Default: the caller"}}}}}},
        "responses": {"200": ok("Sent", &json!({"type": "object", "properties": {"sent_to": {"type": "string"}}})), "403": err("Not an admin"), "422": err("No SMTP server set"), "502": err("The mail server failed or refused, with its reply")}}}));
    paths.insert("/api/v1/contacts/{id}/emails".into(), json!({"parameters": id, "post": {"tags": ["email"],
        "summary": "Send a one-off email to the contact (queued; logged on the timeline as sent or failed with the server's reason)", "operationId": "send_email",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}, "description": "The same key again gives the first job (a double click sends once)"}],
        "requestBody": body(&json!({"type": "object", "properties": {
            "template_id": {"type": "string", "format": "uuid", "description": "A stored template instead of subject and body"},
            "subject": s("Subject template"), "html": s("HTML body template"), "text": s("Text body template")}})),
        "responses": {"202": ok("Queued", &json!({"type": "object", "properties": {"job_id": {"type": "string", "format": "uuid"}, "created": {"type": "boolean", "description": "false: the idempotency key was used before"}}})),
            "404": err("No such contact"), "422": err("No address, no SMTP server, or a template error")}}}));
}
