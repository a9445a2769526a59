//! Definitions parsed and checked, triggers matched, anniversaries computed.

use super::*;
use serde_json::json;

#[test]
fn a_definition_round_trips_and_bad_parts_are_named() {
    let v = json!({"name": "Welcome", "trigger": {"type": "field_changed", "object": "contact", "field": "lifecycle_stage", "to": "customer"},
        "conditions": "country = DK", "actions": [{"type": "create_task", "title": "Call", "due_in_days": 2, "delay_minutes": 60}]});
    let d = Definition::parse(&v).unwrap();
    assert_eq!(d.actions[0].delay_minutes, 60);
    assert_eq!(Definition::parse(&d.to_json()).unwrap(), d);
    let bad = json!({"name": "", "trigger": {"type": "field_changed", "object": "contact", "feild": "x"},
        "actions": [{"type": "webhook", "url": "ftp://x"}, {"type": "teleport"}]});
    let Err(e) = Definition::parse(&bad) else {
        panic!("accepted")
    };
    let f = &e.fields.0;
    assert!(f.contains_key("name"), "{f:?}");
    assert!(f.contains_key("trigger.feild"), "{f:?}");
    assert!(f.contains_key("actions[0].url"), "{f:?}");
    assert!(f.contains_key("actions[1].type"), "{f:?}");
}

#[test]
fn field_changed_matches_from_and_to_loosely() {
    let t = Trigger::FieldChanged {
        object: "contact".into(),
        field: "lifecycle_stage".into(),
        from: Some(json!("lead")),
        to: Some(json!("Customer")),
    };
    let p =
        |from: &str, to: &str| json!({"changes": {"lifecycle_stage": {"from": from, "to": to}}});
    assert!(t.matches_event("contact.updated", "contact", &p("lead", "customer")));
    assert!(!t.matches_event("contact.updated", "contact", &p("mql", "customer")));
    assert!(!t.matches_event("company.updated", "company", &p("lead", "customer")));
    assert!(!t.matches_event("contact.updated", "contact", &json!({"changes": {}})));
}

#[test]
fn leap_day_birthdays_come_on_the_28th() {
    let d = NaiveDate::from_ymd_opt(2000, 2, 29).unwrap();
    assert_eq!(
        anniversary(d, 2027),
        NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()
    );
    assert_eq!(anniversary(d, 2028), d.with_year(2028).unwrap());
}
