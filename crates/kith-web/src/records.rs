//! The record API, one set of handlers for every object: `/api/v1/{objects}`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kith_app::records::{IfMatch, ListRequest, Page};
use kith_app::Record;
use kith_core::filter::Filter;
use kith_core::objects::ObjectKind;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::State;

pub(crate) fn object(plural: &str) -> Result<ObjectKind, ApiError> {
    ObjectKind::from_plural(plural)
        .ok_or_else(|| ApiError::not_found(format!("no such object type `{plural}`")))
}

fn record_id(s: &str) -> Result<Uuid, ApiError> {
    // Any malformed id names no record: 404, as for an id of another workspace.
    Uuid::parse_str(s).map_err(|_| ApiError::not_found(format!("`{s}` is not a record id")))
}

/// Reads a JSON object body, with a clear error for each way it can be wrong.
pub(crate) fn read_json(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "request body is larger than {} bytes",
                    crate::MAX_BODY_BYTES
                ),
            )
        } else {
            ApiError::bad_request("body_unreadable", e.body_text())
        }
    })?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request(
            "json_invalid",
            "the body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(
            "json_invalid",
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim();
    if s == "*" {
        return Ok(None);
    }
    let inner = s.trim_start_matches("W/").trim_matches('"');
    inner.parse::<i64>().map(|n| Some(IfMatch(n))).map_err(|_| {
        ApiError::bad_request(
            "if_match_invalid",
            "If-Match must be an ETag this server sent, e.g. \"3\"",
        )
    })
}

fn with_etag(rec: &Record, status: StatusCode) -> Response {
    let mut res = (status, Json(rec.to_json())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", rec.version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// A uuid field of a JSON body; missing or malformed is a 422 naming the field.
pub(crate) fn body_uuid(
    body: &Map<String, Value>,
    field: &str,
    reason: &str,
) -> Result<Uuid, ApiError> {
    body.get(field)
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::field(field, reason))
}

pub(crate) fn page_json(page: Page) -> Json<Value> {
    Json(json!({
        "data": page.records.iter().map(Record::to_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    }))
}

const LIST_PARAMS: [&str; 6] = ["limit", "cursor", "sort", "filter", "q", "deleted"];

fn parse_limit(v: Option<&Value>) -> Result<Option<u32>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ApiError::field("limit", "must be a whole number from 1 to 500")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| ApiError::field("limit", "must be a whole number from 1 to 500")),
        Some(_) => Err(ApiError::field(
            "limit",
            "must be a whole number from 1 to 500",
        )),
    }
}

fn parse_bool(name: &str, v: Option<&Value>) -> Result<bool, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(_) => Err(ApiError::field(name, "must be true or false")),
    }
}

fn opt_string(name: &str, v: Option<&Value>) -> Result<Option<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::field(name, "must be a string")),
    }
}

/// Builds a list request from query parameters or a JSON body (same names).
pub(crate) fn list_request(params: &Map<String, Value>) -> Result<ListRequest, ApiError> {
    if let Some(k) = params.keys().find(|k| !LIST_PARAMS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(
            "parameter_unknown",
            format!("unknown parameter `{k}` (use {})", LIST_PARAMS.join(", ")),
        ));
    }
    let filter = match params.get("filter") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Filter::parse_any(s)?),
        Some(v @ Value::Object(_)) => Some(Filter::from_json(v)?),
        Some(_) => {
            return Err(ApiError::bad_request(
                "filter_invalid",
                "filter must be an object or a string",
            ))
        }
    };
    Ok(ListRequest {
        filter,
        q: opt_string("q", params.get("q"))?,
        sort: opt_string("sort", params.get("sort"))?,
        cursor: opt_string("cursor", params.get("cursor"))?,
        limit: parse_limit(params.get("limit"))?,
        deleted: parse_bool("deleted", params.get("deleted"))?,
    })
}

/// `GET /{objects}`: a page of records.
pub async fn list(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(objects): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let object = object(&objects)?;
    let params: Map<String, Value> = params
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let req = list_request(&params)?;
    Ok(page_json(state.app.list(&caller, object, &req).await?))
}

/// `POST /{objects}/query`: a page of records, the request in a JSON body.
pub async fn query(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(objects): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let object = object(&objects)?;
    let req = list_request(&read_json(&headers, body)?)?;
    Ok(page_json(state.app.list(&caller, object, &req).await?))
}

/// `POST /{objects}`: creates a record.
pub async fn create(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(objects): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let object = object(&objects)?;
    let input = read_json(&headers, body)?;
    let rec = state.app.create(&caller, object, &input).await?;
    let mut res = with_etag(&rec, StatusCode::CREATED);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/{}/{}", object.plural(), rec.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `GET /{objects}/{id}`.
pub async fn get(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((objects, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object(&objects)?;
    let rec = state.app.get(&caller, object, record_id(&id)?).await?;
    Ok(with_etag(&rec, StatusCode::OK))
}

/// `PATCH /{objects}/{id}`: changes the fields sent.
pub async fn update(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((objects, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let object = object(&objects)?;
    let id = record_id(&id)?;
    let expected = if_match(&headers)?;
    let input = read_json(&headers, body)?;
    let rec = state
        .app
        .update(&caller, object, id, &input, expected)
        .await?;
    Ok(with_etag(&rec, StatusCode::OK))
}

/// `DELETE /{objects}/{id}`: moves the record to the recycle bin.
pub async fn delete(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((objects, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let object = object(&objects)?;
    let rec = state
        .app
        .set_deleted(&caller, object, record_id(&id)?, if_match(&headers)?, true)
        .await?;
    Ok(with_etag(&rec, StatusCode::OK))
}

/// `POST /{objects}/{id}/restore`: brings a record back from the recycle bin.
pub async fn restore(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((objects, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let object = object(&objects)?;
    let rec = state
        .app
        .set_deleted(&caller, object, record_id(&id)?, if_match(&headers)?, false)
        .await?;
    Ok(with_etag(&rec, StatusCode::OK))
}

/// `GET /{objects}/{id}/timeline?limit=&before=`: the 360° view, newest first.
pub async fn timeline(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((objects, id)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let object = object(&objects)?;
    if let Some(k) = params
        .keys()
        .find(|k| !["limit", "before"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(
            "parameter_unknown",
            format!("unknown parameter `{k}` (use limit, before)"),
        ));
    }
    let limit = parse_limit(
        params
            .get("limit")
            .map(|s| Value::String(s.clone()))
            .as_ref(),
    )?;
    let before = params
        .get("before")
        .map(|s| kith_core::fields::datetime(s).map_err(|e| ApiError::field("before", e)))
        .transpose()?;
    let entries = state
        .app
        .timeline(&caller, object, record_id(&id)?, before, limit)
        .await?;
    let data: Vec<Value> = entries
        .into_iter()
        .map(|e| json!({"at": kith_core::Scalar::Time(e.at).to_json(), "type": e.kind, "data": e.data}))
        .collect();
    Ok(Json(json!({ "data": data })))
}
