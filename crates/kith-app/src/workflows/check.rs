//! A workflow definition checked against its workspace: the fields, stages, segments,
//! templates and users it names exist, the conditions resolve, field values are valid.

use chrono::{DateTime, Utc};
use kith_core::fields::{self, Context, Kind, Mode};
use kith_core::filter::resolve_field;
use kith_core::objects::ObjectKind;
use kith_core::workflows::{Action, Definition, Trigger};
use kith_core::{FieldErrors, Scalar};
use kith_store::records as rec;
use kith_store::{Tx, WorkspaceId};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::Error;

/// The object a trigger runs on; a segment trigger's is its segment's.
pub(crate) async fn trigger_object(
    ex: &mut impl kith_store::Exec,
    ws: WorkspaceId,
    t: &Trigger,
) -> Result<Option<ObjectKind>, Error> {
    match t {
        Trigger::SegmentEntered { segment_id } | Trigger::SegmentLeft { segment_id } => {
            let seg = rec::get(ex, ws, ObjectKind::Segment, *segment_id, false).await?;
            Ok(seg.and_then(|s| s.text("object").and_then(ObjectKind::from_singular)))
        }
        other => Ok(other.object()),
    }
}

/// The input an action's `update_field` sends to a record update.
pub(crate) fn field_input(field: &str, value: &Value) -> Map<String, Value> {
    let mut m = Map::new();
    match field.strip_prefix("custom.") {
        Some(key) => {
            let mut c = Map::new();
            c.insert(key.to_string(), value.clone());
            m.insert("custom".into(), Value::Object(c));
        }
        None => {
            m.insert(field.to_string(), value.clone());
        }
    }
    m
}

async fn user_ok(tx: &mut Tx, ws: WorkspaceId, id: Uuid) -> Result<bool, Error> {
    Ok(rec::user_in_workspace(tx, ws, id).await?)
}

/// Checks `def` against workspace `ws`, naming each wrong part.
pub(crate) async fn in_workspace(
    tx: &mut Tx,
    ws: WorkspaceId,
    def: &Definition,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut errors = FieldErrors::default();
    let object = trigger_object(tx, ws, &def.trigger).await?;
    let Some(object) = object else {
        errors.add("trigger.segment_id", "no such segment");
        return Err(kith_core::Error::fields(errors).into());
    };
    let defs = rec::custom_defs(tx, ws, object).await?;
    match &def.trigger {
        Trigger::FieldChanged { field, .. } if resolve_field(object, field, &defs).is_none() => {
            errors.add(
                "trigger.field",
                format!("{} has no field `{field}`", object.plural()),
            );
        }
        Trigger::DateRelative { field, .. } => {
            let dated: Vec<&str> = object
                .fields()
                .iter()
                .filter(|f| matches!(f.kind, Kind::Date))
                .map(|f| f.name)
                .collect();
            if !dated.contains(&field.as_str()) {
                errors.add(
                    "trigger.field",
                    format!(
                        "must be a date field of {}: {}",
                        object.plural(),
                        if dated.is_empty() {
                            "it has none".to_string()
                        } else {
                            dated.join(", ")
                        }
                    ),
                );
            }
        }
        Trigger::DealStageChanged {
            from_stage_id,
            to_stage_id,
        } => {
            for (name, id) in [
                ("from_stage_id", from_stage_id),
                ("to_stage_id", to_stage_id),
            ] {
                if let Some(id) = id {
                    if !rec::exists(tx, ws, ObjectKind::Stage, *id).await? {
                        errors.add(format!("trigger.{name}"), "no such stage");
                    }
                }
            }
        }
        _ => {}
    }
    if !def.conditions.is_empty() {
        if let Err(e) = crate::segments::resolve(tx, ws, object, &def.conditions, now).await {
            errors.add("conditions", e.to_string());
        }
    }
    let ctx = Context {
        phone_region: None,
        custom: &defs,
    };
    for (i, step) in def.actions.iter().enumerate() {
        let at = |f: &str| format!("actions[{i}].{f}");
        match &step.action {
            Action::AssignOwner {
                users,
                team_id,
                by_field,
                rules,
            } => {
                for u in users.iter().chain(rules.values()) {
                    if !user_ok(tx, ws, *u).await? {
                        errors.add(at("users"), format!("no user {u} in this workspace"));
                    }
                }
                if let Some(t) = team_id {
                    let members = kith_store::workflows::team_members(tx, ws, *t).await?;
                    if members.is_empty() {
                        errors.add(at("team_id"), "no such team, or it has no active users");
                    }
                }
                if let Some(f) = by_field {
                    if resolve_field(object, f, &defs).is_none() {
                        errors.add(
                            at("by_field"),
                            format!("{} has no field `{f}`", object.plural()),
                        );
                    }
                }
                if object == ObjectKind::Task || object.field("owner_id").is_none() {
                    errors.add(at("type"), format!("{} have no owner", object.plural()));
                }
            }
            Action::CreateTask {
                assignee_id: Some(u),
                ..
            }
            | Action::Notify {
                user_id: Some(u), ..
            } => {
                let known = user_ok(tx, ws, *u).await?;
                let field = match step.action {
                    Action::CreateTask { .. } => "assignee_id",
                    _ => "user_id",
                };
                if !known {
                    errors.add(at(field), "no such user in this workspace");
                }
            }
            Action::SendEmail { template_id } => {
                let sql = kith_store::Sql::new(
                    "SELECT 1 AS x FROM email_templates WHERE workspace_id = ",
                )
                .arg(Scalar::Uuid(ws.0))
                .and(" AND id = ")
                .arg(Scalar::Uuid(*template_id));
                if kith_store::Exec::fetch_optional(tx, sql).await?.is_none() {
                    errors.add(at("template_id"), "no such email template");
                }
            }
            Action::EnrolSequence { sequence_id } | Action::RemoveFromSequence { sequence_id } => {
                let known = kith_store::sequences::sequence(tx, ws, *sequence_id).await?;
                if known.is_none() {
                    errors.add(at("sequence_id"), "no such sequence");
                }
            }
            Action::UpdateField { field, value } => {
                let (_, errs) =
                    fields::validate_all(object, &field_input(field, value), Mode::Update, &ctx);
                for (f, reason) in errs.0 {
                    let f = if f == *field || f.ends_with(field.as_str()) {
                        "value".to_string()
                    } else {
                        format!("field ({f})")
                    };
                    errors.add(at(&f), reason);
                }
            }
            Action::AddTag { .. } | Action::RemoveTag { .. } if !object.is_customisable() => {
                errors.add(at("type"), format!("{} have no tags", object.plural()));
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(kith_core::Error::fields(errors).into())
    }
}
