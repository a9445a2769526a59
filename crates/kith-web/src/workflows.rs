//! The workflows API: CRUD (admins write), enable/disable, version history, runs of a
//! workflow and about a record; and the caller's in-app notifications.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kith_app::notifications::Notification;
use kith_app::workflows::{StoredWorkflow, WorkflowRun};
use kith_app::Role;
use serde_json::{json, Map, Value};

use crate::auth::Auth;
use crate::error::{path_id as id, ApiError};
use crate::openapi::err;
use crate::records::read_json;
use crate::State;

/// A workflow as the API shows it; the webhook secret to admins only.
pub(crate) fn workflow_json(w: &StoredWorkflow, admin: bool) -> Value {
    let d = &w.definition;
    let mut v = json!({
        "id": w.id,
        "name": w.name,
        "enabled": w.enabled,
        "trigger": d["trigger"],
        "conditions": d["conditions"],
        "actions": d["actions"],
        "version": w.version,
        "created_by": w.created_by,
        "created_at": w.created_at,
        "updated_at": w.updated_at,
    });
    if admin {
        v["webhook_secret"] = json!(w.secret);
    }
    v
}

/// A run as the API shows it.
pub(crate) fn run_json(r: &WorkflowRun) -> Value {
    json!({
        "id": r.id,
        "workflow_id": r.workflow_id,
        "workflow": r.workflow_name,
        "version": r.version,
        "object": r.object,
        "record_id": r.record_id,
        "event_id": r.event_id,
        "trigger_key": r.trigger_key,
        "status": r.status,
        "steps": r.steps,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
    })
}

fn notification_json(n: &Notification) -> Value {
    json!({"id": n.id, "title": n.title, "body": n.body, "link": n.link, "read_at": n.read_at, "created_at": n.created_at})
}

fn is_admin(caller: &kith_app::Caller) -> bool {
    caller.role() == Role::Admin
}

/// `GET /workflows`.
pub async fn list(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Json<Value>, ApiError> {
    let admin = is_admin(&caller);
    let data: Vec<Value> = state
        .app
        .workflows(&caller)
        .await?
        .iter()
        .map(|w| workflow_json(w, admin))
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// `POST /workflows`.
pub async fn create(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let input = Value::Object(read_json(&headers, body)?);
    let w = state.app.create_workflow(&caller, &input).await?;
    Ok((StatusCode::CREATED, Json(workflow_json(&w, true))).into_response())
}

/// `GET /workflows/{id}`.
pub async fn get(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(w): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let w = state.app.workflow(&caller, id(&w, "workflow")?).await?;
    Ok(Json(workflow_json(&w, is_admin(&caller))))
}

/// `PUT /workflows/{id}`: a new version (send `version` to refuse a stale write).
pub async fn update(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(w): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let input = Value::Object(read_json(&headers, body)?);
    let w = state
        .app
        .update_workflow(&caller, id(&w, "workflow")?, &input, None)
        .await?;
    Ok(Json(workflow_json(&w, true)))
}

/// `DELETE /workflows/{id}`.
pub async fn delete(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(w): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .delete_workflow(&caller, id(&w, "workflow")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn switch(
    state: State,
    caller: kith_app::Caller,
    w: &str,
    on: bool,
) -> Result<Json<Value>, ApiError> {
    let w = state
        .app
        .set_workflow_enabled(&caller, id(w, "workflow")?, on)
        .await?;
    Ok(Json(workflow_json(&w, true)))
}

/// `POST /workflows/{id}/enable`.
pub async fn enable(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(w): Path<String>,
) -> Result<Json<Value>, ApiError> {
    switch(state, caller, &w, true).await
}

/// `POST /workflows/{id}/disable`.
pub async fn disable(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(w): Path<String>,
) -> Result<Json<Value>, ApiError> {
    switch(state, caller, &w, false).await
}

/// `GET /workflows/{id}/versions`.
pub async fn versions(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(w): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let list = state
        .app
        .workflow_versions(&caller, id(&w, "workflow")?)
        .await?;
    let data: Vec<Value> = list
        .into_iter()
        .map(|(v, def, by, at)| json!({"version": v, "definition": def, "saved_by": by, "saved_at": at}))
        .collect();
    Ok(Json(json!({ "data": data })))
}

fn limit(q: &HashMap<String, String>) -> Result<i64, ApiError> {
    match q.get("limit") {
        None => Ok(50),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::field("limit", "must be 1 to 500")),
    }
}

/// `GET /workflows/{id}/runs`: its history, newest first.
pub async fn runs(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(w): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let list = state
        .app
        .workflow_runs(&caller, id(&w, "workflow")?, None, limit(&q)?)
        .await?;
    Ok(Json(
        json!({ "data": list.iter().map(run_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /{objects}/{id}/workflow-runs`.
pub async fn of_record(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((objects, rec)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let object = crate::records::object(&objects)?;
    let list = state
        .app
        .record_workflow_runs(&caller, object, id(&rec, "record")?, limit(&q)?)
        .await?;
    Ok(Json(
        json!({ "data": list.iter().map(run_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /notifications?unread=true`.
pub async fn notifications(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let unread_only = q.get("unread").is_some_and(|v| v == "true" || v == "1");
    let (list, unread) = state
        .app
        .notifications(&caller, unread_only, limit(&q)?)
        .await?;
    let data: Vec<Value> = list.iter().map(notification_json).collect();
    Ok(Json(json!({ "data": data, "unread": unread })))
}

/// `POST /notifications/{id}/read`.
pub async fn read_one(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(n): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let n = state
        .app
        .mark_notifications_read(&caller, Some(id(&n, "notification")?))
        .await?;
    Ok(Json(json!({ "marked": n })))
}

/// `POST /notifications/read`: every notification of the caller.
pub async fn read_all(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Json<Value>, ApiError> {
    let n = state.app.mark_notifications_read(&caller, None).await?;
    Ok(Json(json!({ "marked": n })))
}

/// The routes above, for the API router.
pub(crate) fn routes() -> axum::Router<State> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/workflows", get(list).post(create))
        .route("/workflows/{id}", get(self::get).put(update).delete(delete))
        .route("/workflows/{id}/enable", post(enable))
        .route("/workflows/{id}/disable", post(disable))
        .route("/workflows/{id}/versions", get(versions))
        .route("/workflows/{id}/runs", get(runs))
        .route("/{objects}/{id}/workflow-runs", get(of_record))
        .route("/notifications", get(notifications))
        .route("/notifications/read", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
}

/// The workflow endpoints' part of the OpenAPI description.
pub(crate) fn openapi(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let uuid = json!({"type": "string", "format": "uuid"});
    schemas.insert("Workflow".into(), json!({"type": "object", "required": ["name", "trigger", "actions"], "properties": {
        "id": {"type": "string", "format": "uuid", "readOnly": true},
        "name": {"type": "string", "description": "Unique in the workspace"},
        "enabled": {"type": "boolean", "description": "Runs when triggered (default false on create)"},
        "trigger": {"type": "object", "description": "`{type, …}`: record_created/record_updated {object}; field_changed {object, field, from?, to?}; deal_stage_changed {from_stage_id?, to_stage_id?}; task_overdue {}; segment_entered/segment_left {segment_id}; date_relative {object, field (a date field), offset_days (negative: before), yearly}; no_activity {object, days}. object is contact, company, deal or task."},
        "conditions": {"type": "string", "description": "Filter text on the trigger's object (as in lists and segments), checked against the record when triggered; empty: every record"},
        "actions": {"type": "array", "maxItems": 20, "description": "In order, each `{type, …, delay_minutes?}`: assign_owner {users?, team_id?, by_field?, rules? (value → user id)}; create_task {title, due_in_days?, assignee_id?, notes?}; send_email {template_id}; update_field {field, value}; add_tag/remove_tag {tag}; notify {user_id? (default the owner), title, body?}; webhook {url (http:// or https://)}; enrol_sequence/remove_from_sequence {sequence_id} (not available yet: they fail)", "items": {"type": "object"}},
        "version": {"type": "integer", "readOnly": true, "description": "Bumped by every save; send it with PUT to refuse a stale write"},
        "webhook_secret": {"type": "string", "readOnly": true, "description": "Admins only: webhook POSTs carry `X-Kith-Signature: sha256=HEX`, the HMAC-SHA256 of the body under this secret"},
        "created_by": {"type": "string", "format": "uuid", "readOnly": true, "description": "Its actions act as this admin"},
        "created_at": {"type": "string", "format": "date-time", "readOnly": true},
        "updated_at": {"type": "string", "format": "date-time", "readOnly": true}}}));
    schemas.insert("WorkflowRun".into(), json!({"type": "object", "properties": {
        "id": uuid, "workflow_id": uuid, "workflow": {"type": "string"}, "version": {"type": "integer", "description": "The definition version it ran"},
        "object": {"type": "string"}, "record_id": uuid, "event_id": {"type": ["string", "null"], "format": "uuid"},
        "trigger_key": {"type": "string", "description": "The event id, or the scan's key (`date:RECORD:DATE`, `overdue:…`, `quiet:…`): one run per workflow and key"},
        "status": {"type": "string", "enum": ["running", "succeeded", "failed"]},
        "steps": {"type": "array", "items": {"type": "object"}, "description": "Per action: index, type, status (waiting, retrying, succeeded, failed), attempts, output or error"},
        "started_at": {"type": "string", "format": "date-time"}, "finished_at": {"type": ["string", "null"], "format": "date-time"}}}));
    let wf = json!({"$ref": "#/components/schemas/Workflow"});
    let run = json!({"$ref": "#/components/schemas/WorkflowRun"});
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]);
    let body = |schema: &Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let ok = |d: &str, schema: &Value| json!({"description": d, "content": {"application/json": {"schema": schema}}});
    let list_of = |s: &Value| json!({"type": "object", "properties": {"data": {"type": "array", "items": s}}});
    let limit = json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}});
    paths.insert("/api/v1/workflows".into(), json!({
        "get": {"tags": ["workflows"], "summary": "Workflows by name", "operationId": "list_workflows", "responses": {"200": ok("Workflows", &list_of(&wf))}},
        "post": {"tags": ["workflows"], "summary": "Create a workflow (admins); every wrong part is named (`trigger.field`, `actions[1].url`, `conditions`)", "operationId": "create_workflow",
            "requestBody": body(&wf), "responses": {"201": ok("Created", &wf), "403": err("Not an admin"), "409": err("Name taken"), "422": err("A part of the definition is wrong")}}}));
    paths.insert("/api/v1/workflows/{id}".into(), json!({"parameters": id,
        "get": {"tags": ["workflows"], "summary": "One workflow", "operationId": "get_workflow", "responses": {"200": ok("The workflow", &wf), "404": err("No such workflow")}},
        "put": {"tags": ["workflows"], "summary": "Save a new version (admins); runs already started finish on their version", "operationId": "update_workflow",
            "requestBody": body(&wf), "responses": {"200": ok("Saved", &wf), "403": err("Not an admin"), "404": err("No such workflow"), "409": err("Saved by someone else meanwhile, or name taken"), "422": err("A part of the definition is wrong")}},
        "delete": {"tags": ["workflows"], "summary": "Delete a workflow (admins); its runs stay on the records' timelines", "operationId": "delete_workflow", "responses": {"204": {"description": "Deleted"}, "403": err("Not an admin"), "404": err("No such workflow")}}}));
    for (path, on) in [("enable", true), ("disable", false)] {
        paths.insert(format!("/api/v1/workflows/{{id}}/{path}"), json!({"parameters": id, "post": {"tags": ["workflows"],
            "summary": if on { "Switch a workflow on (admins)" } else { "Switch a workflow off (admins); runs already started finish" },
            "operationId": format!("{path}_workflow"), "responses": {"200": ok("The workflow", &wf), "403": err("Not an admin"), "404": err("No such workflow")}}}));
    }
    paths.insert("/api/v1/workflows/{id}/versions".into(), json!({"parameters": id, "get": {"tags": ["workflows"], "summary": "Every saved version of the definition, newest first", "operationId": "workflow_versions",
        "responses": {"200": ok("Versions", &list_of(&json!({"type": "object", "properties": {"version": {"type": "integer"}, "definition": {"type": "object"}, "saved_by": uuid, "saved_at": {"type": "string", "format": "date-time"}}}))), "404": err("No such workflow")}}}));
    paths.insert("/api/v1/workflows/{id}/runs".into(), json!({"parameters": id, "get": {"tags": ["workflows"], "summary": "The workflow's history: its newest runs with each action's result", "operationId": "workflow_runs",
        "parameters": [limit], "responses": {"200": ok("Runs", &list_of(&run)), "404": err("No such workflow")}}}));
    paths.insert("/api/v1/{objects}/{id}/workflow-runs".into(), json!({"get": {"tags": ["workflows"], "summary": "Workflow runs about a record, newest first (also on its timeline as `workflow_run`)", "operationId": "record_workflow_runs",
        "parameters": [{"name": "objects", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}, limit],
        "responses": {"200": ok("Runs", &list_of(&run)), "404": err("No such record")}}}));
    let note = json!({"type": "object", "properties": {"id": uuid, "title": {"type": "string"}, "body": {"type": "string"}, "link": {"type": ["string", "null"]}, "read_at": {"type": ["string", "null"], "format": "date-time"}, "created_at": {"type": "string", "format": "date-time"}}});
    paths.insert("/api/v1/notifications".into(), json!({"get": {"tags": ["notifications"], "summary": "The caller's in-app notifications, newest first, and how many are unread", "operationId": "list_notifications",
        "parameters": [{"name": "unread", "in": "query", "schema": {"type": "boolean"}}, limit],
        "responses": {"200": ok("Notifications", &json!({"type": "object", "properties": {"data": {"type": "array", "items": note}, "unread": {"type": "integer"}}}))}}}));
    let marked = json!({"type": "object", "properties": {"marked": {"type": "integer"}}});
    paths.insert("/api/v1/notifications/read".into(), json!({"post": {"tags": ["notifications"], "summary": "Mark all the caller's notifications read", "operationId": "read_all_notifications", "responses": {"200": ok("Marked", &marked)}}}));
    paths.insert("/api/v1/notifications/{id}/read".into(), json!({"parameters": id, "post": {"tags": ["notifications"], "summary": "Mark one notification read", "operationId": "read_notification", "responses": {"200": ok("Marked", &marked), "404": err("No such notification of the caller")}}}));
}
