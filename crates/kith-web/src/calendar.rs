//! The caller's tasks and meetings as iCalendar: `GET /api/v1/calendar.ics` with a
//! session or token, and a secret feed URL (`/calendar/{secret}.ics`) for calendar apps,
//! created or rotated with `POST /api/v1/me/calendar-feed`, revoked with `DELETE`.

use axum::extract::{Path, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::State;

fn ics(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/v1/calendar.ics`.
pub async fn mine(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    Ok(ics(state.app.calendar_ics(&caller).await?))
}

/// `POST /api/v1/me/calendar-feed`: a new secret feed URL (the old one stops working).
pub async fn create_feed(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    let token = state.app.create_calendar_feed(&caller).await?;
    let body = json!({
        "url": format!("/calendar/{token}.ics"),
        "note": "Shown once. Anyone with this URL can read your tasks and meetings; revoke it with DELETE /api/v1/me/calendar-feed.",
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/v1/me/calendar-feed`: the feed URL stops working.
pub async fn revoke_feed(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    state.app.revoke_calendar_feed(&caller).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /calendar/{secret}.ics`: no session; the secret is the credential.
pub async fn feed(
    AxState(state): AxState<State>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("no such calendar feed");
    let token = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let caller = match state.app.calendar_feed_caller(token).await {
        Err(kith_app::Error::NotFound(_)) => return Err(not_found()),
        other => other?,
    };
    Ok(ics(state.app.calendar_ics(&caller).await?))
}
