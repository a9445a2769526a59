//! The signed-in user's in-app notifications (workflows' "notify a user" adds to them).

use chrono::Utc;
use kith_store::notifications as store;
use uuid::Uuid;

use crate::{App, Caller, Error};

pub use kith_store::notifications::Notification;

impl App {
    /// The caller's newest notifications (unread only if asked) and their unread count.
    pub async fn notifications(
        &self,
        caller: &Caller,
        unread_only: bool,
        limit: i64,
    ) -> Result<(Vec<Notification>, i64), Error> {
        let ws = caller.workspace.id;
        let mut db = self.db.clone();
        let list = store::list(
            &mut db,
            ws,
            caller.user.id,
            unread_only,
            limit.clamp(1, 200),
        )
        .await?;
        let unread = store::unread(&mut db, ws, caller.user.id).await?;
        Ok((list, unread))
    }

    /// Marks one of the caller's notifications read (None: all of them); returns how many.
    pub async fn mark_notifications_read(
        &self,
        caller: &Caller,
        id: Option<Uuid>,
    ) -> Result<u64, Error> {
        let ws = caller.workspace.id;
        let n = store::mark_read(&mut self.db.clone(), ws, caller.user.id, id, Utc::now()).await?;
        if id.is_some() && n == 0 {
            let exists = store::list(&mut self.db.clone(), ws, caller.user.id, false, 200)
                .await?
                .iter()
                .any(|x| Some(x.id) == id);
            if !exists {
                return Err(Error::NotFound("notification"));
            }
        }
        Ok(n)
    }
}
