//! The signed-in user's notification list (workflows' "notify" action writes to it).

use axum::extract::{RawForm, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::data::{checked_form, csrf};
use super::layout::{page, Section};
use super::{app_error, Viewer};
use crate::State;

/// `GET /notifications`: the viewer's notifications, newest first.
pub async fn notifications(AxState(state): AxState<State>, v: Viewer) -> Response {
    let (list, unread) = match state.app.notifications(&v.caller, false, 100).await {
        Ok(x) => x,
        Err(e) => return app_error(v.lang, e),
    };
    let body = html! {
        h1 { (v.t("notes-title")) }
        p { (v.lang.t_args("notes-unread", &[("count", unread.to_string())])) }
        @if unread > 0 {
            form method="post" action="/notifications/read" { (csrf(&v)) button type="submit" { (v.t("notes-read-all")) } }
        }
        @if list.is_empty() { p { (v.t("notes-none")) } }
        ul class="notifications" {
            @for n in &list {
                li class=(if n.read_at.is_none() { "unread" } else { "read" }) {
                    time { (v.lang.datetime(n.created_at, v.tz)) } " "
                    @if let Some(link) = &n.link { a href=(link) { strong { (n.title) } } } @else { strong { (n.title) } }
                    @if !n.body.is_empty() { p { (n.body) } }
                }
            }
        }
    };
    page(&v, Section::Notifications, &v.t("notes-title"), body).into_response()
}

/// `POST /notifications/read`: marks them all read.
pub async fn read_all(
    AxState(state): AxState<State>,
    v: Viewer,
    RawForm(raw): RawForm,
) -> Response {
    if let Err(refused) = checked_form(&v, &raw) {
        return *refused;
    }
    match state.app.mark_notifications_read(&v.caller, None).await {
        Ok(_) => Redirect::to("/notifications").into_response(),
        Err(e) => app_error(v.lang, e),
    }
}
