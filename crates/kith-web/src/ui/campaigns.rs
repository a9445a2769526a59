//! Campaign and sequence pages: the list with a create form and the public URL, a
//! campaign's report with its actions and send log, sequences with their steps and
//! enrolments.

use axum::extract::{Path, RawForm, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kith_app::campaigns::sequences::SequenceInput;
use kith_app::campaigns::CampaignInput;
use kith_app::records::ListRequest;
use kith_core::objects::ObjectKind;
use maud::{html, Markup};
use serde_json::json;
use uuid::Uuid;

use super::data::{checked_form, csrf, one};
use super::layout::{page, Section};
use super::{app_error, error_page, reason, Viewer};
use crate::State;

fn status_badge(v: &Viewer, status: &str) -> Markup {
    html! { span class=(format!("badge status-{status}")) { (v.t(&format!("camp-status-{status}"))) } }
}

async fn options(state: &State, v: &Viewer) -> (Vec<(Uuid, String)>, Vec<(Uuid, String)>) {
    let req = ListRequest {
        sort: Some("name".into()),
        limit: Some(500),
        ..ListRequest::default()
    };
    let segments = state
        .app
        .list(&v.caller, ObjectKind::Segment, &req)
        .await
        .map(|p| p.records)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.text("object") == Some("contact"))
        .map(|s| (s.id, s.text("name").unwrap_or("").to_string()))
        .collect();
    let templates = state
        .app
        .email_templates(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    (segments, templates)
}

fn select(name: &str, items: &[(Uuid, String)], chosen: &str) -> Markup {
    html! {
        select name=(name) required {
            @for (id, label) in items {
                option value=(id) selected[id.to_string() == chosen] { (label) }
            }
        }
    }
}

async fn list_page(
    state: &State,
    v: &Viewer,
    error: Option<String>,
    form: &[(String, String)],
) -> Response {
    let campaigns = match state.app.campaigns(&v.caller).await {
        Ok(c) => c,
        Err(e) => return app_error(v.lang, e),
    };
    let public_url = state.app.public_url(&v.caller).await.unwrap_or_default();
    let (segments, templates) = options(state, v).await;
    let body = html! {
        h1 { (v.t("camp-title")) }
        p { a href="/sequences" { (v.t("seq-title")) } " · " a href="/email-templates" { (v.t("mail-templates")) } }
        @if public_url.is_empty() {
            p class="error" role="alert" { (v.t("camp-no-public-url")) }
        }
        @if campaigns.is_empty() { p { (v.t("camp-none")) } } @else {
            table class="list" {
                thead { tr { th { (v.t("camp-name")) } th { (v.t("camp-status")) } th { (v.t("camp-started")) } } }
                tbody {
                    @for c in &campaigns {
                        tr {
                            td { a href=(format!("/campaigns/{}", c.id)) { (c.name) } }
                            td { (status_badge(v, &c.status)) }
                            td { (c.started_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="camp-new" {
            h2 id="camp-new" { (v.t("camp-create")) }
            @if let Some(e) = &error { p class="error" role="alert" { (e) } }
            @if segments.is_empty() || templates.is_empty() {
                p class="hint" { (v.t("camp-needs")) }
            } @else {
                form method="post" action="/campaigns" class="stack" {
                    (csrf(v))
                    label { (v.t("camp-name")) " " input name="name" required value=(one(form, "name")); }
                    label { (v.t("camp-segment")) " " (select("segment_id", &segments, one(form, "segment_id"))) }
                    label { (v.t("camp-template")) " " (select("template_id", &templates, one(form, "template_id"))) }
                    label { (v.t("camp-consent")) " "
                        select name="consent_mode" {
                            option value="opted_in" { (v.t("camp-consent-opted_in")) }
                            option value="not_denied" selected[one(form, "consent_mode") == "not_denied"] { (v.t("camp-consent-not_denied")) }
                        }
                    }
                    label { (v.t("camp-rate")) " " input name="rate_per_minute" type="number" min="0" value=(one(form, "rate_per_minute")); }
                    button type="submit" class="primary" { (v.t("camp-save")) }
                }
            }
        }
        section aria-labelledby="camp-url" {
            h2 id="camp-url" { (v.t("camp-public-url")) }
            form method="post" action="/settings/campaigns" class="stack" {
                (csrf(v))
                label { (v.t("camp-public-url")) " " input name="public_url" type="url" required value=(public_url) placeholder="https://crm.example.com"; }
                p class="hint" { (v.t("camp-public-url-hint")) }
                button type="submit" { (v.t("save")) }
            }
        }
    };
    page(v, Section::Campaigns, &v.t("camp-title"), body).into_response()
}

/// `GET /campaigns`.
pub async fn list(AxState(state): AxState<State>, v: Viewer) -> Response {
    list_page(&state, &v, None, &[]).await
}

fn uuid_field(form: &[(String, String)], key: &str) -> Option<Uuid> {
    Uuid::parse_str(one(form, key)).ok()
}

/// `POST /campaigns`: creates a draft; a refusal keeps what was typed.
pub async fn create(AxState(state): AxState<State>, v: Viewer, RawForm(raw): RawForm) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let input = CampaignInput {
        name: one(&form, "name").to_string(),
        segment_id: uuid_field(&form, "segment_id"),
        template_id: uuid_field(&form, "template_id"),
        consent_mode: Some(one(&form, "consent_mode").to_string()).filter(|m| !m.is_empty()),
        rate_per_minute: one(&form, "rate_per_minute").trim().parse().ok(),
        ..CampaignInput::default()
    };
    match state.app.create_campaign(&v.caller, input).await {
        Ok(c) => Redirect::to(&format!("/campaigns/{}", c.id)).into_response(),
        Err(e) => list_page(&state, &v, Some(reason(&e)), &form).await,
    }
}

/// `POST /settings/campaigns`: the public URL.
pub async fn save_url(
    AxState(state): AxState<State>,
    v: Viewer,
    RawForm(raw): RawForm,
) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    match state
        .app
        .set_public_url(&v.caller, one(&form, "public_url"))
        .await
    {
        Ok(_) => Redirect::to("/campaigns").into_response(),
        Err(e) => list_page(&state, &v, Some(reason(&e)), &form).await,
    }
}

async fn show_page(state: &State, v: &Viewer, id: Uuid, error: Option<String>) -> Response {
    let report = match state.app.campaign_report(&v.caller, id).await {
        Ok(r) => r,
        Err(e) => return app_error(v.lang, e),
    };
    let c = match state.app.campaign(&v.caller, id).await {
        Ok(c) => c,
        Err(e) => return app_error(v.lang, e),
    };
    let sends = state
        .app
        .email_sends(&v.caller, Some(id), None, None, 50, 0)
        .await
        .unwrap_or_default();
    let f = &report.figures;
    let figures = [
        ("camp-fig-total", f.total),
        ("camp-fig-sent", f.sent),
        ("camp-fig-delivered", f.delivered),
        ("camp-fig-opened", f.opened),
        ("camp-fig-clicked", f.clicked),
        ("camp-fig-unsubscribed", f.unsubscribed),
        ("camp-fig-bounced", f.bounced),
        ("camp-fig-failed", f.failed),
        ("camp-fig-skipped", f.skipped),
        ("camp-fig-pending", f.pending),
        ("camp-fig-orders", f.orders),
    ];
    let action = |name: &str| {
        html! {
            form method="post" action=(format!("/campaigns/{id}/{name}")) class="inline" {
                (csrf(v))
                button type="submit" id=(format!("campaign-{name}")) { (v.t(&format!("camp-action-{name}"))) }
            }
        }
    };
    let body = html! {
        p { a href="/campaigns" { "← " (v.t("camp-title")) } }
        h1 { (c.name) " " (status_badge(v, &c.status)) }
        @if let Some(e) = &error { p class="error" role="alert" { (e) } }
        div class="actions" {
            @match c.status.as_str() {
                "draft" => {
                    (action("send"))
                    form method="post" action=(format!("/campaigns/{id}/send")) class="inline" {
                        (csrf(v))
                        label { (v.t("camp-schedule-at")) " " input type="datetime-local" name="at" required; }
                        button type="submit" { (v.t("camp-action-schedule")) }
                    }
                }
                "sending" => { (action("pause")) (action("cancel")) }
                "paused" => { (action("resume")) (action("cancel")) }
                "scheduled" => { (action("cancel")) }
                _ => {}
            }
        }
        @if let Some(at) = c.scheduled_at { p { (v.t("camp-scheduled-for")) " " (at.format("%Y-%m-%d %H:%M UTC").to_string()) } }
        table class="figures" id="campaign-figures" {
            tbody {
                @for (key, n) in figures {
                    tr { th { (v.t(key)) } td class="num" data-figure=(key) { (v.lang.number(n)) } }
                }
                tr { th { (v.t("camp-fig-revenue")) } td class="num" { (v.lang.money(f.revenue, &v.caller.workspace.currency)) } }
            }
        }
        h2 { (v.t("camp-sends")) }
        @if sends.is_empty() { p { (v.t("camp-no-sends")) } } @else {
            table class="list" {
                thead { tr { th { (v.t("camp-recipient")) } th { (v.t("camp-status")) } th { (v.t("camp-reason")) } } }
                tbody {
                    @for s in &sends {
                        tr class=[(s.status == "failed" || s.status == "bounced").then_some("failed")] {
                            td { a href=(format!("/contacts/{}", s.contact_id)) { (s.email) } }
                            td { (v.t(&format!("camp-send-{}", s.status))) }
                            td { (s.error.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    page(v, Section::Campaigns, &c.name, body).into_response()
}

/// `GET /campaigns/{id}`.
pub async fn show(AxState(state): AxState<State>, v: Viewer, Path(id): Path<String>) -> Response {
    match Uuid::parse_str(&id) {
        Ok(id) => show_page(&state, &v, id, None).await,
        Err(_) => error_page(v.lang, StatusCode::NOT_FOUND),
    }
}

/// `POST /campaigns/{id}/{action}`: send (now or at a time), pause, resume, cancel.
pub async fn act(
    AxState(state): AxState<State>,
    v: Viewer,
    Path((id, what)): Path<(String, String)>,
    RawForm(raw): RawForm,
) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(v.lang, StatusCode::NOT_FOUND);
    };
    let app = &state.app;
    let result = match what.as_str() {
        "send" => {
            // A datetime-local field is in the workspace's time zone; empty is now. A time
            // that does not read must not become "now": that sends a campaign early.
            match send_at(one(&form, "at"), v.caller.time_zone()) {
                Ok(at) => app.send_campaign(&v.caller, id, at).await,
                Err(e) => Err(e),
            }
        }
        "pause" => app.pause_campaign(&v.caller, id).await,
        "resume" => app.resume_campaign(&v.caller, id).await,
        "cancel" => app.cancel_campaign(&v.caller, id).await,
        _ => return error_page(v.lang, StatusCode::NOT_FOUND),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/campaigns/{id}")).into_response(),
        Err(e) => show_page(&state, &v, id, Some(reason(&e))).await,
    }
}

/// When the send form says to send: None for now.
fn send_at(
    written: &str,
    tz: chrono_tz::Tz,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, kith_app::Error> {
    let written = written.trim();
    if written.is_empty() {
        return Ok(None);
    }
    super::datetime_local(written, tz).map(Some).ok_or_else(|| {
        kith_core::Error::field("at", format!("`{written}` is not a date and time")).into()
    })
}

const STEP_ROWS: usize = 5;

async fn sequences_page(
    state: &State,
    v: &Viewer,
    error: Option<String>,
    form: &[(String, String)],
) -> Response {
    let list = match state.app.sequences(&v.caller).await {
        Ok(l) => l,
        Err(e) => return app_error(v.lang, e),
    };
    let (_, templates) = options(state, v).await;
    let body = html! {
        p { a href="/campaigns" { "← " (v.t("camp-title")) } }
        h1 { (v.t("seq-title")) }
        p class="hint" { (v.t("seq-intro")) }
        @if list.is_empty() { p { (v.t("seq-none")) } } @else {
            ul {
                @for s in &list {
                    li { a href=(format!("/sequences/{}", s.id)) { (s.name) } " · " (s.steps.as_array().map_or(0, Vec::len)) " " (v.t("seq-steps")) }
                }
            }
        }
        section aria-labelledby="seq-new" {
            h2 id="seq-new" { (v.t("seq-create")) }
            @if let Some(e) = &error { p class="error" role="alert" { (e) } }
            @if templates.is_empty() { p class="hint" { (v.t("camp-needs")) } } @else {
                form method="post" action="/sequences" class="stack" {
                    (csrf(v))
                    label { (v.t("camp-name")) " " input name="name" required value=(one(form, "name")); }
                    @for i in 0..STEP_ROWS {
                        fieldset {
                            legend { (v.t("seq-step")) " " (i + 1) }
                            label { (v.t("seq-wait-days")) " " input type="number" min="0" name=(format!("wait{i}")) value=(one(form, &format!("wait{i}"))); }
                            label { (v.t("camp-template")) " "
                                select name=(format!("template{i}")) {
                                    option value="" { "—" }
                                    @for (id, label) in &templates {
                                        option value=(id) selected[id.to_string() == one(form, &format!("template{i}"))] { (label) }
                                    }
                                }
                            }
                        }
                    }
                    button type="submit" class="primary" { (v.t("seq-save")) }
                }
            }
        }
    };
    page(v, Section::Campaigns, &v.t("seq-title"), body).into_response()
}

/// `GET /sequences`.
pub async fn sequences(AxState(state): AxState<State>, v: Viewer) -> Response {
    sequences_page(&state, &v, None, &[]).await
}

/// `POST /sequences`: steps from the rows that name a template (waits in days).
pub async fn create_sequence(
    AxState(state): AxState<State>,
    v: Viewer,
    RawForm(raw): RawForm,
) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let mut steps = Vec::new();
    for i in 0..STEP_ROWS {
        if let Some(t) = uuid_field(&form, &format!("template{i}")) {
            let days: i64 = one(&form, &format!("wait{i}")).trim().parse().unwrap_or(0);
            steps.push(json!({"wait_minutes": days.saturating_mul(1440), "template_id": t}));
        }
    }
    let input = SequenceInput {
        name: one(&form, "name").to_string(),
        steps: json!(steps),
        ..SequenceInput::default()
    };
    match state.app.create_sequence(&v.caller, input).await {
        Ok(s) => Redirect::to(&format!("/sequences/{}", s.id)).into_response(),
        Err(e) => sequences_page(&state, &v, Some(reason(&e)), &form).await,
    }
}

async fn sequence_page(state: &State, v: &Viewer, id: Uuid, error: Option<String>) -> Response {
    let s = match state.app.sequence(&v.caller, id).await {
        Ok(s) => s,
        Err(e) => return app_error(v.lang, e),
    };
    let enrolments = state
        .app
        .enrolments(&v.caller, Some(id), None)
        .await
        .unwrap_or_default();
    let templates: std::collections::HashMap<Uuid, String> = state
        .app
        .email_templates(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let steps = kith_core::campaigns::parse_steps(&s.steps).unwrap_or_default();
    let body = html! {
        p { a href="/sequences" { "← " (v.t("seq-title")) } }
        h1 { (s.name) }
        ol {
            @for st in &steps {
                li { (v.lang.t_args("seq-step-line", &[("days", format!("{:.1}", st.wait_minutes as f64 / 1440.0)), ("template", templates.get(&st.template_id).cloned().unwrap_or_default())])) }
            }
        }
        @if let Some(e) = &error { p class="error" role="alert" { (e) } }
        form method="post" action=(format!("/sequences/{id}/enrol")) class="inline" {
            (csrf(v))
            label { (v.t("seq-enrol-email")) " " input type="email" name="email" required; }
            button type="submit" id="enrol" { (v.t("seq-enrol")) }
        }
        h2 { (v.t("seq-enrolments")) }
        @if enrolments.is_empty() { p { (v.t("seq-no-enrolments")) } } @else {
            table class="list" {
                thead { tr { th { (v.t("camp-recipient")) } th { (v.t("seq-step")) } th { (v.t("camp-status")) } th { (v.t("seq-next")) } } }
                tbody {
                    @for e in &enrolments {
                        tr {
                            td { a href=(format!("/contacts/{}", e.contact_id)) { (v.t("seq-contact")) } }
                            td class="num" { (e.step) }
                            td { (v.t(&format!("seq-status-{}", e.status))) @if let Some(r) = &e.exit_reason { " (" (v.t(&format!("seq-exit-{r}"))) ")" } }
                            td { (e.next_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    page(v, Section::Campaigns, &s.name, body).into_response()
}

/// `GET /sequences/{id}`.
pub async fn sequence(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<String>,
) -> Response {
    match Uuid::parse_str(&id) {
        Ok(id) => sequence_page(&state, &v, id, None).await,
        Err(_) => error_page(v.lang, StatusCode::NOT_FOUND),
    }
}

/// `POST /sequences/{id}/enrol`: enrols the contact with that email address.
pub async fn enrol(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<String>,
    RawForm(raw): RawForm,
) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(v.lang, StatusCode::NOT_FOUND);
    };
    let email = one(&form, "email").trim().to_lowercase();
    let result = match state.app.contact_by_email(&v.caller, &email).await {
        Ok(Some(c)) => state.app.enrol(&v.caller, id, c).await.map(|_| ()),
        Ok(None) => Err(kith_app::Error::Invalid(kith_core::Error::field(
            "email",
            "no contact has this address",
        ))),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/sequences/{id}")).into_response(),
        Err(e) => sequence_page(&state, &v, id, Some(reason(&e))).await,
    }
}
