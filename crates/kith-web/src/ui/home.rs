//! Home: my open deals, my tasks by urgency, recent activity, pipeline value by stage.

use axum::extract::State as AxState;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kith_app::records::ListRequest;
use kith_app::Record;
use kith_core::filter::Filter;
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use maud::{html, Markup};

use super::layout::{page, Section};
use super::lists::display_name;
use super::Viewer;
use crate::State;

async fn list(
    state: &State,
    v: &Viewer,
    object: ObjectKind,
    filter: &str,
    sort: &str,
    limit: u32,
) -> Vec<Record> {
    let req = ListRequest {
        filter: Filter::parse_text(filter).ok(),
        sort: Some(sort.into()),
        limit: Some(limit),
        ..Default::default()
    };
    state
        .app
        .list(&v.caller, object, &req)
        .await
        .map(|p| p.records)
        .unwrap_or_default()
}

/// An SVG bar chart of open deal value per stage (no script needed).
fn chart(v: &Viewer, bars: &[(String, i64)]) -> Markup {
    let max = bars.iter().map(|(_, a)| *a).max().unwrap_or(0).max(1);
    let row = 28;
    let height = bars.len() as i64 * row + 4;
    html! {
        svg class="chart" viewBox=(format!("0 0 400 {height}")) role="img" aria-label=(v.t("home-pipeline")) {
            @for (i, (label, amount)) in bars.iter().enumerate() {
                @let y = i as i64 * row;
                @let w = amount * 240 / max;
                text x="0" y=(y + 18) class="label" { (label) }
                rect x="110" y=(y + 4) width=(w.max(1)) height="18" rx="3" {}
                text x=(114 + w) y=(y + 18) class="value" { (v.lang.money(*amount, &v.caller.workspace.currency)) }
            }
        }
    }
}

/// `GET /`.
pub async fn home(AxState(state): AxState<State>, v: Viewer) -> Response {
    let me = v.caller.user.id;
    let deals = list(
        &state,
        &v,
        ObjectKind::Deal,
        &format!("owner_id = {me} and status = open"),
        "-amount",
        8,
    )
    .await;
    let tasks = list(
        &state,
        &v,
        ObjectKind::Task,
        &format!("assignee_id = {me} and done = false"),
        "due_at",
        30,
    )
    .await;
    let recent = list(&state, &v, ObjectKind::Activity, "", "-created_at", 8).await;
    let now = Utc::now();
    let today_end = (now.date_naive() + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc());
    let due = |t: &Record| match t.get("due_at") {
        Some(Scalar::Time(d)) => Some(*d),
        _ => None,
    };
    let overdue: Vec<&Record> = tasks
        .iter()
        .filter(|t| due(t).is_some_and(|d| d < now))
        .collect();
    let today: Vec<&Record> = tasks
        .iter()
        .filter(|t| due(t).is_some_and(|d| d >= now && Some(d) < today_end))
        .collect();
    let upcoming: Vec<&Record> = tasks
        .iter()
        .filter(|t| due(t).is_none_or(|d| Some(d) >= today_end))
        .collect();
    let mut bars = Vec::new();
    let pipelines = list(&state, &v, ObjectKind::Pipeline, "", "position", 1).await;
    if let Some(p) = pipelines.first() {
        let stages = list(
            &state,
            &v,
            ObjectKind::Stage,
            &format!("pipeline_id = {} and kind = open", p.id),
            "position",
            50,
        )
        .await;
        let totals = state
            .app
            .stage_totals(&v.caller, p.id)
            .await
            .unwrap_or_default();
        for s in stages {
            let sum = totals
                .iter()
                .filter(|t| t.stage_id == s.id)
                .map(|t| t.amount)
                .sum();
            bars.push((display_name(&s), sum));
        }
    }
    let who = v
        .caller
        .user
        .name
        .clone()
        .unwrap_or_else(|| v.caller.user.email.clone());
    let task_list = |title: &str, items: &[&Record]| {
        html! {
            @if !items.is_empty() {
                h3 { (title) }
                ul {
                    @for t in items {
                        li {
                            (display_name(t))
                            @if let Some(d) = due(t) { " · " time datetime=(Scalar::Time(d).to_json().as_str().unwrap_or("")) { (v.lang.datetime(d, v.tz)) } }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        h1 { (v.lang.t_args("home-greeting", &[("name", who)])) }
        div class="home" {
            section aria-labelledby="h-deals" {
                h2 id="h-deals" { (v.t("home-open-deals")) }
                @if deals.is_empty() { p class="empty" { (v.t("home-no-deals")) } }
                ul {
                    @for d in &deals {
                        li { a href=(format!("/deals/{}", d.id)) { (display_name(d)) } " · "
                            (v.lang.money(match d.get("amount") { Some(Scalar::Int(n)) => *n, _ => 0 }, d.text("currency").unwrap_or(&v.caller.workspace.currency))) }
                    }
                }
            }
            section aria-labelledby="h-tasks" {
                h2 id="h-tasks" { (v.t("home-tasks")) }
                @if tasks.is_empty() { p class="empty" { (v.t("home-no-tasks")) } }
                (task_list(&v.t("home-overdue"), &overdue))
                (task_list(&v.t("home-today"), &today))
                (task_list(&v.t("home-upcoming"), &upcoming))
            }
            section aria-labelledby="h-pipeline" {
                h2 id="h-pipeline" { (v.t("home-pipeline")) }
                (chart(&v, &bars))
            }
            section aria-labelledby="h-recent" {
                h2 id="h-recent" { (v.t("home-recent")) }
                ul {
                    @for a in &recent {
                        li { strong { (v.t(&format!("kind-{}", a.text("kind").unwrap_or("note")))) } " " (a.text("subject").unwrap_or("")) }
                    }
                }
            }
        }
    };
    page(&v, Section::Home, &v.t("home-title"), body).into_response()
}
