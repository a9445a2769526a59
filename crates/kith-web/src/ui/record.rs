//! The 360° view of a contact, company or deal: fields edited in place, related
//! records, the timeline, and forms to log an activity or add a task.

use std::collections::HashMap;

use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kith_app::records::ListRequest;
use kith_app::{Record, TimelineEntry};
use kith_core::fields::Kind;
use kith_core::filter::{Condition, Filter, Op};
use kith_core::objects::{ObjectKind, ACTIVITY_KINDS};
use kith_core::Scalar;
use maud::{html, Markup};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::layout::{page, Section};
use super::lists::display_name;
use super::Viewer;
use crate::State;

/// Fields shown (and editable) on each record page, in order.
fn shown(object: ObjectKind) -> &'static [&'static str] {
    match object {
        ObjectKind::Contact => &[
            "first_name",
            "last_name",
            "email",
            "phone",
            "job_title",
            "lifecycle_stage",
            "birthday",
            "source",
            "address_line1",
            "postcode",
            "city",
            "country",
        ],
        ObjectKind::Company => &[
            "name",
            "domain",
            "website",
            "industry",
            "employees",
            "phone",
            "email",
            "city",
            "country",
        ],
        _ => &[
            "name",
            "amount",
            "currency",
            "expected_close",
            "status",
            "lost_reason",
        ],
    }
}

fn input_kind(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Text(_) | Kind::Domain | Kind::Country | Kind::Currency => "text",
        Kind::Email => "email",
        Kind::Phone => "tel",
        Kind::Url => "url",
        Kind::Date => "date",
        Kind::Int { .. } => "number",
        Kind::Choice(_) => "select",
        _ => return None,
    })
}

fn display(v: &Viewer, rec: &Record, field: &str, kind: Kind) -> String {
    match (rec.get(field), kind) {
        (Some(Scalar::Text(s)), Kind::Choice(_)) if field == "lifecycle_stage" => {
            v.t(&format!("stage-{s}"))
        }
        (Some(Scalar::Text(s)), Kind::Choice(_)) if field == "status" => {
            v.t(&format!("status-{s}"))
        }
        (Some(Scalar::Date(d)), _) => v.lang.date(*d),
        (Some(Scalar::Int(n)), _) if field == "amount" => v.lang.money(
            *n,
            rec.text("currency").unwrap_or(&v.caller.workspace.currency),
        ),
        (Some(Scalar::Int(n)), _) => v.lang.number(*n),
        (Some(Scalar::Text(s)), _) => s.clone(),
        _ => String::new(),
    }
}

fn raw(rec: &Record, field: &str) -> String {
    match rec.get(field) {
        Some(Scalar::Null(_)) | None => String::new(),
        Some(Scalar::Text(s)) => s.clone(),
        Some(other) => other.to_json().to_string().trim_matches('"').to_string(),
    }
}

fn fields_block(v: &Viewer, rec: &Record, defs: &[Record], users: &[(Uuid, String)]) -> Markup {
    let object = rec.object;
    html! {
        section aria-labelledby="fields-title" {
            h2 id="fields-title" { (v.t("record-fields")) }
            p class="hint" { (v.t("record-edit-hint")) }
            dl class="fields" data-record data-objects=(object.plural()) data-id=(rec.id) data-version=(rec.version)
                data-msg-stale=(v.lang.t_args("stale-edit", &[("value", "{value}".into())]))
                data-msg-failed=(v.lang.t_args("save-failed", &[("reason", "{reason}".into())]))
                data-msg-saved=(v.t("saved")) data-msg-save=(v.t("save")) data-msg-cancel=(v.t("cancel")) {
                @if rec.object.field("owner_id").is_some() {
                    div class="field-row" {
                        dt id="label-owner_id" { (v.t("field-owner_id")) }
                        dd {
                            button type="button" class="value" data-field="owner_id" data-kind="select"
                                data-raw=(rec.uuid("owner_id").map(|u| u.to_string()).unwrap_or_default())
                                aria-describedby="label-owner_id"
                                data-options=(users.iter().map(|(id, name)| format!("{id}={name}")).collect::<Vec<_>>().join("|")) {
                                (rec.uuid("owner_id").and_then(|o| users.iter().find(|(id, _)| *id == o)).map(|(_, n)| n.clone()).unwrap_or_else(|| "—".into()))
                            }
                        }
                    }
                }
                @for def in defs { (custom_row(v, rec, def)) }
                @for field in shown(object) {
                    @if let Some(spec) = object.field(field) {
                        div class="field-row" {
                            dt id=(format!("label-{field}")) { (v.t(&format!("field-{field}"))) }
                            dd {
                                @match (input_kind(spec.kind), spec.read_only) {
                                    (Some(kind), false) => {
                                        button type="button" class="value" data-field=(field) data-kind=(kind)
                                            data-raw=(raw(rec, field)) aria-describedby=(format!("label-{field}"))
                                            data-options=[if let Kind::Choice(opts) = spec.kind {
                                                Some(opts.iter().map(|o| {
                                                    let label = match *field { "lifecycle_stage" => v.t(&format!("stage-{o}")), _ => (*o).to_string() };
                                                    format!("{o}={label}")
                                                }).collect::<Vec<_>>().join("|"))
                                            } else { None }] {
                                            @let shown_value = display(v, rec, field, spec.kind);
                                            @if shown_value.is_empty() { span class="placeholder" { (v.t("record-empty-value")) } }
                                            @else { (shown_value) }
                                        }
                                    }
                                    _ => { span { (display(v, rec, field, spec.kind)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn timeline_block(v: &Viewer, entries: &[TimelineEntry]) -> Markup {
    html! {
        section aria-labelledby="timeline-title" {
            h2 id="timeline-title" { (v.t("record-timeline")) }
            @if entries.is_empty() { p class="empty" { (v.t("timeline-empty")) } }
            ol class="timeline" {
                @for e in entries {
                    li class=(format!("tl tl-{}", e.kind)) {
                        time datetime=(kith_core::Scalar::Time(e.at).to_json().as_str().unwrap_or("")) { (v.lang.datetime(e.at, v.tz)) }
                        " "
                        (entry_text(v, e))
                    }
                }
            }
        }
    }
}

fn entry_text(v: &Viewer, e: &TimelineEntry) -> Markup {
    let s = |k: &str| e.data[k].as_str().unwrap_or("").to_string();
    match e.kind {
        "activity" => html! {
            strong { (v.t(&format!("kind-{}", s("kind")))) }
            @if !s("subject").is_empty() { ": " (s("subject")) }
            (super::mail::email_status(v, &e.data))
            @if !s("body").is_empty() { p class="tl-body" { (s("body")) } }
        },
        "task" => html! {
            (v.lang.t_args("tl-task", &[("title", s("title"))]))
            @if e.data["done"] == Value::Bool(true) { " ✓" }
        },
        "email_send" => {
            let mut what = v.lang.t_args(
                "tl-email-send",
                &[
                    ("name", s("source_name")),
                    ("status", v.t(&format!("camp-send-{}", s("status")))),
                ],
            );
            for (k, key) in [
                ("opened_at", "camp-fig-opened"),
                ("clicked_at", "camp-fig-clicked"),
                ("unsubscribed_at", "camp-fig-unsubscribed"),
            ] {
                if e.data[k].is_string() {
                    what.push_str(" · ");
                    what.push_str(&v.t(key));
                }
            }
            html! { (what) @if !s("error").is_empty() { p class="tl-body" { (s("error")) } } }
        }
        "stage_change" => html! {
            (v.lang.t_args("tl-stage-change", &[("deal", s("deal_name")), ("from", e.data["from_stage"].as_str().unwrap_or("—").to_string()), ("to", s("to_stage"))]))
        },
        "field_change" => {
            let fields: Vec<String> = e.data["changes"]
                .as_object()
                .map(|m| {
                    m.keys()
                        .map(|k| {
                            v.lang
                                .try_t(&format!("field-{k}"))
                                .unwrap_or_else(|| k.clone())
                        })
                        .collect()
                })
                .unwrap_or_default();
            html! { (v.lang.t_args("tl-field-change", &[("fields", fields.join(", "))])) }
        }
        "workflow_run" => html! {
            a href=(format!("/workflows/{}", s("workflow_id"))) {
                (v.lang.t_args("tl-workflow-run", &[("workflow", s("workflow")), ("status", v.t(&format!("wf-status-{}", s("status"))))]))
            }
        },
        "deleted" => html! { (v.t("tl-deleted")) },
        "restored" => html! { (v.t("tl-restored")) },
        _ => html! { (v.t("tl-created")) },
    }
}

fn forms_block(v: &Viewer, rec: &Record) -> Markup {
    let base = format!("/{}/{}", rec.object.plural(), rec.id);
    html! {
        div class="record-forms" {
            section aria-labelledby="log-title" {
                h2 id="log-title" { (v.t("log-title")) }
                form method="post" action=(format!("{base}/activities")) {
                    input type="hidden" name="csrf" value=(v.csrf);
                    label for="log-kind" { (v.t("log-kind")) }
                    select id="log-kind" name="kind" {
                        @for k in ACTIVITY_KINDS { option value=(k) { (v.t(&format!("kind-{k}"))) } }
                    }
                    label for="log-subject" { (v.t("log-subject")) }
                    input id="log-subject" name="subject" type="text";
                    label for="log-body" { (v.t("log-body")) }
                    textarea id="log-body" name="body" rows="3" {}
                    button type="submit" { (v.t("log-submit")) }
                }
            }
            section aria-labelledby="task-title" {
                h2 id="task-title" { (v.t("task-title")) }
                form method="post" action=(format!("{base}/tasks")) {
                    input type="hidden" name="csrf" value=(v.csrf);
                    label for="task-what" { (v.t("task-what")) }
                    input id="task-what" name="title" type="text" required;
                    label for="task-due" { (v.t("task-due")) }
                    input id="task-due" name="due" type="datetime-local";
                    button type="submit" { (v.t("task-submit")) }
                }
            }
        }
    }
}

fn custom_row(v: &Viewer, rec: &Record, def: &Record) -> Markup {
    let key = def.text("key").unwrap_or_default();
    let kind = def.text("kind").unwrap_or_default();
    let label = def.text("label").unwrap_or(key);
    let value = rec.custom.get(key).cloned().unwrap_or(Value::Null);
    let options: Vec<String> = match def.get("options") {
        Some(Scalar::Json(Value::Array(a))) => a
            .iter()
            .filter_map(|o| o.as_str().map(String::from))
            .collect(),
        _ => vec![],
    };
    let (yes, no) = (v.t("value-yes"), v.t("value-no"));
    let shown = match (&value, kind) {
        (Value::Null, _) => String::new(),
        (Value::Bool(b), _) => {
            if *b {
                yes.clone()
            } else {
                no.clone()
            }
        }
        (Value::Object(m), "money") => v.lang.money(
            m.get("amount").and_then(Value::as_i64).unwrap_or(0),
            m.get("currency").and_then(Value::as_str).unwrap_or(""),
        ),
        (Value::Array(items), _) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        (Value::String(s), "date") => kith_core::fields::date(s)
            .map(|d| v.lang.date(d))
            .unwrap_or_else(|_| s.clone()),
        (Value::String(s), _) => s.clone(),
        (other, _) => other.to_string(),
    };
    let raw = match &value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let input = match kind {
        "text" => Some("text"),
        "number" => Some("number"),
        "date" => Some("date"),
        "url" => Some("url"),
        "email" => Some("email"),
        "phone" => Some("tel"),
        "boolean" | "select" => Some("select"),
        _ => None,
    };
    let choices = match kind {
        "boolean" => Some(format!("true={yes}|false={no}")),
        "select" => Some(
            options
                .iter()
                .map(|o| format!("{o}={o}"))
                .collect::<Vec<_>>()
                .join("|"),
        ),
        _ => None,
    };
    let field = format!("custom.{key}");
    html! {
        div class="field-row" {
            dt id=(format!("label-{field}")) { (label) }
            dd {
                @if let Some(input) = input {
                    button type="button" class="value" data-field=(field) data-kind=(input) data-raw=(raw)
                        data-json=[(kind == "boolean" || kind == "number").then_some("1")]
                        data-options=[choices] aria-describedby=(format!("label-{field}")) {
                        @if shown.is_empty() { span class="placeholder" { (v.t("record-empty-value")) } } @else { (shown) }
                    }
                } @else {
                    span { (shown) }
                }
            }
        }
    }
}

async fn related(
    state: &State,
    v: &Viewer,
    object: ObjectKind,
    field: &str,
    id: Uuid,
) -> Vec<Record> {
    let filter = Filter::Cond(Condition {
        field: field.into(),
        op: Op::Eq,
        values: vec![Value::String(id.to_string())],
    });
    let req = ListRequest {
        filter: Some(filter),
        limit: Some(20),
        sort: Some("-created_at".into()),
        ..Default::default()
    };
    state
        .app
        .list(&v.caller, object, &req)
        .await
        .map(|p| p.records)
        .unwrap_or_default()
}

fn link_list(title: &str, records: &[Record]) -> Markup {
    html! {
        @if !records.is_empty() {
            h3 { (title) }
            ul class="related" {
                @for r in records { li { a href=(format!("/{}/{}", r.object.plural(), r.id)) { (display_name(r)) } } }
            }
        }
    }
}

async fn show(state: State, v: Viewer, object: ObjectKind, id: &str) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return super::error_page(v.lang, axum::http::StatusCode::NOT_FOUND);
    };
    let rec = match state.app.get(&v.caller, object, id).await {
        Ok(r) => r,
        Err(e) => return super::app_error(v.lang, e),
    };
    let defs = if object.is_customisable() {
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
        let page = state
            .app
            .list(&v.caller, ObjectKind::FieldDefinition, &req)
            .await;
        page.map(|p| p.records).unwrap_or_default()
    } else {
        vec![]
    };
    let users: Vec<(Uuid, String)> = state
        .app
        .users(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.name.unwrap_or(u.email)))
        .collect();
    let entries = state
        .app
        .timeline(&v.caller, object, id, None, Some(50))
        .await
        .unwrap_or_default();
    let mut related_html = Vec::new();
    for (field, target) in [
        ("company_id", ObjectKind::Company),
        ("contact_id", ObjectKind::Contact),
    ] {
        if let Some(other) = rec.uuid(field) {
            if let Ok(r) = state.app.get(&v.caller, target, other).await {
                related_html.push(html! { p { (v.t(&format!("field-{field}"))) ": " a href=(format!("/{}/{}", target.plural(), r.id)) { (display_name(&r)) } } });
            }
        }
    }
    if let Some(stage) = rec.uuid("stage_id") {
        if let Ok(s) = state.app.get(&v.caller, ObjectKind::Stage, stage).await {
            related_html.push(html! { p { (v.t("field-stage_id")) ": " (display_name(&s)) } });
        }
    }
    let link_field = match object {
        ObjectKind::Company => "company_id",
        ObjectKind::Contact => "contact_id",
        _ => "",
    };
    if !link_field.is_empty() {
        let deals = related(&state, &v, ObjectKind::Deal, link_field, id).await;
        related_html.push(link_list(&v.t("record-deals"), &deals));
    }
    if object == ObjectKind::Company {
        let contacts = related(&state, &v, ObjectKind::Contact, "company_id", id).await;
        related_html.push(link_list(&v.t("record-contacts"), &contacts));
    }
    let value_panel = super::segments::customer_panel(&state, &v, &rec).await;
    let email_panel = super::mail::send_panel(&state, &v, &rec).await;
    let title = display_name(&rec);
    let section = match object {
        ObjectKind::Company => Section::Companies,
        ObjectKind::Deal => Section::Deals,
        _ => Section::Contacts,
    };
    let body = html! {
        h1 { (title) }
        @if !rec.tags.is_empty() { p class="tags" { @for t in &rec.tags { span class="tag" { (t) } " " } } }
        div class="record" {
            div class="record-main" {
                (fields_block(&v, &rec, &defs, &users))
                @if !related_html.is_empty() {
                    section aria-labelledby="related-title" {
                        h2 id="related-title" { (v.t("record-related")) }
                        @for r in &related_html { (r) }
                    }
                }
            }
            div class="record-side" {
                (value_panel)
                (forms_block(&v, &rec))
                (email_panel)
                (timeline_block(&v, &entries))
            }
        }
    };
    page(&v, section, &title, body).into_response()
}

/// `GET /contacts/{id}`.
pub async fn contact(AxState(s): AxState<State>, v: Viewer, Path(id): Path<String>) -> Response {
    show(s, v, ObjectKind::Contact, &id).await
}

/// `GET /companies/{id}`.
pub async fn company(AxState(s): AxState<State>, v: Viewer, Path(id): Path<String>) -> Response {
    show(s, v, ObjectKind::Company, &id).await
}

/// `GET /deals/{id}`.
pub async fn deal(AxState(s): AxState<State>, v: Viewer, Path(id): Path<String>) -> Response {
    show(s, v, ObjectKind::Deal, &id).await
}

/// `2026-12-01T09:30` in `tz` as an RFC 3339 UTC timestamp.
fn local_to_utc(local: &str, tz: chrono_tz::Tz) -> Option<String> {
    let t = super::datetime_local(local, tz)?;
    Some(Scalar::Time(t).to_json().as_str()?.to_string())
}

fn parent(objects: &str, id: &str) -> Option<(ObjectKind, Uuid, &'static str)> {
    let object = ObjectKind::from_plural(objects)?;
    let field = match object {
        ObjectKind::Contact => "contact_id",
        ObjectKind::Company => "company_id",
        ObjectKind::Deal => "deal_id",
        _ => return None,
    };
    Some((object, Uuid::parse_str(id).ok()?, field))
}

async fn add_child(
    state: State,
    v: Viewer,
    objects: String,
    id: String,
    child: ObjectKind,
    form: HashMap<String, String>,
) -> Response {
    if let Some(r) = v.csrf_refusal(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let Some((object, id, field)) = parent(&objects, &id) else {
        return super::error_page(v.lang, axum::http::StatusCode::NOT_FOUND);
    };
    let mut input = Map::new();
    input.insert(field.into(), Value::String(id.to_string()));
    for (k, val) in &form {
        let val = val.trim();
        if val.is_empty() {
            continue;
        }
        match (child, k.as_str()) {
            (ObjectKind::Activity, "kind" | "subject" | "body") | (ObjectKind::Task, "title") => {
                input.insert(k.clone(), Value::String(val.to_string()));
            }
            (ObjectKind::Task, "due") => {
                // The browser sends local wall time; it means the workspace's time zone.
                let due = local_to_utc(val, v.tz).unwrap_or_else(|| val.to_string());
                input.insert("due_at".into(), Value::String(due));
            }
            _ => {}
        }
    }
    match state.app.create(&v.caller, child, &input).await {
        Ok(_) => Redirect::to(&format!("/{}/{}", object.plural(), id)).into_response(),
        Err(e @ kith_app::Error::Invalid(_)) => {
            let msg = v
                .lang
                .t_args("save-failed", &[("reason", super::reason(&e))]);
            (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page(&v, Section::Contacts, &msg, html! { p class="error" role="alert" { (msg) } p { a href=(format!("/{}/{}", object.plural(), id)) { "←" } } })).into_response()
        }
        Err(e) => super::app_error(v.lang, e),
    }
}

/// `POST /{objects}/{id}/activities`: log a note, call, email or meeting.
pub async fn log_activity(
    AxState(s): AxState<State>,
    v: Viewer,
    Path((objects, id)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    add_child(s, v, objects, id, ObjectKind::Activity, f).await
}

/// `POST /{objects}/{id}/tasks`: add a task.
pub async fn add_task(
    AxState(s): AxState<State>,
    v: Viewer,
    Path((objects, id)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    add_child(s, v, objects, id, ObjectKind::Task, f).await
}
