//! Tasks: mine or the team's, soonest first, completed with one click.

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kith_app::records::ListRequest;
use kith_core::filter::Filter;
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use maud::html;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::layout::{page, Section};
use super::lists::display_name;
use super::Viewer;
use crate::State;

/// `GET /tasks?scope=mine|team`.
pub async fn tasks(
    AxState(state): AxState<State>,
    v: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let team = q.get("scope").is_some_and(|s| s == "team");
    let text = if team {
        "done = false".to_string()
    } else {
        format!("done = false and assignee_id = {}", v.caller.user.id)
    };
    let req = ListRequest {
        filter: Filter::parse_text(&text).ok(),
        sort: Some("due_at".into()),
        limit: Some(200),
        ..Default::default()
    };
    let tasks = match state.app.list(&v.caller, ObjectKind::Task, &req).await {
        Ok(p) => p.records,
        Err(e) => return super::app_error(v.lang, e),
    };
    let users: HashMap<Uuid, String> = state
        .app
        .users(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.name.unwrap_or(u.email)))
        .collect();
    let now = chrono::Utc::now();
    let body = html! {
        h1 { (v.t("tasks-title")) }
        nav class="tabs" {
            a href="/tasks" aria-current=[(!team).then_some("page")] { (v.t("tasks-mine")) }
            a href="/tasks?scope=team" aria-current=[team.then_some("page")] { (v.t("tasks-team")) }
        }
        @if tasks.is_empty() { p class="empty" { (v.t("tasks-empty")) } }
        ul class="tasks" {
            @for t in &tasks {
                @let due = match t.get("due_at") { Some(Scalar::Time(d)) => Some(*d), _ => None };
                @let title = display_name(t);
                li class=[due.is_some_and(|d| d < now).then_some("overdue")] {
                    form method="post" action=(format!("/tasks/{}/done", t.id)) {
                        input type="hidden" name="csrf" value=(v.csrf);
                        input type="hidden" name="back" value=(if team { "/tasks?scope=team" } else { "/tasks" });
                        button type="submit" class="done" aria-label=(v.lang.t_args("tasks-complete", &[("title", title.clone())])) { "✓" }
                    }
                    span class="task-title" { (title) }
                    span class="task-meta" {
                        @match due {
                            Some(d) => time datetime=(Scalar::Time(d).to_json().as_str().unwrap_or("")) { (v.lang.datetime(d, v.tz)) },
                            None => (v.t("tasks-no-due")),
                        }
                        @if team {
                            @if let Some(a) = t.uuid("assignee_id").and_then(|a| users.get(&a)) { " · " (a) }
                        }
                    }
                    @for (field, target) in [("contact_id", ObjectKind::Contact), ("company_id", ObjectKind::Company), ("deal_id", ObjectKind::Deal)] {
                        @if let Some(id) = t.uuid(field) { " " a href=(format!("/{}/{id}", target.plural())) { "→" } }
                    }
                }
            }
        }
    };
    page(&v, Section::Tasks, &v.t("tasks-title"), body).into_response()
}

/// `POST /tasks/{id}/done`: one click completes a task.
pub async fn done(
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
    let mut input = Map::new();
    input.insert("done".into(), Value::Bool(true));
    if let Err(e) = state
        .app
        .update(&v.caller, ObjectKind::Task, id, &input, None)
        .await
    {
        return super::app_error(v.lang, e);
    }
    let back = f
        .get("back")
        .filter(|b| b.starts_with("/tasks"))
        .cloned()
        .unwrap_or_else(|| "/tasks".into());
    Redirect::to(&back).into_response()
}
