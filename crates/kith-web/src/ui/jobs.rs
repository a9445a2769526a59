//! Settings › Background jobs: the dead letters and the failed jobs waiting for their
//! next attempt, each with a button that runs it again now (admins only).

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kith_app::jobs::Job;
use kith_app::Role;
use maud::{html, Markup};
use uuid::Uuid;

use super::layout::{page, Section};
use super::Viewer;
use crate::State;

fn table(v: &Viewer, jobs: &[Job]) -> Markup {
    html! {
        @if jobs.is_empty() {
            p class="muted" { (v.t("jobs-none")) }
        } @else {
            table class="records" {
                thead { tr {
                    th { (v.t("jobs-kind")) }
                    th { (v.t("jobs-attempts")) }
                    th { (v.t("jobs-error")) }
                    th { (v.t("jobs-updated")) }
                    th {}
                } }
                tbody {
                    @for j in jobs {
                        tr id=(format!("job-{}", j.id)) {
                            td { code { (j.kind) } }
                            td { (j.attempts) " / " (j.max_attempts) }
                            td { (j.last_error.as_deref().unwrap_or("")) }
                            td { (v.lang.datetime(j.updated_at, v.tz)) }
                            td {
                                form method="post" action=(format!("/settings/jobs/{}/retry", j.id)) class="inline" {
                                    input type="hidden" name="csrf" value=(v.csrf);
                                    button type="submit" { (v.t("jobs-retry")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn render(state: &State, v: &Viewer, notice: Option<String>) -> Response {
    if v.caller.role() != Role::Admin {
        let body =
            html! { h1 { (v.t("jobs-title")) } p class="error" { (v.t("settings-only-admins")) } };
        return (
            StatusCode::FORBIDDEN,
            page(v, Section::Settings, &v.t("jobs-title"), body),
        )
            .into_response();
    }
    let dead = state.app.jobs(&v.caller, Some("dead"), 200).await;
    let failed = state.app.jobs(&v.caller, Some("failed"), 200).await;
    let (Ok(dead), Ok(failed)) = (dead, failed) else {
        return super::error_page(v.lang, StatusCode::INTERNAL_SERVER_ERROR);
    };
    let body = html! {
        h1 { (v.t("jobs-title")) }
        @if let Some(n) = notice { div class="notice" role="status" { (n) } }
        p { (v.t("jobs-intro")) }
        section id="dead" aria-labelledby="jobs-dead" {
            h2 id="jobs-dead" { (v.t("jobs-dead")) }
            (table(v, &dead))
        }
        section id="failed" aria-labelledby="jobs-failed" {
            h2 id="jobs-failed" { (v.t("jobs-failed")) }
            (table(v, &failed))
        }
    };
    page(v, Section::Settings, &v.t("jobs-title"), body).into_response()
}

/// `GET /settings/jobs` (`?retried=1` after a retry shows a notice).
pub async fn jobs(
    AxState(state): AxState<State>,
    v: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let notice = q.contains_key("retried").then(|| v.t("jobs-retried"));
    render(&state, &v, notice).await
}

/// `POST /settings/jobs/{id}/retry`.
pub async fn retry(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = v.csrf_refusal(f.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::error_page(v.lang, StatusCode::NOT_FOUND);
    };
    match state.app.retry_job(&v.caller, id).await {
        Ok(_) => Redirect::to("/settings/jobs?retried=1").into_response(),
        Err(kith_app::Error::Invalid(_)) => {
            // Someone retried it already, or it finished meanwhile: show the list as it is.
            render(&state, &v, None).await
        }
        Err(e) => super::app_error(v.lang, e),
    }
}
