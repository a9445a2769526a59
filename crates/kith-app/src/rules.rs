//! What each object adds to the generic record use cases: defaults, links that must
//! exist, who may see and change a saved view, deal stages, custom field definitions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kith_core::fields::{self, Changes, MAX_CUSTOM_FIELDS};
use kith_core::filter::{resolve_field, Filter};
use kith_core::listing::Sort;
use kith_core::objects::ObjectKind;
use kith_core::{FieldErrors, Scalar};
use kith_store::records as store;
use kith_store::{Tx, WorkspaceId};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{pipeline, App, Caller, Error, Record, Role};

fn ws(caller: &Caller) -> WorkspaceId {
    caller.workspace.id
}

impl App {
    /// Rules of particular objects; returns a deal's stage transition if it moved.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn object_rules(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        object: ObjectKind,
        changes: &mut Changes,
        current: Option<&Record>,
        now: DateTime<Utc>,
        errors: &mut FieldErrors,
    ) -> Result<Option<(Option<Uuid>, Uuid)>, Error> {
        match object {
            ObjectKind::Deal => {
                return pipeline::place_deal(tx, ws(caller), changes, current, now, errors).await
            }
            ObjectKind::Stage if current.is_none() => {
                pipeline::place_stage(tx, ws(caller), changes, errors).await?
            }
            ObjectKind::Pipeline if current.is_none() && changes.get("position").is_none() => {
                let n = pipeline::count_pipelines(tx, ws(caller)).await?;
                changes.set(
                    object.field("position").expect("pipelines have position"),
                    Scalar::Int(n),
                );
            }
            ObjectKind::Order => {
                crate::orders::order_rules(tx, ws(caller), changes, current, errors).await?
            }
            ObjectKind::Segment => {
                crate::segments::segment_rules(tx, ws(caller), changes, current, now, errors)
                    .await?
            }
            ObjectKind::Contact => {
                source_group(changes, current);
                let has = |name: &str| {
                    let v = changes
                        .get(name)
                        .or_else(|| current.and_then(|c| c.get(name)));
                    v.is_some_and(|v| !v.is_null())
                };
                if !["first_name", "last_name", "email", "phone"]
                    .into_iter()
                    .any(has)
                {
                    errors.add(
                        "first_name",
                        "a contact needs a name, an email or a phone number",
                    );
                }
            }
            ObjectKind::View => {
                let target = changes
                    .get("object")
                    .or_else(|| current.and_then(|c| c.get("object")))
                    .and_then(|o| {
                        if let Scalar::Text(s) = o {
                            ObjectKind::from_singular(s)
                        } else {
                            None
                        }
                    });
                if let Some(target) = target {
                    let defs = store::custom_defs(tx, ws(caller), target).await?;
                    if let Some(Scalar::Text(f)) = changes.get("filter") {
                        if let Err(e) =
                            Filter::parse_text(f).and_then(|f| f.resolve(target, &defs, now))
                        {
                            errors.add("filter", e.message);
                        }
                    }
                    if let Some(Scalar::Text(sort)) = changes.get("sort") {
                        let s = Sort::parse(sort);
                        if resolve_field(target, &s.field, &defs).is_none() {
                            errors.add("sort", format!("cannot sort by `{}`", s.field));
                        }
                    }
                    if let Some(Scalar::Json(Value::Array(cols))) = changes.get("columns") {
                        for c in cols.iter().filter_map(Value::as_str) {
                            if resolve_field(target, c, &defs).is_none() {
                                errors.add(
                                    "columns",
                                    format!("`{c}` is not a field of {}", target.singular()),
                                );
                            }
                        }
                    }
                }
            }
            ObjectKind::FieldDefinition => {
                let kind = changes
                    .get("kind")
                    .or_else(|| current.and_then(|c| c.get("kind")))
                    .and_then(|k| {
                        if let Scalar::Text(s) = k {
                            Some(s.clone())
                        } else {
                            None
                        }
                    })
                    .unwrap_or_default();
                let options = changes
                    .get("options")
                    .or_else(|| current.and_then(|c| c.get("options")))
                    .and_then(|o| {
                        if let Scalar::Json(Value::Array(a)) = o {
                            Some(a.len())
                        } else {
                            None
                        }
                    })
                    .unwrap_or(0);
                let selects = kind == "select" || kind == "multi_select";
                if selects && options == 0 {
                    errors.add("options", "a select field needs at least one option");
                } else if !selects && options > 0 {
                    errors.add(
                        "options",
                        "only select and multi_select fields have options",
                    );
                }
                if current.is_none() && changes.get("options").is_none() {
                    let spec = object
                        .field("options")
                        .expect("field definitions have options");
                    changes.set(spec, Scalar::Json(json!([])));
                }
                let target = match changes.get("object") {
                    Some(Scalar::Text(s)) if current.is_none() => ObjectKind::from_singular(s),
                    _ => None,
                };
                if let Some(target) = target {
                    let defined = store::custom_defs(tx, ws(caller), target).await?.len();
                    if defined >= MAX_CUSTOM_FIELDS {
                        errors.add(
                            "object",
                            format!(
                                "{} already have {defined} custom fields, the most a workspace may define; remove unused ones first",
                                target.plural()
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
        Ok(None)
    }
}

/// Keeps a contact's source group in step with its source and UTM fields.
fn source_group(changes: &mut Changes, current: Option<&Record>) {
    if !["source", "utm_source", "utm_medium"]
        .iter()
        .any(|f| changes.get(f).is_some())
    {
        return;
    }
    let text = |name: &str| match changes
        .get(name)
        .or_else(|| current.and_then(|c| c.get(name)))
    {
        Some(Scalar::Text(s)) => Some(s.clone()),
        _ => None,
    };
    let group = kith_core::segmentation::source_group(
        text("source").as_deref(),
        text("utm_source").as_deref(),
        text("utm_medium").as_deref(),
    );
    let spec = ObjectKind::Contact
        .field("source_group")
        .expect("contacts have source_group");
    changes.set(
        spec,
        group.map_or(Scalar::Null(kith_core::ScalarType::Text), |g| {
            Scalar::Text(g.into())
        }),
    );
}

/// Whether the caller may see `rec`: everything but other people's private views.
pub(crate) fn visible(caller: &Caller, rec: &Record) -> bool {
    rec.object != ObjectKind::View
        || rec.get("shared") == Some(&Scalar::Bool(true))
        || rec.uuid("owner_id") == Some(caller.user.id)
}

/// Shared views are changed by their owner or an admin only.
pub(crate) fn check_owner(caller: &Caller, rec: &Record) -> Result<(), Error> {
    if rec.object == ObjectKind::View
        && rec.uuid("owner_id") != Some(caller.user.id)
        && caller.role() != Role::Admin
    {
        return Err(Error::Forbidden(
            "only its owner or an admin changes a shared view",
        ));
    }
    Ok(())
}

/// Defaults a new record gets when the client leaves them out.
pub(crate) fn defaults(
    caller: &Caller,
    object: ObjectKind,
    changes: &mut Changes,
    now: DateTime<Utc>,
) {
    let me = Scalar::Uuid(caller.user.id);
    let won = matches!(changes.get("kind"), Some(Scalar::Text(k)) if k == "won");
    let site_domain = match changes.get("website") {
        Some(Scalar::Text(site)) => kith_core::fields::domain_of_website(site),
        _ => None,
    };
    let done = changes.get("done") == Some(&Scalar::Bool(true));
    let mut default = |name: &str, v: Scalar| {
        if let Some(spec) = object.field(name) {
            if changes.get(name).is_none_or(Scalar::is_null) && !spec.required {
                changes.set(spec, v);
            }
        }
    };
    match object {
        ObjectKind::Contact => {
            default("lifecycle_stage", Scalar::Text("lead".into()));
            default("owner_id", me);
        }
        ObjectKind::Company => {
            default("owner_id", me);
            // The domain links contacts by their email and finds duplicates; a website
            // given without it says what it is.
            if let Some(domain) = site_domain {
                default("domain", Scalar::Text(domain));
            }
        }
        ObjectKind::Segment => default("owner_id", me),
        ObjectKind::Order => {
            default("owner_id", me);
            default("ordered_at", Scalar::Time(now));
            default("status", Scalar::Text("paid".into()));
            default("currency", Scalar::Text(caller.workspace.currency.clone()));
        }
        ObjectKind::View => {
            default("owner_id", me);
            default("shared", Scalar::Bool(false));
        }
        ObjectKind::Deal => {
            default("owner_id", me);
            default("currency", Scalar::Text(caller.workspace.currency.clone()));
            default("amount", Scalar::Int(0));
        }
        ObjectKind::Activity => {
            default("occurred_at", Scalar::Time(now));
            default("owner_id", me);
        }
        ObjectKind::Task => {
            default("assignee_id", me);
            default("priority", Scalar::Text("normal".into()));
            default("done", Scalar::Bool(false));
            if done {
                default("done_at", Scalar::Time(now));
            }
        }
        ObjectKind::Stage => {
            default("kind", Scalar::Text("open".into()));
            default("probability", Scalar::Int(if won { 100 } else { 0 }));
        }
        _ => {}
    }
}

/// Every id the write links to must name a live record (or user) of the same workspace.
pub(crate) async fn check_links(
    tx: &mut Tx,
    ws: WorkspaceId,
    changes: &Changes,
    errors: &mut FieldErrors,
) -> Result<(), Error> {
    let mut seen = BTreeMap::new();
    for (spec, v) in &changes.columns {
        let Scalar::Uuid(id) = v else { continue };
        let ok = match spec.kind {
            fields::Kind::Ref(target) => match seen.get(&(target, *id)) {
                Some(ok) => *ok,
                None => {
                    let ok = store::exists(tx, ws, target, *id).await?;
                    seen.insert((target, *id), ok);
                    ok
                }
            },
            fields::Kind::UserRef => store::user_in_workspace(tx, ws, *id).await?,
            _ => true,
        };
        if !ok {
            let what = match spec.kind {
                fields::Kind::Ref(t) => t.singular(),
                _ => "user",
            };
            errors.add(
                spec.name,
                format!("no {what} with id {id} in this workspace"),
            );
        }
    }
    Ok(())
}
