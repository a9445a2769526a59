//! Deals as a Kanban board per pipeline: drag a card to another stage (or pick the
//! stage from the card's own form, which needs no script and no mouse).

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kith_app::records::ListRequest;
use kith_app::Record;
use kith_core::filter::{Condition, Filter, Op};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use maud::{html, Markup};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::layout::{page, Section};
use super::lists::display_name;
use super::Viewer;
use crate::State;

fn eq(field: &str, id: Uuid) -> Filter {
    Filter::Cond(Condition {
        field: field.into(),
        op: Op::Eq,
        values: vec![Value::String(id.to_string())],
    })
}

async fn all(
    state: &State,
    v: &Viewer,
    object: ObjectKind,
    filter: Option<Filter>,
    sort: &str,
    limit: u32,
) -> Vec<Record> {
    let req = ListRequest {
        filter,
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

fn int(rec: &Record, f: &str) -> i64 {
    match rec.get(f) {
        Some(Scalar::Int(n)) => *n,
        _ => 0,
    }
}

/// `GET /deals?pipeline=ID`.
pub async fn board(
    AxState(state): AxState<State>,
    v: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let pipelines = all(&state, &v, ObjectKind::Pipeline, None, "position", 100).await;
    let chosen = q
        .get("pipeline")
        .and_then(|p| Uuid::parse_str(p).ok())
        .and_then(|id| pipelines.iter().find(|p| p.id == id))
        .or(pipelines.first());
    let Some(pipeline) = chosen else {
        let body =
            html! { h1 { (v.t("deals-title")) } p class="empty" { (v.t("deals-no-pipeline")) } };
        return page(&v, Section::Deals, &v.t("deals-title"), body).into_response();
    };
    let stages = all(
        &state,
        &v,
        ObjectKind::Stage,
        Some(eq("pipeline_id", pipeline.id)),
        "position",
        100,
    )
    .await;
    let totals = state
        .app
        .stage_totals(&v.caller, pipeline.id)
        .await
        .unwrap_or_default();
    let currency = v.caller.workspace.currency.clone();
    let mut columns = Vec::new();
    for stage in &stages {
        let deals = all(
            &state,
            &v,
            ObjectKind::Deal,
            Some(eq("stage_id", stage.id)),
            "-amount",
            50,
        )
        .await;
        let (count, amount) = totals
            .iter()
            .filter(|t| t.stage_id == stage.id)
            .fold((0, 0), |(c, a), t| (c + t.count, a + t.amount));
        let probability = int(stage, "probability");
        columns.push((stage, deals, count, amount, amount * probability / 100));
    }
    let body = html! {
        div class="list-head" {
            h1 { (v.t("deals-title")) }
            a href="/deals/list" { (v.t("deals-list")) }
            form method="get" action="/deals" {
                label for="pipeline" { (v.t("deals-pipeline")) }
                select id="pipeline" name="pipeline" data-autosubmit {
                    @for p in &pipelines { option value=(p.id) selected[p.id == pipeline.id] { (display_name(p)) } }
                }
                noscript { button type="submit" { "→" } }
            }
        }
        div class="board" data-board data-msg-moved=(v.lang.t_args("deals-moved", &[("stage", "{stage}".into())]))
            data-msg-failed=(v.lang.t_args("deals-move-failed", &[("reason", "{reason}".into())])) {
            @for (stage, deals, count, amount, weighted) in &columns {
                section class="column" data-stage=(stage.id) data-stage-name=(display_name(stage)) aria-label=(display_name(stage)) {
                    header {
                        h2 { (display_name(stage)) " " span class="count" { "(" (count) ")" } }
                        p class="totals" {
                            (v.lang.t_args("deals-total", &[("amount", v.lang.money(*amount, &currency))]))
                            br;
                            (v.lang.t_args("deals-weighted", &[("amount", v.lang.money(*weighted, &currency))]))
                        }
                    }
                    ol class="cards" {
                        @if deals.is_empty() { li class="empty" { (v.t("deals-empty-stage")) } }
                        @for d in deals { (card(&v, d, &stages)) }
                    }
                }
            }
        }
    };
    page(&v, Section::Deals, &v.t("deals-title"), body).into_response()
}

fn card(v: &Viewer, d: &Record, stages: &[Record]) -> Markup {
    let amount = v.lang.money(
        int(d, "amount"),
        d.text("currency").unwrap_or(&v.caller.workspace.currency),
    );
    html! {
        li class="card" data-deal=(d.id) data-version=(d.version) {
            a href=(format!("/deals/{}", d.id)) { (display_name(d)) }
            p class="amount" { (amount) }
            form method="post" action=(format!("/deals/{}/stage", d.id)) class="move" {
                input type="hidden" name="csrf" value=(v.csrf);
                label class="sr-only" for=(format!("move-{}", d.id)) { (v.t("field-stage_id")) }
                select id=(format!("move-{}", d.id)) name="stage_id" data-autosubmit {
                    @for s in stages { option value=(s.id) selected[d.uuid("stage_id") == Some(s.id)] { (display_name(s)) } }
                }
                noscript { button type="submit" { "→" } }
            }
        }
    }
}

/// `POST /deals/{id}/stage`: the card's own form (works without JavaScript).
pub async fn move_stage(
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
    input.insert(
        "stage_id".into(),
        Value::String(f.get("stage_id").cloned().unwrap_or_default()),
    );
    match state
        .app
        .update(&v.caller, ObjectKind::Deal, id, &input, None)
        .await
    {
        Ok(d) => {
            let pipeline = d
                .uuid("pipeline_id")
                .map(|p| format!("?pipeline={p}"))
                .unwrap_or_default();
            Redirect::to(&format!("/deals{pipeline}")).into_response()
        }
        Err(e) => super::app_error(v.lang, e),
    }
}
