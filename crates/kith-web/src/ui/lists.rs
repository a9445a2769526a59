//! Contacts and companies as tables: instant search, sort by column, keyset pages,
//! and a short form to add one.

use std::collections::HashMap;

use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kith_app::records::ListRequest;
use kith_app::Record;
use kith_core::objects::ObjectKind;
use maud::{html, Markup};
use serde_json::{Map, Value};

use super::layout::{page, Section};
use super::{encode, Viewer};
use crate::State;

struct Column {
    field: &'static str,
    label: &'static str,
}

fn columns(object: ObjectKind) -> Vec<Column> {
    let c = |field, label| Column { field, label };
    match object {
        ObjectKind::Company => vec![
            c("name", "col-name"),
            c("domain", "col-domain"),
            c("industry", "col-industry"),
            c("employees", "col-employees"),
            c("city", "col-city"),
        ],
        _ => vec![
            c("last_name", "col-name"),
            c("email", "col-email"),
            c("phone", "col-phone"),
            c("company_id", "col-company"),
            c("lifecycle_stage", "col-stage"),
            c("city", "col-city"),
        ],
    }
}

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

async fn company_names(
    state: &State,
    v: &Viewer,
    records: &[Record],
) -> HashMap<uuid::Uuid, String> {
    let mut out = HashMap::new();
    for id in records.iter().filter_map(|r| r.uuid("company_id")) {
        if out.contains_key(&id) {
            continue;
        }
        if let Ok(c) = state.app.get(&v.caller, ObjectKind::Company, id).await {
            out.insert(id, display_name(&c));
        }
    }
    out
}

fn cell(v: &Viewer, rec: &Record, field: &str, companies: &HashMap<uuid::Uuid, String>) -> Markup {
    let path = format!("/{}/{}", rec.object.plural(), rec.id);
    match field {
        "last_name" | "name" => html! { a href=(path) { (display_name(rec)) } },
        "company_id" => match rec.uuid("company_id") {
            Some(id) => {
                html! { a href=(format!("/companies/{id}")) { (companies.get(&id).cloned().unwrap_or_default()) } }
            }
            None => html! {},
        },
        "lifecycle_stage" => {
            html! { (rec.text(field).map(|s| v.t(&format!("stage-{s}"))).unwrap_or_default()) }
        }
        "employees" => html! {
            @if let Some(kith_core::Scalar::Int(n)) = rec.get(field) { (v.lang.number(*n)) }
        },
        "email" => html! {
            @if let Some(e) = rec.text(field) { a href=(format!("mailto:{e}")) { (e) } }
        },
        "phone" => html! {
            @if let Some(p) = rec.text(field) { a href=(format!("tel:{p}")) { (p) } }
        },
        _ => html! { (rec.text(field).unwrap_or("")) },
    }
}

/// `GET /contacts`.
pub async fn contacts(s: AxState<State>, v: Viewer, q: Query<HashMap<String, String>>) -> Response {
    list(s, v, q, ObjectKind::Contact).await
}

/// `GET /companies`.
pub async fn companies(
    s: AxState<State>,
    v: Viewer,
    q: Query<HashMap<String, String>>,
) -> Response {
    list(s, v, q, ObjectKind::Company).await
}

async fn list(
    AxState(state): AxState<State>,
    v: Viewer,
    Query(params): Query<HashMap<String, String>>,
    object: ObjectKind,
) -> Response {
    let q = params
        .get("q")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let default_sort = if object == ObjectKind::Contact {
        "last_name"
    } else {
        "name"
    };
    let sort = params
        .get("sort")
        .cloned()
        .unwrap_or_else(|| default_sort.to_string());
    let req = ListRequest {
        q: q.clone(),
        sort: Some(sort.clone()),
        cursor: params.get("cursor").cloned(),
        limit: Some(50),
        ..Default::default()
    };
    let page_data = match state.app.list(&v.caller, object, &req).await {
        Ok(p) => p,
        // A hand-edited URL (bad sort or cursor) gets the first page, not an error.
        Err(kith_app::Error::Invalid(_)) => match state
            .app
            .list(
                &v.caller,
                object,
                &ListRequest {
                    q: q.clone(),
                    limit: Some(50),
                    ..Default::default()
                },
            )
            .await
        {
            Ok(p) => p,
            Err(e) => return super::app_error(v.lang, e),
        },
        Err(e) => return super::app_error(v.lang, e),
    };
    let companies = company_names(&state, &v, &page_data.records).await;
    let cols = columns(object);
    let base = format!("/{}", object.plural());
    let link = |extra: &str| {
        let mut u = format!("{base}?sort={}", encode(&sort));
        if let Some(q) = &q {
            u.push_str(&format!("&q={}", encode(q)));
        }
        u.push_str(extra);
        u
    };
    let rows = html! {
        @for rec in &page_data.records {
            tr {
                @for c in &cols {
                    td data-label=(v.t(c.label)) { (cell(&v, rec, c.field, &companies)) }
                }
            }
        }
    };
    let pager = html! {
        nav class="pager" aria-label="pages" {
            @if params.contains_key("cursor") { a href=(link("")) { (v.t("list-first")) } }
            @if let Some(next) = &page_data.next_cursor { a rel="next" href=(link(&format!("&cursor={}", encode(next)))) { (v.t("list-next")) } }
        }
    };
    let empty = html! {
        @if page_data.records.is_empty() {
            p class="empty" {
                @if let Some(q) = &q { (v.lang.t_args("list-no-match", &[("q", q.clone())])) }
                @else { (v.t(if object == ObjectKind::Contact { "list-empty-contacts" } else { "list-empty-companies" })) }
            }
        }
    };
    // Instant search swaps just the results.
    if params.get("fragment").is_some_and(|f| f == "results") {
        return html! { (rows_table(&v, &cols, &sort, &base, q.as_deref(), rows)) (empty) (pager) }
            .into_response();
    }
    let title = v.t(if object == ObjectKind::Contact {
        "contacts-title"
    } else {
        "companies-title"
    });
    let body = html! {
        div class="list-head" {
            h1 { (title) }
            form class="list-search" method="get" action=(base) role="search" {
                label for="list-q" class="sr-only" { (v.t("search-label")) }
                input id="list-q" type="search" name="q" value=(q.clone().unwrap_or_default())
                    placeholder=(v.t("search-placeholder")) autocomplete="off" data-instant=(base);
                input type="hidden" name="sort" value=(sort);
                button type="submit" { (v.t("search-button")) }
            }
        }
        div id="results" {
            (rows_table(&v, &cols, &sort, &base, q.as_deref(), rows))
            (empty)
            (pager)
        }
        (create_form(&v, object))
    };
    page(
        &v,
        if object == ObjectKind::Contact {
            Section::Contacts
        } else {
            Section::Companies
        },
        &title,
        body,
    )
    .into_response()
}

fn rows_table(
    v: &Viewer,
    cols: &[Column],
    sort: &str,
    base: &str,
    q: Option<&str>,
    rows: Markup,
) -> Markup {
    html! {
        div class="table-wrap" {
            table class="records" {
                thead {
                    tr {
                        @for c in cols {
                            @let (next_sort, aria) = if sort == c.field { (format!("-{}", c.field), "ascending") }
                                else if sort.strip_prefix('-') == Some(c.field) { (c.field.to_string(), "descending") }
                                else { (c.field.to_string(), "none") };
                            th scope="col" aria-sort=(aria) {
                                a href=(format!("{base}?sort={}{}", encode(&next_sort), q.map(|q| format!("&q={}", encode(q))).unwrap_or_default())) { (v.t(c.label)) }
                            }
                        }
                    }
                }
                tbody { (rows) }
            }
        }
    }
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
