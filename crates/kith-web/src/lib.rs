//! Kith's HTTP layer: the REST API under `/api/v1` (JSON, OpenAPI 3.1), sign-in with
//! sessions and API tokens, and the mapping of every application error to one status
//! code and one JSON shape.
//!
//! Not for: business rules (kith-app) or SQL (kith-store).

mod auth;
mod calendar;
mod campaigns;
mod duplicates;
mod error;
mod export;
mod imports;
mod jobs;
mod mail;
mod openapi;
mod records;
mod search;
mod segments;
pub mod ui;
mod workflows;

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kith_app::App;
use tracing::Instrument;

pub use error::ApiError;
pub use imports::{import_json, spawn_import};
pub use openapi::{markdown as api_reference, spec as openapi_spec};
pub use search::results_json as search_json;

/// Largest request body accepted (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of every handler.
#[derive(Clone)]
pub struct State {
    /// The application.
    pub app: App,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
}

/// The whole HTTP application.
pub fn router(state: State) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me).patch(auth::update_me))
        .route("/users", get(auth::users))
        .route(
            "/me/calendar-feed",
            post(calendar::create_feed).delete(calendar::revoke_feed),
        )
        .route("/calendar.ics", get(calendar::mine))
        .route(
            "/workspace",
            get(auth::workspace).patch(auth::update_workspace),
        )
        .route(
            "/imports",
            get(imports::list)
                .post(imports::create)
                .layer(DefaultBodyLimit::max(imports::MAX_UPLOAD_BYTES)),
        )
        .route("/duplicates", get(duplicates::list))
        .route("/duplicates/scan", post(duplicates::scan))
        .route("/duplicates/dismiss", post(duplicates::dismiss))
        .route("/merges", post(duplicates::merge))
        .route("/merges/{id}/undo", post(duplicates::undo))
        .route("/segments/{id}/count", get(segments::count))
        .route("/segments/{id}/members", get(segments::members))
        .route("/segments/{id}/refresh", post(segments::refresh))
        .route(
            "/segmentation",
            get(segments::settings).put(segments::set_settings),
        )
        .route("/segmentation/recompute", post(segments::recompute))
        .route("/{objects}/{id}/segments", get(segments::of_record))
        .route("/jobs", get(jobs::list))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route("/schedules", get(jobs::schedules))
        .route("/imports/{id}", get(imports::get))
        .route("/imports/{id}/errors", get(imports::errors))
        .route("/imports/{id}/revert", post(imports::revert))
        .merge(mail::routes())
        .merge(campaigns::routes())
        .merge(workflows::routes())
        .route("/search", get(search::search))
        .route("/{objects}", get(records::list).post(records::create))
        .route("/{objects}/query", post(records::query))
        .route("/{objects}/export", get(export::export))
        .route(
            "/{objects}/{id}",
            get(records::get)
                .patch(records::update)
                .delete(records::delete),
        )
        .route("/{objects}/{id}/restore", post(records::restore))
        .route("/{objects}/{id}/timeline", get(records::timeline))
        .fallback(|| async { ApiError::not_found("no such API route") });
    Router::new()
        .route("/healthz", get(healthz))
        .route("/calendar/{file}", get(calendar::feed))
        .merge(campaigns::public_routes())
        .nest("/api/v1", api)
        .merge(ui::routes())
        .fallback(ui::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(ui::security_headers))
        .layer(middleware::from_fn(trace))
        .with_state(state)
}

async fn healthz(axum::extract::State(state): axum::extract::State<State>) -> Response {
    match state.app.health().await {
        Ok(v) => Json(serde_json::json!({"status": "ok", "schema_version": v})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "database unavailable"})),
            )
                .into_response()
        }
    }
}

async fn openapi_json() -> Response {
    Json(openapi::spec()).into_response()
}

/// One span per request with an id, and one log line when it ends.
async fn trace(req: Request, next: Next) -> Response {
    let id = uuid::Uuid::now_v7();
    // Invitation links and calendar feeds carry their secret in the path: never write
    // it to the log.
    let path = match req.uri().path() {
        p if p.starts_with("/invite/") => "/invite/…".to_string(),
        p if p.starts_with("/calendar/") => "/calendar/…".to_string(),
        // Unsubscribe and tracking tokens act for a recipient: kept out of the log too.
        p if p.starts_with("/u/") => "/u/…".to_string(),
        p if p.starts_with("/t/o/") => "/t/o/…".to_string(),
        p if p.starts_with("/t/c/") => "/t/c/…".to_string(),
        p => p.to_string(),
    };
    let span = tracing::info_span!("request", %id, method = %req.method(), %path);
    let start = Instant::now();
    async move {
        let mut res = next.run(req).await;
        tracing::info!(
            status = res.status().as_u16(),
            ms = start.elapsed().as_secs_f64() * 1000.0,
            "done"
        );
        if let Ok(v) = id.to_string().parse() {
            res.headers_mut().insert("x-request-id", v);
        }
        res
    }
    .instrument(span)
    .await
}
