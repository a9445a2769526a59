//! Segment pages (list with live counts, create, members, refresh) and the customer
//! value panel of contact and company pages (orders, CLV, RFM, behaviour, segments).

use axum::extract::{Path, RawForm, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use kith_app::records::ListRequest;
use kith_app::Record;
use kith_core::filter::{Condition, Filter, Op};
use kith_core::objects::ObjectKind;
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::data::{checked_form, csrf, one};
use super::layout::{page, Section};
use super::lists::display_name;
use super::{app_error, reason, Viewer};
use crate::State;

/// What the create form held, so a refused filter is shown back, not lost.
#[derive(Default)]
struct Draft {
    name: String,
    object: String,
    filter: String,
    error: Option<String>,
}

async fn list_page(state: &State, v: &Viewer, draft: Draft) -> Response {
    let req = ListRequest {
        sort: Some("name".into()),
        limit: Some(200),
        ..ListRequest::default()
    };
    let segments = match state.app.list(&v.caller, ObjectKind::Segment, &req).await {
        Ok(p) => p.records,
        Err(e) => return app_error(v.lang, e),
    };
    let mut rows = Vec::new();
    for s in &segments {
        let count = state.app.segment_count(&v.caller, s.id).await.ok();
        rows.push((s, count.map(|c| c.count)));
    }
    let object = if draft.object.is_empty() {
        "contact"
    } else {
        draft.object.as_str()
    };
    let body = html! {
        h1 { (v.t("seg-title")) }
        p class="hint" { (v.t("seg-intro")) }
        @if rows.is_empty() { p { (v.t("seg-none")) } } @else {
            table class="list" {
                thead { tr { th { (v.t("seg-name")) } th { (v.t("seg-object")) } th class="num" { (v.t("seg-count")) } th { (v.t("seg-filter")) } } }
                tbody {
                    @for (s, count) in &rows {
                        tr {
                            td { a href=(format!("/segments/{}", s.id)) { (s.text("name").unwrap_or("")) } }
                            td { (v.t(&format!("seg-object-{}", s.text("object").unwrap_or("contact")))) }
                            td class="num" data-count=(s.id) { (count.map(|c| c.to_string()).unwrap_or_else(|| "—".into())) }
                            td { code { (s.text("filter").unwrap_or("")) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="seg-new" {
            h2 id="seg-new" { (v.t("seg-create")) }
            @if let Some(e) = &draft.error { p class="error" role="alert" { (e) } }
            form method="post" action="/segments" class="stack" {
                (csrf(v))
                label { (v.t("seg-name")) " " input name="name" required value=(draft.name); }
                label { (v.t("seg-object")) " "
                    select name="object" {
                        @for o in ["contact", "company"] {
                            option value=(o) selected[o == object] { (v.t(&format!("seg-object-{o}"))) }
                        }
                    }
                }
                label { (v.t("seg-filter")) " " textarea name="filter" rows="3" required { (draft.filter) } }
                p class="hint" { (v.t("seg-filter-hint")) }
                button type="submit" class="primary" { (v.t("seg-save")) }
            }
        }
    };
    page(v, Section::Segments, &v.t("seg-title"), body).into_response()
}

/// `GET /segments`: every segment with its live count, and the create form.
pub async fn list(AxState(state): AxState<State>, v: Viewer) -> Response {
    list_page(&state, &v, Draft::default()).await
}

/// `POST /segments`: saves a segment (which fills its membership).
pub async fn create(AxState(state): AxState<State>, v: Viewer, RawForm(raw): RawForm) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let mut draft = Draft {
        name: one(&form, "name").to_string(),
        object: one(&form, "object").to_string(),
        filter: one(&form, "filter").to_string(),
        error: None,
    };
    let mut input = Map::new();
    input.insert("name".into(), json!(draft.name));
    input.insert("object".into(), json!(draft.object));
    input.insert("filter".into(), json!(draft.filter));
    match state
        .app
        .create(&v.caller, ObjectKind::Segment, &input)
        .await
    {
        Ok(s) => Redirect::to(&format!("/segments/{}", s.id)).into_response(),
        Err(e) => {
            draft.error = Some(reason(&e));
            list_page(&state, &v, draft).await
        }
    }
}

/// `GET /segments/{id}`: count, filter and the first members.
pub async fn show(AxState(state): AxState<State>, v: Viewer, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::error_page(v.lang, axum::http::StatusCode::NOT_FOUND);
    };
    let seg = match state.app.get(&v.caller, ObjectKind::Segment, id).await {
        Ok(s) => s,
        Err(e) => return app_error(v.lang, e),
    };
    let count = match state.app.segment_count(&v.caller, id).await {
        Ok(c) => c,
        Err(e) => return app_error(v.lang, e),
    };
    let req = ListRequest {
        limit: Some(100),
        sort: Some("-lifetime_value".into()),
        ..ListRequest::default()
    };
    let (object, members) = match state.app.segment_members(&v.caller, id, &req).await {
        Ok((o, p)) => (o, p.records),
        Err(e) => return app_error(v.lang, e),
    };
    let name = seg.text("name").unwrap_or("").to_string();
    let currency = v.caller.workspace.currency.clone();
    let body = html! {
        h1 { (name) }
        p { code { (seg.text("filter").unwrap_or("")) } }
        p data-segment-count { (v.lang.t_args("seg-count-now", &[("count", count.count.to_string())])) }
        @if let Some(at) = count.refreshed_at {
            p class="hint" { (v.lang.t_args("seg-refreshed", &[("when", v.lang.datetime(at, v.tz)), ("members", count.members.unwrap_or(0).to_string())])) }
        }
        form method="post" action=(format!("/segments/{id}/refresh")) {
            (csrf(&v))
            button type="submit" { (v.t("seg-refresh")) }
        }
        table class="list" {
            thead { tr { th { (v.t("seg-member")) } th class="num" { (v.t("field-lifetime_value")) } th class="num" { (v.t("field-order_count")) } th { (v.t("field-rfm_group")) } } }
            tbody {
                @for r in &members {
                    tr {
                        td { a href=(format!("/{}/{}", object.plural(), r.id)) { (display_name(r)) } }
                        td class="num" { (r.int("lifetime_value").map(|m| v.lang.money(m, &currency)).unwrap_or_default()) }
                        td class="num" { (r.int("order_count").map(|n| n.to_string()).unwrap_or_default()) }
                        td { (r.text("rfm_group").map(|g| v.t(&format!("rfm-{g}"))).unwrap_or_default()) }
                    }
                }
            }
        }
        @if count.count as usize > members.len() {
            p class="hint" { a href=(format!("/api/v1/segments/{id}/members")) { (v.t("seg-more")) } }
        }
    };
    page(&v, Section::Segments, &name, body).into_response()
}

/// `POST /segments/{id}/refresh`.
pub async fn refresh(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<String>,
    RawForm(raw): RawForm,
) -> Response {
    if let Err(refused) = checked_form(&v, &raw) {
        return *refused;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::error_page(v.lang, axum::http::StatusCode::NOT_FOUND);
    };
    match state.app.refresh_segment(&v.caller, id).await {
        Ok(_) => Redirect::to(&format!("/segments/{id}")).into_response(),
        Err(e) => app_error(v.lang, e),
    }
}

/// The customer value panel of a contact or company: figures, scores, groups, its
/// latest orders and the segments it is in.
pub async fn customer_panel(state: &State, v: &Viewer, rec: &Record) -> Markup {
    let key = match rec.object {
        ObjectKind::Contact => "contact_id",
        ObjectKind::Company => "company_id",
        _ => return html! {},
    };
    let req = ListRequest {
        filter: Some(Filter::Cond(Condition {
            field: key.into(),
            op: Op::Eq,
            values: vec![Value::String(rec.id.to_string())],
        })),
        sort: Some("-ordered_at".into()),
        limit: Some(10),
        ..ListRequest::default()
    };
    let orders = state
        .app
        .list(&v.caller, ObjectKind::Order, &req)
        .await
        .map(|p| p.records)
        .unwrap_or_default();
    let segments = state
        .app
        .memberships(&v.caller, rec.id)
        .await
        .unwrap_or_default();
    let currency = v.caller.workspace.currency.clone();
    let money = |f: &str| rec.int(f).map(|m| v.lang.money(m, &currency));
    let choice = |f: &str, prefix: &str| rec.text(f).map(|x| v.t(&format!("{prefix}{x}")));
    let rows: Vec<(String, Option<String>)> = vec![
        (
            v.t("field-order_count"),
            rec.int("order_count").map(|n| n.to_string()),
        ),
        (v.t("field-lifetime_value"), money("lifetime_value")),
        (
            v.t("field-average_order_value"),
            money("average_order_value"),
        ),
        (
            v.t("field-last_order_at"),
            rec.time("last_order_at").map(|t| v.lang.datetime(t, v.tz)),
        ),
        (
            v.t("field-rfm"),
            rec.int("rfm_recency").map(|r| {
                format!(
                    "R{r} F{} M{}",
                    rec.int("rfm_frequency").unwrap_or(0),
                    rec.int("rfm_monetary").unwrap_or(0)
                )
            }),
        ),
        (v.t("field-rfm_group"), choice("rfm_group", "rfm-")),
        (v.t("field-behaviour"), choice("behaviour", "behaviour-")),
        (v.t("field-value_tier"), choice("value_tier", "tier-")),
        (v.t("field-source_group"), choice("source_group", "source-")),
    ];
    html! {
        section aria-labelledby="value-title" class="customer-value" {
            h2 id="value-title" { (v.t("record-value")) }
            dl class="fields" {
                @for (label, value) in &rows {
                    @if let Some(value) = value {
                        div class="field-row" { dt { (label) } dd data-value { (value) } }
                    }
                }
            }
            @if !segments.is_empty() {
                h3 { (v.t("record-segments")) }
                ul { @for (id, name, _) in &segments { li { a href=(format!("/segments/{id}")) { (name) } } } }
            }
            @if !orders.is_empty() {
                h3 { (v.t("record-orders")) }
                table class="list" {
                    tbody {
                        @for o in &orders {
                            tr {
                                td { (o.text("number").unwrap_or("—")) }
                                td { (o.time("ordered_at").map(|t| v.lang.datetime(t, v.tz)).unwrap_or_default()) }
                                td class="num" { (o.int("total").map(|m| v.lang.money(m, o.text("currency").unwrap_or(&currency))).unwrap_or_default()) }
                                td { (o.text("status").map(|st| v.t(&format!("order-status-{st}"))).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}
