//! What each workflow action does to the run's record. Writes go through the same use
//! cases as a person's (validation, audit, events), acting as the workflow's author;
//! the runner sets the cause so the events they emit name the workflow.
//!
//! [`execute`] is the one place every action is matched: wiring a new capability (the
//! sequence actions) is a change to its arm alone.

use chrono::Utc;
use kith_core::objects::ObjectKind;
use kith_core::workflows::{loosely_equal, Action};
use kith_core::Scalar;
use kith_store::notifications::{self, Notification};
use kith_store::workflows::{self as store, Workflow};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::check::field_input;
use super::webhooks::causes;
use crate::jobs::JobError;
use crate::mail::EmailRequest;
use crate::{App, Caller, Error, Record};

/// The record a run acts on, and as whom.
pub(crate) struct Target<'a> {
    pub(crate) app: &'a App,
    pub(crate) caller: &'a Caller,
    pub(crate) workflow: &'a Workflow,
    pub(crate) run_id: Uuid,
    pub(crate) object: ObjectKind,
    pub(crate) record: Uuid,
}

fn permanent(e: impl std::fmt::Display) -> JobError {
    JobError::Permanent(e.to_string())
}

impl Target<'_> {
    async fn current(&self) -> Result<Record, JobError> {
        Ok(self.app.get(self.caller, self.object, self.record).await?)
    }

    async fn update(&self, input: Map<String, Value>) -> Result<Record, JobError> {
        match self
            .app
            .update(self.caller, self.object, self.record, &input, None)
            .await
        {
            // Someone wrote at the same moment: try again on the fresh record.
            Err(Error::Conflict) => Err(JobError::Retry("the record changed meanwhile".into())),
            other => Ok(other?),
        }
    }

    /// The record's owner (a task's assignee).
    fn owner(rec: &Record) -> Option<Uuid> {
        rec.uuid("owner_id").or_else(|| rec.uuid("assignee_id"))
    }
}

/// Runs action `index` of the run; the JSON is the step's output in the run's history.
pub(crate) async fn execute(
    t: &Target<'_>,
    index: usize,
    action: &Action,
) -> Result<Value, JobError> {
    match action {
        Action::AssignOwner {
            users,
            team_id,
            by_field,
            rules,
        } => assign_owner(t, users, *team_id, by_field.as_deref(), rules).await,
        Action::CreateTask {
            title,
            due_in_days,
            assignee_id,
            notes,
        } => {
            let rec = t.current().await?;
            let mut input = Map::new();
            input.insert("title".into(), json!(title));
            if let Some(d) = due_in_days {
                input.insert(
                    "due_at".into(),
                    json!(Utc::now() + chrono::Duration::days(*d)),
                );
            }
            if let Some(u) = assignee_id.or_else(|| Target::owner(&rec)) {
                input.insert("assignee_id".into(), json!(u));
            }
            if let Some(n) = notes {
                input.insert("notes".into(), json!(n));
            }
            let link = match t.object {
                ObjectKind::Contact => Some("contact_id"),
                ObjectKind::Company => Some("company_id"),
                ObjectKind::Deal => Some("deal_id"),
                _ => None,
            };
            if let Some(link) = link {
                input.insert(link.into(), json!(t.record));
            }
            let task = t.app.create(t.caller, ObjectKind::Task, &input).await?;
            Ok(json!({"task_id": task.id}))
        }
        Action::SendEmail { template_id } => {
            let rec = t.current().await?;
            let contact = match t.object {
                ObjectKind::Contact => Some(rec.id),
                _ => rec.uuid("contact_id"),
            }
            .ok_or_else(|| permanent("the record has no contact to email"))?;
            let req = EmailRequest {
                template_id: Some(*template_id),
                ..EmailRequest::default()
            };
            let key = format!("workflow:{}:{index}", t.run_id);
            let e = t.app.send_email(t.caller, contact, req, Some(&key)).await?;
            Ok(json!({"email_job_id": e.id, "contact_id": contact}))
        }
        Action::UpdateField { field, value } => {
            t.update(field_input(field, value)).await?;
            Ok(json!({"field": field, "value": value}))
        }
        Action::AddTag { tag } | Action::RemoveTag { tag } => {
            let rec = t.current().await?;
            let add = matches!(action, Action::AddTag { .. });
            let mut tags: Vec<String> = rec
                .tags
                .iter()
                .filter(|x| !x.eq_ignore_ascii_case(tag.trim()))
                .cloned()
                .collect();
            if add {
                tags.push(tag.trim().to_string());
            }
            let mut input = Map::new();
            input.insert("tags".into(), json!(tags));
            t.update(input).await?;
            Ok(json!({"tags": tags}))
        }
        Action::Notify {
            user_id,
            title,
            body,
        } => {
            let rec = t.current().await?;
            let user = user_id
                .or_else(|| Target::owner(&rec))
                .ok_or_else(|| permanent("the record has no owner to notify"))?;
            let n = Notification {
                id: Uuid::now_v7(),
                user_id: user,
                title: title.clone(),
                body: body.clone(),
                link: Some(format!("/{}/{}", t.object.plural(), t.record)),
                read_at: None,
                created_at: Utc::now(),
            };
            notifications::add(&mut t.app.db().clone(), t.workflow.workspace, &n)
                .await
                .map_err(Error::from)?;
            Ok(json!({"notification_id": n.id, "user_id": user}))
        }
        Action::Webhook { url } => webhook(t, url).await,
        Action::EnrolSequence { sequence_id } | Action::RemoveFromSequence { sequence_id } => {
            let rec = t.current().await?;
            let contact = match t.object {
                ObjectKind::Contact => Some(rec.id),
                _ => rec.uuid("contact_id"),
            }
            .ok_or_else(|| permanent("the record has no contact"))?;
            let ws = t.workflow.workspace;
            if matches!(action, Action::EnrolSequence { .. }) {
                let enrolled = t.app.enrol_in(ws, *sequence_id, contact).await?;
                Ok(json!({"sequence_id": sequence_id, "contact_id": contact, "enrolled": enrolled}))
            } else {
                let removed = t
                    .app
                    .unenrol_in(ws, *sequence_id, contact, "removed")
                    .await?;
                Ok(json!({"sequence_id": sequence_id, "contact_id": contact, "removed": removed}))
            }
        }
    }
}

async fn assign_owner(
    t: &Target<'_>,
    users: &[Uuid],
    team: Option<Uuid>,
    by_field: Option<&str>,
    rules: &std::collections::BTreeMap<String, Uuid>,
) -> Result<Value, JobError> {
    let rec = t.current().await?;
    let ruled = by_field.and_then(|f| {
        let value = match f.strip_prefix("custom.") {
            Some(k) => rec.custom.get(k).cloned().unwrap_or(Value::Null),
            None => rec.get(f).map(Scalar::to_json).unwrap_or(Value::Null),
        };
        rules
            .iter()
            .find(|(k, _)| loosely_equal(&json!(k), &value))
            .map(|(_, u)| *u)
    });
    let (user, how) = match ruled {
        Some(u) => (u, "rule"),
        None => {
            let mut pool = users.to_vec();
            if let Some(team) = team {
                let ws = t.workflow.workspace;
                let members = store::team_members(&mut t.app.db().clone(), ws, team)
                    .await
                    .map_err(Error::from)?;
                pool.extend(members.into_iter().filter(|m| !users.contains(m)));
            }
            if pool.is_empty() {
                return Err(permanent(
                    "no rule matched and there is nobody to take turns",
                ));
            }
            let mut tx = t.app.db().begin().await.map_err(Error::from)?;
            let turn = store::next_turn(&mut tx, t.workflow.workspace, t.workflow.id)
                .await
                .map_err(Error::from)?;
            tx.commit().await.map_err(Error::from)?;
            let n = pool.len() as i64;
            (pool[turn.rem_euclid(n) as usize], "round_robin")
        }
    };
    let mut input = Map::new();
    input.insert("owner_id".into(), json!(user));
    t.update(input).await?;
    Ok(json!({"owner_id": user, "by": how}))
}

/// HMAC-SHA256 (RFC 2104) of `body` under `key`, hex.
pub fn sign(key: &[u8], body: &[u8]) -> String {
    kith_core::campaigns::hmac_sha256_hex(key, body)
}

async fn webhook(t: &Target<'_>, url: &str) -> Result<Value, JobError> {
    let rec = t.app.get(t.caller, t.object, t.record).await.ok();
    let body = json!({
        "workflow_id": t.workflow.id,
        "workflow": t.workflow.name,
        "run_id": t.run_id,
        "object": t.object.singular(),
        "record_id": t.record,
        "record": rec.map(|r| r.to_json()),
        "sent_at": Utc::now(),
    });
    let bytes = serde_json::to_vec(&body).map_err(permanent)?;
    let signature = format!("sha256={}", sign(t.workflow.secret.as_bytes(), &bytes));
    let client = t.app.webhooks.get().await.map_err(permanent)?;
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-kith-signature", signature)
        .header("x-kith-run", t.run_id.to_string())
        .body(bytes)
        .send()
        .await
        // Unreachable, timed out or an untrusted certificate: retried like a 5xx, as the
        // endpoint may be fixed meanwhile; the causes say which it was.
        .map_err(|e| {
            JobError::Retry(crate::trust::with_hint(format!(
                "webhook {url}: {}",
                causes(&e.without_url())
            )))
        })?;
    let status = res.status().as_u16();
    match status {
        200..=299 => Ok(json!({"status": status})),
        408 | 429 | 500..=599 => Err(JobError::Retry(format!("webhook {url} answered {status}"))),
        _ => Err(permanent(format!("webhook {url} answered {status}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_follow_rfc_4231() {
        assert_eq!(
            super::sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let long_key = [0xaau8; 131];
        assert_eq!(
            super::sign(
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
