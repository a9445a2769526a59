//! Orders: what a new or changed order needs, and what it changes about its customer
//! (value figures, lifecycle stage, behaviour, segments) in the same transaction.

use chrono::{DateTime, Utc};
use kith_core::fields::{lines_total, Changes};
use kith_core::objects::ObjectKind;
use kith_core::segmentation::Thresholds;
use kith_core::{FieldErrors, Scalar};
use kith_store::records as store;
use kith_store::{customers, Exec, Sql, Tx, WorkspaceId};
use uuid::Uuid;

use crate::{Caller, Error, Record};

fn value<'a>(changes: &'a Changes, current: Option<&'a Record>, name: &str) -> Option<&'a Scalar> {
    changes
        .get(name)
        .or_else(|| current.and_then(|c| c.get(name)))
        .filter(|v| !v.is_null())
}

/// Fills an order's total from its lines, its company from its contact, and refuses an
/// order number already used or an order with neither total nor lines.
pub(crate) async fn order_rules(
    tx: &mut Tx,
    ws: WorkspaceId,
    changes: &mut Changes,
    current: Option<&Record>,
    errors: &mut FieldErrors,
) -> Result<(), Error> {
    let object = ObjectKind::Order;
    if changes.get("total").is_none() {
        if let Some(Scalar::Json(lines)) = changes.get("lines") {
            if let Some(total) = lines_total(lines) {
                changes.set(
                    object.field("total").expect("orders have total"),
                    Scalar::Int(total),
                );
            }
        }
    }
    if value(changes, current, "total").is_none() && value(changes, current, "lines").is_none() {
        errors.add("total", "an order needs a total or line items");
    }
    if current.is_none() && changes.get("company_id").is_none() {
        if let Some(Scalar::Uuid(contact)) = changes.get("contact_id") {
            if let Some(c) = store::get(tx, ws, ObjectKind::Contact, *contact, false).await? {
                if let Some(company) = c.uuid("company_id") {
                    changes.set(
                        object.field("company_id").expect("orders have company_id"),
                        Scalar::Uuid(company),
                    );
                }
            }
        }
    }
    if let Some(Scalar::Text(number)) = changes.get("number") {
        let mut sql = Sql::new("SELECT id FROM orders WHERE workspace_id = ");
        sql.bind(Scalar::Uuid(ws.0))
            .push(" AND deleted_at IS NULL AND number = ")
            .bind(Scalar::Text(number.clone()));
        if let Some(c) = current {
            sql.push(" AND id <> ").bind(Scalar::Uuid(c.id));
        }
        if let Some(row) = tx.fetch_optional(sql).await? {
            let other = row.uuid("id")?.unwrap_or_default();
            errors.add(
                "number",
                format!("order number {number} is already used by order {other}"),
            );
        }
    }
    Ok(())
}

/// The workspace's segmentation thresholds (defaults when never set or unreadable).
pub(crate) async fn thresholds(ex: &mut impl Exec, ws: WorkspaceId) -> Result<Thresholds, Error> {
    let (v, _) = customers::settings(ex, ws).await?;
    Ok(Thresholds::from_json(&v).unwrap_or_default())
}

/// The customers an order, an activity or a contact touches, before and after a write.
pub(crate) fn customers_of(rec: &Record, before: Option<&Record>) -> Vec<(ObjectKind, Uuid)> {
    let mut out: Vec<(ObjectKind, Uuid)> = Vec::new();
    let keys: &[(&str, ObjectKind)] = match rec.object {
        ObjectKind::Order | ObjectKind::Activity | ObjectKind::Deal | ObjectKind::Task => &[
            ("contact_id", ObjectKind::Contact),
            ("company_id", ObjectKind::Company),
        ],
        ObjectKind::Contact => &[("company_id", ObjectKind::Company)],
        _ => &[],
    };
    for r in std::iter::once(rec).chain(before) {
        for (key, object) in keys {
            if let Some(id) = r.uuid(key) {
                if !out.contains(&(*object, id)) {
                    out.push((*object, id));
                }
            }
        }
    }
    out
}

/// Brings the value figures, last activity, behaviour and value tier of the customers
/// `rec` touches up to date; returns the contacts whose lifecycle stage moved.
pub(crate) async fn refresh_customers(
    tx: &mut Tx,
    caller: &Caller,
    rec: &Record,
    before: Option<&Record>,
    now: DateTime<Utc>,
) -> Result<Vec<(ObjectKind, Uuid)>, Error> {
    let ws = caller.workspace.id;
    let touched = customers_of(rec, before);
    if !matches!(rec.object, ObjectKind::Order | ObjectKind::Activity) {
        return Ok(touched);
    }
    let t = thresholds(tx, ws).await?;
    for (object, id) in &touched {
        if rec.object == ObjectKind::Order {
            customers::refresh_value(tx, ws, *object, *id, &caller.workspace.currency).await?;
        } else if *object == ObjectKind::Contact {
            customers::refresh_last_activity(tx, ws, *id).await?;
        }
        if *object == ObjectKind::Contact {
            customers::apply_tiers(tx, ws, &t, now, Some(*id)).await?;
        }
    }
    Ok(touched)
}
