//! Pipelines and stages: where a deal sits, and what moving it means.

use chrono::{DateTime, Utc};
use kith_core::fields::Changes;
use kith_core::filter::{FieldRef, Op, Resolved};
use kith_core::objects::ObjectKind;
use kith_core::{FieldErrors, Scalar, ScalarType};
use kith_store::records as store;
use kith_store::{ListSpec, Sql, Tx, WorkspaceId};
use uuid::Uuid;

use crate::{Error, Record};

fn col(name: &'static str, ty: ScalarType) -> FieldRef {
    FieldRef::Column {
        name,
        ty,
        email: false,
    }
}

/// Live stages of a pipeline in order.
async fn stages_of(
    tx: &mut Tx,
    ws: WorkspaceId,
    pipeline: Uuid,
    limit: u32,
) -> Result<Vec<Record>, Error> {
    let spec = ListSpec {
        filter: Some(Resolved::Cond {
            field: col("pipeline_id", ScalarType::Uuid),
            op: Op::Eq,
            values: vec![Scalar::Uuid(pipeline)],
        }),
        terms: vec![],
        sort: col("position", ScalarType::Int),
        desc: false,
        cursor: None,
        limit,
        deleted: false,
    };
    Ok(kith_store::list(tx, ws, ObjectKind::Stage, &spec).await?.0)
}

/// The workspace's first live pipeline.
async fn first_pipeline(tx: &mut Tx, ws: WorkspaceId) -> Result<Option<Uuid>, Error> {
    let spec = ListSpec {
        filter: None,
        terms: vec![],
        sort: col("position", ScalarType::Int),
        desc: false,
        cursor: None,
        limit: 1,
        deleted: false,
    };
    Ok(kith_store::list(tx, ws, ObjectKind::Pipeline, &spec)
        .await?
        .0
        .first()
        .map(|p| p.id))
}

/// Number of pipelines ever made in the workspace (the next position).
pub(crate) async fn count_pipelines(tx: &mut Tx, ws: WorkspaceId) -> Result<i64, Error> {
    use kith_store::Exec;
    let sql = Sql::new("SELECT COUNT(*) AS n FROM pipelines WHERE workspace_id = ")
        .arg(Scalar::Uuid(ws.0));
    Ok(tx
        .fetch_optional(sql)
        .await?
        .map(|r| r.int("n"))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// Gives a new stage the next position in its pipeline.
pub(crate) async fn place_stage(
    tx: &mut Tx,
    ws: WorkspaceId,
    changes: &mut Changes,
    errors: &mut FieldErrors,
) -> Result<(), Error> {
    let Some(Scalar::Uuid(pipeline)) = changes.get("pipeline_id").cloned() else {
        return Ok(());
    };
    if changes.get("position").is_none() {
        let existing = stages_of(tx, ws, pipeline, 500).await?;
        let next = existing
            .iter()
            .filter_map(|s| {
                if let Some(Scalar::Int(p)) = s.get("position") {
                    Some(*p)
                } else {
                    None
                }
            })
            .max()
            .map_or(0, |m| m + 1);
        changes.set(
            ObjectKind::Stage
                .field("position")
                .expect("stages have position"),
            Scalar::Int(next),
        );
    }
    if !store::exists(tx, ws, ObjectKind::Pipeline, pipeline).await? {
        errors.add(
            "pipeline_id",
            format!("no pipeline with id {pipeline} in this workspace"),
        );
    }
    Ok(())
}

/// Puts a deal in a consistent pipeline and stage, and sets its status from the stage.
/// Returns the stage transition when the deal moved.
pub(crate) async fn place_deal(
    tx: &mut Tx,
    ws: WorkspaceId,
    changes: &mut Changes,
    current: Option<&Record>,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> Result<Option<(Option<Uuid>, Uuid)>, Error> {
    let deal = ObjectKind::Deal;
    let current_stage = current.and_then(|c| c.uuid("stage_id"));
    let current_pipeline = current.and_then(|c| c.uuid("pipeline_id"));
    for name in ["stage_id", "pipeline_id"] {
        if changes.get(name).is_some_and(Scalar::is_null) {
            errors.add(name, "a deal is always in a pipeline and a stage");
            return Ok(None);
        }
    }
    let given_stage = changes.get("stage_id").and_then(|v| {
        if let Scalar::Uuid(u) = v {
            Some(*u)
        } else {
            None
        }
    });
    let given_pipeline = changes.get("pipeline_id").and_then(|v| {
        if let Scalar::Uuid(u) = v {
            Some(*u)
        } else {
            None
        }
    });
    let stage = if let Some(s) = given_stage {
        match store::get(tx, ws, ObjectKind::Stage, s, false).await? {
            Some(stage) => stage,
            None => {
                errors.add(
                    "stage_id",
                    format!("no stage with id {s} in this workspace"),
                );
                return Ok(None);
            }
        }
    } else if given_pipeline.is_some_and(|p| Some(p) != current_pipeline) || current.is_none() {
        let pipeline = match given_pipeline {
            Some(p) => p,
            None => match first_pipeline(tx, ws).await? {
                Some(p) => p,
                None => {
                    errors.add(
                        "pipeline_id",
                        "the workspace has no pipeline yet; create one with stages first",
                    );
                    return Ok(None);
                }
            },
        };
        match stages_of(tx, ws, pipeline, 1).await?.into_iter().next() {
            Some(s) => s,
            None => {
                errors.add(
                    "pipeline_id",
                    "that pipeline does not exist or has no stages",
                );
                return Ok(None);
            }
        }
    } else {
        return Ok(None);
    };
    let pipeline = stage.uuid("pipeline_id").unwrap_or_default();
    if given_pipeline.is_some_and(|p| p != pipeline) {
        errors.add("stage_id", "the stage belongs to another pipeline");
        return Ok(None);
    }
    changes.set(
        deal.field("stage_id").expect("deals have stage_id"),
        Scalar::Uuid(stage.id),
    );
    changes.set(
        deal.field("pipeline_id").expect("deals have pipeline_id"),
        Scalar::Uuid(pipeline),
    );
    if current_stage == Some(stage.id) {
        return Ok(None);
    }
    let kind = stage.text("kind").unwrap_or("open").to_string();
    changes.set(
        deal.field("status").expect("deals have status"),
        Scalar::Text(kind.clone()),
    );
    let closed = if kind == "open" {
        Scalar::Null(ScalarType::Time)
    } else {
        Scalar::Time(now)
    };
    changes.set(
        deal.field("closed_at").expect("deals have closed_at"),
        closed,
    );
    Ok(Some((current_stage, stage.id)))
}
