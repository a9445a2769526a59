//! Settings for admins: workspace defaults, users and roles with invitation links,
//! pipelines and stages, custom fields, tags. Plus the page where an invitation is used.

use std::collections::HashMap;

use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kith_app::records::ListRequest;
use kith_app::{Record, Role};
use kith_core::fields::CUSTOM_KINDS;
use kith_core::filter::Filter;
use kith_core::objects::{ObjectKind, CUSTOMISABLE, STAGE_KINDS};
use kith_core::Scalar;
use maud::{html, Markup};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::layout::{bare, page, Section};
use super::lists::display_name;
use super::Viewer;
use crate::State;

const ROLES: [Role; 3] = [Role::Admin, Role::Member, Role::ReadOnly];

async fn all(
    state: &State,
    v: &Viewer,
    object: ObjectKind,
    filter: Option<&str>,
    sort: &str,
) -> Vec<Record> {
    let req = ListRequest {
        filter: filter.and_then(|f| Filter::parse_text(f).ok()),
        sort: Some(sort.into()),
        limit: Some(500),
        ..Default::default()
    };
    state
        .app
        .list(&v.caller, object, &req)
        .await
        .map(|p| p.records)
        .unwrap_or_default()
}

fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(v.csrf); }
}

fn text_field(id: &str, name: &str, label: &str, value: &str, required: bool) -> Markup {
    html! {
        div class="field" {
            label for=(id) { (label) }
            input id=(id) name=(name) type="text" value=(value) required[required];
        }
    }
}

/// Everything on the settings page; `notice` is a message shown at the top.
async fn render(state: &State, v: &Viewer, notice: Option<Markup>, status: StatusCode) -> Response {
    if v.caller.role() != Role::Admin {
        let body = html! { h1 { (v.t("settings-title")) } p class="error" { (v.t("settings-only-admins")) } };
        return (
            StatusCode::FORBIDDEN,
            page(v, Section::Settings, &v.t("settings-title"), body),
        )
            .into_response();
    }
    let ws = &v.caller.workspace;
    let users = state.app.users(&v.caller).await.unwrap_or_default();
    let pipelines = all(state, v, ObjectKind::Pipeline, None, "position").await;
    let stages = all(state, v, ObjectKind::Stage, None, "position").await;
    let fields = all(state, v, ObjectKind::FieldDefinition, None, "created_at").await;
    let tags = all(state, v, ObjectKind::Tag, None, "name").await;
    let body = html! {
        h1 { (v.t("settings-title")) }
        @if let Some(n) = notice { div class="notice" role="status" { (n) } }
        p { a href="/settings/jobs" { (v.t("settings-jobs-link")) } }
        div class="settings" {
        section id="workspace" aria-labelledby="s-ws" {
            h2 id="s-ws" { (v.t("settings-workspace")) }
            form method="post" action="/settings/workspace" class="stack" {
                (csrf(v))
                (text_field("ws-currency", "currency", &v.t("settings-currency"), &ws.currency, true))
                (text_field("ws-region", "phone_region", &v.t("settings-phone-region"), ws.phone_region.as_deref().unwrap_or(""), false))
                (text_field("ws-tz", "time_zone", &v.t("settings-time-zone"), &ws.time_zone, true))
                button type="submit" { (v.t("save")) }
            }
        }
        section id="users" aria-labelledby="s-users" {
            h2 id="s-users" { (v.t("settings-users")) }
            table class="records" {
                tbody {
                    @for u in &users {
                        tr {
                            td { (u.name.clone().unwrap_or_else(|| u.email.clone())) }
                            td {
                                form method="post" action=(format!("/settings/users/{}/role", u.id)) class="inline" {
                                    (csrf(v))
                                    label class="sr-only" for=(format!("role-{}", u.id)) { (v.t("settings-role")) }
                                    select id=(format!("role-{}", u.id)) name="role" {
                                        @for r in ROLES { option value=(r.as_str()) selected[u.role == r.as_str()] { (v.t(&format!("role-{}", r.as_str()))) } }
                                    }
                                    button type="submit" { (v.t("settings-change-role")) }
                                }
                            }
                        }
                    }
                }
            }
            h3 { (v.t("settings-invite")) }
            form method="post" action="/settings/invites" class="stack" {
                (csrf(v))
                div class="field" {
                    label for="invite-email" { (v.t("settings-invite-email")) }
                    input id="invite-email" name="email" type="email" required;
                }
                div class="field" {
                    label for="invite-role" { (v.t("settings-role")) }
                    select id="invite-role" name="role" {
                        @for r in ROLES { option value=(r.as_str()) selected[r == Role::Member] { (v.t(&format!("role-{}", r.as_str()))) } }
                    }
                }
                button type="submit" { (v.t("settings-invite")) }
            }
        }
        section id="pipelines" aria-labelledby="s-pipes" {
            h2 id="s-pipes" { (v.t("settings-pipelines")) }
            @for p in &pipelines {
                h3 data-record data-objects="pipelines" data-id=(p.id) data-version=(p.version) {
                    (editable(p, "name", "text", &v.t("field-name"), display_name(p))) " " (remove(v, p))
                }
                ol class="stages" {
                    @for s in stages.iter().filter(|s| s.uuid("pipeline_id") == Some(p.id)) {
                        li data-record data-objects="stages" data-id=(s.id) data-version=(s.version) {
                            (editable(s, "name", "text", &v.t("field-name"), display_name(s)))
                            " · "
                            (editable(s, "probability", "number", &v.t("settings-probability"),
                                match s.get("probability") { Some(Scalar::Int(n)) => format!("{n} %"), _ => String::new() }))
                            " · " (v.t(&format!("status-{}", s.text("kind").unwrap_or("open"))))
                            " " (remove(v, s))
                        }
                    }
                }
                form method="post" action="/settings/stages" class="inline" {
                    (csrf(v))
                    input type="hidden" name="pipeline_id" value=(p.id);
                    (text_field(&format!("stage-name-{}", p.id), "name", &v.t("field-name"), "", true))
                    div class="field" {
                        label for=(format!("stage-prob-{}", p.id)) { (v.t("settings-probability")) }
                        input id=(format!("stage-prob-{}", p.id)) name="probability" type="number" min="0" max="100";
                    }
                    div class="field" {
                        label for=(format!("stage-kind-{}", p.id)) { (v.t("settings-stage-kind")) }
                        select id=(format!("stage-kind-{}", p.id)) name="kind" {
                            @for k in STAGE_KINDS { option value=(k) { (v.t(&format!("status-{k}"))) } }
                        }
                    }
                    button type="submit" { (v.t("settings-add-stage")) }
                }
            }
            form method="post" action="/settings/pipelines" class="inline" {
                (csrf(v))
                (text_field("pipeline-name", "name", &v.t("field-name"), "", true))
                button type="submit" { (v.t("settings-add-pipeline")) }
            }
        }
        section id="fields" aria-labelledby="s-fields" {
            h2 id="s-fields" { (v.t("settings-fields")) }
            ul {
                @for f in &fields {
                    li data-record data-objects="field_definitions" data-id=(f.id) data-version=(f.version) {
                        (editable(f, "label", "text", &v.t("settings-field-label"), f.text("label").unwrap_or("").to_string()))
                        " · " code { (f.text("key").unwrap_or("")) } " · "
                        (v.t(&format!("object-{}", f.text("object").unwrap_or("contact")))) " · "
                        (v.t(&format!("ck-{}", f.text("kind").unwrap_or("text"))))
                        " " (remove(v, f))
                    }
                }
            }
            form method="post" action="/settings/field_definitions" class="stack" {
                (csrf(v))
                div class="field" {
                    label for="field-object" { (v.t("settings-field-object")) }
                    select id="field-object" name="object" { @for o in CUSTOMISABLE { option value=(o) { (v.t(&format!("object-{o}"))) } } }
                }
                (text_field("field-label", "label", &v.t("settings-field-label"), "", true))
                (text_field("field-key", "key", &v.t("settings-field-key"), "", true))
                div class="field" {
                    label for="field-kind" { (v.t("settings-field-kind")) }
                    select id="field-kind" name="kind" { @for k in CUSTOM_KINDS { option value=(k) { (v.t(&format!("ck-{k}"))) } } }
                }
                (text_field("field-options", "options", &v.t("settings-field-options"), "", false))
                button type="submit" { (v.t("settings-add-field")) }
            }
        }
        section id="tags" aria-labelledby="s-tags" {
            h2 id="s-tags" { (v.t("settings-tags")) }
            ul class="tag-list" {
                @for t in &tags {
                    li data-record data-objects="tags" data-id=(t.id) data-version=(t.version) {
                        (editable(t, "name", "text", &v.t("field-name"), display_name(t))) " " (remove(v, t))
                    }
                }
            }
            form method="post" action="/settings/tags" class="inline" {
                (csrf(v))
                (text_field("tag-name", "name", &v.t("field-name"), "", true))
                button type="submit" { (v.t("settings-add-tag")) }
            }
        }
        }
    };
    (
        status,
        page(v, Section::Settings, &v.t("settings-title"), body),
    )
        .into_response()
}

/// A value edited in place (the row around it carries data-record).
fn editable(rec: &Record, field: &str, kind: &str, label: &str, shown: String) -> Markup {
    let raw = match rec.get(field) {
        Some(Scalar::Text(s)) => s.clone(),
        Some(Scalar::Int(n)) => n.to_string(),
        _ => String::new(),
    };
    html! {
        button type="button" class="value inline" data-field=(field) data-kind=(kind) data-raw=(raw) data-label=(label) {
            @if shown.is_empty() { "—" } @else { (shown) }
        }
    }
}

/// A button that moves a record to the recycle bin.
fn remove(v: &Viewer, rec: &Record) -> Markup {
    html! {
        form method="post" action=(format!("/settings/remove/{}/{}", rec.object.plural(), rec.id)) class="remove" {
            (csrf(v))
            button type="submit" class="link" aria-label=(v.lang.t_args("settings-remove", &[("name", display_name(rec))])) { "✕" }
        }
    }
}

/// `POST /settings/remove/{objects}/{id}`: to the recycle bin (restorable through the API).
pub async fn remove_record(
    AxState(state): AxState<State>,
    v: Viewer,
    Path((objects, id)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = v.csrf_refusal(f.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let Some(object) = settings_object(&objects) else {
        return super::error_page(v.lang, StatusCode::NOT_FOUND);
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::error_page(v.lang, StatusCode::NOT_FOUND);
    };
    match state
        .app
        .set_deleted(&v.caller, object, id, None, true)
        .await
    {
        Ok(_) => Redirect::to("/settings").into_response(),
        Err(e) => refused(&state, &v, &e).await,
    }
}

/// The objects that settings create, rename and remove.
fn settings_object(plural: &str) -> Option<ObjectKind> {
    match ObjectKind::from_plural(plural)? {
        o @ (ObjectKind::Pipeline
        | ObjectKind::Stage
        | ObjectKind::FieldDefinition
        | ObjectKind::Tag) => Some(o),
        _ => None,
    }
}

/// The settings page again, with the reason a change was refused at the top.
async fn refused(state: &State, v: &Viewer, e: &kith_app::Error) -> Response {
    render(
        state,
        v,
        Some(failed(v, e)),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

fn failed(v: &Viewer, e: &kith_app::Error) -> Markup {
    html! { p class="error" role="alert" { (v.lang.t_args("save-failed", &[("reason", super::reason(e))])) } }
}

/// `GET /settings`.
pub async fn settings(AxState(state): AxState<State>, v: Viewer) -> Response {
    render(&state, &v, None, StatusCode::OK).await
}

/// `POST /settings/workspace`.
pub async fn workspace(
    AxState(state): AxState<State>,
    v: Viewer,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = v.csrf_refusal(f.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let mut input = Map::new();
    for k in ["currency", "phone_region", "time_zone"] {
        let val = f.get(k).map(|s| s.trim()).unwrap_or("");
        input.insert(
            k.into(),
            if val.is_empty() {
                Value::Null
            } else {
                Value::String(val.into())
            },
        );
    }
    match state.app.update_workspace_settings(&v.caller, &input).await {
        Ok(_) => Redirect::to("/settings#workspace").into_response(),
        Err(e) => refused(&state, &v, &e).await,
    }
}

/// `POST /settings/{objects}`: add a pipeline, stage, custom field or tag.
pub async fn add(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(objects): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = v.csrf_refusal(f.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let Some(object) = settings_object(&objects) else {
        return super::error_page(v.lang, StatusCode::NOT_FOUND);
    };
    let mut input = Map::new();
    for (k, val) in &f {
        let val = val.trim();
        if k == "csrf" || val.is_empty() {
            continue;
        }
        let value = match k.as_str() {
            "probability" => val
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(val.into())),
            "options" => Value::Array(
                val.split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(|o| Value::String(o.into()))
                    .collect(),
            ),
            _ => Value::String(val.into()),
        };
        input.insert(k.clone(), value);
    }
    match state.app.create(&v.caller, object, &input).await {
        Ok(_) => Redirect::to(&format!(
            "/settings#{}",
            match object {
                ObjectKind::FieldDefinition => "fields",
                ObjectKind::Tag => "tags",
                _ => "pipelines",
            }
        ))
        .into_response(),
        Err(e) => refused(&state, &v, &e).await,
    }
}

/// `POST /settings/users/{id}/role`.
pub async fn role(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = v.csrf_refusal(f.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let (Ok(id), Ok(role)) = (
        Uuid::parse_str(&id),
        Role::parse(f.get("role").map(String::as_str).unwrap_or("")),
    ) else {
        return super::error_page(v.lang, StatusCode::NOT_FOUND);
    };
    match state.app.set_role(&v.caller, id, role).await {
        Ok(()) => Redirect::to("/settings#users").into_response(),
        Err(e) => refused(&state, &v, &e).await,
    }
}

/// `POST /settings/invites`: shows the invitation link once.
pub async fn invite(
    AxState(state): AxState<State>,
    v: Viewer,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = v.csrf_refusal(f.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let email = f.get("email").cloned().unwrap_or_default();
    let role =
        Role::parse(f.get("role").map(String::as_str).unwrap_or("member")).unwrap_or(Role::Member);
    match state.app.invite(&v.caller, &email, role).await {
        Ok(token) => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let scheme = if state.secure_cookies {
                "https"
            } else {
                "http"
            };
            let link = format!("{scheme}://{host}/invite/{token}");
            let notice = html! {
                p { (v.lang.t_args("settings-invite-link", &[("email", email.trim().to_lowercase())])) }
                p { input class="invite-link" type="text" readonly value=(link) aria-label=(v.t("settings-invite")); }
            };
            render(&state, &v, Some(notice), StatusCode::OK).await
        }
        Err(e) => refused(&state, &v, &e).await,
    }
}

fn invite_page(
    lang: super::i18n::Lang,
    token: &str,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let title = lang.t_args("invite-title", &[("workspace", "Kith".into())]);
    let body = html! {
        main class="narrow signin" id="main" {
            h1 { (title) }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            p { (lang.t_args("invite-body", &[("email", email.to_string())])) }
            form method="post" action=(format!("/invite/{token}")) {
                label for="name" { (lang.t("menu-your-name")) }
                input id="name" name="name" type="text" maxlength="100" autocomplete="name";
                label for="password" { (lang.t("signin-password")) }
                input id="password" name="password" type="password" autocomplete="new-password" minlength="10" required;
                button type="submit" { (lang.t("invite-submit")) }
            }
        }
    };
    (status, bare(lang, &title, body)).into_response()
}

fn lang_of(headers: &HeaderMap) -> super::i18n::Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(super::i18n::Lang::negotiate)
        .unwrap_or(super::i18n::Lang::En)
}

fn invalid(lang: super::i18n::Lang) -> Response {
    let body = html! { main class="narrow" id="main" { h1 { (lang.t("not-found-title")) } p { (lang.t("invite-invalid")) } } };
    (
        StatusCode::NOT_FOUND,
        bare(lang, &lang.t("not-found-title"), body),
    )
        .into_response()
}

/// `GET /invite/{token}`.
pub async fn invite_form(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    match state.app.invite_email(&token).await {
        Ok(email) => invite_page(lang, &token, &email, None, StatusCode::OK),
        Err(_) => invalid(lang),
    }
}

/// `POST /invite/{token}`: creates the account and signs it in. The secret in the URL is
/// the proof: a cross-site post without it can do nothing.
pub async fn invite_accept(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let password = f.get("password").cloned().unwrap_or_default();
    let name = f.get("name").cloned().unwrap_or_default();
    match state.app.accept_invite(&token, &password, &name).await {
        Ok(session) => {
            let mut res = Redirect::to("/").into_response();
            crate::auth::set_session_cookie(&mut res, &session.token, state.secure_cookies);
            res
        }
        Err(e @ kith_app::Error::Invalid(_)) => {
            let email = state.app.invite_email(&token).await.unwrap_or_default();
            invite_page(
                lang,
                &token,
                &email,
                Some(super::reason(&e)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(_) => invalid(lang),
    }
}
