//! Signing in and out, and choosing the interface language.

use axum::extract::{Query, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine;
use maud::html;
use serde::Deserialize;

use super::i18n::Lang;
use super::{cookie, layout, Viewer};
use crate::auth::SESSION_COOKIE;
use crate::State;

const LOGIN_CSRF_COOKIE: &str = "kith_login_csrf";

#[derive(Deserialize)]
pub struct FormQuery {
    next: Option<String>,
    lang: Option<String>,
}

fn lang_of(headers: &HeaderMap, asked: Option<&str>) -> Lang {
    asked
        .and_then(Lang::from_tag)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::negotiate)
        })
        .unwrap_or(Lang::En)
}

/// Only local paths: `next` must not send people to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn random_token() -> String {
    let mut buf = [0u8; 24];
    getrandom::getrandom(&mut buf).expect("the OS random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

fn render(
    lang: Lang,
    next: &str,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    // Sign-in has no session yet: its CSRF token is a cookie echoed in the form.
    let token = random_token();
    let body = html! {
        main class="narrow signin" id="main" {
            h1 { (lang.t("signin-title")) }
            @if let Some(e) = &error {
                p class="error" role="alert" { (e) }
            }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                input type="hidden" name="lang" value=(lang.tag());
                label for="email" { (lang.t("signin-email")) }
                input id="email" name="email" type="email" autocomplete="username" required value=(email);
                label for="password" { (lang.t("signin-password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (lang.t("signin-submit")) }
            }
            p class="languages" {
                @for l in Lang::ALL {
                    a href=(format!("/login?lang={}&next={}", l.tag(), super::encode(next))) lang=(l.tag()) { (l.native_name()) } " "
                }
            }
        }
    };
    let mut res = (status, layout::bare(lang, &lang.t("signin-title"), body)).into_response();
    let c = format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `GET /login`.
pub async fn form(headers: HeaderMap, Query(q): Query<FormQuery>) -> Response {
    let lang = lang_of(&headers, q.lang.as_deref());
    render(
        lang,
        &safe_next(q.next.as_deref()),
        "",
        None,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct SignIn {
    email: String,
    password: String,
    csrf: String,
    next: Option<String>,
    lang: Option<String>,
}

/// `POST /login`: a new session on success (a fresh id every time).
pub async fn submit(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Response {
    let lang = lang_of(&headers, f.lang.as_deref());
    let next = safe_next(f.next.as_deref());
    if cookie(&headers, LOGIN_CSRF_COOKIE) != Some(f.csrf.as_str()) || f.csrf.is_empty() {
        return render(
            lang,
            &next,
            &f.email,
            Some(lang.t("signin-expired")),
            StatusCode::FORBIDDEN,
        );
    }
    match state.app.login(&f.email, &f.password).await {
        Ok(session) => {
            let mut res = Redirect::to(&next).into_response();
            crate::auth::set_session_cookie(&mut res, &session.token, state.secure_cookies);
            res
        }
        Err(kith_app::Error::RateLimited { .. }) => render(
            lang,
            &next,
            &f.email,
            Some(lang.t("signin-locked")),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(kith_app::Error::Unauthorized(_)) => render(
            lang,
            &next,
            &f.email,
            Some(lang.t("signin-failed")),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => super::app_error(lang, e),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    v: Viewer,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = v.csrf_refusal(&f.csrf) {
        return r;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let _ = state.app.logout(token).await;
    }
    let mut res = Redirect::to("/login").into_response();
    crate::auth::clear_session_cookie(&mut res);
    res
}

#[derive(Deserialize)]
pub struct NameForm {
    csrf: String,
    // Not `name`: the pages' own forms have fields called that.
    my_name: String,
}

/// `POST /settings/name`: the name the signed-in user is shown by.
pub async fn name(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    v: Viewer,
    Form(f): Form<NameForm>,
) -> Response {
    if let Some(r) = v.csrf_refusal(&f.csrf) {
        return r;
    }
    if let Err(e) = state.app.set_name(&v.caller, &f.my_name).await {
        return super::app_error(v.lang, e);
    }
    back(&headers)
}

#[derive(Deserialize)]
pub struct LanguageForm {
    csrf: String,
    lang: String,
}

/// `POST /settings/language`: remembered per user.
pub async fn language(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    v: Viewer,
    Form(f): Form<LanguageForm>,
) -> Response {
    if let Some(r) = v.csrf_refusal(&f.csrf) {
        return r;
    }
    let Some(lang) = Lang::from_tag(&f.lang) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "unknown language").into_response();
    };
    if let Err(e) = state.app.set_locale(&v.caller, lang.tag()).await {
        return super::app_error(v.lang, e);
    }
    back(&headers)
}

/// Back to the page the user menu was opened on, when it is ours.
fn back(headers: &HeaderMap) -> Response {
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()));
    Redirect::to(&safe_next(back.as_deref())).into_response()
}
