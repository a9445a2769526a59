//! Data pages: the import wizard (upload → mapping and a check of the first rows →
//! background run with live progress → summary, error file, revert) and the review of
//! likely duplicates (compare, choose the winning values, merge, undo).

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, RawForm, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kith_app::dedup::MergeRequest;
use kith_app::import::{Import, ImportRequest, OnDuplicate};
use kith_core::objects::ObjectKind;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::layout::{page, Section};
use super::list_tools::pairs;
use super::lists::display_name;
use super::{app_error, reason, Viewer};
use crate::State;

const OBJECTS: [(&str, ObjectKind); 5] = [
    ("contacts", ObjectKind::Contact),
    ("companies", ObjectKind::Company),
    ("deals", ObjectKind::Deal),
    ("activities", ObjectKind::Activity),
    ("orders", ObjectKind::Order),
];

pub(super) fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(v.csrf); }
}

fn counts(v: &Viewer, i: &Import) -> Markup {
    html! {
        dl class="counts" {
            dt { (v.t("import-created")) } dd data-count="created" { (i.created) }
            dt { (v.t("import-updated")) } dd data-count="updated" { (i.updated) }
            dt { (v.t("import-skipped")) } dd data-count="skipped" { (i.skipped) }
            dt { (v.t("import-failed")) } dd data-count="failed" { (i.failed) }
        }
    }
}

/// `GET /import`: the upload form and the recent imports.
pub async fn start(AxState(state): AxState<State>, v: Viewer) -> Response {
    let recent = state.app.imports(&v.caller).await.unwrap_or_default();
    render_start(&v, &recent, None)
}

fn render_start(v: &Viewer, recent: &[Import], error: Option<String>) -> Response {
    let body = html! {
        h1 { (v.t("import-title")) }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action="/import" enctype="multipart/form-data" class="stack" {
            (csrf(v))
            div class="field" {
                label for="import-file" { (v.t("import-file")) }
                input id="import-file" name="file" type="file" required accept=".csv,.tsv,.txt,.xlsx,.vcf";
            }
            div class="field" {
                label for="import-object" { (v.t("import-object")) }
                select id="import-object" name="object" {
                    @for (plural, _) in OBJECTS { option value=(plural) { (v.t(&format!("nav-{plural}"))) } }
                }
            }
            button type="submit" { (v.t("import-upload")) }
        }
        h2 { (v.t("import-recent")) }
        table class="records" {
            thead { tr { th { (v.t("import-file")) } th { (v.t("import-status")) } th { (v.t("import-created")) } th { (v.t("import-failed")) } } }
            tbody {
                @for i in recent {
                    tr {
                        td { a href=(format!("/imports/{}", i.id)) { (i.file_name) } }
                        td { (v.t(&format!("import-status-{}", i.status))) }
                        td { (i.created) }
                        td { (i.failed) }
                    }
                }
            }
        }
        p { a href="/duplicates?object=contacts" { (v.t("dup-title")) } }
    };
    page(v, Section::Data, &v.t("import-title"), body).into_response()
}

/// `POST /import`: keeps the file as a draft and shows its mapping and first rows.
pub async fn upload(AxState(state): AxState<State>, v: Viewer, mut form: Multipart) -> Response {
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut object = "contacts".to_string();
    let mut token = String::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let file_name = field.file_name().map(String::from);
                match field.bytes().await {
                    Ok(b) => match name.as_str() {
                        "file" => {
                            file = Some((file_name.unwrap_or_else(|| "upload".into()), b.to_vec()))
                        }
                        "object" => object = String::from_utf8_lossy(&b).into(),
                        "csrf" => token = String::from_utf8_lossy(&b).into(),
                        _ => {}
                    },
                    Err(e) => return bad_upload(&state, &v, e.body_text()).await,
                }
            }
            Ok(None) => break,
            Err(e) => return bad_upload(&state, &v, e.body_text()).await,
        }
    }
    if let Some(r) = v.csrf_refusal(&token) {
        return r;
    }
    let Some((name, data)) = file.filter(|(_, d)| !d.is_empty()) else {
        return bad_upload(&state, &v, v.t("import-no-file")).await;
    };
    let Some((_, kind)) = OBJECTS.iter().find(|(p, _)| *p == object) else {
        return bad_upload(&state, &v, v.t("import-no-file")).await;
    };
    match state
        .app
        .draft_import(&v.caller, &data, &ImportRequest::new(*kind, &name))
        .await
    {
        Ok(i) => Redirect::to(&format!("/imports/{}", i.id)).into_response(),
        Err(e) => bad_upload(&state, &v, reason(&e)).await,
    }
}

async fn bad_upload(state: &State, v: &Viewer, message: String) -> Response {
    let recent = state.app.imports(&v.caller).await.unwrap_or_default();
    let mut res = render_start(v, &recent, Some(message));
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

/// `GET /imports/{id}`: the mapping step for a draft, live progress while it runs, the
/// summary when done.
pub async fn show(AxState(state): AxState<State>, v: Viewer, Path(id): Path<Uuid>) -> Response {
    let import = match state.app.import_status(&v.caller, id).await {
        Ok(i) => i,
        Err(e) => return app_error(v.lang, e),
    };
    if import.status == "draft" {
        return mapping_page(&state, &v, id, None).await;
    }
    let running = matches!(import.status.as_str(), "queued" | "running" | "reverting");
    let pct = if import.bytes_total > 0 {
        (import.bytes_done * 100 / import.bytes_total).min(100)
    } else {
        0
    };
    let body = html! {
        @if running {
            // Live progress without a script: the page reloads itself while it runs.
            meta http-equiv="refresh" content="2";
        }
        h1 { (import.file_name) }
        p { (v.t(&format!("import-status-{}", import.status))) }
        progress max="100" value=(pct) aria-label=(v.t("import-progress")) { (pct) "%" }
        p { (v.lang.t_args("import-rows-done", &[("rows", import.rows_done.to_string())])) }
        (counts(&v, &import))
        @if let Some(m) = &import.message { p class="notice" { (m) } }
        @if import.failed > 0 {
            p { a href=(format!("/api/v1/imports/{}/errors", import.id)) download { (v.t("import-errors-file")) } }
        }
        @if matches!(import.status.as_str(), "done" | "failed") {
            form method="post" action=(format!("/imports/{}/revert", import.id)) {
                (csrf(&v))
                button type="submit" class="danger" { (v.t("import-revert")) }
            }
        }
        p { a href="/import" { (v.t("import-title")) } }
    };
    page(&v, Section::Data, &import.file_name, body).into_response()
}

async fn mapping_page(state: &State, v: &Viewer, id: Uuid, error: Option<String>) -> Response {
    let p = match state.app.preview_import(&v.caller, id).await {
        Ok(p) => p,
        Err(e) => {
            let body = html! { h1 { (v.t("import-title")) } p class="error" role="alert" { (reason(&e)) } p { a href="/import" { (v.t("import-upload-again")) } } };
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(v, Section::Data, &v.t("import-title"), body),
            )
                .into_response();
        }
    };
    let bad_lines: BTreeMap<i64, String> =
        p.rejects.iter().map(|r| (r.line, r.reasons())).collect();
    let on_dup = p.import.options["on_duplicate"]
        .as_str()
        .unwrap_or("skip")
        .to_string();
    let create_fields = p.import.options["create_fields"].as_bool().unwrap_or(false);
    let body = html! {
        h1 { (p.import.file_name) }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        p { (v.lang.t_args("import-detected", &[
            ("encoding", p.encoding.unwrap_or("-").to_string()),
            ("delimiter", p.delimiter.map(|d| if d == '\t' { "TAB".to_string() } else { d.to_string() }).unwrap_or("-".into())),
        ])) }
        @if !p.notes.is_empty() { ul class="notes" { @for n in &p.notes { li { (n) } } } }
        form method="post" action=(format!("/imports/{id}/mapping")) class="stack" {
            (csrf(v))
            h2 { (v.t("import-mapping")) }
            table class="records mapping" {
                thead { tr { th { (v.t("import-column")) } th { (v.t("import-field")) } } }
                tbody {
                    @for (i, (header, target)) in p.mapping.columns.iter().enumerate() {
                        @let current = target.as_ref().map(|t| t.name()).unwrap_or_default();
                        tr {
                            td { label for=(format!("map-{i}")) { (header) } }
                            td {
                                input type="hidden" name="column" value=(header);
                                select id=(format!("map-{i}")) name="target" {
                                    option value="ignore" selected[current.is_empty()] { (v.t("import-ignore")) }
                                    @for t in &p.targets { option value=(t) selected[*t == current] { (t) } }
                                }
                            }
                        }
                    }
                }
            }
            div class="field" {
                label for="on-dup" { (v.t("import-on-duplicate")) }
                select id="on-dup" name="on_duplicate" {
                    @for o in ["skip", "update", "merge"] { option value=(o) selected[on_dup == o] { (v.t(&format!("import-dup-{o}"))) } }
                }
            }
            div class="field" {
                label { input type="checkbox" name="create_fields" value="true" checked[create_fields]; " " (v.t("import-create-fields")) }
            }
            button type="submit" name="next" value="check" { (v.t("import-check")) }
            " "
            button type="submit" name="next" value="start" class="primary" { (v.t("import-start")) }
        }
        h2 { (v.lang.t_args("import-preview", &[("rows", p.rows.len().to_string()), ("bad", p.rejects.len().to_string())])) }
        div class="scroll" {
            table class="records preview" {
                thead { tr { th { (v.t("import-line")) } @for (h, _) in &p.mapping.columns { th { (h) } } th { (v.t("import-problems")) } } }
                tbody {
                    @for r in &p.rows {
                        @let problem = bad_lines.get(&(r.line as i64));
                        tr class=[problem.map(|_| "bad")] {
                            td { (r.line) }
                            @for c in &r.cells { td { (c) } }
                            td { @if let Some(m) = problem { span class="error" { (m) } } }
                        }
                    }
                }
            }
        }
    };
    page(v, Section::Data, &p.import.file_name, body).into_response()
}

/// `POST /imports/{id}/mapping`: saves the mapping; checks again or starts the job.
pub async fn set_mapping(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<Uuid>,
    RawForm(raw): RawForm,
) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let columns: Vec<&String> = form
        .iter()
        .filter(|(k, _)| k == "column")
        .map(|(_, v)| v)
        .collect();
    let targets: Vec<&String> = form
        .iter()
        .filter(|(k, _)| k == "target")
        .map(|(_, v)| v)
        .collect();
    let mapping: Vec<(String, String)> = columns
        .into_iter()
        .zip(targets)
        .map(|(c, t)| (c.clone(), t.clone()))
        .collect();
    let on_dup =
        OnDuplicate::parse(get("on_duplicate").unwrap_or("skip")).unwrap_or(OnDuplicate::Skip);
    let create = get("create_fields") == Some("true");
    if let Err(e) = state
        .app
        .set_import_mapping(&v.caller, id, mapping, create, on_dup)
        .await
    {
        return mapping_page(&state, &v, id, Some(reason(&e))).await;
    }
    if get("next") == Some("start") {
        match state.app.start_import(&v.caller, id).await {
            Ok(i) => crate::spawn_import(state.app.clone(), v.caller.workspace.id.0, i.id),
            Err(e) => return mapping_page(&state, &v, id, Some(reason(&e))).await,
        }
    }
    Redirect::to(&format!("/imports/{id}")).into_response()
}

/// `POST /imports/{id}/revert`.
pub async fn revert(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<Uuid>,
    RawForm(raw): RawForm,
) -> Response {
    if let Err(refused) = checked_form(&v, &raw) {
        return *refused;
    }
    if let Err(e) = state.app.revert_import(&v.caller, id).await {
        return (StatusCode::CONFLICT, reason(&e)).into_response();
    }
    Redirect::to(&format!("/imports/{id}")).into_response()
}

/// `?object=contacts&merged=ID`
#[derive(Deserialize)]
pub struct DupQuery {
    object: Option<String>,
    merged: Option<Uuid>,
}

fn dup_object(s: Option<&str>) -> ObjectKind {
    match s {
        Some("companies") => ObjectKind::Company,
        _ => ObjectKind::Contact,
    }
}

/// `GET /duplicates?object=contacts`: pairs side by side; choose values, merge or dismiss.
pub async fn duplicates(
    AxState(state): AxState<State>,
    v: Viewer,
    Query(q): Query<DupQuery>,
) -> Response {
    let object = dup_object(q.object.as_deref());
    let plural = object.plural();
    let pairs = match state.app.duplicates(&v.caller, object, 50).await {
        Ok(p) => p,
        Err(e) => return app_error(v.lang, e),
    };
    let fields: Vec<&str> = object
        .fields()
        .iter()
        .filter(|f| {
            !f.read_only
                && !matches!(
                    f.kind,
                    kith_core::fields::Kind::Consent
                        | kith_core::fields::Kind::Identities
                        | kith_core::fields::Kind::UserRef
                )
        })
        .map(|f| f.name)
        .collect();
    let body = html! {
        h1 { (v.t("dup-title")) }
        nav class="tabs" {
            a href="/duplicates?object=contacts" aria-current=[(object == ObjectKind::Contact).then_some("page")] { (v.t("nav-contacts")) }
            " "
            a href="/duplicates?object=companies" aria-current=[(object == ObjectKind::Company).then_some("page")] { (v.t("nav-companies")) }
        }
        @if let Some(m) = q.merged {
            form method="post" action=(format!("/merges/{m}/undo")) class="notice" role="status" {
                (csrf(&v))
                (v.t("dup-merged")) " "
                button type="submit" { (v.t("dup-undo")) }
            }
        }
        form method="post" action=(format!("/duplicates/scan?object={plural}")) {
            (csrf(&v))
            button type="submit" { (v.t("dup-scan")) }
        }
        @if pairs.is_empty() { p { (v.t("dup-none")) } }
        @for (n, c) in pairs.iter().enumerate() {
            @let (a, b) = (c.a.to_json(), c.b.to_json());
            section class="pair" aria-labelledby=(format!("pair-{n}")) {
                h2 id=(format!("pair-{n}")) { (display_name(&c.a)) " · " (display_name(&c.b)) " — " (format!("{:.0}%", c.pair.score * 100.0)) }
                ul class="reasons" {
                    @for r in c.pair.reasons.as_array().into_iter().flatten() { li { (r["detail"].as_str().unwrap_or("")) } }
                }
                form method="post" action="/duplicates/merge" {
                    (csrf(&v))
                    input type="hidden" name="object" value=(plural);
                    input type="hidden" name="survivor" value=(c.a.id);
                    input type="hidden" name="merged" value=(c.b.id);
                    table class="records compare" {
                        thead { tr { th { (v.t("import-field")) } th { a href=(format!("/{plural}/{}", c.a.id)) { (display_name(&c.a)) } } th { a href=(format!("/{plural}/{}", c.b.id)) { (display_name(&c.b)) } } } }
                        tbody {
                            @for f in &fields {
                                @let (x, y) = (a[*f].clone(), b[*f].clone());
                                @if !(x.is_null() && y.is_null()) {
                                    @let show = |j: &serde_json::Value| j.as_str().map(String::from).unwrap_or_else(|| if j.is_null() { String::new() } else { j.to_string() });
                                    tr {
                                        th scope="row" { (f) }
                                        @if x == y || y.is_null() || x.is_null() {
                                            td { (show(&x)) } td { (show(&y)) }
                                        } @else {
                                            td { label { input type="radio" name=(format!("pick.{f}")) value=(c.a.id) checked; " " (show(&x)) } }
                                            td { label { input type="radio" name=(format!("pick.{f}")) value=(c.b.id); " " (show(&y)) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    button type="submit" class="primary" { (v.t("dup-merge")) }
                }
                form method="post" action="/duplicates/dismiss" {
                    (csrf(&v))
                    input type="hidden" name="object" value=(plural);
                    input type="hidden" name="a" value=(c.a.id);
                    input type="hidden" name="b" value=(c.b.id);
                    button type="submit" { (v.t("dup-dismiss")) }
                }
            }
        }
    };
    page(&v, Section::Data, &v.t("dup-title"), body).into_response()
}

/// A form's fields, or the refusal when its CSRF token is not the session's.
pub(super) fn checked_form(v: &Viewer, raw: &[u8]) -> Result<Vec<(String, String)>, Box<Response>> {
    let form = pairs(&String::from_utf8_lossy(raw));
    match v.csrf_refusal(one(&form, "csrf")) {
        Some(refused) => Err(Box::new(refused)),
        None => Ok(form),
    }
}

pub(super) fn one<'a>(form: &'a [(String, String)], key: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// `POST /duplicates/scan?object=…`
pub async fn scan(
    AxState(state): AxState<State>,
    v: Viewer,
    Query(q): Query<DupQuery>,
    RawForm(raw): RawForm,
) -> Response {
    if let Err(refused) = checked_form(&v, &raw) {
        return *refused;
    }
    let object = dup_object(q.object.as_deref());
    if let Err(e) = state.app.scan_duplicates(&v.caller, object).await {
        return app_error(v.lang, e);
    }
    Redirect::to(&format!("/duplicates?object={}", object.plural())).into_response()
}

/// `POST /duplicates/merge`: merges b into a with the chosen values.
pub async fn merge(AxState(state): AxState<State>, v: Viewer, RawForm(raw): RawForm) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let object = dup_object(Some(one(&form, "object")));
    let (Ok(survivor), Ok(merged)) = (
        Uuid::parse_str(one(&form, "survivor")),
        Uuid::parse_str(one(&form, "merged")),
    ) else {
        return (StatusCode::BAD_REQUEST, "bad merge form").into_response();
    };
    let pick = form
        .iter()
        .filter_map(|(k, val)| {
            Some((
                k.strip_prefix("pick.")?.to_string(),
                Uuid::parse_str(val).ok()?,
            ))
        })
        .collect();
    let req = MergeRequest {
        object,
        survivor,
        merged: vec![merged],
        pick,
    };
    match state.app.merge(&v.caller, &req).await {
        Ok((m, _)) => Redirect::to(&format!(
            "/duplicates?object={}&merged={}",
            object.plural(),
            m.id
        ))
        .into_response(),
        Err(e) => (StatusCode::CONFLICT, reason(&e)).into_response(),
    }
}

/// `POST /duplicates/dismiss`
pub async fn dismiss(AxState(state): AxState<State>, v: Viewer, RawForm(raw): RawForm) -> Response {
    let form = match checked_form(&v, &raw) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let object = dup_object(Some(one(&form, "object")));
    if let (Ok(a), Ok(b)) = (
        Uuid::parse_str(one(&form, "a")),
        Uuid::parse_str(one(&form, "b")),
    ) {
        if let Err(e) = state.app.dismiss_duplicate(&v.caller, object, a, b).await {
            return app_error(v.lang, e);
        }
    }
    Redirect::to(&format!("/duplicates?object={}", object.plural())).into_response()
}

/// `POST /merges/{id}/undo`
pub async fn undo(
    AxState(state): AxState<State>,
    v: Viewer,
    Path(id): Path<Uuid>,
    RawForm(raw): RawForm,
) -> Response {
    if let Err(refused) = checked_form(&v, &raw) {
        return *refused;
    }
    match state.app.undo_merge(&v.caller, id).await {
        Ok(rec) => Redirect::to(&format!("/{}/{}", rec.object.plural(), rec.id)).into_response(),
        Err(e) => (StatusCode::CONFLICT, reason(&e)).into_response(),
    }
}
