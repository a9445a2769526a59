//! The web UI: server-rendered pages (maud escapes every value), Fluent messages in
//! English, Chinese and Danish, and one small ES module for inline edit, instant
//! search and dragging deals. Pages read and write through kith-app like the API does.

mod board;
mod campaigns;
mod data;
mod home;
pub mod i18n;
mod jobs;
mod layout;
mod list_tools;
mod lists;
mod mail;
mod notifications;
mod record;
mod search;
mod segments;
mod settings;
mod signin;
mod tasks;
mod workflow_form;
mod workflows;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kith_app::Caller;

use crate::auth::SESSION_COOKIE;
use crate::State;
use i18n::Lang;

/// The UI's routes.
pub fn routes() -> Router<State> {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(signin::form).post(signin::submit))
        .route("/logout", post(signin::logout))
        .route("/settings/language", post(signin::language))
        .route("/settings/name", post(signin::name))
        .route(
            "/contacts",
            get(lists::contacts).post(lists::create_contact),
        )
        .route(
            "/companies",
            get(lists::companies).post(lists::create_company),
        )
        .route("/views", post(list_tools::save_view))
        .route("/contacts/bulk", post(list_tools::bulk_contacts))
        .route("/companies/bulk", post(list_tools::bulk_companies))
        .route("/deals/list", get(lists::deals))
        .route("/deals/list/bulk", post(list_tools::bulk_deals))
        .route("/contacts/{id}", get(record::contact))
        .route("/companies/{id}", get(record::company))
        .route("/deals/{id}", get(record::deal))
        .route("/{objects}/{id}/activities", post(record::log_activity))
        .route("/{objects}/{id}/tasks", post(record::add_task))
        .route("/campaigns", get(campaigns::list).post(campaigns::create))
        .route("/campaigns/{id}", get(campaigns::show))
        .route("/campaigns/{id}/{action}", post(campaigns::act))
        .route("/settings/campaigns", post(campaigns::save_url))
        .route(
            "/sequences",
            get(campaigns::sequences).post(campaigns::create_sequence),
        )
        .route("/sequences/{id}", get(campaigns::sequence))
        .route("/sequences/{id}/enrol", post(campaigns::enrol))
        .route("/email-templates", get(mail::list))
        .route("/email-templates/new", get(mail::new).post(mail::create))
        .route("/email-templates/{id}", get(mail::show).post(mail::update))
        .route(
            "/settings/mail",
            get(mail::settings).post(mail::save_settings),
        )
        .route("/settings/mail/test", post(mail::test))
        .route("/contacts/{id}/email", post(mail::send))
        .route("/settings", get(settings::settings))
        .route("/settings/workspace", post(settings::workspace))
        .route("/settings/jobs", get(jobs::jobs))
        .route("/settings/jobs/{id}/retry", post(jobs::retry))
        .route("/settings/users/{id}/role", post(settings::role))
        .route("/settings/invites", post(settings::invite))
        .route("/settings/{objects}", post(settings::add))
        .route(
            "/settings/remove/{objects}/{id}",
            post(settings::remove_record),
        )
        .route(
            "/invite/{token}",
            get(settings::invite_form).post(settings::invite_accept),
        )
        .route(
            "/import",
            get(data::start)
                .post(data::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::imports::MAX_UPLOAD_BYTES,
                )),
        )
        .route("/imports/{id}", get(data::show))
        .route("/imports/{id}/mapping", post(data::set_mapping))
        .route("/imports/{id}/revert", post(data::revert))
        .route("/duplicates", get(data::duplicates))
        .route("/duplicates/scan", post(data::scan))
        .route("/duplicates/merge", post(data::merge))
        .route("/duplicates/dismiss", post(data::dismiss))
        .route("/merges/{id}/undo", post(data::undo))
        .route("/segments", get(segments::list).post(segments::create))
        .route("/segments/{id}", get(segments::show))
        .route("/segments/{id}/refresh", post(segments::refresh))
        .route("/workflows", get(workflows::list).post(workflows::create))
        .route("/workflows/{id}", get(workflows::show))
        .route(
            "/workflows/{id}/edit",
            get(workflows::edit).post(workflows::save),
        )
        .route("/workflows/{id}/{action}", post(workflows::switch))
        .route("/notifications", get(notifications::notifications))
        .route("/notifications/read", post(notifications::read_all))
        .route("/search", get(search::search))
        .route("/tasks", get(tasks::tasks))
        .route("/tasks/{id}/done", post(tasks::done))
        .route("/deals", get(board::board))
        .route("/deals/{id}/stage", post(board::move_stage))
        .route("/assets/app.js", get(script))
        .route("/assets/app.css", get(style))
}

/// Headers every page carries: a strict Content-Security-Policy means even an
/// injected tag could not run a script.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if !api {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    res
}

async fn script() -> Response {
    asset(
        include_str!("../../assets/app.js"),
        "text/javascript; charset=utf-8",
    )
}

async fn style() -> Response {
    asset(
        include_str!("../../assets/app.css"),
        "text/css; charset=utf-8",
    )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

/// Reads a cookie.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A signed-in person looking at a page: who, the CSRF token for their forms, their language.
pub struct Viewer {
    /// The caller.
    pub caller: Caller,
    /// CSRF token of the session.
    pub csrf: String,
    /// Interface language.
    pub lang: Lang,
    /// The workspace's time zone, in which times are shown and entered.
    pub tz: chrono_tz::Tz,
}

impl Viewer {
    /// The message `key` in the viewer's language.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The answer to a form whose CSRF token is not the session's (None when it is).
    pub fn csrf_refusal(&self, sent: &str) -> Option<Response> {
        let ok = sent.len() == self.csrf.len()
            && sent
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0;
        (!ok).then(|| {
            (
                StatusCode::FORBIDDEN,
                "the form expired; go back, reload the page and try again",
            )
                .into_response()
        })
    }
}

impl FromRequestParts<State> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let to_login = || Redirect::to(&format!("/login?next={}", encode(next))).into_response();
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match state.app.session(token).await {
            Ok((caller, csrf)) => {
                // The user's own choice first; until they make one, the browser's language.
                let lang = Lang::from_tag(&caller.user.locale).unwrap_or_else(|| {
                    parts
                        .headers
                        .get(header::ACCEPT_LANGUAGE)
                        .and_then(|v| v.to_str().ok())
                        .map(Lang::negotiate)
                        .unwrap_or(Lang::En)
                });
                let tz = caller.time_zone();
                Ok(Viewer {
                    caller,
                    csrf,
                    lang,
                    tz,
                })
            }
            Err(_) => Err(to_login()),
        }
    }
}

/// Percent-encodes a query value.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page that says what went wrong, in the viewer's language.
pub(crate) fn error_page(lang: Lang, status: StatusCode) -> Response {
    let (title, body) = if status == StatusCode::NOT_FOUND {
        ("not-found-title", "not-found-body")
    } else {
        ("error-title", "error-body")
    };
    let html = layout::bare(
        lang,
        &lang.t(title),
        maud::html! {
            main class="narrow" id="main" {
                h1 { (lang.t(title)) }
                p { (lang.t(body)) }
                p { a href="/" { (lang.t("not-found-home")) } }
            }
        },
    );
    (status, html).into_response()
}

/// The UI's answer for paths that match nothing.
pub async fn not_found(headers: HeaderMap) -> Response {
    let lang = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::negotiate)
        .unwrap_or(Lang::En);
    error_page(lang, StatusCode::NOT_FOUND)
}

/// Maps an application error on a page to a page.
pub(crate) fn app_error(lang: Lang, e: kith_app::Error) -> Response {
    match e {
        kith_app::Error::NotFound(_) => error_page(lang, StatusCode::NOT_FOUND),
        kith_app::Error::Forbidden(m) => (StatusCode::FORBIDDEN, m).into_response(),
        other => {
            tracing::error!(error = %other, "page failed");
            error_page(lang, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// A short human reason for an application error (shown beside a form).
/// A `datetime-local` form value (`2026-12-01T09:30`), which is on the workspace's
/// clock, as the instant it names.
pub(crate) fn datetime_local(
    value: &str,
    tz: chrono_tz::Tz,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let naive = chrono::NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M").ok()?;
    kith_core::wall_clock::to_utc(naive, &tz)
}

pub(crate) fn reason(e: &kith_app::Error) -> String {
    match e {
        kith_app::Error::Invalid(inner) if !inner.fields.is_empty() => inner
            .fields
            .0
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
