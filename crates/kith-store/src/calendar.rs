//! Calendar feeds: the hash of each user's secret feed URL, so calendar apps can poll
//! a user's tasks and meetings without a session.

use chrono::{DateTime, Utc};
use kith_core::Scalar;
use uuid::Uuid;

use crate::accounts::{user_by_id, User};
use crate::db::{Db, Exec, Sql};
use crate::{Error, WorkspaceId};

/// Stores `token_hash` as the user's feed, replacing (and so revoking) any earlier one.
pub async fn set_feed(
    db: &Db,
    ws: WorkspaceId,
    user: Uuid,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    tx.execute(
        Sql::new("DELETE FROM calendar_feeds WHERE workspace_id = ")
            .arg(Scalar::Uuid(ws.0))
            .and(" AND user_id = ")
            .arg(Scalar::Uuid(user)),
    )
    .await?;
    tx.execute(
        Sql::new(
            "INSERT INTO calendar_feeds (user_id, workspace_id, token_hash, created_at) VALUES (",
        )
        .arg(Scalar::Uuid(user))
        .and(", ")
        .arg(Scalar::Uuid(ws.0))
        .and(", ")
        .arg(Scalar::Text(token_hash.into()))
        .and(", ")
        .arg(Scalar::Time(now))
        .and(")"),
    )
    .await
    .map_err(|e| e.unique_as("calendar feed"))?;
    tx.commit().await
}

/// Removes the user's feed; false when there was none.
pub async fn delete_feed(db: &Db, ws: WorkspaceId, user: Uuid) -> Result<bool, Error> {
    let n = db
        .clone()
        .execute(
            Sql::new("DELETE FROM calendar_feeds WHERE workspace_id = ")
                .arg(Scalar::Uuid(ws.0))
                .and(" AND user_id = ")
                .arg(Scalar::Uuid(user)),
        )
        .await?;
    Ok(n > 0)
}

/// The user whose feed has this hash, noting the poll; None for an unknown hash.
pub async fn feed_user(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, Error> {
    let mut db2 = db.clone();
    let row = db2
        .fetch_optional(
            Sql::new("SELECT user_id FROM calendar_feeds WHERE token_hash = ")
                .arg(Scalar::Text(token_hash.into())),
        )
        .await?;
    let Some(user) = row.map(|r| r.uuid("user_id")).transpose()?.flatten() else {
        return Ok(None);
    };
    db2.execute(
        Sql::new("UPDATE calendar_feeds SET last_used_at = ")
            .arg(Scalar::Time(now))
            .and(" WHERE token_hash = ")
            .arg(Scalar::Text(token_hash.into())),
    )
    .await?;
    user_by_id(db, user).await
}
