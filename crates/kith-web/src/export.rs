//! `GET /api/v1/{objects}/export`: a list as a CSV, XLSX or vCard download, streamed
//! a page at a time.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use kith_app::export::{Export, ExportFormat, ExportRequest};
use kith_core::filter::Filter;
use kith_core::objects::ObjectKind;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::State;

const PARAMS: [&str; 6] = ["format", "filter", "q", "sort", "view", "columns"];

/// Reads the export's query parameters.
fn request(params: &HashMap<String, String>) -> Result<(ExportRequest, ExportFormat), ApiError> {
    if let Some(k) = params.keys().find(|k| !PARAMS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(
            "parameter_unknown",
            format!("unknown parameter `{k}` (use {})", PARAMS.join(", ")),
        ));
    }
    let nonempty = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let format = ExportFormat::parse(nonempty("format").unwrap_or("csv"))?;
    let view = nonempty("view")
        .map(|v| {
            Uuid::parse_str(v)
                .map_err(|_| ApiError::field("view", format!("`{v}` is not a view id")))
        })
        .transpose()?;
    let req = ExportRequest {
        filter: nonempty("filter").map(Filter::parse_any).transpose()?,
        q: nonempty("q").map(String::from),
        sort: nonempty("sort").map(String::from),
        view,
        columns: nonempty("columns")
            .map(|c| {
                c.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok((req, format))
}

/// `GET /{objects}/export?format=csv|xlsx|vcard&filter=&q=&sort=&view=&columns=`.
pub async fn export(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Path(objects): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let object = ObjectKind::from_plural(&objects)
        .ok_or_else(|| ApiError::not_found(format!("no such object type `{objects}`")))?;
    let (req, format) = request(&params)?;
    let mut export = state
        .app
        .start_export(&caller, object, &req, format)
        .await?;
    // The first page is read before answering, so a bad filter or sort is a clean
    // error response rather than a broken download.
    let first = export.next_chunk().await?;
    let content_type = export.content_type();
    let disposition = format!("attachment; filename=\"{}\"", export.file_name());
    let body = Body::from_stream(futures_util::stream::unfold(
        Some((first, export)),
        |state| async move {
            let (pending, mut export): (Option<Vec<u8>>, Export) = state?;
            if let Some(chunk) = pending {
                return Some((Ok(chunk), Some((None, export))));
            }
            match export.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some((None, export)))),
                Ok(None) => None,
                Err(e) => {
                    // The status line is sent already: cutting the body short is how
                    // the client learns it failed.
                    tracing::error!(error = %e, rows = export.rows(), "export stopped");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        },
    ));
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
