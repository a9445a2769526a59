//! Email pages: templates (list, edit with the refused input kept beside its error,
//! preview for a chosen contact), the admins' mail settings, and the "Send email"
//! panel of a contact's page.

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kith_app::mail::{EmailRequest, EmailTemplate, EmailTemplateInput, MailSettingsInput, Preview};
use kith_app::records::ListRequest;
use kith_app::{Record, Role};
use kith_core::objects::ObjectKind;
use maud::{html, Markup};
use serde_json::Value;
use uuid::Uuid;

use super::layout::{page, Section};
use super::lists::display_name;
use super::Viewer;
use crate::State;

type FormData = HashMap<String, String>;

fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(v.csrf); }
}

fn get<'a>(f: &'a FormData, k: &str) -> &'a str {
    f.get(k).map(String::as_str).unwrap_or("")
}

fn refusal(v: &Viewer, e: &kith_app::Error) -> Markup {
    html! { p class="error" role="alert" { (v.lang.t_args("save-failed", &[("reason", super::reason(e))])) } }
}

fn input(id: &str, name: &str, label: &str, kind: &str, value: &str) -> Markup {
    html! {
        div class="field" {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value);
        }
    }
}

/// `GET /email-templates`: the templates and a link to write one.
pub async fn list(AxState(state): AxState<State>, v: Viewer) -> Response {
    let templates = match state.app.email_templates(&v.caller).await {
        Ok(t) => t,
        Err(e) => return super::app_error(v.lang, e),
    };
    let body = html! {
        h1 { (v.t("mail-templates")) }
        p { a href="/email-templates/new" { (v.t("mail-new-template")) } " · " a href="/settings/mail" { (v.t("mail-settings")) } }
        @if templates.is_empty() { p class="muted" { (v.t("mail-no-templates")) } }
        @else {
            table class="records" {
                thead { tr { th { (v.t("field-name")) } th { (v.t("mail-language")) } th { (v.t("mail-subject")) } } }
                tbody { @for t in &templates { tr {
                    td { a href=(format!("/email-templates/{}", t.id)) { (t.name) } }
                    td { (t.language) } td { (t.subject) }
                } } }
            }
        }
    };
    page(&v, Section::Email, &v.t("mail-templates"), body).into_response()
}

async fn contacts(state: &State, v: &Viewer) -> Vec<Record> {
    let req = ListRequest {
        limit: Some(200),
        ..Default::default()
    };
    state
        .app
        .list(&v.caller, ObjectKind::Contact, &req)
        .await
        .map(|p| p.records)
        .unwrap_or_default()
}

/// The template form with `draft` in it; `saved` is the stored template (for preview).
async fn editor(
    state: &State,
    v: &Viewer,
    saved: Option<&EmailTemplate>,
    draft: &EmailTemplateInput,
    notice: Option<Markup>,
    preview: Option<(Uuid, Preview)>,
    status: StatusCode,
) -> Response {
    let action = saved.map_or("/email-templates/new".to_string(), |t| {
        format!("/email-templates/{}", t.id)
    });
    let people = if saved.is_some() {
        contacts(state, v).await
    } else {
        vec![]
    };
    let body = html! {
        h1 { (if draft.name.is_empty() { v.t("mail-new-template") } else { draft.name.clone() }) }
        p { a href="/email-templates" { (v.t("mail-templates")) } }
        @if let Some(n) = notice { (n) }
        form method="post" action=(action) class="stack mail-form" id="template-form" {
            (csrf(v))
            @if let Some(t) = saved { input type="hidden" name="version" value=(t.version); }
            (input("tpl-name", "name", &v.t("field-name"), "text", &draft.name))
            div class="field" {
                label for="tpl-language" { (v.t("mail-language")) }
                select id="tpl-language" name="language" {
                    @for (tag, key) in [("en", "mail-lang-en"), ("da", "mail-lang-da"), ("zh-CN", "mail-lang-zh")] {
                        option value=(tag) selected[draft.language == tag] { (v.t(key)) }
                    }
                }
            }
            (input("tpl-subject", "subject", &v.t("mail-subject"), "text", &draft.subject))
            div class="field" {
                label for="tpl-html" { (v.t("mail-html")) }
                textarea id="tpl-html" name="html" rows="8" { (draft.html) }
            }
            div class="field" {
                label for="tpl-text" { (v.t("mail-text")) }
                textarea id="tpl-text" name="text" rows="6" { (draft.text) }
            }
            p class="muted" { (v.t("mail-syntax-help")) }
            button type="submit" { (v.t("save")) }
        }
        @if let Some(t) = saved {
            section aria-labelledby="preview-title" {
                h2 id="preview-title" { (v.t("mail-preview")) }
                form method="get" action=(format!("/email-templates/{}", t.id)) class="inline" {
                    label for="preview-contact" { (v.t("mail-preview-contact")) }
                    select id="preview-contact" name="contact" {
                        @for c in &people {
                            option value=(c.id) selected[preview.as_ref().is_some_and(|(id, _)| *id == c.id)] { (display_name(c)) }
                        }
                    }
                    button type="submit" id="preview-button" { (v.t("mail-preview")) }
                }
                @if let Some((_, p)) = &preview {
                    div class="preview" id="preview" {
                        p { strong { (v.t("mail-subject")) ": " } span id="preview-subject" { (p.subject) } }
                        pre id="preview-text" { (p.text) }
                        @if !p.html.is_empty() {
                            iframe title=(v.t("mail-html")) sandbox="" srcdoc=(p.html) {}
                        }
                        @if !p.missing.is_empty() {
                            p class="muted" { (v.lang.t_args("mail-missing", &[("names", p.missing.join(", "))])) }
                        }
                    }
                }
            }
        }
    };
    (
        status,
        page(v, Section::Email, &v.t("mail-templates"), body),
    )
        .into_response()
}

fn draft_of(f: &FormData) -> EmailTemplateInput {
    EmailTemplateInput {
        name: get(f, "name").into(),
        language: get(f, "language").into(),
        subject: get(f, "subject").into(),
        html: get(f, "html").into(),
        text: get(f, "text").into(),
    }
}

fn draft_from(t: &EmailTemplate) -> EmailTemplateInput {
    EmailTemplateInput {
        name: t.name.clone(),
        language: t.language.clone(),
        subject: t.subject.clone(),
        html: t.html.clone(),
        text: t.text.clone(),
    }
}

/// `GET /email-templates/new`.
pub async fn new(AxState(state): AxState<State>, v: Viewer) -> Response {
    let draft = EmailTemplateInput {
        language: v.lang.tag().into(),
        ..Default::default()
    };
    editor(&state, &v, None, &draft, None, None, StatusCode::OK).await
}

/// `POST /email-templates/new`.
pub async fn create(
    AxState(state): AxState<State>,
    v: Viewer,
    Form(f): Form<FormData>,
) -> Response {
    if let Some(r) = v.csrf_refusal(get(&f, "csrf")) {
        return r;
    }
    let draft = draft_of(&f);
    match state
        .app
        .create_email_template(&v.caller, draft.clone())
        .await
    {
        Ok(t) => Redirect::to(&format!("/email-templates/{}", t.id)).into_response(),
        Err(e) => {
            editor(
                &state,
                &v,
                None,
                &draft,
                Some(refusal(&v, &e)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `GET /email-templates/{id}?contact=…`: the editor, with a preview for that contact.
pub async fn show(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<FormData>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::error_page(v.lang, StatusCode::NOT_FOUND);
    };
    let t = match state.app.email_template(&v.caller, id).await {
        Ok(t) => t,
        Err(e) => return super::app_error(v.lang, e),
    };
    let mut notice = None;
    let preview = match q.get("contact").and_then(|c| Uuid::parse_str(c).ok()) {
        Some(c) => match state.app.preview_email_template(&v.caller, id, c).await {
            Ok(p) => Some((c, p)),
            Err(e) => {
                notice = Some(refusal(&v, &e));
                None
            }
        },
        None => None,
    };
    editor(
        &state,
        &v,
        Some(&t),
        &draft_from(&t),
        notice,
        preview,
        StatusCode::OK,
    )
    .await
}

/// `POST /email-templates/{id}`: saves; a refused change stays in the form with its error.
pub async fn update(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<FormData>,
) -> Response {
    if let Some(r) = v.csrf_refusal(get(&f, "csrf")) {
        return r;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::error_page(v.lang, StatusCode::NOT_FOUND);
    };
    let draft = draft_of(&f);
    let version = get(&f, "version").parse().ok();
    match state
        .app
        .update_email_template(&v.caller, id, draft.clone(), version)
        .await
    {
        Ok(t) => Redirect::to(&format!("/email-templates/{}", t.id)).into_response(),
        Err(e) => {
            let saved = match state.app.email_template(&v.caller, id).await {
                Ok(t) => t,
                Err(e) => return super::app_error(v.lang, e),
            };
            editor(
                &state,
                &v,
                Some(&saved),
                &draft,
                Some(refusal(&v, &e)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

const SETTINGS_TEXT: [&str; 11] = [
    "smtp_host",
    "smtp_username",
    "from_name",
    "from_email",
    "reply_to",
    "imap_host",
    "imap_username",
    "imap_folder",
    "smtp_port",
    "imap_port",
    "test_to",
];

async fn settings_page(
    state: &State,
    v: &Viewer,
    notice: Option<Markup>,
    draft: Option<&FormData>,
    status: StatusCode,
) -> Response {
    if v.caller.role() != Role::Admin {
        let body = html! { h1 { (v.t("mail-settings")) } p class="error" { (v.t("settings-only-admins")) } };
        return (
            StatusCode::FORBIDDEN,
            page(v, Section::Settings, &v.t("mail-settings"), body),
        )
            .into_response();
    }
    let current = match state.app.mail_settings(&v.caller).await {
        Ok(s) => serde_json::to_value(s).unwrap_or_default(),
        Err(e) => return super::app_error(v.lang, e),
    };
    // The refused input wins over what is stored, so nothing typed is lost.
    let val = |k: &str| -> String {
        if let Some(d) = draft {
            return get(d, k).to_string();
        }
        match &current[k] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        }
    };
    let security = |id: &str, name: &str| {
        html! {
            div class="field" {
                label for=(id) { (v.t("mail-security")) }
                select id=(id) name=(name) {
                    @for s in ["none", "starttls", "tls"] { option value=(s) selected[val(name) == s] { (v.t(&format!("mail-security-{s}"))) } }
                }
            }
        }
    };
    let password = |id: &str, name: &str, set: bool| {
        html! {
            div class="field" {
                label for=(id) { (v.t("mail-password")) }
                input id=(id) name=(name) type="password" autocomplete="new-password"
                    placeholder=(if set { v.t("mail-password-kept") } else { String::new() });
            }
        }
    };
    let body = html! {
        h1 { (v.t("mail-settings")) }
        @if let Some(n) = notice { (n) }
        form method="post" action="/settings/mail" class="stack" id="mail-settings" {
            (csrf(v))
            h2 { (v.t("mail-smtp")) }
            (input("smtp-host", "smtp_host", &v.t("mail-host"), "text", &val("smtp_host")))
            (input("smtp-port", "smtp_port", &v.t("mail-port"), "number", &val("smtp_port")))
            (security("smtp-security", "smtp_security"))
            (input("smtp-user", "smtp_username", &v.t("mail-username"), "text", &val("smtp_username")))
            (password("smtp-password", "smtp_password", current["smtp_password_set"] == true))
            (input("from-name", "from_name", &v.t("mail-from-name"), "text", &val("from_name")))
            (input("from-email", "from_email", &v.t("mail-from-email"), "email", &val("from_email")))
            (input("reply-to", "reply_to", &v.t("mail-reply-to"), "email", &val("reply_to")))
            h2 { (v.t("mail-imap")) }
            (input("imap-host", "imap_host", &v.t("mail-host"), "text", &val("imap_host")))
            (input("imap-port", "imap_port", &v.t("mail-port"), "number", &val("imap_port")))
            (security("imap-security", "imap_security"))
            (input("imap-user", "imap_username", &v.t("mail-username"), "text", &val("imap_username")))
            (password("imap-password", "imap_password", current["imap_password_set"] == true))
            (input("imap-folder", "imap_folder", &v.t("mail-folder"), "text", &val("imap_folder")))
            button type="submit" { (v.t("save")) }
        }
        form method="post" action="/settings/mail/test" class="inline" {
            (csrf(v))
            (input("test-to", "test_to", &v.t("mail-test-to"), "email", &v.caller.user.email))
            button type="submit" { (v.t("mail-test")) }
        }
    };
    (
        status,
        page(v, Section::Settings, &v.t("mail-settings"), body),
    )
        .into_response()
}

/// `GET /settings/mail`.
pub async fn settings(AxState(state): AxState<State>, v: Viewer) -> Response {
    settings_page(&state, &v, None, None, StatusCode::OK).await
}

/// `POST /settings/mail`: saves; empty password fields keep the stored passwords.
pub async fn save_settings(
    AxState(state): AxState<State>,
    v: Viewer,
    Form(f): Form<FormData>,
) -> Response {
    if let Some(r) = v.csrf_refusal(get(&f, "csrf")) {
        return r;
    }
    let port = |k: &str| get(&f, k).trim().parse::<u16>().ok();
    let opt = |k: &str| Some(get(&f, k).to_string()).filter(|s| !s.is_empty());
    let input = MailSettingsInput {
        smtp_host: get(&f, "smtp_host").into(),
        smtp_port: port("smtp_port"),
        smtp_security: opt("smtp_security"),
        smtp_username: get(&f, "smtp_username").into(),
        smtp_password: opt("smtp_password"),
        from_name: get(&f, "from_name").into(),
        from_email: get(&f, "from_email").into(),
        reply_to: get(&f, "reply_to").into(),
        imap_host: get(&f, "imap_host").into(),
        imap_port: port("imap_port"),
        imap_security: opt("imap_security"),
        imap_username: get(&f, "imap_username").into(),
        imap_password: opt("imap_password"),
        imap_folder: opt("imap_folder"),
    };
    match state.app.save_mail_settings(&v.caller, input).await {
        Ok(_) => {
            settings_page(
                &state,
                &v,
                Some(html! { p class="notice" role="status" { (v.t("saved")) } }),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            // Passwords are never written back into the page.
            let draft: FormData = f
                .into_iter()
                .filter(|(k, _)| SETTINGS_TEXT.contains(&k.as_str()) || k.ends_with("security"))
                .collect();
            settings_page(
                &state,
                &v,
                Some(refusal(&v, &e)),
                Some(&draft),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /settings/mail/test`.
pub async fn test(AxState(state): AxState<State>, v: Viewer, Form(f): Form<FormData>) -> Response {
    if let Some(r) = v.csrf_refusal(get(&f, "csrf")) {
        return r;
    }
    let notice = match state
        .app
        .send_test_email(&v.caller, Some(get(&f, "test_to")))
        .await
    {
        Ok(to) => {
            html! { p class="notice" role="status" { (v.lang.t_args("mail-test-sent", &[("to", to)])) } }
        }
        Err(e) => refusal(&v, &e),
    };
    settings_page(&state, &v, Some(notice), None, StatusCode::OK).await
}

/// The "Send email" panel of a contact's page.
pub(crate) async fn send_panel(state: &State, v: &Viewer, rec: &Record) -> Markup {
    if rec.object != ObjectKind::Contact || v.caller.role() == Role::ReadOnly {
        return html! {};
    }
    let templates = state
        .app
        .email_templates(&v.caller)
        .await
        .unwrap_or_default();
    html! {
        section aria-labelledby="email-title" {
            h2 id="email-title" { (v.t("mail-send")) }
            form method="post" action=(format!("/contacts/{}/email", rec.id)) id="send-email" {
                (csrf(v))
                // One key per rendering of the form: a double click sends once.
                input type="hidden" name="idempotency_key" value=(Uuid::now_v7());
                label for="email-template" { (v.t("mail-template")) }
                select id="email-template" name="template_id" {
                    option value="" { (v.t("mail-no-template")) }
                    @for t in &templates { option value=(t.id) { (t.name) " (" (t.language) ")" } }
                }
                label for="email-subject" { (v.t("mail-subject")) }
                input id="email-subject" name="subject" type="text";
                label for="email-body" { (v.t("mail-body")) }
                textarea id="email-body" name="text" rows="4" {}
                button type="submit" { (v.t("mail-send")) }
            }
        }
    }
}

/// `POST /contacts/{id}/email`: queues the email and returns to the contact.
pub async fn send(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<FormData>,
) -> Response {
    if let Some(r) = v.csrf_refusal(get(&f, "csrf")) {
        return r;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::error_page(v.lang, StatusCode::NOT_FOUND);
    };
    let req = EmailRequest {
        template_id: Uuid::parse_str(get(&f, "template_id")).ok(),
        subject: get(&f, "subject").into(),
        html: String::new(),
        text: get(&f, "text").into(),
    };
    match state
        .app
        .send_email(&v.caller, id, req, Some(get(&f, "idempotency_key")))
        .await
    {
        Ok(_) => Redirect::to(&format!("/contacts/{id}?email=queued")).into_response(),
        Err(e) => {
            let body = html! {
                h1 { (v.t("mail-send")) }
                (refusal(&v, &e))
                p { a href=(format!("/contacts/{id}")) { (v.t("mail-back")) } }
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&v, Section::Contacts, &v.t("mail-send"), body),
            )
                .into_response()
        }
    }
}

/// What became of an email on the timeline: sent, failed with the reason, received.
pub(crate) fn email_status(v: &Viewer, data: &Value) -> Markup {
    let Some(status) = data["email_status"].as_str() else {
        return html! {};
    };
    html! {
        " " span class=(format!("email-status {status}")) { (v.t(&format!("mail-status-{status}"))) }
        @if let Some(e) = data["email_error"].as_str() { p class="error tl-body" { (e) } }
    }
}
