//! `kith dedup` and `kith merge`: find likely duplicates with their score and reasons,
//! merge them, undo a merge.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use clap::Subcommand;
use kith_app::dedup::MergeRequest;
use kith_app::App;
use kith_core::objects::ObjectKind;
use uuid::Uuid;

/// `kith merge …`
#[derive(Subcommand)]
pub enum MergeCommand {
    /// Merge contacts into the first one.
    Contacts(MergeArgs),
    /// Merge companies into the first one.
    Companies(MergeArgs),
    /// Undo a merge.
    Undo {
        /// Merge id (printed by the merge).
        id: Uuid,
    },
}

/// Records to merge.
#[derive(clap::Args)]
pub struct MergeArgs {
    /// The record that stays.
    survivor: Uuid,
    /// Records merged into it.
    #[arg(required = true)]
    merged: Vec<Uuid>,
    /// Keep this record's value of a field: `--pick email=ID` (repeatable).
    #[arg(long, value_name = "FIELD=ID")]
    pick: Vec<String>,
}

fn object(plural: &str) -> Result<ObjectKind> {
    match plural {
        "contacts" => Ok(ObjectKind::Contact),
        "companies" => Ok(ObjectKind::Company),
        other => Err(anyhow!(
            "duplicates are found for contacts and companies, not {other}"
        )),
    }
}

/// `kith dedup contacts|companies`: scans (unless `--no-scan`) and lists open pairs.
pub async fn dedup(app: &App, objects: &str, scan: bool, limit: i64) -> Result<()> {
    let object = object(objects)?;
    let caller = app.default_caller().await?;
    if scan {
        let started = std::time::Instant::now();
        let n = app.scan_duplicates(&caller, object).await?;
        eprintln!(
            "scanned in {:.1} s: {n} likely duplicate pairs",
            started.elapsed().as_secs_f64()
        );
    }
    let label = |r: &kith_app::Record| {
        let j = r.to_json();
        let s = |k: &str| j[k].as_str().unwrap_or("").to_string();
        match object {
            ObjectKind::Contact => format!(
                "{} {} <{}> {}",
                s("first_name"),
                s("last_name"),
                s("email"),
                s("phone")
            ),
            _ => format!("{} {}", s("name"), s("domain")),
        }
    };
    for c in app.duplicates(&caller, object, limit).await? {
        println!("{:.2}  {}  {}", c.pair.score, c.a.id, label(&c.a));
        println!("      {}  {}", c.b.id, label(&c.b));
        for r in c.pair.reasons.as_array().into_iter().flatten() {
            println!(
                "      {:+.1}  {}",
                r["weight"].as_f64().unwrap_or(0.0),
                r["detail"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// `kith merge …`
pub async fn merge(app: &App, cmd: MergeCommand) -> Result<()> {
    let caller = app.default_caller().await?;
    let (object, args) = match cmd {
        MergeCommand::Contacts(a) => (ObjectKind::Contact, a),
        MergeCommand::Companies(a) => (ObjectKind::Company, a),
        MergeCommand::Undo { id } => {
            let rec = app.undo_merge(&caller, id).await?;
            println!("undone: {} is as it was before the merge", rec.id);
            return Ok(());
        }
    };
    let mut pick = BTreeMap::new();
    for p in &args.pick {
        let (field, id) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("--pick {p}: write FIELD=ID"))?;
        pick.insert(
            field.to_string(),
            Uuid::parse_str(id).map_err(|_| anyhow!("--pick {p}: not a record id"))?,
        );
    }
    let req = MergeRequest {
        object,
        survivor: args.survivor,
        merged: args.merged,
        pick,
    };
    let (m, rec) = app.merge(&caller, &req).await?;
    println!("merged {} record(s) into {}", m.merged.len(), rec.id);
    println!("merge id: {} (undo with: kith merge undo {})", m.id, m.id);
    Ok(())
}
