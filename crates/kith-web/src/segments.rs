//! The segments API beyond plain CRUD (which `/segments` gets like every object): live
//! count, members, refresh; a record's segments; the workspace's built-in segmentation
//! thresholds and recompute.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State as AxState};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::records::{list_request, page_json, read_json};
use crate::State;

fn id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::field("id", "must be a record id"))
}

/// `GET /segments/{id}/count`: how many pass the filter now, and the stored count.
pub async fn count(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(seg): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = state.app.segment_count(&caller, id(&seg)?).await?;
    Ok(Json(json!(c)))
}

/// `GET /segments/{id}/members`: a page of members, with the list parameters.
pub async fn members(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(seg): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let params: Map<String, Value> = params
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let req = list_request(&params)?;
    let (_, page) = state.app.segment_members(&caller, id(&seg)?, &req).await?;
    Ok(page_json(page))
}

/// `POST /segments/{id}/refresh`: recomputes membership; entered/left become events.
pub async fn refresh(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(seg): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let r = state.app.refresh_segment(&caller, id(&seg)?).await?;
    Ok(Json(json!(r)))
}

/// `GET /{objects}/{id}/segments`: the segments a record is in.
pub async fn of_record(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path((objects, rec)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let object = crate::records::object(&objects)?;
    let rec = state.app.get(&caller, object, id(&rec)?).await?;
    let data: Vec<Value> = state
        .app
        .memberships(&caller, rec.id)
        .await?
        .into_iter()
        .map(|(id, name, at)| json!({"segment_id": id, "name": name, "entered_at": at}))
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// `GET /segmentation`: the workspace's thresholds.
pub async fn settings(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.app.segmentation(&caller).await?)))
}

/// `PUT /segmentation`: changes the thresholds (admins) and recomputes.
pub async fn set_settings(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let input = Value::Object(read_json(&headers, body)?);
    Ok(Json(json!(
        state.app.set_segmentation(&caller, &input).await?
    )))
}

/// `POST /segmentation/recompute`: RFM, behaviour, value tiers and every segment now.
pub async fn recompute(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.app.recompute(&caller).await?)))
}
