//! What sits around a list: the filter (typed, or built from conditions), the column
//! chooser, saved views, and bulk actions on the selected rows.

use std::collections::HashMap;

use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kith_app::records::ListRequest;
use kith_app::Record;
use kith_core::filter::{Condition, Filter, Op};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use maud::{html, Markup};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::lists::{column, display_name};
use super::{encode, Viewer};
use crate::State;

/// Where the table of `object` lives (the deals' own page is their board).
pub fn list_path(object: ObjectKind) -> String {
    match object {
        ObjectKind::Deal => "/deals/list".to_string(),
        o => format!("/{}", o.plural()),
    }
}

/// One column of a table.
pub struct Column {
    /// Field name (`email`, `custom.tier`).
    pub field: String,
    /// Header text.
    pub label: String,
}

/// Decodes one `application/x-www-form-urlencoded` component.
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every `key=value` pair of a query string or form body, repeated keys kept.
pub(crate) fn pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// A list page's parameters.
#[derive(Default)]
pub struct Params {
    /// Quick search.
    pub q: Option<String>,
    /// Filter text.
    pub filter: Option<String>,
    /// Sort.
    pub sort: Option<String>,
    /// Page cursor.
    pub cursor: Option<String>,
    /// Chosen columns.
    pub columns: Vec<String>,
    /// Saved view applied.
    pub view: Option<Uuid>,
    /// Only the results (instant search).
    pub fragment: bool,
}

impl Params {
    /// Reads the query string.
    pub fn parse(raw: &str) -> Params {
        let mut p = Params::default();
        let nonempty = |v: String| Some(v).filter(|s| !s.trim().is_empty());
        for (k, v) in pairs(raw) {
            match k.as_str() {
                "q" => p.q = nonempty(v.trim().to_string()),
                "filter" => p.filter = nonempty(v),
                "sort" => p.sort = nonempty(v),
                "cursor" => p.cursor = nonempty(v),
                "col" => p.columns.push(v),
                "columns" => p.columns.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(String::from),
                ),
                "view" => p.view = Uuid::parse_str(&v).ok(),
                "fragment" => p.fragment = v == "results",
                _ => {}
            }
        }
        p
    }

    /// Fills what the URL did not say from a saved view.
    pub fn apply_view(&mut self, view: &Record) {
        if self.filter.is_none() {
            self.filter = view.text("filter").map(String::from);
        }
        if self.sort.is_none() {
            self.sort = view.text("sort").map(String::from);
        }
        if self.columns.is_empty() {
            if let Some(Scalar::Json(Value::Array(cols))) = view.get("columns") {
                self.columns = cols
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect();
            }
        }
    }

    /// The query string of this list with another sort and no cursor.
    pub fn query_without_cursor(&self, sort: &str) -> String {
        let mut parts = vec![format!("sort={}", encode(sort))];
        if let Some(q) = &self.q {
            parts.push(format!("q={}", encode(q)));
        }
        if let Some(f) = &self.filter {
            parts.push(format!("filter={}", encode(f)));
        }
        if !self.columns.is_empty() {
            parts.push(format!("columns={}", encode(&self.columns.join(","))));
        }
        if let Some(v) = self.view {
            parts.push(format!("view={v}"));
        }
        parts.join("&")
    }
}

/// Live custom field definitions of `object`.
pub async fn custom_defs(state: &State, v: &Viewer, object: ObjectKind) -> Vec<Record> {
    let filter = Filter::Cond(Condition {
        field: "object".into(),
        op: Op::Eq,
        values: vec![Value::String(object.singular().into())],
    });
    let req = ListRequest {
        filter: Some(filter),
        sort: Some("created_at".into()),
        limit: Some(200),
        ..Default::default()
    };
    state
        .app
        .list(&v.caller, ObjectKind::FieldDefinition, &req)
        .await
        .map(|p| p.records)
        .unwrap_or_default()
}

/// The saved views of `object` the viewer can see.
pub async fn views(state: &State, v: &Viewer, object: ObjectKind) -> Vec<Record> {
    let filter = Filter::Cond(Condition {
        field: "object".into(),
        op: Op::Eq,
        values: vec![Value::String(object.singular().into())],
    });
    let req = ListRequest {
        filter: Some(filter),
        sort: Some("name".into()),
        limit: Some(200),
        ..Default::default()
    };
    state
        .app
        .list(&v.caller, ObjectKind::View, &req)
        .await
        .map(|p| p.records)
        .unwrap_or_default()
}

fn default_columns(object: ObjectKind) -> &'static [&'static str] {
    match object {
        ObjectKind::Company => &["name", "domain", "industry", "employees", "city"],
        ObjectKind::Deal => &[
            "name",
            "amount",
            "stage_id",
            "expected_close",
            "status",
            "owner_id",
        ],
        _ => &[
            "last_name",
            "email",
            "phone",
            "company_id",
            "lifecycle_stage",
            "city",
        ],
    }
}

/// Fields a table can show and filter on: built-in ones, then custom ones.
fn available(object: ObjectKind, defs: &[Record]) -> Vec<String> {
    let mut out: Vec<String> = object
        .fields()
        .iter()
        .filter(|f| {
            !matches!(
                f.kind,
                kith_core::fields::Kind::Consent | kith_core::fields::Kind::Identities
            )
        })
        .map(|f| f.name.to_string())
        .collect();
    out.push("created_at".into());
    out.extend(
        defs.iter()
            .filter_map(|d| d.text("key"))
            .map(|k| format!("custom.{k}")),
    );
    out
}

/// The columns to show: the chosen ones that exist, or the defaults.
pub fn columns(v: &Viewer, object: ObjectKind, chosen: &[String], defs: &[Record]) -> Vec<Column> {
    let chosen: Vec<Column> = chosen.iter().filter_map(|f| column(v, f, defs)).collect();
    if !chosen.is_empty() {
        return chosen;
    }
    default_columns(object)
        .iter()
        .filter_map(|f| column(v, f, defs))
        .collect()
}

/// A custom value as text.
pub fn custom_text(v: &Viewer, value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => v.t(if *b { "value-yes" } else { "value-no" }),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(m)) if m.contains_key("amount") => v.lang.money(
            m.get("amount").and_then(Value::as_i64).unwrap_or(0),
            m.get("currency").and_then(Value::as_str).unwrap_or(""),
        ),
        Some(other) => other.to_string(),
    }
}

/// Links to the saved views of this list.
pub fn views_bar(v: &Viewer, base: &str, views: &[Record], current: Option<Uuid>) -> Markup {
    html! {
        @if !views.is_empty() {
            nav class="tabs views" aria-label=(v.t("list-views")) {
                a href=(base) aria-current=[current.is_none().then_some("page")] { (v.t("list-all")) }
                @for w in views {
                    a href=(format!("{base}?view={}", w.id)) aria-current=[(current == Some(w.id)).then_some("page")] { (display_name(w)) }
                }
            }
        }
    }
}

/// The filter: typed in the text form, or built one condition at a time.
pub fn filter_box(
    v: &Viewer,
    object: ObjectKind,
    p: &Params,
    defs: &[Record],
    error: Option<&str>,
) -> Markup {
    let fields = available(object, defs);
    let ops = [
        ("=", "op-eq"),
        ("!=", "op-ne"),
        ("~", "op-contains"),
        (">", "op-gt"),
        ("<", "op-lt"),
        ("has", "op-has"),
        ("is empty", "op-empty"),
    ];
    html! {
        details class="filter" open[p.filter.is_some() || error.is_some()] {
            summary { (v.t("list-filter")) }
            @if let Some(e) = error { p class="error" role="alert" { (v.lang.t_args("list-filter-error", &[("reason", e.to_string())])) } }
            form method="get" action=(list_path(object)) class="stack" data-filter-builder {
                @if let Some(q) = &p.q { input type="hidden" name="q" value=(q); }
                @if let Some(s) = &p.sort { input type="hidden" name="sort" value=(s); }
                @if !p.columns.is_empty() { input type="hidden" name="columns" value=(p.columns.join(",")); }
                label for="filter-text" { (v.t("list-filter")) }
                input id="filter-text" name="filter" type="text" value=(p.filter.clone().unwrap_or_default()) aria-describedby="filter-help";
                p id="filter-help" class="hint" { (v.t("list-filter-help")) }
                div class="inline builder" {
                    div class="field" {
                        label for="fb-field" { (v.t("list-filter-field")) }
                        select id="fb-field" {
                            option value="tags" { "tags" }
                            @for f in &fields {
                                @if let Some(c) = column(v, f, defs) { option value=(f) { (c.label) } }
                            }
                        }
                    }
                    div class="field" {
                        label for="fb-op" { (v.t("list-filter-op")) }
                        select id="fb-op" { @for (sym, key) in ops { option value=(sym) { (v.t(key)) } } }
                    }
                    div class="field" {
                        label for="fb-value" { (v.t("list-filter-value")) }
                        input id="fb-value" type="text";
                    }
                    button type="button" data-add-condition { (v.t("list-filter-add")) }
                }
                button type="submit" { (v.t("list-apply")) }
            }
        }
    }
}

/// Checkboxes choosing the columns.
pub fn columns_box(v: &Viewer, object: ObjectKind, shown: &[Column], defs: &[Record]) -> Markup {
    html! {
        details class="columns" {
            summary { (v.t("list-columns")) }
            form method="get" action=(list_path(object)) {
                fieldset {
                    legend class="sr-only" { (v.t("list-columns")) }
                    @for f in available(object, defs) {
                        @if let Some(c) = column(v, &f, defs) {
                            label class="check" {
                                input type="checkbox" name="col" value=(f) checked[shown.iter().any(|s| s.field == f)];
                                " " (c.label)
                            }
                        }
                    }
                }
                button type="submit" { (v.t("list-apply")) }
            }
        }
    }
}

/// The bar that acts on the selected rows.
pub fn bulk_bar(
    v: &Viewer,
    object: ObjectKind,
    users: &HashMap<Uuid, String>,
    back: &str,
) -> Markup {
    let mut users: Vec<(&Uuid, &String)> = users.iter().collect();
    users.sort_by(|a, b| a.1.cmp(b.1));
    html! {
        form id="bulk" method="post" action=(format!("{}/bulk", list_path(object))) class="inline bulk" {
            input type="hidden" name="csrf" value=(v.csrf);
            input type="hidden" name="back" value=(back);
            strong { (v.t("bulk-selected")) }
            div class="field" {
                label for="bulk-action" { (v.t("bulk-action")) }
                select id="bulk-action" name="action" {
                    option value="tag" { (v.t("bulk-tag")) }
                    option value="owner" { (v.t("bulk-owner")) }
                    option value="delete" { (v.t("bulk-delete")) }
                }
            }
            div class="field" {
                label for="bulk-tag" { (v.t("bulk-value")) }
                input id="bulk-tag" name="tag" type="text";
            }
            div class="field" {
                label for="bulk-owner" { (v.t("field-owner_id")) }
                select id="bulk-owner" name="owner" { @for (id, name) in users { option value=(id) { (name) } } }
            }
            button type="submit" { (v.t("bulk-apply")) }
        }
    }
}

/// Saves the current filter, sort and columns as a view.
pub fn save_view_form(v: &Viewer, object: ObjectKind, p: &Params, sort: &str) -> Markup {
    html! {
        details class="save-view" {
            summary { (v.t("list-save-view")) }
            form method="post" action="/views" class="inline" {
                input type="hidden" name="csrf" value=(v.csrf);
                input type="hidden" name="object" value=(object.singular());
                input type="hidden" name="filter" value=(p.filter.clone().unwrap_or_default());
                input type="hidden" name="sort" value=(sort);
                input type="hidden" name="columns" value=(p.columns.join(","));
                div class="field" {
                    label for="view-name" { (v.t("list-view-name")) }
                    input id="view-name" name="name" type="text" required;
                }
                label class="check" { input type="checkbox" name="shared" value="true"; " " (v.t("list-view-shared")) }
                button type="submit" { (v.t("save")) }
            }
        }
    }
}

/// `POST /views`: saves a view and opens it.
pub async fn save_view(AxState(state): AxState<State>, v: Viewer, body: String) -> Response {
    let form: HashMap<String, String> = pairs(&body).into_iter().collect();
    if let Some(r) = v.csrf_refusal(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let mut input = Map::new();
    for k in ["name", "object", "filter", "sort"] {
        if let Some(val) = form.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            input.insert(k.into(), Value::String(val.into()));
        }
    }
    let cols: Vec<Value> = form
        .get("columns")
        .map(|c| {
            c.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| Value::String(c.into()))
                .collect()
        })
        .unwrap_or_default();
    input.insert("columns".into(), Value::Array(cols));
    input.insert(
        "shared".into(),
        Value::Bool(form.get("shared").is_some_and(|s| s == "true")),
    );
    let object = form
        .get("object")
        .and_then(|o| ObjectKind::from_singular(o))
        .unwrap_or(ObjectKind::Contact);
    match state.app.create(&v.caller, ObjectKind::View, &input).await {
        Ok(view) => {
            Redirect::to(&format!("{}?view={}", list_path(object), view.id)).into_response()
        }
        Err(e) => {
            let msg = v
                .lang
                .t_args("save-failed", &[("reason", super::reason(&e))]);
            (StatusCode::UNPROCESSABLE_ENTITY, msg).into_response()
        }
    }
}

/// `POST /contacts/bulk`.
pub async fn bulk_contacts(s: AxState<State>, v: Viewer, body: String) -> Response {
    bulk(s, v, ObjectKind::Contact, body).await
}

/// `POST /deals/list/bulk`.
pub async fn bulk_deals(s: AxState<State>, v: Viewer, body: String) -> Response {
    bulk(s, v, ObjectKind::Deal, body).await
}

/// `POST /companies/bulk`.
pub async fn bulk_companies(s: AxState<State>, v: Viewer, body: String) -> Response {
    bulk(s, v, ObjectKind::Company, body).await
}

/// Tags, reassigns or deletes the selected records, each as its own audited change.
async fn bulk(
    AxState(state): AxState<State>,
    v: Viewer,
    object: ObjectKind,
    body: String,
) -> Response {
    let pairs = pairs(&body);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Some(r) = v.csrf_refusal(&get("csrf")) {
        return r;
    }
    let ids: Vec<Uuid> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, id)| Uuid::parse_str(id).ok())
        .collect();
    let action = get("action");
    for id in ids.iter().take(500) {
        let result = match action.as_str() {
            "delete" => state
                .app
                .set_deleted(&v.caller, object, *id, None, true)
                .await
                .map(|_| ()),
            "owner" => {
                let mut input = Map::new();
                input.insert("owner_id".into(), Value::String(get("owner")));
                state
                    .app
                    .update(&v.caller, object, *id, &input, None)
                    .await
                    .map(|_| ())
            }
            _ => {
                let tag = get("tag").trim().to_string();
                if tag.is_empty() {
                    break;
                }
                match state.app.get(&v.caller, object, *id).await {
                    Ok(rec) => {
                        let mut tags = rec.tags.clone();
                        tags.push(tag);
                        let mut input = Map::new();
                        input.insert("tags".into(), Value::from(tags));
                        state
                            .app
                            .update(&v.caller, object, *id, &input, None)
                            .await
                            .map(|_| ())
                    }
                    Err(e) => Err(e),
                }
            }
        };
        if let Err(e) = result {
            return super::app_error(v.lang, e);
        }
    }
    let back = get("back");
    let back = if back.starts_with('/') && !back.starts_with("//") {
        back
    } else {
        list_path(object)
    };
    Redirect::to(&back).into_response()
}
