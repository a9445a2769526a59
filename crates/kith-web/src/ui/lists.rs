//! Contacts and companies as tables: instant search, a filter (typed or built from
//! conditions), chosen columns incl. custom fields, sort by column, keyset pages,
//! saved views, bulk actions, and a short form to add one.

use std::collections::HashMap;

use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kith_app::records::ListRequest;
use kith_app::Record;
use kith_core::filter::Filter;
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use maud::{html, Markup};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::layout::{page, Section};
use super::list_tools::{self, Column, Params};
use super::{encode, Viewer};
use crate::State;

/// The name people know a record by.
pub(crate) fn display_name(rec: &Record) -> String {
    match rec.object {
        ObjectKind::Contact => {
            let first = rec.text("first_name").unwrap_or("");
            let last = rec.text("last_name").unwrap_or("");
            let cjk = kith_core::search::cjk_full_name(first, last);
            let name = cjk.unwrap_or_else(|| format!("{first} {last}").trim().to_string());
            if name.is_empty() {
                rec.text("email")
                    .or(rec.text("phone"))
                    .unwrap_or("—")
                    .to_string()
            } else {
                name
            }
        }
        _ => rec
            .text("name")
            .or(rec.text("title"))
            .or(rec.text("subject"))
            .unwrap_or("—")
            .to_string(),
    }
}

/// Names of the companies and users a page of records points to.
struct Names {
    companies: HashMap<Uuid, String>,
    users: HashMap<Uuid, String>,
    stages: HashMap<Uuid, String>,
}

async fn names(state: &State, v: &Viewer, records: &[Record]) -> Names {
    // One query for all the companies on the page, not one per row.
    let mut ids: Vec<Value> = records
        .iter()
        .filter_map(|r| r.uuid("company_id"))
        .map(|id| Value::String(id.to_string()))
        .collect();
    ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    ids.dedup();
    let mut companies = HashMap::new();
    if !ids.is_empty() {
        let limit = u32::try_from(ids.len()).unwrap_or(500);
        let filter = kith_core::filter::Filter::Cond(kith_core::filter::Condition {
            field: "id".into(),
            op: kith_core::filter::Op::In,
            values: ids,
        });
        let req = ListRequest {
            filter: Some(filter),
            limit: Some(limit),
            ..Default::default()
        };
        if let Ok(p) = state.app.list(&v.caller, ObjectKind::Company, &req).await {
            companies = p.records.iter().map(|c| (c.id, display_name(c))).collect();
        }
    }
    let users = state
        .app
        .users(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.name.unwrap_or(u.email)))
        .collect();
    let mut stages = HashMap::new();
    if records.iter().any(|r| r.object == ObjectKind::Deal) {
        let req = ListRequest {
            limit: Some(500),
            ..Default::default()
        };
        if let Ok(p) = state.app.list(&v.caller, ObjectKind::Stage, &req).await {
            stages = p.records.iter().map(|s| (s.id, display_name(s))).collect();
        }
    }
    Names {
        companies,
        users,
        stages,
    }
}

fn cell(v: &Viewer, rec: &Record, field: &str, names: &Names) -> Markup {
    let path = format!("/{}/{}", rec.object.plural(), rec.id);
    if let Some(key) = field.strip_prefix("custom.") {
        return html! { (list_tools::custom_text(v, rec.custom.get(key))) };
    }
    match field {
        "last_name" | "name" => html! { a href=(path) { (display_name(rec)) } },
        "company_id" => match rec.uuid("company_id") {
            Some(id) => {
                html! { a href=(format!("/companies/{id}")) { (names.companies.get(&id).cloned().unwrap_or_default()) } }
            }
            None => html! {},
        },
        "owner_id" => {
            html! { (rec.uuid(field).and_then(|u| names.users.get(&u)).cloned().unwrap_or_default()) }
        }
        "lifecycle_stage" => {
            html! { (rec.text(field).map(|s| v.t(&format!("stage-{s}"))).unwrap_or_default()) }
        }
        "stage_id" => {
            html! { (rec.uuid(field).and_then(|u| names.stages.get(&u)).cloned().unwrap_or_default()) }
        }
        "status" => {
            html! { (rec.text(field).map(|s| v.t(&format!("status-{s}"))).unwrap_or_default()) }
        }
        "amount" => html! {
            @if let Some(Scalar::Int(n)) = rec.get(field) {
                (v.lang.money(*n, rec.text("currency").unwrap_or(&v.caller.workspace.currency)))
            }
        },
        "email" => html! {
            @if let Some(e) = rec.text(field) { a href=(format!("mailto:{e}")) { (e) } }
        },
        "phone" => html! {
            @if let Some(p) = rec.text(field) { a href=(format!("tel:{p}")) { (p) } }
        },
        "created_at" => html! { (v.lang.datetime(rec.created_at, v.tz)) },
        "updated_at" => html! { (v.lang.datetime(rec.updated_at, v.tz)) },
        _ => html! {
            @match rec.get(field) {
                Some(Scalar::Int(n)) => (v.lang.number(*n)),
                Some(Scalar::Date(d)) => (v.lang.date(*d)),
                Some(Scalar::Time(t)) => (v.lang.datetime(*t, v.tz)),
                Some(Scalar::Bool(b)) => (v.t(if *b { "value-yes" } else { "value-no" })),
                Some(Scalar::Text(s)) => (s),
                _ => "",
            }
        },
    }
}

/// `GET /contacts`.
pub async fn contacts(s: AxState<State>, v: Viewer, q: RawQuery) -> Response {
    list(s, v, q, ObjectKind::Contact).await
}

/// `GET /deals/list`: deals as a table (the board is at `/deals`).
pub async fn deals(s: AxState<State>, v: Viewer, q: RawQuery) -> Response {
    list(s, v, q, ObjectKind::Deal).await
}

/// `GET /companies`.
pub async fn companies(s: AxState<State>, v: Viewer, q: RawQuery) -> Response {
    list(s, v, q, ObjectKind::Company).await
}

async fn list(
    AxState(state): AxState<State>,
    v: Viewer,
    RawQuery(raw): RawQuery,
    object: ObjectKind,
) -> Response {
    let mut p = Params::parse(raw.as_deref().unwrap_or(""));
    let views = list_tools::views(&state, &v, object).await;
    if let Some(view) = p.view.and_then(|id| views.iter().find(|w| w.id == id)) {
        p.apply_view(view);
    }
    let defs = list_tools::custom_defs(&state, &v, object).await;
    let columns = list_tools::columns(&v, object, &p.columns, &defs);
    let sort = p.sort.clone().unwrap_or_else(|| {
        (match object {
            ObjectKind::Contact => "last_name",
            ObjectKind::Deal => "-created_at",
            _ => "name",
        })
        .to_string()
    });
    let mut filter_error = None;
    let filter = match p.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => match Filter::parse_any(f) {
            Ok(f) => Some(f),
            Err(e) => {
                filter_error = Some(e.message);
                None
            }
        },
        None => None,
    };
    let req = ListRequest {
        q: p.q.clone(),
        filter: filter.clone(),
        sort: Some(sort.clone()),
        cursor: p.cursor.clone(),
        limit: Some(50),
        ..Default::default()
    };
    let page_data = match state.app.list(&v.caller, object, &req).await {
        Ok(p) => p,
        // A filter on an unknown field, or a hand-edited sort or cursor: say so, show the rest.
        Err(kith_app::Error::Invalid(e)) => {
            filter_error = Some(e.message);
            let plain = ListRequest {
                q: p.q.clone(),
                limit: Some(50),
                ..Default::default()
            };
            match state.app.list(&v.caller, object, &plain).await {
                Ok(p) => p,
                Err(e) => return super::app_error(v.lang, e),
            }
        }
        Err(e) => return super::app_error(v.lang, e),
    };
    let names = names(&state, &v, &page_data.records).await;
    let base = list_tools::list_path(object);
    let state_query = p.query_without_cursor(&sort);
    let rows = html! {
        @for rec in &page_data.records {
            tr {
                td class="select" {
                    input type="checkbox" name="ids" value=(rec.id) form="bulk" id=(format!("sel-{}", rec.id))
                        aria-label=(v.lang.t_args("bulk-select-row", &[("name", display_name(rec))]));
                }
                @for c in &columns {
                    td data-label=(c.label) { (cell(&v, rec, &c.field, &names)) }
                }
            }
        }
    };
    let pager = html! {
        nav class="pager" aria-label="pages" {
            @if p.cursor.is_some() { a href=(format!("{base}?{state_query}")) { (v.t("list-first")) } }
            @if let Some(next) = &page_data.next_cursor { a rel="next" href=(format!("{base}?{state_query}&cursor={}", encode(next))) { (v.t("list-next")) } }
        }
    };
    let empty = html! {
        @if page_data.records.is_empty() {
            p class="empty" {
                @if let Some(q) = &p.q { (v.lang.t_args("list-no-match", &[("q", q.clone())])) }
                @else { (v.t(if object == ObjectKind::Contact { "list-empty-contacts" } else { "list-empty-companies" })) }
            }
        }
    };
    let table = html! {
        div class="table-wrap" {
            table class="records" {
                thead {
                    tr {
                        th scope="col" class="select" { span class="sr-only" { (v.t("bulk-selected")) } }
                        @for c in &columns {
                            @let (next_sort, aria) = if sort == c.field { (format!("-{}", c.field), "ascending") }
                                else if sort.strip_prefix('-') == Some(c.field.as_str()) { (c.field.clone(), "descending") }
                                else { (c.field.clone(), "none") };
                            th scope="col" aria-sort=(aria) {
                                a href=(format!("{base}?{}", p.query_without_cursor(&next_sort))) { (c.label) }
                            }
                        }
                    }
                }
                tbody { (rows) }
            }
        }
    };
    if p.fragment {
        return html! { (table) (empty) (pager) }.into_response();
    }
    let title = v.t(match object {
        ObjectKind::Contact => "contacts-title",
        ObjectKind::Deal => "deals-title",
        _ => "companies-title",
    });
    let body = html! {
        div class="list-head" {
            h1 { (title) }
            form class="list-search" method="get" action=(base) role="search" id="list-form" {
                label for="list-q" class="sr-only" { (v.t("search-label")) }
                input id="list-q" type="search" name="q" value=(p.q.clone().unwrap_or_default())
                    placeholder=(v.t("search-placeholder")) autocomplete="off" data-instant=(base);
                input type="hidden" name="sort" value=(sort);
                @if let Some(view) = p.view { input type="hidden" name="view" value=(view); }
                button type="submit" { (v.t("search-button")) }
            }
        }
        (list_tools::views_bar(&v, &base, &views, p.view))
        (list_tools::filter_box(&v, object, &p, &defs, filter_error.as_deref()))
        (list_tools::columns_box(&v, object, &columns, &defs))
        div id="results" { (table) (empty) (pager) }
        (export_links(&v, object, &state_query))
        (list_tools::bulk_bar(&v, object, &names.users, &format!("{base}?{state_query}")))
        (list_tools::save_view_form(&v, object, &p, &sort))
        @if object == ObjectKind::Deal {
            p { a href="/deals" { (v.t("deals-board")) } }
        } @else {
            (create_form(&v, object))
        }
    };
    page(
        &v,
        match object {
            ObjectKind::Contact => Section::Contacts,
            ObjectKind::Deal => Section::Deals,
            _ => Section::Companies,
        },
        &title,
        body,
    )
    .into_response()
}

/// Links that download the list as shown (filter, search, sort, view, columns) as a
/// file; the API answers them with the session cookie.
fn export_links(v: &Viewer, object: ObjectKind, state_query: &str) -> Markup {
    let href = |format: &str| {
        format!(
            "/api/v1/{}/export?format={format}&{state_query}",
            object.plural()
        )
    };
    html! {
        p class="export" title=(v.t("list-export-hint")) {
            (v.t("list-export")) " "
            a href=(href("csv")) download { "CSV" }
            " · "
            a href=(href("xlsx")) download { "XLSX" }
            @if object == ObjectKind::Contact {
                " · "
                a href=(href("vcard")) download { "vCard" }
            }
        }
    }
}

/// Column metadata for a field name (built-in or `custom.KEY`).
pub(crate) fn column(v: &Viewer, field: &str, defs: &[Record]) -> Option<Column> {
    let label = if let Some(key) = field.strip_prefix("custom.") {
        defs.iter()
            .find(|d| d.text("key") == Some(key))
            .and_then(|d| d.text("label"))
            .map(String::from)?
    } else {
        let key = match field {
            "last_name" | "name" => "col-name".to_string(),
            "created_at" => "col-created".to_string(),
            f => format!("field-{f}"),
        };
        v.lang.try_t(&key)?
    };
    Some(Column {
        field: field.to_string(),
        label,
    })
}

fn create_form(v: &Viewer, object: ObjectKind) -> Markup {
    let fields: &[&str] = match object {
        ObjectKind::Company => &["name", "domain", "city"],
        _ => &["first_name", "last_name", "email", "phone"],
    };
    html! {
        section class="create" aria-labelledby="create-title" {
            h2 id="create-title" { (v.t(if object == ObjectKind::Company { "new-company" } else { "new-contact" })) }
            form method="post" action=(format!("/{}", object.plural())) {
                input type="hidden" name="csrf" value=(v.csrf);
                @for f in fields {
                    div class="field" {
                        label for=(format!("new-{f}")) { (v.t(&format!("field-{f}"))) }
                        input id=(format!("new-{f}")) name=(f) type=(match *f { "email" => "email", "phone" => "tel", _ => "text" })
                            required[*f == "name"];
                    }
                }
                button type="submit" { (v.t("create")) }
            }
        }
    }
}

/// `POST /contacts` from the form.
pub async fn create_contact(
    s: AxState<State>,
    v: Viewer,
    f: Form<HashMap<String, String>>,
) -> Response {
    create(s, v, f, ObjectKind::Contact).await
}

/// `POST /companies` from the form.
pub async fn create_company(
    s: AxState<State>,
    v: Viewer,
    f: Form<HashMap<String, String>>,
) -> Response {
    create(s, v, f, ObjectKind::Company).await
}

async fn create(
    AxState(state): AxState<State>,
    v: Viewer,
    Form(form): Form<HashMap<String, String>>,
    object: ObjectKind,
) -> Response {
    if let Some(r) = v.csrf_refusal(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let input: Map<String, Value> = form
        .iter()
        .filter(|(k, val)| k.as_str() != "csrf" && !val.trim().is_empty())
        .map(|(k, val)| (k.clone(), Value::String(val.clone())))
        .collect();
    match state.app.create(&v.caller, object, &input).await {
        Ok(rec) => Redirect::to(&format!("/{}/{}", object.plural(), rec.id)).into_response(),
        Err(e @ (kith_app::Error::Invalid(_) | kith_app::Error::Forbidden(_))) => {
            let msg = v
                .lang
                .t_args("create-failed", &[("reason", super::reason(&e))]);
            let body = html! {
                p class="error" role="alert" { (msg) }
                (create_form(&v, object))
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&v, Section::Contacts, &v.t("new-contact"), body),
            )
                .into_response()
        }
        Err(e) => super::app_error(v.lang, e),
    }
}
