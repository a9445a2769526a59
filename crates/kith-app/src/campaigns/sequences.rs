//! Sequences: a welcome, nurture, birthday or win-back series of emails with waits
//! between them. A contact is enrolled once; the `sequence.tick` job (every minute)
//! sends each due step through the same send log as campaigns, and ends a contact's
//! series when they reply, buy or unsubscribe.

use chrono::{DateTime, Duration, Utc};
use kith_core::campaigns::{may_mail, parse_steps, Step, CONSENT_MODES};
use kith_core::objects::ObjectKind;
use kith_core::{FieldErrors, Scalar};
use kith_store::email_sends::{self as sends, NewSend};
use kith_store::sequences::{self as store, Enrolment, Sequence};
use kith_store::{Exec, Sql, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{check_marketer, delivery};
use crate::jobs::{Definition, JobContext, JobError};
use crate::{App, Caller, Error};

/// The job (and schedule) that moves every workspace's sequences on.
pub const SEQUENCE_TICK: &str = "sequence.tick";

/// A sequence as a client writes it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceInput {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Steps: `[{"wait_minutes": 0, "template_id": "…"}, …]`.
    #[serde(default)]
    pub steps: Value,
    /// `opted_in` (default) or `not_denied`.
    pub consent_mode: Option<String>,
    /// Whether it sends (default true).
    pub enabled: Option<bool>,
    /// The version the change is based on (updates only).
    pub version: Option<i64>,
}

/// A sequence as JSON for the API.
pub fn sequence_json(s: &Sequence) -> Value {
    json!({
        "id": s.id, "name": s.name, "steps": s.steps, "consent_mode": s.consent_mode,
        "enabled": s.enabled, "version": s.version, "created_at": s.created_at,
        "updated_at": s.updated_at,
    })
}

/// An enrolment as JSON for the API.
pub fn enrolment_json(e: &Enrolment) -> Value {
    json!({
        "sequence_id": e.sequence_id, "contact_id": e.contact_id, "step": e.step,
        "status": e.status, "next_at": e.next_at, "exit_reason": e.exit_reason,
        "enrolled_at": e.enrolled_at, "updated_at": e.updated_at,
    })
}

/// The schedule every workspace has: move sequences on every minute.
pub fn sequence_schedule() -> Definition {
    Definition {
        name: SEQUENCE_TICK.into(),
        kind: SEQUENCE_TICK.into(),
        payload: Value::Object(Default::default()),
        cadence: kith_core::jobs::Cadence::Every(60),
        enabled: true,
    }
}

impl App {
    async fn check_sequence_input(
        &self,
        ws: WorkspaceId,
        input: &SequenceInput,
        s: &mut Sequence,
    ) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.add("name", "must be 1-200 characters");
        }
        s.name = name.to_string();
        match parse_steps(&input.steps) {
            Ok(steps) => {
                for (i, st) in steps.iter().enumerate() {
                    if let Err(Error::NotFound(_)) = self.template_in(ws, st.template_id).await {
                        errors.add(format!("steps[{i}].template_id"), "no such email template");
                    }
                }
                s.steps = serde_json::to_value(&steps).unwrap_or_default();
            }
            Err(e) => return Err(e.into()),
        }
        let mode = input.consent_mode.as_deref().unwrap_or("opted_in");
        if CONSENT_MODES.contains(&mode) {
            s.consent_mode = mode.to_string();
        } else {
            errors.add(
                "consent_mode",
                format!("must be one of {}", CONSENT_MODES.join(", ")),
            );
        }
        s.enabled = input.enabled.unwrap_or(true);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(kith_core::Error::fields(errors).into())
        }
    }

    /// The workspace's sequences.
    pub async fn sequences(&self, caller: &Caller) -> Result<Vec<Sequence>, Error> {
        Ok(store::sequences(&mut self.db.clone(), caller.workspace.id).await?)
    }

    /// One sequence.
    pub async fn sequence(&self, caller: &Caller, id: Uuid) -> Result<Sequence, Error> {
        store::sequence(&mut self.db.clone(), caller.workspace.id, id)
            .await?
            .ok_or(Error::NotFound("sequence"))
    }

    /// Creates a sequence.
    pub async fn create_sequence(
        &self,
        caller: &Caller,
        input: SequenceInput,
    ) -> Result<Sequence, Error> {
        check_marketer(caller)?;
        let now = Utc::now();
        let mut s = Sequence {
            id: Uuid::now_v7(),
            name: String::new(),
            steps: Value::Null,
            consent_mode: String::new(),
            enabled: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.check_sequence_input(caller.workspace.id, &input, &mut s)
            .await?;
        store::insert_sequence(&mut self.db.clone(), caller.workspace.id, &s).await?;
        Ok(s)
    }

    /// Changes a sequence; contacts in it go on at their step with the new steps.
    pub async fn update_sequence(
        &self,
        caller: &Caller,
        id: Uuid,
        input: SequenceInput,
    ) -> Result<Sequence, Error> {
        check_marketer(caller)?;
        let mut s = self.sequence(caller, id).await?;
        let expected = input.version.unwrap_or(s.version);
        if expected != s.version {
            return Err(Error::Invalid(kith_core::Error::field(
                "version",
                format!(
                    "the sequence changed since version {expected}; it is now at version {}",
                    s.version
                ),
            )));
        }
        self.check_sequence_input(caller.workspace.id, &input, &mut s)
            .await?;
        s.updated_at = Utc::now();
        if !store::update_sequence(&mut self.db.clone(), caller.workspace.id, &s, expected).await? {
            return Err(Error::Conflict);
        }
        self.sequence(caller, id).await
    }

    /// Enrols a contact; false if they are or were in it already.
    pub async fn enrol(
        &self,
        caller: &Caller,
        sequence_id: Uuid,
        contact_id: Uuid,
    ) -> Result<bool, Error> {
        check_marketer(caller)?;
        self.get(caller, ObjectKind::Contact, contact_id).await?;
        self.enrol_in(caller.workspace.id, sequence_id, contact_id)
            .await
    }

    /// Enrols a contact without a caller (workflows); false if already enrolled.
    pub async fn enrol_in(
        &self,
        ws: WorkspaceId,
        sequence_id: Uuid,
        contact_id: Uuid,
    ) -> Result<bool, Error> {
        let s = store::sequence(&mut self.db.clone(), ws, sequence_id)
            .await?
            .ok_or(Error::NotFound("sequence"))?;
        if !s.enabled {
            return Err(Error::Invalid(kith_core::Error::field(
                "sequence_id",
                "the sequence is switched off",
            )));
        }
        let first = parse_steps(&s.steps)?
            .first()
            .map_or(0, |st| st.wait_minutes);
        let now = Utc::now();
        let added = store::enrol(
            &mut self.db.clone(),
            ws,
            sequence_id,
            contact_id,
            now + Duration::minutes(first),
            now,
        )
        .await?;
        self.wake_workers();
        Ok(added)
    }

    /// Takes a contact out of a sequence; false if they were not active in it.
    pub async fn unenrol(
        &self,
        caller: &Caller,
        sequence_id: Uuid,
        contact_id: Uuid,
    ) -> Result<bool, Error> {
        check_marketer(caller)?;
        self.unenrol_in(caller.workspace.id, sequence_id, contact_id, "removed")
            .await
    }

    /// Takes a contact out of a sequence without a caller (workflows).
    pub async fn unenrol_in(
        &self,
        ws: WorkspaceId,
        sequence_id: Uuid,
        contact_id: Uuid,
        reason: &str,
    ) -> Result<bool, Error> {
        Ok(store::exit(
            &mut self.db.clone(),
            ws,
            contact_id,
            Some(sequence_id),
            reason,
            Utc::now(),
        )
        .await?
            > 0)
    }

    /// The contact with this email address (main or further), if any.
    pub async fn contact_by_email(
        &self,
        caller: &Caller,
        email: &str,
    ) -> Result<Option<Uuid>, Error> {
        Ok(
            kith_store::mail::contact_by_email(&mut self.db.clone(), caller.workspace.id, email)
                .await?,
        )
    }

    /// A sequence's (or a contact's) enrolments.
    pub async fn enrolments(
        &self,
        caller: &Caller,
        sequence_id: Option<Uuid>,
        contact_id: Option<Uuid>,
    ) -> Result<Vec<Enrolment>, Error> {
        Ok(store::enrolments(
            &mut self.db.clone(),
            caller.workspace.id,
            sequence_id,
            contact_id,
            500,
        )
        .await?)
    }

    /// Moves the workspace's sequences on: due steps are queued (or the contact exits),
    /// then sent. Returns how many enrolments moved.
    pub async fn sequence_tick(&self, ws: WorkspaceId) -> Result<usize, Error> {
        let now = Utc::now();
        let due = store::due(&mut self.db.clone(), ws, now, 1000).await?;
        let settings = kith_store::mail::settings(&mut self.db.clone(), ws)
            .await?
            .unwrap_or_default();
        let mut cache: std::collections::HashMap<Uuid, Option<(Sequence, Vec<Step>)>> =
            Default::default();
        for e in &due {
            if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(e.sequence_id) {
                let s = store::sequence(&mut self.db.clone(), ws, e.sequence_id).await?;
                slot.insert(match s {
                    Some(s) if s.enabled => parse_steps(&s.steps).ok().map(|st| (s, st)),
                    _ => None,
                });
            }
            let Some((seq, steps)) = cache.get(&e.sequence_id).and_then(Option::as_ref) else {
                continue;
            };
            self.step_one(ws, seq, steps, e, &settings.from_email, now)
                .await?;
        }
        for source in sends::due_sources(&mut self.db.clone(), ws, "sequence", Utc::now()).await? {
            delivery::deliver(self, ws, source, 0, 500).await?;
        }
        Ok(due.len())
    }

    async fn step_one(
        &self,
        ws: WorkspaceId,
        seq: &Sequence,
        steps: &[Step],
        e: &Enrolment,
        from_email: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        let mut next = e.clone();
        let contact =
            kith_store::records::get(&mut tx, ws, ObjectKind::Contact, e.contact_id, false).await?;
        let exit = match &contact {
            None => Some("deleted"),
            Some(_) => exit_reason(&mut tx, ws, e).await?,
        };
        let step = usize::try_from(e.step).unwrap_or(usize::MAX);
        match (exit, contact, steps.get(step)) {
            (Some(reason), _, _) => {
                next.status = "exited".into();
                next.exit_reason = Some(reason.into());
                next.next_at = None;
            }
            (None, Some(c), Some(st)) => {
                let email = c.text("email").unwrap_or_default().to_string();
                let suppressed = !email.is_empty()
                    && kith_store::campaigns::is_suppressed(&mut tx, ws, &email).await?;
                let why = if email.is_empty() {
                    Err("no email address")
                } else if suppressed {
                    Err("on the suppression list")
                } else {
                    may_mail(
                        c.get("consent").map(Scalar::to_json).as_ref(),
                        &seq.consent_mode,
                    )
                };
                let row = NewSend {
                    id: Uuid::now_v7(),
                    contact_id: c.id,
                    email,
                    message_id: crate::mail::new_message_id(from_email),
                    status: if why.is_ok() { "queued" } else { "skipped" },
                    error: why.err().map(str::to_string),
                };
                sends::queue(
                    &mut tx,
                    ws,
                    "sequence",
                    seq.id,
                    e.step,
                    st.template_id,
                    &[row],
                    now,
                )
                .await?;
                next.step = e.step + 1;
                match steps.get(step + 1) {
                    Some(following) => {
                        next.next_at = Some(now + Duration::minutes(following.wait_minutes))
                    }
                    None => {
                        next.status = "completed".into();
                        next.next_at = None;
                    }
                }
            }
            (None, _, _) => {
                next.status = "completed".into();
                next.next_at = None;
            }
        }
        store::advance(&mut tx, ws, &next, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Why a contact leaves a sequence now: they replied or bought since enrolling, or
/// refused email.
async fn exit_reason(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    e: &Enrolment,
) -> Result<Option<&'static str>, Error> {
    let replied = Sql::new("SELECT 1 AS x FROM activities WHERE workspace_id = ")
        .arg(Scalar::Uuid(ws.0))
        .and(" AND contact_id = ")
        .arg(Scalar::Uuid(e.contact_id))
        .and(" AND kind = 'email' AND direction = 'inbound' AND deleted_at IS NULL AND occurred_at >= ")
        .arg(Scalar::Time(e.enrolled_at))
        .and(" LIMIT 1");
    if ex.fetch_optional(replied).await?.is_some() {
        return Ok(Some("replied"));
    }
    let bought = Sql::new("SELECT 1 AS x FROM orders WHERE workspace_id = ")
        .arg(Scalar::Uuid(ws.0))
        .and(" AND contact_id = ")
        .arg(Scalar::Uuid(e.contact_id))
        .and(" AND deleted_at IS NULL AND ordered_at >= ")
        .arg(Scalar::Time(e.enrolled_at))
        .and(" LIMIT 1");
    if ex.fetch_optional(bought).await?.is_some() {
        return Ok(Some("ordered"));
    }
    Ok(None)
}

async fn tick(cx: JobContext) -> Result<(), JobError> {
    cx.app.sequence_tick(cx.job.workspace).await?;
    Ok(())
}

/// Registers the sequence job.
pub(crate) fn register(h: &mut crate::jobs::Handlers) {
    h.on(SEQUENCE_TICK, tick);
}
