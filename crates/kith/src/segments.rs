//! `kith segments`: list, create, show and refresh segments, and recompute the built-in
//! segmentations (RFM, behaviour, value tiers) of the workspace.

use anyhow::{anyhow, Result};
use clap::Subcommand;
use kith_app::records::ListRequest;
use kith_app::{App, Caller, Record};
use kith_core::filter::{Condition, Filter, Op};
use kith_core::objects::ObjectKind;
use serde_json::{json, Map};
use uuid::Uuid;

/// `kith segments …`
#[derive(Subcommand)]
pub enum SegmentsCommand {
    /// Every segment with its live count.
    List,
    /// Save a segment: `kith segments create "Big spenders" --filter "lifetime_value >= 500000"`.
    Create {
        /// Name.
        name: String,
        /// Who belongs, in the filter language (related records too: `has deals(status = open)`,
        /// `sum(orders.total where ordered_at > -90d) >= 500000`, `company.employees >= 50`).
        #[arg(long)]
        filter: String,
        /// contacts or companies.
        #[arg(long, default_value = "contacts")]
        object: String,
    },
    /// A segment's live count and first members.
    Show {
        /// Name or id.
        segment: String,
        /// Members to list.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Recompute membership (one segment, or all); entered/left become events.
    Refresh {
        /// Name or id (all segments when left out).
        segment: Option<String>,
    },
    /// Recompute every contact's order figures, RFM scores, behaviour and value tier,
    /// then refresh every segment.
    Recompute,
}

async fn find(app: &App, caller: &Caller, segment: &str) -> Result<Record> {
    if let Ok(id) = Uuid::parse_str(segment) {
        return Ok(app.get(caller, ObjectKind::Segment, id).await?);
    }
    let req = ListRequest {
        filter: Some(Filter::Cond(Condition {
            field: "name".into(),
            op: Op::Eq,
            values: vec![json!(segment)],
        })),
        ..ListRequest::default()
    };
    app.list(caller, ObjectKind::Segment, &req)
        .await?
        .records
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no segment called {segment:?} (see `kith segments list`)"))
}

fn label(r: &Record) -> String {
    let name = [r.text("first_name"), r.text("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = if name.is_empty() {
        r.text("name").unwrap_or("").to_string()
    } else {
        name
    };
    format!("{}  {name}  {}", r.id, r.text("email").unwrap_or(""))
}

/// Runs a `kith segments` command.
pub async fn run(app: &App, command: SegmentsCommand) -> Result<()> {
    let caller = app.default_caller().await?;
    match command {
        SegmentsCommand::List => {
            let req = ListRequest {
                limit: Some(500),
                sort: Some("name".into()),
                ..ListRequest::default()
            };
            for s in app.list(&caller, ObjectKind::Segment, &req).await?.records {
                let c = app.segment_count(&caller, s.id).await?;
                println!(
                    "{}  {:<30} {:>8} {}  {}",
                    s.id,
                    s.text("name").unwrap_or(""),
                    c.count,
                    s.text("object").unwrap_or(""),
                    s.text("filter").unwrap_or("")
                );
            }
        }
        SegmentsCommand::Create {
            name,
            filter,
            object,
        } => {
            let object = ObjectKind::from_plural(&object)
                .or_else(|| ObjectKind::from_singular(&object))
                .ok_or_else(|| anyhow!("segments group contacts or companies"))?;
            let mut m = Map::new();
            m.insert("name".into(), json!(name));
            m.insert("object".into(), json!(object.singular()));
            m.insert("filter".into(), json!(filter));
            let s = app
                .create(&caller, ObjectKind::Segment, &m)
                .await
                .map_err(crate::explain)?;
            // Saving a segment fills its membership.
            println!(
                "segment {} created: {} members",
                s.id,
                s.int("member_count").unwrap_or(0)
            );
        }
        SegmentsCommand::Show { segment, limit } => {
            let s = find(app, &caller, &segment).await?;
            let c = app.segment_count(&caller, s.id).await?;
            println!(
                "{}: {} now ({} at the last refresh)\nfilter: {}",
                s.text("name").unwrap_or(""),
                c.count,
                c.members.map_or("none".into(), |m| m.to_string()),
                s.text("filter").unwrap_or("")
            );
            let req = ListRequest {
                limit: Some(limit),
                ..ListRequest::default()
            };
            let (_, page) = app.segment_members(&caller, s.id, &req).await?;
            for r in page.records {
                println!("{}", label(&r));
            }
        }
        SegmentsCommand::Refresh { segment } => {
            let ids = match segment {
                Some(s) => vec![find(app, &caller, &s).await?.id],
                None => {
                    let req = ListRequest {
                        limit: Some(500),
                        ..ListRequest::default()
                    };
                    app.list(&caller, ObjectKind::Segment, &req)
                        .await?
                        .records
                        .iter()
                        .map(|r| r.id)
                        .collect()
                }
            };
            for id in ids {
                let r = app.refresh_segment(&caller, id).await?;
                println!(
                    "{id}: {} members, {} entered, {} left",
                    r.members, r.entered, r.left
                );
            }
        }
        SegmentsCommand::Recompute => {
            let r = app.recompute(&caller).await?;
            println!(
                "recomputed in {:.1} s: {} contacts and {} companies revalued, {} rescored, {} retiered; {} segments refreshed, {} membership changes",
                r.seconds, r.contacts_valued, r.companies_valued, r.scored, r.tiered, r.segments, r.membership_changes
            );
            for e in r.segment_errors {
                eprintln!("{e}");
            }
        }
    }
    Ok(())
}
