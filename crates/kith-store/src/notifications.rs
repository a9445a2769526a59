//! In-app notifications: a list per user that workflows (and later other features) add
//! to, and that the user marks read.

use chrono::{DateTime, Utc};
use kith_core::{Scalar, ScalarType};
use uuid::Uuid;

use crate::db::{Exec, Sql};
use crate::{Error, WorkspaceId};

/// One notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Id.
    pub id: Uuid,
    /// For this user.
    pub user_id: Uuid,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Where it points (a path in the UI).
    pub link: Option<String>,
    /// When the user marked it read.
    pub read_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Adds a notification for a user of `ws`.
pub async fn add(ex: &mut impl Exec, ws: WorkspaceId, n: &Notification) -> Result<(), Error> {
    let mut sql = Sql::new(
        "INSERT INTO notifications (id, workspace_id, user_id, title, body, link, created_at) VALUES (",
    );
    sql.bind_list([
        Scalar::Uuid(n.id),
        Scalar::Uuid(ws.0),
        Scalar::Uuid(n.user_id),
        Scalar::Text(n.title.clone()),
        Scalar::Text(n.body.clone()),
        n.link
            .clone()
            .map(Scalar::Text)
            .unwrap_or(Scalar::Null(ScalarType::Text)),
        Scalar::Time(n.created_at),
    ]);
    sql.push(")");
    ex.execute(sql).await?;
    Ok(())
}

/// A user's newest notifications (unread only if asked).
pub async fn list(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    user: Uuid,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<Notification>, Error> {
    let mut sql = Sql::new(
        "SELECT id, user_id, title, body, link, read_at, created_at FROM notifications WHERE workspace_id = ",
    );
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND user_id = ")
        .bind(Scalar::Uuid(user));
    if unread_only {
        sql.push(" AND read_at IS NULL");
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .bind(Scalar::Int(limit));
    let mut out = Vec::new();
    for r in ex.fetch_all(sql).await? {
        out.push(Notification {
            id: r.uuid("id")?.unwrap_or_default(),
            user_id: r.uuid("user_id")?.unwrap_or_default(),
            title: r.text("title")?.unwrap_or_default(),
            body: r.text("body")?.unwrap_or_default(),
            link: r.text("link")?,
            read_at: r.time("read_at")?,
            created_at: r.time("created_at")?.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// How many unread notifications a user has.
pub async fn unread(ex: &mut impl Exec, ws: WorkspaceId, user: Uuid) -> Result<i64, Error> {
    let mut sql = Sql::new("SELECT COUNT(*) AS n FROM notifications WHERE workspace_id = ");
    sql.bind(Scalar::Uuid(ws.0))
        .push(" AND user_id = ")
        .bind(Scalar::Uuid(user))
        .push(" AND read_at IS NULL");
    Ok(ex
        .fetch_optional(sql)
        .await?
        .and_then(|r| r.int("n").ok().flatten())
        .unwrap_or(0))
}

/// Marks one (or, with None, every) notification of a user read; returns how many.
pub async fn mark_read(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    user: Uuid,
    id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let mut sql = Sql::new("UPDATE notifications SET read_at = ");
    sql.bind(Scalar::Time(now))
        .push(" WHERE workspace_id = ")
        .bind(Scalar::Uuid(ws.0))
        .push(" AND user_id = ")
        .bind(Scalar::Uuid(user))
        .push(" AND read_at IS NULL");
    if let Some(id) = id {
        sql.push(" AND id = ").bind(Scalar::Uuid(id));
    }
    ex.execute(sql).await
}
