//! The campaigns API (campaigns, their actions and reports, sequences and enrolments,
//! the suppression list, the public URL) and the public endpoints recipients reach
//! from a message: unsubscribe, the open pixel, tracked links.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kith_app::campaigns::sequences::{enrolment_json, sequence_json, SequenceInput};
use kith_app::campaigns::{campaign_json, send_json, CampaignInput};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{path_id as id, ApiError};
use crate::mail::typed;
use crate::openapi::err;
use crate::records::{body_uuid, read_json};
use crate::ui::i18n::Lang;
use crate::State;

type Body = Result<Bytes, BytesRejection>;

/// A list answer: `{"data": [...]}` with each item as `f` shows it.
fn data<T>(items: &[T], f: impl Fn(&T) -> Value) -> Response {
    let data: Vec<Value> = items.iter().map(f).collect();
    Json(json!({ "data": data })).into_response()
}

async fn list_campaigns(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(data(&state.app.campaigns(&caller).await?, campaign_json))
}

async fn create_campaign(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let input: CampaignInput = typed(read_json(&headers, body)?)?;
    let c = state.app.create_campaign(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(campaign_json(&c))).into_response())
}

async fn get_campaign(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(cid): Path<String>,
) -> Result<Response, ApiError> {
    let c = state.app.campaign(&caller, id(&cid, "campaign")?).await?;
    Ok(Json(campaign_json(&c)).into_response())
}

async fn update_campaign(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(cid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let input: CampaignInput = typed(read_json(&headers, body)?)?;
    let c = state
        .app
        .update_campaign(&caller, id(&cid, "campaign")?, input)
        .await?;
    Ok(Json(campaign_json(&c)).into_response())
}

async fn delete_campaign(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(cid): Path<String>,
) -> Result<Response, ApiError> {
    state
        .app
        .delete_campaign(&caller, id(&cid, "campaign")?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn action(
    state: State,
    caller: kith_app::Caller,
    cid: &str,
    what: &str,
    body: Map<String, Value>,
) -> Result<Response, ApiError> {
    let cid = id(cid, "campaign")?;
    let app = &state.app;
    let c = match what {
        "send" => {
            let at = match body.get("at") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    v.as_str()
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .ok_or_else(|| {
                            ApiError::field(
                                "at",
                                "must be a date-time such as 2026-12-24T09:00:00+01:00",
                            )
                        })?,
                ),
            };
            app.send_campaign(&caller, cid, at).await?
        }
        "pause" => app.pause_campaign(&caller, cid).await?,
        "resume" => app.resume_campaign(&caller, cid).await?,
        _ => app.cancel_campaign(&caller, cid).await?,
    };
    Ok(Json(campaign_json(&c)).into_response())
}

macro_rules! campaign_action {
    ($name:ident, $what:literal) => {
        async fn $name(AxState(state): AxState<State>, Auth(caller): Auth, Path(cid): Path<String>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
            let body = if matches!(&body, Ok(b) if b.is_empty()) { Map::new() } else { read_json(&headers, body)? };
            action(state, caller, &cid, $what, body).await
        }
    };
}
campaign_action!(send_campaign, "send");
campaign_action!(pause_campaign, "pause");
campaign_action!(resume_campaign, "resume");
campaign_action!(cancel_campaign, "cancel");

async fn report(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(cid): Path<String>,
) -> Result<Response, ApiError> {
    let r = state
        .app
        .campaign_report(&caller, id(&cid, "campaign")?)
        .await?;
    Ok(Json(json!({"campaign": r.campaign, "figures": r.figures})).into_response())
}

#[derive(serde::Deserialize)]
struct SendsQuery {
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn sends_of(
    state: &State,
    caller: &kith_app::Caller,
    source: Option<Uuid>,
    contact: Option<Uuid>,
    q: &SendsQuery,
) -> Result<Response, ApiError> {
    let list = state
        .app
        .email_sends(
            caller,
            source,
            contact,
            q.status.as_deref(),
            q.limit.unwrap_or(100),
            q.offset.unwrap_or(0),
        )
        .await?;
    Ok(data(&list, send_json))
}

async fn campaign_sends(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(cid): Path<String>,
    Query(q): Query<SendsQuery>,
) -> Result<Response, ApiError> {
    sends_of(&state, &caller, Some(id(&cid, "campaign")?), None, &q).await
}

async fn contact_sends(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(cid): Path<String>,
    Query(q): Query<SendsQuery>,
) -> Result<Response, ApiError> {
    sends_of(&state, &caller, None, Some(id(&cid, "contact")?), &q).await
}

async fn list_sequences(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(data(&state.app.sequences(&caller).await?, sequence_json))
}

async fn create_sequence(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let input: SequenceInput = typed(read_json(&headers, body)?)?;
    let s = state.app.create_sequence(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(sequence_json(&s))).into_response())
}

async fn get_sequence(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(sid): Path<String>,
) -> Result<Response, ApiError> {
    let s = state.app.sequence(&caller, id(&sid, "sequence")?).await?;
    Ok(Json(sequence_json(&s)).into_response())
}

async fn update_sequence(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let input: SequenceInput = typed(read_json(&headers, body)?)?;
    let s = state
        .app
        .update_sequence(&caller, id(&sid, "sequence")?, input)
        .await?;
    Ok(Json(sequence_json(&s)).into_response())
}

async fn list_enrolments(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(sid): Path<String>,
) -> Result<Response, ApiError> {
    let list = state
        .app
        .enrolments(&caller, Some(id(&sid, "sequence")?), None)
        .await?;
    Ok(data(&list, enrolment_json))
}

async fn enrol(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_json(&headers, body)?;
    let contact = body_uuid(&body, "contact_id", "is required: the id of a contact")?;
    let added = state
        .app
        .enrol(&caller, id(&sid, "sequence")?, contact)
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"enrolled": added}))).into_response())
}

async fn unenrol(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((sid, cid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let removed = state
        .app
        .unenrol(&caller, id(&sid, "sequence")?, id(&cid, "contact")?)
        .await?;
    Ok(Json(json!({"removed": removed})).into_response())
}

async fn suppressions(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    let list = state.app.suppressions(&caller).await?;
    Ok(data(
        &list,
        |(email, reason, at)| json!({"email": email, "reason": reason, "created_at": at}),
    ))
}

async fn unsuppress(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(email): Path<String>,
) -> Result<Response, ApiError> {
    if state.app.unsuppress(&caller, &email).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(
            "that address is not on the suppression list",
        ))
    }
}

async fn get_settings(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(Json(json!({"public_url": state.app.public_url(&caller).await?})).into_response())
}

async fn put_settings(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_json(&headers, body)?;
    let url = body.get("public_url").and_then(Value::as_str).unwrap_or("");
    let url = state.app.set_public_url(&caller, url).await?;
    Ok(Json(json!({"public_url": url})).into_response())
}

/// The API routes (under `/api/v1`).
pub(crate) fn routes() -> Router<State> {
    Router::new()
        .route("/campaigns", get(list_campaigns).post(create_campaign))
        .route(
            "/campaigns/{id}",
            get(get_campaign)
                .patch(update_campaign)
                .delete(delete_campaign),
        )
        .route("/campaigns/{id}/send", post(send_campaign))
        .route("/campaigns/{id}/pause", post(pause_campaign))
        .route("/campaigns/{id}/resume", post(resume_campaign))
        .route("/campaigns/{id}/cancel", post(cancel_campaign))
        .route("/campaigns/{id}/report", get(report))
        .route("/campaigns/{id}/sends", get(campaign_sends))
        .route("/contacts/{id}/email-sends", get(contact_sends))
        .route("/sequences", get(list_sequences).post(create_sequence))
        .route("/sequences/{id}", get(get_sequence).patch(update_sequence))
        .route(
            "/sequences/{id}/enrolments",
            get(list_enrolments).post(enrol),
        )
        .route(
            "/sequences/{id}/enrolments/{contact_id}",
            axum::routing::delete(unenrol),
        )
        .route("/email/suppressions", get(suppressions))
        .route(
            "/email/suppressions/{email}",
            axum::routing::delete(unsuppress),
        )
        .route("/settings/campaigns", get(get_settings).put(put_settings))
}

/// The public routes recipients reach from a message (no sign-in).
pub(crate) fn public_routes() -> Router<State> {
    Router::new()
        .route("/u/{token}", get(unsubscribe_page).post(unsubscribe_now))
        .route("/t/o/{token}", get(open_pixel))
        .route("/t/c/{token}", get(click))
}

fn lang(headers: &HeaderMap) -> Lang {
    Lang::negotiate(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    )
}

fn public_page(lang: Lang, title: &str, body: maud::Markup) -> Response {
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang=(lang.tag()) {
            head { meta charset="utf-8"; meta name="viewport" content="width=device-width"; title { (title) } }
            body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem" {
                h1 { (title) }
                (body)
            }
        }
    };
    Html(page.into_string()).into_response()
}

fn invalid_link(lang: Lang) -> Response {
    let mut res = public_page(
        lang,
        &lang.t("unsub-invalid-title"),
        maud::html! { p { (lang.t("unsub-invalid")) } },
    );
    *res.status_mut() = StatusCode::NOT_FOUND;
    res
}

/// `GET /u/{token}`: asks to confirm (mail scanners follow links; only a POST acts).
async fn unsubscribe_page(
    AxState(state): AxState<State>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = lang(&headers);
    let Some(target) = state.app.unsubscribe_target(&token).await? else {
        return Ok(invalid_link(lang));
    };
    let title = lang.t("unsub-title");
    Ok(public_page(
        lang,
        &title,
        maud::html! {
            p { (lang.t_args("unsub-confirm", &[("email", target.email.clone()), ("workspace", target.workspace.clone())])) }
            form method="post" { button type="submit" id="unsubscribe" { (lang.t("unsub-button")) } }
        },
    ))
}

/// `POST /u/{token}`: the confirmation form, or a mail client's one-click request
/// (RFC 8058: body `List-Unsubscribe=One-Click`, no cookies, no CSRF token).
async fn unsubscribe_now(
    AxState(state): AxState<State>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = lang(&headers);
    let Some(done) = state.app.unsubscribe(&token).await? else {
        return Ok(invalid_link(lang));
    };
    let title = lang.t("unsub-done-title");
    Ok(public_page(
        lang,
        &title,
        maud::html! {
            p id="unsubscribed" { (lang.t_args("unsub-done", &[("email", done.email.clone()), ("workspace", done.workspace.clone())])) }
        },
    ))
}

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// `GET /t/o/{token}`: counts an open; always the pixel, so nothing is learnt from it.
async fn open_pixel(AxState(state): AxState<State>, Path(token): Path<String>) -> Response {
    if let Err(e) = state.app.track_open(&token).await {
        tracing::warn!(error = %e, "open tracking failed");
    }
    (
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PIXEL,
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct ClickQuery {
    u: Option<String>,
}

/// `GET /t/c/{token}?u=URL`: counts a click and redirects, only to the URL the token
/// was signed for.
async fn click(
    AxState(state): AxState<State>,
    Path(token): Path<String>,
    Query(q): Query<ClickQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let url = q.u.unwrap_or_default();
    match state.app.track_click(&token, &url).await? {
        Some(to) => Ok(Redirect::to(&to).into_response()),
        None => Ok(invalid_link(lang(&headers))),
    }
}

/// The campaign endpoints' part of the OpenAPI description.
pub(crate) fn openapi(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let uuid = json!({"type": "string", "format": "uuid"});
    let time = json!({"type": ["string", "null"], "format": "date-time", "readOnly": true});
    schemas.insert("Campaign".into(), json!({"type": "object", "required": ["name", "segment_id", "template_id"], "properties": {
        "id": {"type": "string", "format": "uuid", "readOnly": true},
        "name": {"type": "string"}, "segment_id": uuid, "template_id": uuid,
        "consent_mode": {"type": "string", "enum": ["opted_in", "not_denied"], "default": "opted_in", "description": "opted_in: only contacts whose email consent is granted; not_denied: everyone but those who refused"},
        "rate_per_minute": {"type": "integer", "minimum": 0, "description": "Messages per minute at most; 0: as fast as the server takes them"},
        "attribution_days": {"type": "integer", "minimum": 0, "maximum": 365, "default": 7},
        "status": {"type": "string", "enum": ["draft", "scheduled", "sending", "paused", "sent", "cancelled"], "readOnly": true},
        "scheduled_at": time, "started_at": time, "finished_at": time,
        "version": {"type": "integer", "description": "Send the version a change is based on; a stale one is refused"}}}));
    schemas.insert("Sequence".into(), json!({"type": "object", "required": ["name", "steps"], "properties": {
        "id": {"type": "string", "format": "uuid", "readOnly": true}, "name": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "object", "required": ["wait_minutes", "template_id"], "properties": {
            "wait_minutes": {"type": "integer", "minimum": 0, "description": "After enrolment (first step) or the previous step"}, "template_id": uuid}}},
        "consent_mode": {"type": "string", "enum": ["opted_in", "not_denied"]}, "enabled": {"type": "boolean"},
        "version": {"type": "integer"}}}));
    let campaign = json!({"$ref": "#/components/schemas/Campaign"});
    let sequence = json!({"$ref": "#/components/schemas/Sequence"});
    let idp = json!([{"name": "id", "in": "path", "required": true, "schema": uuid}]);
    let body = |schema: &Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let ok = |d: &str, schema: &Value| json!({"description": d, "content": {"application/json": {"schema": schema}}});
    let list = |schema: &Value| json!({"type": "object", "properties": {"data": {"type": "array", "items": schema}}});
    let tags = json!(["campaigns"]);
    paths.insert("/api/v1/campaigns".into(), json!({
        "get": {"tags": tags, "summary": "Campaigns, newest first", "operationId": "list_campaigns", "responses": {"200": ok("Campaigns", &list(&campaign))}},
        "post": {"tags": tags, "summary": "Create a draft campaign: a template to a segment of contacts", "operationId": "create_campaign",
            "requestBody": body(&campaign), "responses": {"201": ok("Created", &campaign), "422": err("A field is wrong (named)")}}}));
    paths.insert("/api/v1/campaigns/{id}".into(), json!({"parameters": idp,
        "get": {"tags": tags, "summary": "One campaign", "operationId": "get_campaign", "responses": {"200": ok("The campaign", &campaign), "404": err("No such campaign")}},
        "patch": {"tags": tags, "summary": "Change a draft or scheduled campaign", "operationId": "update_campaign", "requestBody": body(&campaign),
            "responses": {"200": ok("Changed", &campaign), "409": err("Changed meanwhile"), "422": err("A field is wrong, or the campaign is past changing")}},
        "delete": {"tags": tags, "summary": "Delete a campaign that never sent (draft, scheduled, cancelled)", "operationId": "delete_campaign", "responses": {"204": {"description": "Deleted"}, "422": err("It has sent")}}}));
    for (action, summary) in [
        (
            "send",
            "Send a draft now, or at `at` (date-time); checks the mail server and public URL first",
        ),
        ("pause", "Pause a sending campaign"),
        ("resume", "Resume a paused campaign where it stopped"),
        (
            "cancel",
            "Cancel: nothing more is sent; what was sent stays in the report",
        ),
    ] {
        let req = if action == "send" {
            json!({"content": {"application/json": {"schema": {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}}}})
        } else {
            json!({"content": {}})
        };
        paths.insert(format!("/api/v1/campaigns/{{id}}/{action}"), json!({"parameters": idp, "post": {"tags": tags, "summary": summary,
            "operationId": format!("{action}_campaign"), "requestBody": req,
            "responses": {"200": ok("The campaign", &campaign), "422": err("Not possible in its status, or settings missing")}}}));
    }
    let n = json!({"type": "integer"});
    paths.insert("/api/v1/campaigns/{id}/report".into(), json!({"parameters": idp, "get": {"tags": tags, "summary": "Sent, delivered, opened, clicked, unsubscribed, bounced, failed, skipped; orders and revenue (minor units) attributed within attribution_days of a send",
        "operationId": "campaign_report", "responses": {"200": ok("Report", &json!({"type": "object", "properties": {"campaign": campaign, "figures": {"type": "object", "properties": {
            "total": n, "pending": n, "sent": n, "delivered": n, "failed": n, "bounced": n, "skipped": n, "opened": n, "clicked": n, "unsubscribed": n, "orders": n, "revenue": n}}}}))}}}));
    let send = json!({"type": "object", "properties": {"id": uuid, "contact_id": uuid, "email": {"type": "string"}, "status": {"type": "string", "enum": ["queued", "sending", "sent", "failed", "bounced", "skipped"]},
        "error": {"type": ["string", "null"], "description": "The server's reason, or why it was skipped"}, "message_id": {"type": "string"}, "attempts": n,
        "sent_at": time, "opened_at": time, "clicked_at": time, "unsubscribed_at": time}});
    let sends_params = json!([{"name": "id", "in": "path", "required": true, "schema": uuid},
        {"name": "status", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}},
        {"name": "offset", "in": "query", "schema": {"type": "integer"}}]);
    paths.insert("/api/v1/campaigns/{id}/sends".into(), json!({"parameters": sends_params, "get": {"tags": tags, "summary": "The send log of a campaign: one row per recipient", "operationId": "campaign_sends", "responses": {"200": ok("Sends", &list(&send))}}}));
    paths.insert("/api/v1/contacts/{id}/email-sends".into(), json!({"parameters": sends_params, "get": {"tags": tags, "summary": "Campaign and sequence emails of one contact", "operationId": "contact_email_sends", "responses": {"200": ok("Sends", &list(&send))}}}));
    paths.insert("/api/v1/sequences".into(), json!({
        "get": {"tags": tags, "summary": "Sequences", "operationId": "list_sequences", "responses": {"200": ok("Sequences", &list(&sequence))}},
        "post": {"tags": tags, "summary": "Create a sequence (steps with waits)", "operationId": "create_sequence", "requestBody": body(&sequence),
            "responses": {"201": ok("Created", &sequence), "422": err("A field or step is wrong (named, e.g. steps[1].wait_minutes)")}}}));
    paths.insert("/api/v1/sequences/{id}".into(), json!({"parameters": idp,
        "get": {"tags": tags, "summary": "One sequence", "operationId": "get_sequence", "responses": {"200": ok("The sequence", &sequence), "404": err("No such sequence")}},
        "patch": {"tags": tags, "summary": "Change a sequence (enrolled contacts go on at their step)", "operationId": "update_sequence", "requestBody": body(&sequence),
            "responses": {"200": ok("Changed", &sequence), "422": err("A field is wrong")}}}));
    let enrolment = json!({"type": "object", "properties": {"contact_id": uuid, "step": n, "status": {"type": "string", "enum": ["active", "completed", "exited"]},
        "next_at": time, "exit_reason": {"type": ["string", "null"], "description": "replied, ordered, unsubscribed, removed"}, "enrolled_at": time}});
    paths.insert("/api/v1/sequences/{id}/enrolments".into(), json!({"parameters": idp,
        "get": {"tags": tags, "summary": "Who is in the sequence, and where", "operationId": "list_enrolments", "responses": {"200": ok("Enrolments", &list(&enrolment))}},
        "post": {"tags": tags, "summary": "Enrol a contact (once: a contact never gets a series twice)", "operationId": "enrol",
            "requestBody": body(&json!({"type": "object", "required": ["contact_id"], "properties": {"contact_id": uuid}})),
            "responses": {"201": ok("Enrolled", &json!({"type": "object"})), "200": ok("Was enrolled already", &json!({"type": "object"})), "422": err("No contact id, or the sequence is off")}}}));
    paths.insert("/api/v1/sequences/{id}/enrolments/{contact_id}".into(), json!({"parameters": [{"name": "id", "in": "path", "required": true, "schema": uuid}, {"name": "contact_id", "in": "path", "required": true, "schema": uuid}],
        "delete": {"tags": tags, "summary": "Take a contact out of a sequence", "operationId": "unenrol", "responses": {"200": ok("Removed", &json!({"type": "object"}))}}}));
    paths.insert("/api/v1/email/suppressions".into(), json!({"get": {"tags": tags, "summary": "Addresses never mailed by campaigns and sequences (unsubscribed, bounced)", "operationId": "list_suppressions",
        "responses": {"200": ok("Suppressions", &list(&json!({"type": "object", "properties": {"email": {"type": "string"}, "reason": {"type": "string"}, "created_at": time}})))}}}));
    paths.insert("/api/v1/email/suppressions/{email}".into(), json!({"parameters": [{"name": "email", "in": "path", "required": true, "schema": {"type": "string"}}],
        "delete": {"tags": tags, "summary": "Take an address off the list (admins)", "operationId": "unsuppress", "responses": {"204": {"description": "Removed"}, "404": err("Not on the list")}}}));
    let settings = json!({"type": "object", "properties": {"public_url": {"type": "string", "format": "uri", "description": "Where recipients reach Kith: unsubscribe and tracking links start with it"}}});
    paths.insert("/api/v1/settings/campaigns".into(), json!({
        "get": {"tags": tags, "summary": "Campaign settings", "operationId": "get_campaign_settings", "responses": {"200": ok("Settings", &settings)}},
        "put": {"tags": tags, "summary": "Set the public URL (admins)", "operationId": "put_campaign_settings", "requestBody": body(&settings),
            "responses": {"200": ok("Saved", &settings), "403": err("Not an admin"), "422": err("Not an http(s) address")}}}));
}
