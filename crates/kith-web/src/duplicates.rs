//! The duplicates API: scan, review pairs with their score and reasons, dismiss, merge
//! (a pair or a cluster, choosing the winning value per field) and undo a merge.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kith_app::dedup::MergeRequest;
use kith_core::objects::ObjectKind;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::records::read_json;
use crate::State;

/// `?object=contacts&limit=…`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Which {
    object: String,
    limit: Option<i64>,
}

fn object(plural: &str) -> Result<ObjectKind, ApiError> {
    ObjectKind::from_plural(plural)
        .filter(|o| matches!(o, ObjectKind::Contact | ObjectKind::Company))
        .ok_or_else(|| ApiError::field("object", "must be contacts or companies"))
}

fn uuid_field(body: &serde_json::Map<String, Value>, name: &str) -> Result<Uuid, ApiError> {
    body.get(name)
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::field(name, "must be a record id"))
}

/// `GET /duplicates?object=contacts`: open pairs, best first, with both records.
pub async fn list(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Query(w): Query<Which>,
) -> Result<Response, ApiError> {
    let object = object(&w.object)?;
    let pairs = state
        .app
        .duplicates(&caller, object, w.limit.unwrap_or(50))
        .await?;
    let data: Vec<Value> = pairs
        .iter()
        .map(|c| json!({"a": c.a.to_json(), "b": c.b.to_json(), "score": c.pair.score, "reasons": c.pair.reasons}))
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}

/// `POST /duplicates/scan?object=contacts`: looks for duplicates now.
pub async fn scan(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Query(w): Query<Which>,
) -> Result<Response, ApiError> {
    let n = state
        .app
        .scan_duplicates(&caller, object(&w.object)?)
        .await?;
    Ok(Json(json!({ "pairs": n })).into_response())
}

/// `POST /duplicates/dismiss` `{"object", "a", "b"}`: not duplicates.
pub async fn dismiss(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = read_json(&headers, body)?;
    let o = object(body.get("object").and_then(Value::as_str).unwrap_or(""))?;
    let (a, b) = (uuid_field(&body, "a")?, uuid_field(&body, "b")?);
    state.app.dismiss_duplicate(&caller, o, a, b).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /merges` `{"object", "survivor", "merged": [...], "pick": {"field": id}}`.
pub async fn merge(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = read_json(&headers, body)?;
    if let Some(k) = body
        .keys()
        .find(|k| !["object", "survivor", "merged", "pick"].contains(&k.as_str()))
    {
        return Err(ApiError::field(k, "unknown field of a merge"));
    }
    let object = object(body.get("object").and_then(Value::as_str).unwrap_or(""))?;
    let survivor = uuid_field(&body, "survivor")?;
    let merged = body
        .get("merged")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::field("merged", "must be an array of record ids"))?
        .iter()
        .map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
        .collect::<Option<Vec<Uuid>>>()
        .ok_or_else(|| ApiError::field("merged", "must be an array of record ids"))?;
    let mut pick = BTreeMap::new();
    if let Some(p) = body.get("pick") {
        let p = p
            .as_object()
            .ok_or_else(|| ApiError::field("pick", "must map field names to record ids"))?;
        for (k, v) in p {
            let id = v
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| ApiError::field(&format!("pick.{k}"), "must be a record id"))?;
            pick.insert(k.clone(), id);
        }
    }
    let req = MergeRequest {
        object,
        survivor,
        merged,
        pick,
    };
    let (m, rec) = state.app.merge(&caller, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"merge_id": m.id, "merged": m.merged, "record": rec.to_json(), "undo_url": format!("/api/v1/merges/{}/undo", m.id)})),
    )
        .into_response())
}

/// `POST /merges/{id}/undo`.
pub async fn undo(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("no such merge"))?;
    let rec = state.app.undo_merge(&caller, id).await?;
    Ok(Json(rec.to_json()).into_response())
}
