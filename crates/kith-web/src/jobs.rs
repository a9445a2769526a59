//! The background jobs API for admins: list jobs (the dead letters above all), retry
//! one, list the recurring schedules.

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kith_app::jobs::{Job, Schedule};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::State;

/// A job as the API shows it (payload values that look secret are hidden by kith-app).
pub(crate) fn job_json(j: &Job) -> Value {
    json!({
        "id": j.id,
        "kind": j.kind,
        "status": j.status.as_str(),
        "payload": j.payload,
        "run_at": j.run_at,
        "attempts": j.attempts,
        "max_attempts": j.max_attempts,
        "last_error": j.last_error,
        "idempotency_key": j.idempotency_key,
        "locked_by": j.locked_by,
        "locked_until": j.locked_until,
        "created_at": j.created_at,
        "updated_at": j.updated_at,
        "finished_at": j.finished_at,
    })
}

fn schedule_json(s: &Schedule) -> Value {
    let (every, daily) = match s.cadence {
        kith_core::jobs::Cadence::Every(secs) => (Some(secs), None),
        kith_core::jobs::Cadence::DailyAt(t) => (None, Some(t.format("%H:%M").to_string())),
    };
    json!({
        "name": s.name,
        "kind": s.kind,
        "payload": s.payload,
        "every_secs": every,
        "daily_at": daily,
        "enabled": s.enabled,
        "next_run_at": s.next_run_at,
        "last_run_at": s.last_run_at,
        "last_job_id": s.last_job_id,
    })
}

/// `GET /jobs?status=dead&limit=50`: the workspace's jobs, most recently changed first.
pub async fn list(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(k) = q
        .keys()
        .find(|k| !["status", "limit"].contains(&k.as_str()))
    {
        return Err(ApiError::field(
            k,
            "unknown parameter; use status and limit",
        ));
    }
    let limit = match q.get("limit") {
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::field("limit", "must be a number from 1 to 500"))?,
        None => 50,
    };
    let status = q
        .get("status")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    let jobs = state.app.jobs(&caller, status, limit).await?;
    let data: Vec<Value> = jobs.iter().map(job_json).collect();
    Ok(Json(json!({ "data": data })).into_response())
}

/// `POST /jobs/{id}/retry`: a dead or failed job runs again now, attempts from zero.
pub async fn retry(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("no such job"))?;
    let job = state.app.retry_job(&caller, id).await?;
    Ok(Json(job_json(&job)).into_response())
}

/// `GET /schedules`: the workspace's recurring schedules.
pub async fn schedules(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    let list = state.app.schedules(&caller).await?;
    let data: Vec<Value> = list.iter().map(schedule_json).collect();
    Ok(Json(json!({ "data": data })).into_response())
}
