//! What orders and activities tell about customers: per-contact and per-company value
//! figures kept current with every order, and the workspace-wide recompute of RFM
//! scores, behaviour and value tiers — set-based SQL, identical on both backends.

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::segmentation::{Thresholds, RFM_GRID};
use kith_core::{Scalar, ScalarType};
use uuid::Uuid;

use crate::db::{Dialect, Exec, Sql};
use crate::{Error, WorkspaceId};

/// Lifecycle stages an order moves up to `customer`.
const BEFORE_CUSTOMER: &str = "'subscriber', 'lead', 'mql', 'sql', 'opportunity'";

/// Orders that count towards value: live, not cancelled or refunded, in the workspace's
/// currency (there are no exchange rates yet). Binds the workspace and the currency.
fn counted_orders(sql: &mut Sql, ws: WorkspaceId, currency: &str) {
    sql.push(" FROM orders o WHERE o.workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND o.deleted_at IS NULL AND (o.status IS NULL OR o.status NOT IN ('cancelled', 'refunded'))")
        .push(" AND (o.currency IS NULL OR o.currency = ")
        .bind(Scalar::Text(currency.to_string()))
        .push(")");
}

/// Null-safe "differs", so a recompute writes only rows whose figures changed.
fn differs(d: Dialect, a: &str, b: &str) -> String {
    match d {
        Dialect::Sqlite => format!("{a} IS NOT {b}"),
        Dialect::Postgres => format!("{a} IS DISTINCT FROM {b}"),
    }
}

/// Recomputes the order figures of one contact or company from its orders; for a
/// contact that now has orders, moves its lifecycle stage up to customer. Returns
/// whether the lifecycle stage changed.
pub async fn refresh_value(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    id: Uuid,
    currency: &str,
) -> Result<bool, Error> {
    let key = match object {
        ObjectKind::Contact => "contact_id",
        ObjectKind::Company => "company_id",
        _ => return Ok(false),
    };
    let mut sql = Sql::new(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(o.total), 0) AS BIGINT) AS v, MIN(o.ordered_at) AS f, MAX(o.ordered_at) AS l",
    );
    counted_orders(&mut sql, ws, currency);
    sql.push(" AND o.")
        .push(key)
        .push(" = ")
        .bind(Scalar::Uuid(id));
    let row = ex
        .fetch_optional(sql)
        .await?
        .ok_or_else(|| Error::Corrupt("aggregate without a row".into()))?;
    let n = row.int("n")?.unwrap_or(0);
    let v = row.int("v")?.unwrap_or(0);
    let time = |t: Option<DateTime<Utc>>| t.map_or(Scalar::Null(ScalarType::Time), Scalar::Time);
    let int = |x: i64| {
        if n == 0 {
            Scalar::Null(ScalarType::Int)
        } else {
            Scalar::Int(x)
        }
    };
    let mut sql = Sql::new("UPDATE ");
    sql.push(object.table())
        .push(" SET order_count = ")
        .bind(int(n));
    sql.push(", lifetime_value = ").bind(int(v));
    sql.push(", average_order_value = ")
        .bind(int(if n == 0 { 0 } else { v / n }));
    sql.push(", first_order_at = ").bind(time(row.time("f")?));
    sql.push(", last_order_at = ").bind(time(row.time("l")?));
    sql.push(" WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(id));
    ex.execute(sql).await?;
    if object != ObjectKind::Contact || n == 0 {
        return Ok(false);
    }
    Ok(promote_buyers(ex, ws, Some(id)).await? > 0)
}

/// Moves contacts that have orders (the one `only` names, or all) and stand before
/// `customer` in the lifecycle up to it. A real change of a field people edit: it takes
/// a new version, so a stale edit made before the order cannot silently put the old
/// stage back.
async fn promote_buyers(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    only: Option<Uuid>,
) -> Result<u64, Error> {
    let mut sql = Sql::new(
        "UPDATE contacts SET lifecycle_stage = 'customer', version = version + 1 WHERE workspace_id = ",
    );
    sql.bind(Scalar::Uuid(ws.0));
    if let Some(id) = only {
        sql.push(" AND id = ").bind(Scalar::Uuid(id));
    }
    sql.push(" AND order_count > 0 AND deleted_at IS NULL AND (lifecycle_stage IS NULL OR lifecycle_stage IN (")
        .push(BEFORE_CUSTOMER)
        .push("))");
    ex.execute(sql).await
}

/// Sets a contact's last activity time from its live activities.
pub async fn refresh_last_activity(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    contact: Uuid,
) -> Result<(), Error> {
    let mut sql = Sql::new("UPDATE contacts SET last_activity_at = (SELECT MAX(a.occurred_at) FROM activities a WHERE a.workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND a.deleted_at IS NULL AND a.contact_id = ")
        .bind(Scalar::Uuid(contact));
    sql.push(") WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND id = ")
        .bind(Scalar::Uuid(contact));
    ex.execute(sql).await?;
    Ok(())
}

/// The SQL of a contact's last engagement: the later of its last order and activity.
const LAST_ENGAGED: &str = "(CASE WHEN last_order_at IS NULL THEN last_activity_at \
    WHEN last_activity_at IS NULL OR last_order_at > last_activity_at THEN last_order_at \
    ELSE last_activity_at END)";

/// Writes behaviour and value tier of the contacts `only` names (all when None) from
/// their figures and scores.
pub async fn apply_tiers(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    t: &Thresholds,
    now: DateTime<Utc>,
    only: Option<Uuid>,
) -> Result<u64, Error> {
    let d = ex.dialect();
    let [active, at_risk, dormant] = t.behaviour_cutoffs(now);
    let new_since = now - chrono::Duration::days(t.new_customer_days);
    let mut behaviour = Sql::new("CASE WHEN ");
    behaviour
        .push(LAST_ENGAGED)
        .push(" IS NULL THEN NULL WHEN ");
    behaviour
        .push(LAST_ENGAGED)
        .push(" >= ")
        .bind(Scalar::Time(active));
    behaviour
        .push(" THEN 'active' WHEN ")
        .push(LAST_ENGAGED)
        .push(" >= ")
        .bind(Scalar::Time(at_risk));
    behaviour
        .push(" THEN 'at_risk' WHEN ")
        .push(LAST_ENGAGED)
        .push(" >= ")
        .bind(Scalar::Time(dormant));
    behaviour.push(" THEN 'dormant' ELSE 'churned' END");
    let mut sql = Sql::new("UPDATE contacts SET behaviour = ");
    sql.append(behaviour.clone());
    sql.push(", value_tier = ");
    let mut tier = Sql::new("CASE WHEN order_count IS NULL OR order_count = 0 THEN NULL WHEN ");
    match t.high_value_min {
        Some(min) => {
            tier.push("lifetime_value >= ").bind(Scalar::Int(min));
        }
        None => {
            tier.push("rfm_monetary = 5");
        }
    }
    tier.push(" THEN 'high_value' WHEN first_order_at >= ")
        .bind(Scalar::Time(new_since));
    tier.push(" THEN 'new' ELSE 'standard' END");
    sql.append(tier.clone());
    sql.push(" WHERE workspace_id = ").bind(Scalar::Uuid(ws.0));
    if let Some(id) = only {
        sql.push(" AND id = ").bind(Scalar::Uuid(id));
    }
    sql.push(" AND deleted_at IS NULL AND (");
    let mut b = Sql::new("");
    b.append(behaviour);
    sql.push(&differs(d, "behaviour", "")).append(b);
    sql.push(" OR ")
        .push(&differs(d, "value_tier", ""))
        .append(tier);
    sql.push(")");
    ex.execute(sql).await
}

/// What a workspace-wide recompute changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recomputed {
    /// Contacts whose order figures changed.
    pub contacts_valued: u64,
    /// Companies whose order figures changed.
    pub companies_valued: u64,
    /// Contacts whose RFM scores changed.
    pub scored: u64,
    /// Contacts whose behaviour or value tier changed.
    pub tiered: u64,
}

/// Recomputes every figure of a workspace from its orders and activities: values,
/// last activity, RFM scores and groups, behaviour and value tiers. Rows whose figures
/// did not change are not written.
pub async fn recompute(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    currency: &str,
    t: &Thresholds,
    now: DateTime<Utc>,
) -> Result<Recomputed, Error> {
    let mut out = Recomputed {
        contacts_valued: revalue(ex, ws, ObjectKind::Contact, currency).await?,
        companies_valued: revalue(ex, ws, ObjectKind::Company, currency).await?,
        ..Recomputed::default()
    };
    last_activity_all(ex, ws).await?;
    out.scored = score(ex, ws).await?;
    out.tiered = apply_tiers(ex, ws, t, now, None).await?;
    Ok(out)
}

async fn revalue(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    currency: &str,
) -> Result<u64, Error> {
    let d = ex.dialect();
    let key = if object == ObjectKind::Contact {
        "contact_id"
    } else {
        "company_id"
    };
    let table = object.table();
    let mut agg = Sql::new("SELECT o.");
    agg.push(key).push(
        " AS rid, COUNT(*) AS n, CAST(SUM(o.total) AS BIGINT) AS v, MIN(o.ordered_at) AS f, MAX(o.ordered_at) AS l",
    );
    counted_orders(&mut agg, ws, currency);
    agg.push(" AND o.")
        .push(key)
        .push(" IS NOT NULL GROUP BY o.")
        .push(key);
    let mut sql = Sql::new("UPDATE ");
    sql.push(table).push(
        " SET order_count = a.n, lifetime_value = COALESCE(a.v, 0), \
         average_order_value = COALESCE(a.v, 0) / a.n, first_order_at = a.f, last_order_at = a.l FROM (",
    );
    sql.append(agg);
    sql.push(") a WHERE ")
        .push(table)
        .push(".id = a.rid AND ")
        .push(table)
        .push(".workspace_id = ")
        .bind(Scalar::Uuid(ws.0));
    sql.push(" AND (")
        .push(&differs(d, &format!("{table}.order_count"), "a.n"))
        .push(" OR ")
        .push(&differs(
            d,
            &format!("{table}.lifetime_value"),
            "COALESCE(a.v, 0)",
        ))
        .push(" OR ")
        .push(&differs(d, &format!("{table}.last_order_at"), "a.l"))
        .push(" OR ")
        .push(&differs(d, &format!("{table}.first_order_at"), "a.f"))
        .push(")");
    let mut changed = ex.execute(sql).await?;
    // Customers whose every order went away (deleted, cancelled) lose their figures.
    let mut sql = Sql::new("UPDATE ");
    sql.push(table).push(
        " SET order_count = NULL, lifetime_value = NULL, average_order_value = NULL, \
         first_order_at = NULL, last_order_at = NULL WHERE workspace_id = ",
    );
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND order_count IS NOT NULL AND NOT EXISTS (SELECT 1");
    counted_orders(&mut sql, ws, currency);
    sql.push(" AND o.")
        .push(key)
        .push(" = ")
        .push(table)
        .push(".id)");
    changed += ex.execute(sql).await?;
    if object == ObjectKind::Contact {
        promote_buyers(ex, ws, None).await?;
    }
    Ok(changed)
}

async fn last_activity_all(ex: &mut impl Exec, ws: WorkspaceId) -> Result<u64, Error> {
    let d = ex.dialect();
    let mut sql = Sql::new(
        "UPDATE contacts SET last_activity_at = a.l FROM (SELECT contact_id AS rid, MAX(occurred_at) AS l \
         FROM activities WHERE workspace_id = ",
    );
    sql.bind(Scalar::Uuid(ws.0)).push(
        " AND deleted_at IS NULL AND contact_id IS NOT NULL GROUP BY contact_id) a WHERE contacts.id = a.rid AND contacts.workspace_id = ",
    );
    sql.bind(Scalar::Uuid(ws.0)).push(" AND ").push(&differs(
        d,
        "contacts.last_activity_at",
        "a.l",
    ));
    ex.execute(sql).await
}

/// The `CASE` naming the RFM group of scores `r` and `f`, from the one grid in kith-core.
fn group_case(r: &str, f: &str) -> String {
    let mut s = String::from("CASE");
    for (r0, r1, f0, f1, name) in RFM_GRID {
        s.push_str(&format!(
            " WHEN {r} BETWEEN {r0} AND {r1} AND {f} BETWEEN {f0} AND {f1} THEN '{name}'"
        ));
    }
    s.push_str(" END");
    s
}

/// RFM scores: each customer's rank among the workspace's customers by last order,
/// order count and lifetime value, in fifths (ties share their lowest rank, as
/// `kith_core::segmentation::rfm_score` does).
async fn score(ex: &mut impl Exec, ws: WorkspaceId) -> Result<u64, Error> {
    let d = ex.dialect();
    let score =
        |col: &str| format!("1 + ((RANK() OVER (ORDER BY {col}) - 1) * 5) / COUNT(*) OVER ()");
    let mut sql = Sql::new("UPDATE contacts SET rfm_recency = s.r, rfm_frequency = s.f, rfm_monetary = s.m, rfm_group = ");
    sql.push(&group_case("s.r", "s.f"));
    sql.push(" FROM (SELECT id AS rid, ")
        .push(&score("last_order_at"))
        .push(" AS r, ")
        .push(&score("order_count"))
        .push(" AS f, ")
        .push(&score("lifetime_value"))
        .push(" AS m FROM contacts WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0));
    sql.push(" AND deleted_at IS NULL AND order_count > 0) s WHERE contacts.id = s.rid AND (")
        .push(&differs(d, "contacts.rfm_recency", "s.r"))
        .push(" OR ")
        .push(&differs(d, "contacts.rfm_frequency", "s.f"))
        .push(" OR ")
        .push(&differs(d, "contacts.rfm_monetary", "s.m"))
        .push(")");
    let mut changed = ex.execute(sql).await?;
    let mut sql = Sql::new("UPDATE contacts SET rfm_recency = NULL, rfm_frequency = NULL, rfm_monetary = NULL, rfm_group = NULL WHERE workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND rfm_recency IS NOT NULL AND (order_count IS NULL OR order_count = 0 OR deleted_at IS NOT NULL)");
    changed += ex.execute(sql).await?;
    Ok(changed)
}

/// A workspace's segmentation thresholds as stored (`{}` when never set) and when they
/// were last applied to every contact.
pub async fn settings(
    ex: &mut impl Exec,
    ws: WorkspaceId,
) -> Result<(serde_json::Value, Option<DateTime<Utc>>), Error> {
    let sql =
        Sql::new("SELECT settings, recomputed_at FROM segmentation_settings WHERE workspace_id = ")
            .arg(Scalar::Uuid(ws.0));
    Ok(match ex.fetch_optional(sql).await? {
        Some(r) => (
            r.json("settings")?.unwrap_or_else(|| serde_json::json!({})),
            r.time("recomputed_at")?,
        ),
        None => (serde_json::json!({}), None),
    })
}

/// Stores thresholds (`settings`) and/or the time of a recompute.
pub async fn save_settings(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    settings: Option<&serde_json::Value>,
    recomputed_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let (current, at) = self::settings(ex, ws).await?;
    let settings = settings.cloned().unwrap_or(current);
    let at = recomputed_at.or(at);
    let del =
        Sql::new("DELETE FROM segmentation_settings WHERE workspace_id = ").arg(Scalar::Uuid(ws.0));
    ex.execute(del).await?;
    let mut sql = Sql::new(
        "INSERT INTO segmentation_settings (workspace_id, settings, recomputed_at) VALUES (",
    );
    sql.bind(Scalar::Uuid(ws.0))
        .push(", ")
        .bind(Scalar::Json(settings))
        .push(", ")
        .bind(at.map_or(Scalar::Null(ScalarType::Time), Scalar::Time))
        .push(")");
    ex.execute(sql).await?;
    Ok(())
}
