//! Who is calling: an API token (`Authorization: Bearer`) or a session cookie, which
//! must bring its CSRF token on every write.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State as AxState};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kith_app::Caller;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::records::read_json;
use crate::State;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "kith_session";
/// Header that carries the CSRF token with cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Sets the session cookie on `res` (a new random token at every sign-in: a session id
/// planted before sign-in is useless).
pub(crate) fn set_session_cookie(res: &mut Response, token: &str, secure: bool) {
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        kith_app::accounts::SESSION_DAYS * 86_400,
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Clears the session cookie on `res`.
pub(crate) fn clear_session_cookie(res: &mut Response) {
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("kith_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
}

/// An authenticated caller.
pub struct Auth(pub Caller);

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<State> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| unauthorized("Authorization header must be `Bearer <token>`"))?;
            return Ok(Auth(state.app.token_caller(token.trim()).await?));
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(unauthorized(
                "sign in, or send an API token as `Authorization: Bearer <token>`",
            ));
        };
        let (caller, csrf) = state.app.session(token).await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "writes with a session cookie need the X-CSRF-Token header from sign-in",
                ));
            }
        }
        Ok(Auth(caller))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn user_json(caller: &Caller) -> Value {
    json!({
        "id": caller.user.id,
        "email": caller.user.email,
        "name": caller.user.name,
        "role": caller.user.role,
        "locale": caller.user.locale,
        "workspace": {
            "id": caller.workspace.id.0,
            "name": caller.workspace.name,
            "currency": caller.workspace.currency,
            "phone_region": caller.workspace.phone_region,
            "time_zone": caller.workspace.time_zone,
        }
    })
}

/// `POST /auth/login` `{email, password}`: sets the session cookie, returns the CSRF token.
pub async fn login(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let input = read_json(&headers, body)?;
        let field = |name: &str| input.get(name).and_then(Value::as_str).map(String::from);
        let (Some(email), Some(password)) = (field("email"), field("password")) else {
            let mut f = kith_core::FieldErrors::default();
            if field("email").is_none() {
                f.add("email", "is required");
            }
            if field("password").is_none() {
                f.add("password", "is required");
            }
            return Err(ApiError::from(kith_core::Error::fields(f)));
        };
        let session = state.app.login(&email, &password).await?;
        let mut res = Json(json!({"user": user_json(&session.caller), "csrf_token": session.csrf}))
            .into_response();
        set_session_cookie(&mut res, &session.token, state.secure_cookies);
        Ok::<_, ApiError>(res)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /auth/logout`: ends the session and clears the cookie.
pub async fn logout(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    _auth: Auth,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.app.logout(token).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    clear_session_cookie(&mut res);
    Ok(res)
}

/// `GET /me`: the caller and their workspace.
pub async fn me(Auth(caller): Auth) -> Json<Value> {
    Json(user_json(&caller))
}

/// `PATCH /me`: the name the caller is shown by (`name`: text, or null or "" to be
/// shown by email).
pub async fn update_me(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let obj = read_json(&headers, body)?;
    if let Some(k) = obj.keys().find(|k| *k != "name") {
        return Err(kith_core::Error::field(k, "is not a setting of yours: only name is").into());
    }
    let name = match obj.get("name") {
        Some(Value::String(n)) => n.as_str(),
        Some(Value::Null) | None => "",
        Some(_) => return Err(kith_core::Error::field("name", "must be text or null").into()),
    };
    let name = state.app.set_name(&caller, name).await?;
    let mut caller = caller;
    caller.user.name = name;
    Ok(Json(user_json(&caller)))
}

/// `GET /users`: the people of the caller's workspace, by email: who an `owner_id` or
/// `assignee_id` is. Never their password hashes or sessions.
pub async fn users(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
) -> Result<Json<Value>, ApiError> {
    let users = state.app.users(&caller).await?;
    let data: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({"id": u.id, "email": u.email, "name": u.name, "role": u.role,
                "disabled": u.disabled})
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// `GET /workspace`: the caller's workspace and its defaults.
pub async fn workspace(Auth(caller): Auth) -> Json<Value> {
    Json(user_json(&caller)["workspace"].clone())
}

/// `PATCH /workspace`: changes the defaults (admins only).
pub async fn update_workspace(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let input = read_json(&headers, body)?;
    let ws = state.app.update_workspace_settings(&caller, &input).await?;
    let caller = Caller {
        workspace: ws,
        ..caller
    };
    Ok(Json(user_json(&caller)["workspace"].clone()))
}
