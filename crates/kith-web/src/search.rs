//! `GET /api/v1/search`: the global search as JSON.

use std::collections::HashMap;

use axum::extract::{Query, State as AxState};
use axum::Json;
use kith_app::search::{parse_types, SearchRequest, SearchResults};
use kith_core::objects::ObjectKind;
use kith_core::search::highlight::Marked;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::State;

/// The page a hit opens: its own, or for activities and tasks the record they belong to.
pub(crate) fn hit_url(object: ObjectKind, id: Uuid, parent: Option<(ObjectKind, Uuid)>) -> String {
    match (object, parent) {
        (ObjectKind::Contact | ObjectKind::Company | ObjectKind::Deal, _) => {
            format!("/{}/{id}", object.plural())
        }
        (_, Some((p, pid))) => format!("/{}/{pid}", p.plural()),
        _ => "/tasks".into(),
    }
}

fn marked(m: &Marked) -> Value {
    json!({"text": m.text, "marks": m.char_marks()})
}

/// The request from query parameters: `q`, `types`, `limit`.
pub(crate) fn request(params: &HashMap<String, String>) -> Result<SearchRequest, kith_app::Error> {
    let limit = match params.get("limit").map(|l| l.trim()) {
        None | Some("") => None,
        Some(l) => Some(l.parse::<u32>().map_err(|_| {
            kith_core::Error::field("limit", "must be a whole number from 1 to 50")
        })?),
    };
    Ok(SearchRequest {
        q: params.get("q").cloned().unwrap_or_default(),
        types: parse_types(params.get("types").map_or("", String::as_str))?,
        limit,
    })
}

/// The answer as JSON: groups of hits, marks as character offsets.
pub fn results_json(q: &str, r: &SearchResults) -> Value {
    let groups: Vec<Value> = r
        .groups
        .iter()
        .map(|g| {
            let hits: Vec<Value> = g
                .hits
                .iter()
                .map(|h| {
                    let o = h.record.object;
                    json!({
                        "type": o.singular(),
                        "id": h.record.id,
                        "title": marked(&h.title),
                        "context": h.context.as_ref().map(|(f, m)| {
                            let mut v = marked(m);
                            v["field"] = f.as_str().into();
                            v
                        }),
                        "score": h.score,
                        "typo": h.typo,
                        "parent": h.parent.map(|(p, id)| json!({"type": p.singular(), "id": id})),
                        "url": hit_url(o, h.record.id, h.parent),
                        "record": h.record.to_json(),
                    })
                })
                .collect();
            json!({"type": g.object.plural(), "more": g.more, "hits": hits})
        })
        .collect();
    json!({"query": q, "corrected": r.corrected, "groups": groups})
}

/// `GET /search?q=&types=&limit=`.
pub async fn search(
    AxState(state): AxState<State>,
    Auth(caller): Auth,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let req = request(&params)?;
    let results = state.app.search(&caller, &req).await?;
    Ok(Json(results_json(&req.q, &results)))
}

/// The search endpoint and its answer in the OpenAPI document.
pub(crate) fn openapi(
    paths: &mut serde_json::Map<String, Value>,
    schemas: &mut serde_json::Map<String, Value>,
) {
    let marked = |d: &str| {
        json!({"type": "object", "description": d, "properties": {
        "text": {"type": "string"},
        "marks": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
            "description": "Matched [start, end) ranges in characters (code points) of text"}}})
    };
    let mut context = marked("The best matching other field, cut around the match");
    context["type"] = json!(["object", "null"]);
    context["properties"]["field"] =
        json!({"type": "string", "description": "email, phone, company, body, notes, city …"});
    schemas.insert("SearchResults".into(), json!({"type": "object", "properties": {
        "query": {"type": "string"},
        "corrected": {"type": "boolean", "description": "A word of 5+ letters matched nothing and was read as the stored words one typo away"},
        "groups": {"type": "array", "description": "One per type with hits; the group with the best hit first", "items": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["contacts", "companies", "deals", "activities", "tasks"]},
            "more": {"type": "boolean", "description": "More records of this type match than are shown"},
            "hits": {"type": "array", "items": {"type": "object", "properties": {
                "type": {"type": "string", "enum": ["contact", "company", "deal", "activity", "task"]},
                "id": {"type": "string", "format": "uuid"},
                "title": marked("The name or title with the matches marked"),
                "context": context,
                "score": {"type": "integer", "description": "Higher is better: whole word > prefix > typo, in the name > in another field"},
                "typo": {"type": "boolean", "description": "Found only through a typo correction"},
                "parent": {"type": ["object", "null"], "description": "For activities and tasks: the record they belong to ({type, id})"},
                "url": {"type": "string", "description": "The page in the web UI that shows the hit"},
                "record": {"type": "object", "description": "The record as its own endpoint returns it"}}}}}}}}}));
    paths.insert("/api/v1/search".into(), json!({"get": {"tags": ["search"],
        "summary": "Search contacts, companies, deals, activities and tasks at once: every word must match (as a prefix; Danish æ/ø/å however typed, Chinese by characters, phones by any digits, emails by part, one typo in a word of 5+ letters); ranked, grouped by type, matches marked",
        "operationId": "search",
        "parameters": [
            {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}, "description": "The words; empty or only punctuation finds nothing"},
            {"name": "types", "in": "query", "schema": {"type": "string"}, "description": "Comma-separated: contacts, companies, deals, activities (or notes), tasks; default all"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}, "description": "Hits per type"}],
        "responses": {"200": {"description": "Groups of hits", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResults"}}}},
            "401": {"description": "Not signed in"}, "422": {"description": "Query longer than 200 characters, unknown type or bad limit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}}));
}
