//! The import API: upload a file (`POST /imports`), poll the job, fetch the refused rows
//! as CSV, revert.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kith_app::import::{DateOrder, Format, Import, ImportRequest, OnDuplicate};
use kith_core::objects::ObjectKind;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::State;

/// Largest file the API takes (bigger files: `kith import` on the server).
pub const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

/// An import as the API and `kith import show` present it.
pub fn import_json(i: &Import) -> Value {
    json!({
        "id": i.id,
        "object": i.object,
        "file_name": i.file_name,
        "format": i.format,
        "status": i.status,
        "rows_done": i.rows_done,
        "created": i.created,
        "updated": i.updated,
        "skipped": i.skipped,
        "failed": i.failed,
        "bytes_done": i.bytes_done,
        "bytes_total": i.bytes_total,
        "progress": if i.bytes_total > 0 { (i.bytes_done as f64 / i.bytes_total as f64).min(1.0) } else { 0.0 },
        "message": i.message,
        "mapping": i.options.get("mapping"),
        "encoding": i.options.get("encoding_used"),
        "delimiter": i.options.get("delimiter_used"),
        "on_duplicate": i.options.get("on_duplicate"),
        "created_at": kith_core::Scalar::Time(i.created_at).to_json(),
        "updated_at": kith_core::Scalar::Time(i.updated_at).to_json(),
        "finished_at": i.finished_at.map(|t| kith_core::Scalar::Time(t).to_json()),
        "errors_url": format!("/api/v1/imports/{}/errors", i.id),
    })
}

fn import_id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::not_found(format!("`{s}` is not an import id")))
}

/// Reads the options of an upload from the query string (`map` may repeat).
fn request(query: Option<String>) -> Result<ImportRequest, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| {
        ApiError::bad_request("query_invalid", format!("bad query string: {e}"))
    })?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let object = get("object").ok_or_else(|| {
        ApiError::field(
            "object",
            "is required (contacts, companies, deals, activities or orders)",
        )
    })?;
    let object = ObjectKind::from_plural(&object)
        .filter(|o| {
            matches!(
                o,
                ObjectKind::Contact
                    | ObjectKind::Company
                    | ObjectKind::Deal
                    | ObjectKind::Activity
                    | ObjectKind::Order
            )
        })
        .ok_or_else(|| {
            ApiError::field(
                "object",
                "must be contacts, companies, deals, activities or orders",
            )
        })?;
    let mut req = ImportRequest::new(object, &get("file_name").unwrap_or_else(|| "upload".into()));
    for (k, v) in &pairs {
        match k.as_str() {
            "object" | "file_name" => {}
            "format" => req.format = Some(Format::parse(v)?),
            "encoding" => req.encoding = Some(v.clone()),
            "delimiter" => req.delimiter = v.chars().next(),
            "on_duplicate" => req.on_duplicate = OnDuplicate::parse(v)?,
            "region" => req.region = Some(v.clone()),
            "month_first" => {
                req.date_order = Some(if v == "true" {
                    DateOrder::MonthFirst
                } else {
                    DateOrder::DayFirst
                })
            }
            "create_fields" => req.create_fields = v == "true",
            "map" => {
                let (c, f) = v
                    .rsplit_once('=')
                    .ok_or_else(|| ApiError::field("map", "write COLUMN=FIELD"))?;
                req.mapping.push((c.trim().into(), f.trim().into()));
            }
            other => {
                return Err(ApiError::bad_request(
                    "unknown_parameter",
                    format!("unknown parameter `{other}`"),
                ))
            }
        }
    }
    Ok(req)
}

/// `POST /imports?object=contacts&file_name=…`: the body is the file. Answers 202 with
/// the queued import; a background job runs it.
pub async fn create(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("the file is larger than {MAX_UPLOAD_BYTES} bytes; import it with `kith import` on the server"))
        } else {
            ApiError::bad_request("body_unreadable", e.body_text())
        }
    })?;
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "file_empty",
            "the request body (the file) is empty",
        ));
    }
    let req = request(query)?;
    let import = state.app.queue_import(&caller, &body, &req).await?;
    spawn_import(state.app.clone(), caller.workspace.id.0, import.id);
    let mut res = (StatusCode::ACCEPTED, Json(import_json(&import))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/imports/{}", import.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Runs a queued import in the background; its checkpoint makes a restart safe.
pub fn spawn_import(app: kith_app::App, workspace: Uuid, id: Uuid) {
    tokio::spawn(async move {
        if let Err(e) = app.run_queued_import(workspace, id).await {
            tracing::warn!(import = %id, error = %e, "import stopped");
        }
    });
}

/// `GET /imports`: the workspace's recent imports.
pub async fn list(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    let items: Vec<Value> = state
        .app
        .imports(&caller)
        .await?
        .iter()
        .map(import_json)
        .collect();
    Ok(Json(json!({ "data": items })).into_response())
}

/// `GET /imports/{id}`: status and counts, to poll.
pub async fn get(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let i = state.app.import_status(&caller, import_id(&id)?).await?;
    Ok(Json(import_json(&i)).into_response())
}

/// `GET /imports/{id}/errors`: the refused rows as CSV to fix and import again.
pub async fn errors(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = import_id(&id)?;
    let csv = state.app.import_errors_csv(&caller, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import-{id}-errors.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// `POST /imports/{id}/revert`: takes the import back.
pub async fn revert(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let i = state.app.revert_import(&caller, import_id(&id)?).await?;
    Ok(Json(import_json(&i)).into_response())
}
