//! Workflows, the pure parts: a definition (trigger, conditions as filter text, ordered
//! actions with optional delays) parsed from JSON with an error per field, which event
//! a trigger answers, and the dates a date-relative trigger fires on.
//!
//! Checks that need the workspace (does the field, template, user or segment exist, does
//! the filter resolve) are kith-app's.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::objects::ObjectKind;
use crate::{Error, FieldErrors};

/// Events caused by a workflow's own writes are not fed back further than this.
pub const MAX_DEPTH: i64 = 5;

/// What starts a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A record of `object` was created.
    RecordCreated {
        /// contact, company, deal or task.
        object: String,
    },
    /// A record of `object` was changed.
    RecordUpdated {
        /// contact, company, deal or task.
        object: String,
    },
    /// `field` changed, from `from` (any when absent) to `to` (any when absent).
    FieldChanged {
        /// contact, company, deal or task.
        object: String,
        /// A built-in field or `custom.KEY`.
        field: String,
        /// The old value to match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Value>,
        /// The new value to match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Value>,
    },
    /// A deal moved between stages.
    DealStageChanged {
        /// Only from this stage.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_stage_id: Option<Uuid>,
        /// Only to this stage.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_stage_id: Option<Uuid>,
    },
    /// An open task's due time passed (periodic scan).
    TaskOverdue {},
    /// A record entered a segment.
    SegmentEntered {
        /// The segment.
        segment_id: Uuid,
    },
    /// A record left a segment.
    SegmentLeft {
        /// The segment.
        segment_id: Uuid,
    },
    /// `offset_days` after (negative: before) a date field; `yearly` for anniversaries
    /// such as a birthday (periodic scan, once per record per date).
    DateRelative {
        /// contact, company, deal or task.
        object: String,
        /// A date field such as `birthday` or `expected_close`.
        field: String,
        /// Days after the date (negative: before).
        #[serde(default)]
        offset_days: i64,
        /// Every year on the anniversary.
        #[serde(default)]
        yearly: bool,
    },
    /// No activity logged on the record for `days` days (periodic scan, once per quiet spell).
    NoActivity {
        /// contact, company or deal.
        object: String,
        /// Days without activity.
        days: u32,
    },
}

/// What a step does to the run's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Sets the owner: by `rules` on `by_field` (value → user), else round-robin over
    /// `users` or the members of `team_id`.
    AssignOwner {
        /// Round-robin over these users.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        users: Vec<Uuid>,
        /// Round-robin over this team's members.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team_id: Option<Uuid>,
        /// Field whose value picks the user in `rules` (e.g. `country`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by_field: Option<String>,
        /// Value of `by_field` → user.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        rules: BTreeMap<String, Uuid>,
    },
    /// Creates a task linked to the record.
    CreateTask {
        /// Title.
        title: String,
        /// Due this many days after the run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_in_days: Option<i64>,
        /// Assignee (default: the record's owner).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee_id: Option<Uuid>,
        /// Notes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notes: Option<String>,
    },
    /// Sends a stored email template to the record's contact.
    SendEmail {
        /// The template.
        template_id: Uuid,
    },
    /// Sets a field of the record.
    UpdateField {
        /// A writable built-in field or `custom.KEY`.
        field: String,
        /// Its new value (as the API takes it).
        value: Value,
    },
    /// Adds a tag.
    AddTag {
        /// Tag name.
        tag: String,
    },
    /// Removes a tag.
    RemoveTag {
        /// Tag name.
        tag: String,
    },
    /// Adds an in-app notification for a user (or the record's owner).
    Notify {
        /// The user; the record's owner when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<Uuid>,
        /// Title.
        title: String,
        /// Body.
        #[serde(default)]
        body: String,
    },
    /// POSTs the run as JSON, signed `X-Kith-Signature: sha256=HEX` with the workflow's secret.
    Webhook {
        /// An http:// or https:// URL (other schemes are refused).
        url: String,
    },
    /// Enrols the record's contact in a sequence.
    EnrolSequence {
        /// The sequence.
        sequence_id: Uuid,
    },
    /// Removes the record's contact from a sequence.
    RemoveFromSequence {
        /// The sequence.
        sequence_id: Uuid,
    },
}

impl Action {
    /// The `type` name.
    pub fn name(&self) -> &'static str {
        match self {
            Action::AssignOwner { .. } => "assign_owner",
            Action::CreateTask { .. } => "create_task",
            Action::SendEmail { .. } => "send_email",
            Action::UpdateField { .. } => "update_field",
            Action::AddTag { .. } => "add_tag",
            Action::RemoveTag { .. } => "remove_tag",
            Action::Notify { .. } => "notify",
            Action::Webhook { .. } => "webhook",
            Action::EnrolSequence { .. } => "enrol_sequence",
            Action::RemoveFromSequence { .. } => "remove_from_sequence",
        }
    }
}

/// An action and how long to wait before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What to do.
    pub action: Action,
    /// Minutes to wait after the previous step.
    pub delay_minutes: u32,
}

/// A whole workflow as saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// Name, unique in the workspace.
    pub name: String,
    /// What starts it.
    pub trigger: Trigger,
    /// Filter text on the trigger's object; empty: every record.
    pub conditions: String,
    /// What it does, in order.
    pub actions: Vec<Step>,
}

/// Objects a trigger may name.
pub const OBJECTS: [ObjectKind; 4] = [
    ObjectKind::Contact,
    ObjectKind::Company,
    ObjectKind::Deal,
    ObjectKind::Task,
];

fn object_of(name: &str) -> Option<ObjectKind> {
    ObjectKind::from_singular(name.trim()).filter(|o| OBJECTS.contains(o))
}

/// Which part of the serde message names the field: "unknown field `x`".
fn serde_field(msg: &str) -> Option<&str> {
    msg.split('`')
        .nth(1)
        .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

fn shape<T: serde::de::DeserializeOwned>(
    at: &str,
    v: Value,
    errors: &mut FieldErrors,
) -> Option<T> {
    match serde_json::from_value(v) {
        Ok(t) => Some(t),
        Err(e) => {
            let msg = e.to_string();
            let field = match serde_field(&msg) {
                Some(_) if msg.starts_with("unknown variant") => format!("{at}.type"),
                Some(f) => format!("{at}.{f}"),
                None => at.to_string(),
            };
            errors.add(field, msg);
            None
        }
    }
}

impl Trigger {
    /// The object whose records it runs on (None: a segment's, known from the segment).
    pub fn object(&self) -> Option<ObjectKind> {
        match self {
            Trigger::RecordCreated { object }
            | Trigger::RecordUpdated { object }
            | Trigger::FieldChanged { object, .. }
            | Trigger::DateRelative { object, .. }
            | Trigger::NoActivity { object, .. } => object_of(object),
            Trigger::DealStageChanged { .. } => Some(ObjectKind::Deal),
            Trigger::TaskOverdue {} => Some(ObjectKind::Task),
            Trigger::SegmentEntered { .. } | Trigger::SegmentLeft { .. } => None,
        }
    }

    /// The `type` name (stored beside the definition, to find workflows by trigger).
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::RecordCreated { .. } => "record_created",
            Trigger::RecordUpdated { .. } => "record_updated",
            Trigger::FieldChanged { .. } => "field_changed",
            Trigger::DealStageChanged { .. } => "deal_stage_changed",
            Trigger::TaskOverdue {} => "task_overdue",
            Trigger::SegmentEntered { .. } => "segment_entered",
            Trigger::SegmentLeft { .. } => "segment_left",
            Trigger::DateRelative { .. } => "date_relative",
            Trigger::NoActivity { .. } => "no_activity",
        }
    }

    /// Found by the periodic scan rather than by an event.
    pub fn is_scanned(&self) -> bool {
        matches!(
            self,
            Trigger::TaskOverdue {} | Trigger::DateRelative { .. } | Trigger::NoActivity { .. }
        )
    }

    /// Whether an outbox event (`contact.updated`, `segment.entered`, …) about a record
    /// of `object` with `payload` starts this trigger.
    pub fn matches_event(&self, kind: &str, object: &str, payload: &Value) -> bool {
        let changes = &payload["changes"];
        let on = |o: &str| object_of(o).map(|k| k.singular()) == Some(object);
        match self {
            Trigger::RecordCreated { object: o } => on(o) && kind == format!("{object}.created"),
            Trigger::RecordUpdated { object: o } => on(o) && kind == format!("{object}.updated"),
            Trigger::FieldChanged {
                object: o,
                field,
                from,
                to,
            } => {
                on(o)
                    && kind == format!("{object}.updated")
                    && changed(&changes[field.as_str()], from.as_ref(), to.as_ref())
            }
            Trigger::DealStageChanged {
                from_stage_id,
                to_stage_id,
            } => {
                let id = |u: &Option<Uuid>| u.map(|u| Value::String(u.to_string()));
                kind == "deal.updated"
                    && changed(
                        &changes["stage_id"],
                        id(from_stage_id).as_ref(),
                        id(to_stage_id).as_ref(),
                    )
            }
            Trigger::SegmentEntered { segment_id } | Trigger::SegmentLeft { segment_id } => {
                let want = if matches!(self, Trigger::SegmentEntered { .. }) {
                    "segment.entered"
                } else {
                    "segment.left"
                };
                kind == want && payload["segment_id"].as_str() == Some(&segment_id.to_string())
            }
            _ => false,
        }
    }
}

/// Whether an audit diff `{from, to}` (Null when the field did not change) matches.
fn changed(diff: &Value, from: Option<&Value>, to: Option<&Value>) -> bool {
    if !diff.is_object() {
        return false;
    }
    let same = |want: Option<&Value>, got: &Value| match want {
        None => true,
        Some(w) => loosely_equal(w, got),
    };
    same(from, &diff["from"]) && same(to, &diff["to"])
}

/// `"5"` equals `5`, `"Lead"` equals `"lead"`: values as a person types them.
pub fn loosely_equal(want: &Value, got: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.trim().to_lowercase(),
        Value::Null => String::new(),
        other => other.to_string().to_lowercase(),
    };
    want == got || text(want) == text(got)
}

/// The date a yearly trigger with `offset_days` fires on for `date` in `year`, and the
/// anniversary it is for: 29 February counts as 28 February in other years.
pub fn anniversary(date: NaiveDate, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), date.day() - 1))
        .unwrap_or(date)
}

/// The date whose record fires today: `today - offset_days`.
pub fn due_date(today: NaiveDate, offset_days: i64) -> NaiveDate {
    today - chrono::Duration::days(offset_days)
}

fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    match rest {
        Some(r) => {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

impl Definition {
    /// Parses `{name, trigger, conditions, actions: [{type, …, delay_minutes}]}`,
    /// reporting every wrong part by its path (`trigger.field`, `actions[1].url`).
    pub fn parse(v: &Value) -> Result<Definition, Error> {
        let mut errors = FieldErrors::default();
        let Some(obj) = v.as_object() else {
            return Err(Error::field("body", "must be a JSON object"));
        };
        for k in obj.keys() {
            if !["name", "trigger", "conditions", "actions", "enabled"].contains(&k.as_str()) {
                errors.add(k.clone(), "unknown field");
            }
        }
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
            .to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.add("name", "is required (at most 200 characters)");
        }
        let trigger = match obj.get("trigger") {
            Some(t) => shape::<Trigger>("trigger", t.clone(), &mut errors),
            None => {
                errors.add("trigger", "is required");
                None
            }
        };
        if let Some(t) = &trigger {
            check_trigger(t, &mut errors);
        }
        let conditions = match obj.get("conditions") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(_) => {
                errors.add("conditions", "must be filter text, e.g. `country = DK`");
                String::new()
            }
        };
        let mut actions = Vec::new();
        match obj.get("actions") {
            Some(Value::Array(list)) if !list.is_empty() && list.len() <= 20 => {
                for (i, a) in list.iter().enumerate() {
                    if let Some(step) = parse_step(&format!("actions[{i}]"), a, &mut errors) {
                        actions.push(step);
                    }
                }
            }
            _ => errors.add("actions", "must be a list of 1 to 20 actions"),
        }
        match (errors.is_empty(), trigger) {
            (true, Some(trigger)) => Ok(Definition {
                name,
                trigger,
                conditions,
                actions,
            }),
            _ => Err(Error::fields(errors)),
        }
    }

    /// The JSON form [`Definition::parse`] reads.
    pub fn to_json(&self) -> Value {
        let actions: Vec<Value> = self
            .actions
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(&s.action).unwrap_or(Value::Null);
                if s.delay_minutes > 0 {
                    v["delay_minutes"] = Value::from(s.delay_minutes);
                }
                v
            })
            .collect();
        serde_json::json!({
            "name": self.name,
            "trigger": serde_json::to_value(&self.trigger).unwrap_or(Value::Null),
            "conditions": self.conditions,
            "actions": actions,
        })
    }
}

fn check_trigger(t: &Trigger, errors: &mut FieldErrors) {
    match t {
        Trigger::RecordCreated { object }
        | Trigger::RecordUpdated { object }
        | Trigger::FieldChanged { object, .. }
        | Trigger::DateRelative { object, .. }
        | Trigger::NoActivity { object, .. }
            if object_of(object).is_none() =>
        {
            errors.add("trigger.object", "must be contact, company, deal or task");
        }
        _ => {}
    }
    match t {
        Trigger::DateRelative { offset_days, .. } if offset_days.abs() > 3650 => {
            errors.add("trigger.offset_days", "must be within ±3650 days");
        }
        Trigger::NoActivity { object, days } => {
            if *days == 0 || *days > 3650 {
                errors.add("trigger.days", "must be 1 to 3650");
            }
            if object.trim() == "task" {
                errors.add("trigger.object", "must be contact, company or deal");
            }
        }
        _ => {}
    }
}

fn parse_step(at: &str, v: &Value, errors: &mut FieldErrors) -> Option<Step> {
    let Some(obj) = v.as_object() else {
        errors.add(at, "must be an object with a `type`");
        return None;
    };
    let mut rest: Map<String, Value> = obj.clone();
    let delay_minutes = match rest.remove("delay_minutes") {
        None | Some(Value::Null) => 0,
        Some(d) => match d.as_u64() {
            Some(m) if m <= 525_600 => m as u32,
            _ => {
                errors.add(format!("{at}.delay_minutes"), "must be 0 to 525600 minutes");
                0
            }
        },
    };
    let action = shape::<Action>(at, Value::Object(rest), errors)?;
    let field = |f: &str| format!("{at}.{f}");
    match &action {
        Action::CreateTask { title, .. } if title.trim().is_empty() => {
            errors.add(field("title"), "is required")
        }
        Action::Notify { title, .. } if title.trim().is_empty() => {
            errors.add(field("title"), "is required")
        }
        Action::AddTag { tag } | Action::RemoveTag { tag } if tag.trim().is_empty() => {
            errors.add(field("tag"), "is required")
        }
        Action::Webhook { url } if !is_http_url(url.trim()) => {
            errors.add(field("url"), "must be an http:// or https:// URL")
        }
        Action::AssignOwner {
            users,
            team_id,
            by_field,
            rules,
        } => {
            if users.is_empty() && team_id.is_none() && rules.is_empty() {
                errors.add(
                    field("users"),
                    "name users, a team_id, or by_field with rules",
                );
            }
            if by_field.is_some() == rules.is_empty() {
                errors.add(field("rules"), "by_field and rules go together");
            }
        }
        _ => {}
    }
    Some(Step {
        action,
        delay_minutes,
    })
}

#[cfg(test)]
mod tests;
