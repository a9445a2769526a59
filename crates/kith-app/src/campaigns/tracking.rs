//! What recipients do with a message, through its signed links: unsubscribe (consent
//! withdrawn as an audited change, address suppressed, sequences left), opens, clicks.

use chrono::Utc;
use kith_core::campaigns::{named_send, verify, LinkPurpose};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use kith_store::email_sends::{self as sends, EmailSend, Engagement};
use kith_store::records::AuditEntry;
use serde_json::{json, Value};

use crate::{App, Error};

/// The result of an unsubscribe link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The address taken off the list.
    pub email: String,
    /// The workspace's name, for the confirmation page.
    pub workspace: String,
}

impl App {
    /// The send a token was signed for, if the signature holds.
    async fn send_for(
        &self,
        token: &str,
        purpose: LinkPurpose,
        url: &str,
    ) -> Result<Option<EmailSend>, Error> {
        let Some(id) = named_send(token) else {
            return Ok(None);
        };
        let mut db = self.db.clone();
        let Some(send) = sends::get(&mut db, id).await? else {
            return Ok(None);
        };
        let Some((_, key)) = kith_store::campaigns::link_settings(&mut db, send.workspace).await?
        else {
            return Ok(None);
        };
        Ok(verify(key.as_bytes(), token, purpose, url).map(|_| send))
    }

    /// Who an unsubscribe token is for, without acting (the confirmation page).
    pub async fn unsubscribe_target(&self, token: &str) -> Result<Option<Unsubscribed>, Error> {
        let Some(send) = self.send_for(token, LinkPurpose::Unsubscribe, "").await? else {
            return Ok(None);
        };
        let ws = kith_store::accounts::workspace(&self.db, send.workspace).await?;
        Ok(Some(Unsubscribed {
            email: send.email,
            workspace: ws.map(|w| w.name).unwrap_or_default(),
        }))
    }

    /// Unsubscribes the recipient of a token: email consent becomes `denied` (audited,
    /// a new version of the contact), the address is suppressed, their sequences end.
    /// Doing it twice changes nothing more. None when the token is not valid.
    pub async fn unsubscribe(&self, token: &str) -> Result<Option<Unsubscribed>, Error> {
        let Some(send) = self.send_for(token, LinkPurpose::Unsubscribe, "").await? else {
            return Ok(None);
        };
        let ws = send.workspace;
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        sends::engage(&mut tx, send.id, Engagement::Unsubscribed, now).await?;
        kith_store::campaigns::suppress(&mut tx, ws, &send.email, "unsubscribed", now).await?;
        kith_store::sequences::exit(&mut tx, ws, send.contact_id, None, "unsubscribed", now)
            .await?;
        if let Some(contact) =
            kith_store::records::get(&mut tx, ws, ObjectKind::Contact, send.contact_id, false)
                .await?
        {
            let before = contact
                .get("consent")
                .map(Scalar::to_json)
                .unwrap_or(Value::Null);
            let mut after = before.as_object().cloned().unwrap_or_default();
            if after.get("email").and_then(Value::as_str) != Some("denied") {
                after.insert("email".into(), json!("denied"));
                let spec = ObjectKind::Contact
                    .field("consent")
                    .expect("contacts have consent");
                let after = Value::Object(after);
                if !kith_store::records::update(
                    &mut tx,
                    ws,
                    ObjectKind::Contact,
                    contact.id,
                    contact.version,
                    now,
                    &[(spec, Scalar::Json(after.clone()))],
                    None,
                )
                .await?
                {
                    return Err(Error::Conflict);
                }
                let entry = AuditEntry {
                    actor: None,
                    action: "update",
                    object: ObjectKind::Contact,
                    record_id: contact.id,
                    changes: json!({"consent": {"from": before, "to": after}, "reason": "unsubscribed from an email"}),
                };
                kith_store::records::audit_and_emit(&mut tx, ws, now, entry).await?;
            }
        }
        tx.commit().await?;
        let name = kith_store::accounts::workspace(&self.db, ws)
            .await?
            .map(|w| w.name)
            .unwrap_or_default();
        Ok(Some(Unsubscribed {
            email: send.email,
            workspace: name,
        }))
    }

    /// Counts an open for a pixel token (invalid tokens are ignored).
    pub async fn track_open(&self, token: &str) -> Result<(), Error> {
        if let Some(send) = self.send_for(token, LinkPurpose::Open, "").await? {
            sends::engage(
                &mut self.db.clone(),
                send.id,
                Engagement::Opened,
                Utc::now(),
            )
            .await?;
        }
        Ok(())
    }

    /// Counts a click; returns where to go, only if the token was signed for that URL
    /// (so the endpoint is no open redirect).
    pub async fn track_click(&self, token: &str, url: &str) -> Result<Option<String>, Error> {
        match self.send_for(token, LinkPurpose::Click, url).await? {
            Some(send) => {
                sends::engage(
                    &mut self.db.clone(),
                    send.id,
                    Engagement::Clicked,
                    Utc::now(),
                )
                .await?;
                Ok(Some(url.to_string()))
            }
            None => Ok(None),
        }
    }
}
