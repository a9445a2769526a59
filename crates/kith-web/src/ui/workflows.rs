//! Workflow pages: the list with a plain form to build one (trigger and its settings,
//! conditions as filter text, up to five ordered actions with delays), a workflow's
//! page (definition, on/off, versions, runs), and the notification list.

use axum::extract::{Path, RawForm, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use kith_app::records::ListRequest;
use kith_app::workflows::{StoredWorkflow, WorkflowRun};
use kith_app::Role;
use kith_core::objects::ObjectKind;
use maud::{html, Markup};
use serde_json::Value;
use uuid::Uuid;

use super::data::{checked_form, csrf, one};
use super::layout::{page, Section};
use super::workflow_form::{definition, draft_of};
use super::{app_error, reason, Viewer};
use crate::State;

const TRIGGERS: [&str; 9] = [
    "record_created",
    "record_updated",
    "field_changed",
    "deal_stage_changed",
    "task_overdue",
    "segment_entered",
    "segment_left",
    "date_relative",
    "no_activity",
];
const ACTIONS: [&str; 10] = [
    "create_task",
    "notify",
    "add_tag",
    "remove_tag",
    "update_field",
    "assign_owner",
    "send_email",
    "enrol_sequence",
    "remove_from_sequence",
    "webhook",
];
const OBJECTS: [&str; 4] = ["contact", "company", "deal", "task"];
pub(super) const STEPS: usize = 5;

pub(super) type Form = Vec<(String, String)>;

/// The form as sent, shown back with the reason when refused.
#[derive(Default)]
pub(super) struct Draft {
    pub(super) form: Form,
    pub(super) error: Option<String>,
}

impl Draft {
    pub(super) fn get(&self, k: &str) -> &str {
        one(&self.form, k)
    }
}

async fn named(state: &State, v: &Viewer, object: ObjectKind) -> Vec<(Uuid, String)> {
    let req = ListRequest {
        limit: Some(200),
        ..ListRequest::default()
    };
    match state.app.list(&v.caller, object, &req).await {
        Ok(p) => p
            .records
            .iter()
            .map(|r| (r.id, r.text("name").unwrap_or("").to_string()))
            .collect(),
        Err(_) => vec![],
    }
}

fn trigger_summary(v: &Viewer, w: &StoredWorkflow) -> String {
    let t = &w.definition["trigger"];
    let mut s = v.t(&format!("wf-trigger-{}", w.trigger_type));
    for k in ["object", "field", "from", "to", "offset_days", "days"] {
        if let Some(x) = t.get(k).filter(|x| !x.is_null()) {
            let x = x
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| x.to_string());
            s.push_str(&format!(" · {k}: {x}"));
        }
    }
    s
}

/// What the form's selects offer.
struct Choices {
    segments: Vec<(Uuid, String)>,
    stages: Vec<(Uuid, String)>,
    templates: Vec<(Uuid, String)>,
    sequences: Vec<(Uuid, String)>,
}

async fn choices(state: &State, v: &Viewer) -> Choices {
    Choices {
        segments: named(state, v, ObjectKind::Segment).await,
        stages: named(state, v, ObjectKind::Stage).await,
        templates: state
            .app
            .email_templates(&v.caller)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect(),
        sequences: state
            .app
            .sequences(&v.caller)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
    }
}

/// The workflow form, filled from `d`, posting to `action`.
fn form_block(v: &Viewer, d: &Draft, action: &str, c: &Choices) -> Markup {
    let sel = |k: &str, val: &str| d.get(k) == val;
    html! {
        form method="post" action=(action) class="stack" {
            (csrf(v))
        @if let Some(version) = d.form.iter().find(|(k, _)| k == "version") { input type="hidden" name="version" value=(version.1); }
            label { (v.t("wf-name")) " " input name="name" required value=(d.get("name")); }
            fieldset {
                legend { (v.t("wf-trigger")) }
                label { (v.t("wf-trigger-type")) " "
                    select name="trigger" {
                        @for t in TRIGGERS { option value=(t) selected[sel("trigger", t)] { (v.t(&format!("wf-trigger-{t}"))) } }
                    }
                }
                label { (v.t("wf-object")) " "
                    select name="object" {
                        @for o in OBJECTS { option value=(o) selected[sel("object", o)] { (v.t(&format!("wf-object-{o}"))) } }
                    }
                }
                label { (v.t("wf-field")) " " input name="field" value=(d.get("field")) placeholder="lifecycle_stage"; }
                label { (v.t("wf-from")) " " input name="from" value=(d.get("from")); }
                label { (v.t("wf-to")) " " input name="to" value=(d.get("to")); }
                label { (v.t("wf-to-stage")) " "
                    select name="to_stage_id" {
                        option value="" { "—" }
                        @for (id, name) in &c.stages { option value=(id) selected[sel("to_stage_id", &id.to_string())] { (name) } }
                    }
                }
                label { (v.t("wf-segment")) " "
                    select name="segment_id" {
                        option value="" { "—" }
                        @for (id, name) in &c.segments { option value=(id) selected[sel("segment_id", &id.to_string())] { (name) } }
                    }
                }
                label { (v.t("wf-offset-days")) " " input name="offset_days" type="number" value=(d.get("offset_days")); }
                label { input name="yearly" type="checkbox" value="1" checked[sel("yearly", "1")]; " " (v.t("wf-yearly")) }
                label { (v.t("wf-days")) " " input name="days" type="number" min="1" value=(d.get("days")); }
                p class="hint" { (v.t("wf-trigger-hint")) }
            }
            label { (v.t("wf-conditions")) " " textarea name="conditions" rows="2" { (d.get("conditions")) } }
            p class="hint" { (v.t("wf-conditions-hint")) }
            fieldset {
                legend { (v.t("wf-actions")) }
                ol {
                    @for i in 0..STEPS {
                        li {
                            select name=(format!("a{i}_type")) aria-label=(v.t("wf-action-type")) {
                                option value="" { "—" }
                                @for a in ACTIONS { option value=(a) selected[sel(&format!("a{i}_type"), a)] { (v.t(&format!("wf-action-{a}"))) } }
                            }
                            " "
                            input name=(format!("a{i}_main")) aria-label=(v.t("wf-action-main")) placeholder=(v.t("wf-action-main")) value=(d.get(&format!("a{i}_main")));
                            " "
                            input name=(format!("a{i}_more")) aria-label=(v.t("wf-action-more")) placeholder=(v.t("wf-action-more")) value=(d.get(&format!("a{i}_more")));
                            " "
                            label { (v.t("wf-delay")) " " input name=(format!("a{i}_delay")) type="number" min="0" size="5" value=(d.get(&format!("a{i}_delay"))); }
                        }
                    }
                }
                p class="hint" { (v.t("wf-actions-hint")) }
                @if !c.templates.is_empty() {
                    p class="hint" { (v.t("wf-templates")) " " @for t in &c.templates { code { (t.1) } " " } }
                }
                @if !c.sequences.is_empty() {
                    p class="hint" { (v.t("wf-sequences")) " " @for s in &c.sequences { code { (s.1) } " " } }
                }
            }
            label { input name="enabled" type="checkbox" value="1" checked[d.form.is_empty() || sel("enabled", "1")]; " " (v.t("wf-enable-now")) }
            button type="submit" class="primary" { (v.t("wf-save")) }
        }
    }
}

async fn list_page(state: &State, v: &Viewer, draft: Draft) -> Response {
    let flows = match state.app.workflows(&v.caller).await {
        Ok(f) => f,
        Err(e) => return app_error(v.lang, e),
    };
    let admin = v.caller.role() == Role::Admin;
    let choices = choices(state, v).await;
    let d = &draft;
    let body = html! {
        h1 { (v.t("wf-title")) }
        p class="hint" { (v.t("wf-intro")) }
        @if flows.is_empty() { p { (v.t("wf-none")) } } @else {
            table class="list" {
                thead { tr { th { (v.t("wf-name")) } th { (v.t("wf-trigger")) } th { (v.t("wf-state")) } th class="num" { (v.t("wf-version")) } } }
                tbody {
                    @for w in &flows {
                        tr {
                            td { a href=(format!("/workflows/{}", w.id)) { (w.name) } }
                            td { (trigger_summary(v, w)) }
                            td { (v.t(if w.enabled { "wf-on" } else { "wf-off" })) }
                            td class="num" { (w.version) }
                        }
                    }
                }
            }
        }
        @if admin {
            section aria-labelledby="wf-new" {
                h2 id="wf-new" { (v.t("wf-create")) }
                @if let Some(e) = &d.error { p class="error" role="alert" { (e) } }
                (form_block(v, d, "/workflows", &choices))
            }
        }
    };
    page(v, Section::Workflows, &v.t("wf-title"), body).into_response()
}

/// Whether the form shows all of a definition (else editing it there would lose parts).
fn form_shows_all(w: &StoredWorkflow, draft: &Draft, users: &[(Uuid, String)]) -> bool {
    let canon = |v: &Value| {
        kith_core::workflows::Definition::parse(v)
            .map(|d| d.to_json())
            .ok()
    };
    let mut back = definition(&draft.form, &[], &[], users);
    if let Value::Object(m) = &mut back {
        m.remove("enabled");
    }
    canon(&w.definition).is_some() && canon(&w.definition) == canon(&back)
}

async fn users_of(state: &State, v: &Viewer) -> Vec<(Uuid, String)> {
    state
        .app
        .users(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect()
}

async fn edit_page(
    state: &State,
    v: &Viewer,
    w: &StoredWorkflow,
    draft: Option<Draft>,
) -> Response {
    let users = users_of(state, v).await;
    let stored = draft_of(w, &users);
    let shows_all = form_shows_all(w, &stored, &users);
    let draft = draft.unwrap_or(stored);
    let c = choices(state, v).await;
    let body = html! {
        p { a href=(format!("/workflows/{}", w.id)) { "← " (w.name) } }
        h1 { (v.t("wf-edit")) }
        @if !shows_all {
            p class="hint" { (v.t("wf-edit-api-only")) }
        } @else {
            @if let Some(e) = &draft.error { p class="error" role="alert" { (e) } }
            (form_block(v, &draft, &format!("/workflows/{}/edit", w.id), &c))
        }
    };
    page(v, Section::Workflows, &w.name, body).into_response()
}

/// `GET /workflows/{id}/edit`: the form filled with the current version.
pub async fn edit(AxState(state): AxState<State>, v: Viewer, Path(id): Path<Uuid>) -> Response {
    match state.app.workflow(&v.caller, id).await {
        Ok(w) => edit_page(&state, &v, &w, None).await,
        Err(e) => app_error(v.lang, e),
    }
}

/// `POST /workflows/{id}/edit`: saves a new version (refused if someone saved first).
pub async fn save(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<Uuid>,
    RawForm(raw): RawForm,
) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let w = match state.app.workflow(&v.caller, id).await {
        Ok(w) => w,
        Err(e) => return app_error(v.lang, e),
    };
    let c = choices(&state, &v).await;
    let def = definition(
        &form,
        &c.templates,
        &c.sequences,
        &users_of(&state, &v).await,
    );
    let version = one(&form, "version").parse::<i64>().ok();
    match state
        .app
        .update_workflow(&v.caller, id, &def, version)
        .await
    {
        Ok(_) => Redirect::to(&format!("/workflows/{id}")).into_response(),
        Err(e) => {
            let draft = Draft {
                form,
                error: Some(reason(&e)),
            };
            edit_page(&state, &v, &w, Some(draft)).await
        }
    }
}

/// `GET /workflows`.
pub async fn list(AxState(state): AxState<State>, v: Viewer) -> Response {
    list_page(&state, &v, Draft::default()).await
}

/// `POST /workflows`: saves a workflow from the form.
pub async fn create(AxState(state): AxState<State>, v: Viewer, RawForm(raw): RawForm) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let c = choices(&state, &v).await;
    let def = definition(
        &form,
        &c.templates,
        &c.sequences,
        &users_of(&state, &v).await,
    );
    match state.app.create_workflow(&v.caller, &def).await {
        Ok(w) => Redirect::to(&format!("/workflows/{}", w.id)).into_response(),
        Err(e) => {
            let draft = Draft {
                form,
                error: Some(reason(&e)),
            };
            list_page(&state, &v, draft).await
        }
    }
}

fn run_row(v: &Viewer, r: &WorkflowRun) -> Markup {
    let steps: Vec<String> = r
        .steps
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let mut t = format!(
                "{} {}",
                v.t(&format!("wf-action-{}", s["type"].as_str().unwrap_or(""))),
                v.t(&format!(
                    "wf-status-{}",
                    s["status"].as_str().unwrap_or("waiting")
                ))
            );
            if let Some(e) = s["error"].as_str() {
                t.push_str(&format!(" ({e})"));
            }
            t
        })
        .collect();
    let objects = ObjectKind::from_singular(&r.object)
        .map(|o| o.plural())
        .unwrap_or("contacts");
    html! {
        tr class=(format!("run-{}", r.status)) {
            td { (v.lang.datetime(r.started_at, v.tz)) }
            td { a href=(format!("/{objects}/{}", r.record_id)) { (v.t(&format!("wf-object-{}", r.object))) } }
            td { (v.t(&format!("wf-status-{}", r.status))) }
            td { (steps.join(" · ")) }
        }
    }
}

/// `GET /workflows/{id}`: the definition, on/off, versions and newest runs.
pub async fn show(AxState(state): AxState<State>, v: Viewer, Path(id): Path<Uuid>) -> Response {
    let w = match state.app.workflow(&v.caller, id).await {
        Ok(w) => w,
        Err(e) => return app_error(v.lang, e),
    };
    let runs = state
        .app
        .workflow_runs(&v.caller, id, None, 50)
        .await
        .unwrap_or_default();
    let versions = state
        .app
        .workflow_versions(&v.caller, id)
        .await
        .unwrap_or_default();
    let admin = v.caller.role() == Role::Admin;
    let pretty = |x: &Value| serde_json::to_string_pretty(x).unwrap_or_default();
    let body = html! {
        p { a href="/workflows" { "← " (v.t("wf-title")) } }
        h1 { (w.name) }
        p { (trigger_summary(&v, &w)) " · " strong { (v.t(if w.enabled { "wf-on" } else { "wf-off" })) } }
        @if admin {
            p { a href=(format!("/workflows/{}/edit", w.id)) { (v.t("wf-edit")) } }
            form method="post" action=(format!("/workflows/{}/{}", w.id, if w.enabled { "disable" } else { "enable" })) {
                (csrf(&v))
                button type="submit" { (v.t(if w.enabled { "wf-disable" } else { "wf-enable" })) }
            }
        }
        @let cond = w.definition["conditions"].as_str().unwrap_or("");
        h2 { (v.t("wf-conditions")) }
        p { @if cond.is_empty() { (v.t("wf-no-conditions")) } @else { code { (cond) } } }
        h2 { (v.t("wf-actions")) }
        pre { (pretty(&w.definition["actions"])) }
        h2 { (v.t("wf-runs")) }
        @if runs.is_empty() { p { (v.t("wf-no-runs")) } } @else {
            table class="list" {
                thead { tr { th { (v.t("wf-started")) } th { (v.t("wf-record")) } th { (v.t("wf-state")) } th { (v.t("wf-steps")) } } }
                tbody { @for r in &runs { (run_row(&v, r)) } }
            }
        }
        h2 { (v.t("wf-versions")) }
        ul { @for (n, _, _, at) in &versions { li { (v.t("wf-version")) " " (n) " · " (v.lang.datetime(*at, v.tz)) } } }
    };
    page(&v, Section::Workflows, &w.name, body).into_response()
}

/// `POST /workflows/{id}/enable` and `/disable`.
pub async fn switch(
    AxState(state): AxState<State>,
    v: Viewer,
    Path((id, action)): Path<(Uuid, String)>,
    RawForm(raw): RawForm,
) -> Response {
    if let Err(refused) = checked_form(&v, &raw) {
        return *refused;
    }
    let on = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return app_error(v.lang, kith_app::Error::NotFound("page")),
    };
    match state.app.set_workflow_enabled(&v.caller, id, on).await {
        Ok(_) => Redirect::to(&format!("/workflows/{id}")).into_response(),
        Err(e) => app_error(v.lang, e),
    }
}
