//! Emails on the timeline: each sent, failed or received email is an activity of kind
//! `email` on its contact, written with its audit entry and `activity.created` event.

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use kith_store::records::{self as store, AuditEntry};
use kith_store::{Tx, WorkspaceId};
use uuid::Uuid;

use crate::{search_index, Error, Record};

/// One email to log.
pub(crate) struct EmailActivity<'a> {
    pub contact_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub direction: &'a str,
    pub status: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub error: Option<&'a str>,
    pub at: DateTime<Utc>,
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Writes the activity (and its company link, from the contact) in `tx`.
pub(crate) async fn log(
    tx: &mut Tx,
    ws: WorkspaceId,
    e: &EmailActivity<'_>,
) -> Result<Record, Error> {
    let company = store::get(tx, ws, ObjectKind::Contact, e.contact_id, false)
        .await?
        .and_then(|c| c.uuid("company_id"));
    let spec = |name: &str| {
        ObjectKind::Activity
            .field(name)
            .expect("activity fields are known")
    };
    let text = |v: &str| Scalar::Text(v.to_string());
    let mut values = vec![
        (spec("kind"), text("email")),
        (spec("subject"), Scalar::Text(cut(e.subject, 300))),
        (spec("body"), Scalar::Text(cut(e.body, 100_000))),
        (spec("occurred_at"), Scalar::Time(e.at)),
        (spec("contact_id"), Scalar::Uuid(e.contact_id)),
        (spec("direction"), text(e.direction)),
        (spec("message_id"), Scalar::Text(cut(e.message_id, 998))),
        (spec("email_status"), text(e.status)),
    ];
    if let Some(c) = company {
        values.push((spec("company_id"), Scalar::Uuid(c)));
    }
    if let Some(o) = e.owner_id {
        values.push((spec("owner_id"), Scalar::Uuid(o)));
    }
    if let Some(r) = e.in_reply_to {
        values.push((spec("in_reply_to"), Scalar::Text(cut(r, 998))));
    }
    if let Some(err) = e.error {
        values.push((spec("email_error"), Scalar::Text(cut(err, 10_000))));
    }
    let id = Uuid::now_v7();
    let now = Utc::now();
    store::insert(
        tx,
        ws,
        ObjectKind::Activity,
        id,
        now,
        &values,
        &Default::default(),
    )
    .await?;
    let rec = store::get(tx, ws, ObjectKind::Activity, id, false)
        .await?
        .ok_or(Error::NotFound("activity"))?;
    let entry = AuditEntry {
        actor: e.owner_id.filter(|_| e.direction == "outbound"),
        action: "create",
        object: ObjectKind::Activity,
        record_id: id,
        changes: rec.to_json(),
    };
    store::audit_and_emit(tx, ws, now, entry).await?;
    if rec.object.is_searchable() {
        search_index::refresh(tx, ws, &rec).await?;
    }
    Ok(rec)
}
