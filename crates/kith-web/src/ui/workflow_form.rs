//! The workflow form's fields and the definition JSON they stand for, both ways: the
//! form builds a definition (kith-app checks it and names what is wrong), and a stored
//! definition fills the form for editing.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::data::one;
use super::workflows::{Draft, Form, STEPS};
use kith_app::workflows::StoredWorkflow;

/// The definition JSON a form describes (the API checks it and names what is wrong).
pub(super) fn definition(
    form: &Form,
    templates: &[(Uuid, String)],
    sequences: &[(Uuid, String)],
    users: &[(Uuid, String)],
) -> Value {
    let f = |k: &str| one(form, k).trim().to_string();
    let num = |k: &str| f(k).parse::<i64>().ok();
    let kind = f("trigger");
    let mut trigger = json!({"type": kind});
    let object = f("object");
    match kind.as_str() {
        "record_created" | "record_updated" => trigger["object"] = json!(object),
        "field_changed" => {
            trigger["object"] = json!(object);
            trigger["field"] = json!(f("field"));
            for k in ["from", "to"] {
                if !f(k).is_empty() {
                    trigger[k] = json!(f(k));
                }
            }
        }
        "deal_stage_changed" if !f("to_stage_id").is_empty() => {
            trigger["to_stage_id"] = json!(f("to_stage_id"))
        }
        "segment_entered" | "segment_left" => trigger["segment_id"] = json!(f("segment_id")),
        "date_relative" => {
            trigger["object"] = json!(object);
            trigger["field"] = json!(f("field"));
            trigger["offset_days"] = json!(num("offset_days").unwrap_or(0));
            trigger["yearly"] = json!(f("yearly") == "1");
        }
        "no_activity" => {
            trigger["object"] = json!(object);
            trigger["days"] = json!(num("days").unwrap_or(0));
        }
        _ => {}
    }
    let mut actions = Vec::new();
    for i in 0..STEPS {
        let kind = f(&format!("a{i}_type"));
        if kind.is_empty() {
            continue;
        }
        let main = f(&format!("a{i}_main"));
        let more = f(&format!("a{i}_more"));
        let mut a = Map::new();
        a.insert("type".into(), json!(kind));
        match kind.as_str() {
            "create_task" => {
                a.insert("title".into(), json!(main));
                if let Ok(d) = more.parse::<i64>() {
                    a.insert("due_in_days".into(), json!(d));
                }
            }
            "notify" => {
                a.insert("title".into(), json!(main));
                a.insert("body".into(), json!(more));
            }
            "add_tag" | "remove_tag" => {
                a.insert("tag".into(), json!(main));
            }
            "update_field" => {
                a.insert("field".into(), json!(main));
                a.insert("value".into(), json!(more));
            }
            "webhook" => {
                a.insert("url".into(), json!(main));
            }
            "send_email" => {
                a.insert("template_id".into(), json!(by_name(templates, main)));
            }
            "enrol_sequence" | "remove_from_sequence" => {
                a.insert("sequence_id".into(), json!(by_name(sequences, main)));
            }
            "assign_owner" => {
                let picked: Vec<String> = main
                    .split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        users
                            .iter()
                            .find(|(_, email)| email.eq_ignore_ascii_case(s))
                            .map(|(id, _)| id.to_string())
                            .unwrap_or_else(|| s.to_string())
                    })
                    .collect();
                a.insert("users".into(), json!(picked));
            }
            _ => {}
        }
        if let Ok(d) = f(&format!("a{i}_delay")).parse::<u64>() {
            if d > 0 {
                a.insert("delay_minutes".into(), json!(d));
            }
        }
        actions.push(Value::Object(a));
    }
    json!({
        "name": f("name"),
        "enabled": f("enabled") == "1",
        "trigger": trigger,
        "conditions": f("conditions"),
        "actions": actions,
    })
}

/// The id of the item named `main` (or `main` itself: an id, or a name the API refuses).
fn by_name(items: &[(Uuid, String)], main: String) -> String {
    items
        .iter()
        .find(|(id, name)| *name == main || id.to_string() == main)
        .map(|(id, _)| id.to_string())
        .unwrap_or(main)
}

/// The form's fields for a stored workflow (the inverse of [`definition`]).
pub(super) fn draft_of(w: &StoredWorkflow, users: &[(Uuid, String)]) -> Draft {
    let d = &w.definition;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut form: Form = vec![
        ("name".into(), w.name.clone()),
        ("version".into(), w.version.to_string()),
        ("enabled".into(), if w.enabled { "1" } else { "" }.into()),
        ("trigger".into(), text(&d["trigger"]["type"])),
        ("conditions".into(), text(&d["conditions"])),
    ];
    for k in [
        "object",
        "field",
        "from",
        "to",
        "to_stage_id",
        "segment_id",
        "offset_days",
        "days",
    ] {
        form.push((k.into(), text(&d["trigger"][k])));
    }
    if d["trigger"]["yearly"] == Value::Bool(true) {
        form.push(("yearly".into(), "1".into()));
    }
    for (i, a) in d["actions"].as_array().into_iter().flatten().enumerate() {
        let kind = text(&a["type"]);
        let (main, more) = match kind.as_str() {
            "create_task" => (text(&a["title"]), text(&a["due_in_days"])),
            "notify" => (text(&a["title"]), text(&a["body"])),
            "add_tag" | "remove_tag" => (text(&a["tag"]), String::new()),
            "update_field" => (text(&a["field"]), text(&a["value"])),
            "webhook" => (text(&a["url"]), String::new()),
            "send_email" => (text(&a["template_id"]), String::new()),
            "enrol_sequence" | "remove_from_sequence" => (text(&a["sequence_id"]), String::new()),
            "assign_owner" => {
                let emails: Vec<String> = a["users"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|u| {
                        let id = text(u);
                        users
                            .iter()
                            .find(|(uid, _)| uid.to_string() == id)
                            .map(|(_, e)| e.clone())
                            .unwrap_or(id)
                    })
                    .collect();
                (emails.join(", "), String::new())
            }
            _ => (String::new(), String::new()),
        };
        form.push((format!("a{i}_type"), kind));
        form.push((format!("a{i}_main"), main));
        form.push((format!("a{i}_more"), more));
        form.push((format!("a{i}_delay"), text(&a["delay_minutes"])));
    }
    Draft { form, error: None }
}
