//! What each record offers to quick search, written in the same transaction as the record.

use std::collections::BTreeSet;

use kith_core::objects::ObjectKind;
use kith_core::search::Document;
use kith_store::records as store;
use kith_store::{Tx, WorkspaceId};
use serde_json::Value;

use crate::{Error, Record};

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
    let mut doc = Document::default();
    let fields: &[&str] = match rec.object {
        ObjectKind::Contact => &["first_name", "last_name", "job_title", "city"],
        ObjectKind::Company => &["name", "domain", "city", "industry"],
        _ => &["name"],
    };
    doc.texts.extend(fields.iter().filter_map(|f| rec.text(f)));
    if let Some(c) = &company_name {
        doc.texts.push(c);
    }
    let full_name = kith_core::search::cjk_full_name(
        rec.text("first_name").unwrap_or(""),
        rec.text("last_name").unwrap_or(""),
    );
    if let Some(n) = &full_name {
        doc.texts.push(n);
    }
    doc.emails.extend(rec.text("email"));
    doc.phones.extend(rec.text("phone"));
    let mut identities = BTreeSet::new();
    let items = match rec.get("identities") {
        Some(kith_core::Scalar::Json(Value::Array(items))) => items.clone(),
        _ => vec![],
    };
    for item in &items {
        let kind = item["kind"].as_str().unwrap_or_default();
        let value = item["value"].as_str().unwrap_or_default();
        let channel = item["channel"].as_str().unwrap_or_default();
        match kind {
            "email" => doc.emails.push(value),
            "phone" => doc.phones.push(value),
            _ => doc.texts.push(value),
        }
        identities.insert((kind.to_string(), channel.to_string(), value.to_string()));
    }
    store::reindex(tx, ws, rec.object, rec.id, &doc.terms()).await?;
    if rec.object == ObjectKind::Contact {
        for (kind, v) in [("email", rec.text("email")), ("phone", rec.text("phone"))] {
            if let Some(v) = v {
                identities.insert((kind.to_string(), String::new(), v.to_string()));
            }
        }
        store::set_identities(tx, ws, rec.id, &identities).await?;
    }
    Ok(())
}
