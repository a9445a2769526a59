//! The search page (`/search?q=`): hits grouped by type, matches in `<mark>` (maud
//! escapes the text around them). The page's box gets instant results from app.js's
//! `data-instant` swap; without JavaScript the form submits as usual.

use std::collections::HashMap;

use axum::extract::{Query, State as AxState};
use axum::response::{IntoResponse, Response};
use kith_app::search::{Group, Hit, SearchResults};
use kith_core::objects::ObjectKind;
use kith_core::search::highlight::Marked;
use maud::{html, Markup};

use super::layout::{page, Section};
use super::list_tools::list_path;
use super::{encode, Viewer};
use crate::search::{hit_url, request};
use crate::State;

fn marked(m: &Marked) -> Markup {
    html! {
        @for (hit, piece) in m.pieces() {
            @if hit { mark { (piece) } } @else { (piece) }
        }
    }
}

fn group_key(object: ObjectKind) -> String {
    format!("search-group-{}", object.plural())
}

fn field_label(v: &Viewer, field: &str) -> String {
    let key = match field {
        "company" => "field-company_id".to_string(),
        "body" | "notes" | "identities" => format!("search-field-{field}"),
        f => format!("field-{f}"),
    };
    v.lang.try_t(&key).unwrap_or_else(|| field.to_string())
}

fn hit(v: &Viewer, h: &Hit) -> Markup {
    let o = h.record.object;
    let url = hit_url(o, h.record.id, h.parent);
    html! {
        li {
            a href=(url) {
                @if h.title.text.is_empty() {
                    (h.record.text("kind").and_then(|k| v.lang.try_t(&format!("kind-{k}"))).unwrap_or_else(|| v.t(&group_key(o))))
                } @else { (marked(&h.title)) }
            }
            @if h.typo { " " span class="badge" { (v.t("search-typo")) } }
            @if let Some((field, m)) = &h.context {
                p class="context" { span class="muted" { (field_label(v, field)) ": " } (marked(m)) }
            }
        }
    }
}

fn more_url(object: ObjectKind, q: &str) -> String {
    match object {
        ObjectKind::Contact | ObjectKind::Company | ObjectKind::Deal => {
            format!("{}?q={}", list_path(object), encode(q))
        }
        o => format!("/search?q={}&types={}&limit=50", encode(q), o.plural()),
    }
}

fn group(v: &Viewer, g: &Group, q: &str) -> Markup {
    let id = format!("search-{}", g.object.plural());
    html! {
        section class="search-group" aria-labelledby=(id) {
            h2 id=(id) { (v.t(&group_key(g.object))) }
            ul class="search-hits" { @for h in &g.hits { (hit(v, h)) } }
            @if g.more { p { a href=(more_url(g.object, q)) { (v.t("search-more")) } } }
        }
    }
}

/// The results block (also the instant-search fragment).
fn results(v: &Viewer, q: &str, r: &SearchResults) -> Markup {
    html! {
        @if q.trim().is_empty() {
            p class="empty" { (v.t("search-hint")) }
        } @else if r.groups.is_empty() {
            p class="empty" { (v.lang.t_args("search-no-match", &[("q", q.to_string())])) }
        } @else {
            @if r.corrected { p class="note" { (v.t("search-corrected")) } }
            @for g in &r.groups { (group(v, g, q)) }
        }
    }
}

/// `GET /search?q=&types=&limit=`.
pub async fn search(
    AxState(state): AxState<State>,
    v: Viewer,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let q = params.get("q").cloned().unwrap_or_default();
    let outcome = match request(&params) {
        Ok(req) => state.app.search(&v.caller, &req).await,
        Err(e) => Err(e),
    }
    .map_err(|e| super::reason(&e));
    let body = match &outcome {
        Ok(r) => results(&v, &q, r),
        Err(reason) => html! { p class="bad" role="alert" { (reason) } },
    };
    if params.get("fragment").is_some_and(|f| f == "results") {
        return body.into_response();
    }
    let title = v.t("search-title");
    page(
        &v,
        Section::Search,
        &title,
        html! {
            div class="list-head" {
                h1 { (title) }
                form class="list-search" method="get" action="/search" role="search" {
                    label for="search-q" class="sr-only" { (v.t("search-label")) }
                    input id="search-q" type="search" name="q" value=(q) autofocus
                        placeholder=(v.t("search-placeholder")) autocomplete="off" data-instant="/search";
                    @if let Some(t) = params.get("types") { input type="hidden" name="types" value=(t); }
                    button type="submit" { (v.t("search-button")) }
                }
            }
            div id="results" aria-live="polite" { (body) }
        },
    )
    .into_response()
}
