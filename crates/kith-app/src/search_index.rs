//! What each record offers to quick search, written in the same transaction as the record.

use std::collections::BTreeSet;

use kith_core::objects::ObjectKind;
use kith_core::search::Document;
use kith_store::records as store;
use kith_store::{Tx, WorkspaceId};
use serde_json::Value;

use crate::{Error, Record};

/// The text fields of `object` that search indexes (besides emails, phones, identities
/// and a contact's company name).
pub(crate) fn text_fields(object: ObjectKind) -> &'static [&'static str] {
    match object {
        ObjectKind::Contact => &["first_name", "last_name", "job_title", "city"],
        ObjectKind::Company => &["name", "domain", "city", "industry"],
        ObjectKind::Activity => &["subject", "body"],
        ObjectKind::Task => &["title", "notes"],
        _ => &["name"],
    }
}

/// A record's search terms and identity lookup rows `(kind, channel, value)`.
pub(crate) type Parts = (BTreeSet<String>, BTreeSet<(String, String, String)>);

/// What a record of `object` gives the index: its search terms and, for contacts, its
/// identity lookup rows `(kind, channel, value)`. `text` reads a built-in text field.
pub(crate) fn index_parts<'a>(
    object: ObjectKind,
    text: impl Fn(&str) -> Option<&'a str>,
    identities: Option<&'a Value>,
    company_name: Option<&'a str>,
) -> Parts {
    let mut doc = Document::default();
    doc.texts
        .extend(text_fields(object).iter().filter_map(|f| text(f)));
    if let Some(c) = company_name.filter(|_| object != ObjectKind::Company) {
        doc.texts.push(c);
    }
    let full_name = kith_core::search::cjk_full_name(
        text("first_name").unwrap_or(""),
        text("last_name").unwrap_or(""),
    );
    if let Some(n) = &full_name {
        doc.texts.push(n);
    }
    doc.emails.extend(text("email"));
    doc.phones.extend(text("phone"));
    let mut ids = BTreeSet::new();
    let items: &[Value] = match identities {
        Some(Value::Array(items)) => items,
        _ => &[],
    };
    for item in items {
        let kind = item["kind"].as_str().unwrap_or_default();
        let value = item["value"].as_str().unwrap_or_default();
        let channel = item["channel"].as_str().unwrap_or_default();
        match kind {
            "email" => doc.emails.push(value),
            "phone" => doc.phones.push(value),
            _ => doc.texts.push(value),
        }
        ids.insert((kind.to_string(), channel.to_string(), value.to_string()));
    }
    let terms = doc.terms();
    if object == ObjectKind::Contact {
        for (kind, v) in [("email", text("email")), ("phone", text("phone"))] {
            if let Some(v) = v {
                ids.insert((kind.to_string(), String::new(), v.to_string()));
            }
        }
    } else {
        ids.clear();
    }
    (terms, ids)
}

/// Rewrites the search terms (and, for contacts, the identity lookup rows) of `rec`.
pub(crate) async fn refresh(tx: &mut Tx, ws: WorkspaceId, rec: &Record) -> Result<(), Error> {
    let company_name = match rec.uuid("company_id") {
        Some(c) if rec.object != ObjectKind::Company => {
            store::get(tx, ws, ObjectKind::Company, c, false)
                .await?
                .and_then(|c| c.text("name").map(String::from))
        }
        _ => None,
    };
    let identities = match rec.get("identities") {
        Some(kith_core::Scalar::Json(v)) => Some(v),
        _ => None,
    };
    let (terms, ids) = index_parts(
        rec.object,
        |f| rec.text(f),
        identities,
        company_name.as_deref(),
    );
    store::reindex(tx, ws, rec.object, rec.id, &terms).await?;
    if rec.object == ObjectKind::Contact {
        store::set_identities(tx, ws, rec.id, &ids).await?;
    }
    Ok(())
}
