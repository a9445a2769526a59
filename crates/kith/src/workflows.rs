//! `kith workflows`: list, show (with the newest runs), enable and disable workflows.
//! Building them is for the web form or the API.

use anyhow::{anyhow, Result};
use clap::Subcommand;
use kith_app::workflows::StoredWorkflow;
use kith_app::{App, Caller};
use uuid::Uuid;

/// `kith workflows …`
#[derive(Subcommand)]
pub enum WorkflowsCommand {
    /// Every workflow: on/off, trigger, version.
    List,
    /// A workflow's definition and its newest runs.
    Show {
        /// Name or id.
        workflow: String,
        /// Runs to list.
        #[arg(long, default_value_t = 10)]
        runs: i64,
    },
    /// Switch a workflow on.
    Enable {
        /// Name or id.
        workflow: String,
    },
    /// Switch a workflow off (runs already started finish).
    Disable {
        /// Name or id.
        workflow: String,
    },
}

async fn find(app: &App, caller: &Caller, workflow: &str) -> Result<StoredWorkflow> {
    if let Ok(id) = Uuid::parse_str(workflow.trim()) {
        return app.workflow(caller, id).await.map_err(crate::explain);
    }
    app.workflows(caller)
        .await
        .map_err(crate::explain)?
        .into_iter()
        .find(|w| w.name == workflow.trim())
        .ok_or_else(|| anyhow!("no workflow called {workflow:?} (see `kith workflows list`)"))
}

fn on_off(enabled: bool) -> &'static str {
    if enabled {
        "on"
    } else {
        "off"
    }
}

/// Runs a `kith workflows` command as the workspace's admin.
pub async fn run(app: &App, command: WorkflowsCommand) -> Result<()> {
    let caller = app.default_caller().await?;
    match command {
        WorkflowsCommand::List => {
            let list = app.workflows(&caller).await.map_err(crate::explain)?;
            if list.is_empty() {
                println!("no workflows");
            }
            for w in list {
                println!(
                    "{}  {:<3} {:<30} {:<20} v{}",
                    w.id,
                    on_off(w.enabled),
                    w.name,
                    w.trigger_type,
                    w.version
                );
            }
        }
        WorkflowsCommand::Show { workflow, runs } => {
            let w = find(app, &caller, &workflow).await?;
            println!("{} ({}, version {})", w.name, on_off(w.enabled), w.version);
            println!("{}", serde_json::to_string_pretty(&w.definition)?);
            let runs = app
                .workflow_runs(&caller, w.id, None, runs)
                .await
                .map_err(crate::explain)?;
            println!("{} newest runs:", runs.len());
            for r in runs {
                let failed: Vec<String> = r
                    .steps
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|s| s["status"] == "failed")
                    .map(|s| format!("step {}: {}", s["index"], s["error"].as_str().unwrap_or("")))
                    .collect();
                println!(
                    "  {}  {:<9} {} {}  {}",
                    r.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    r.status,
                    r.object,
                    r.record_id,
                    failed.join("; ")
                );
            }
        }
        WorkflowsCommand::Enable { workflow } => switch(app, &caller, &workflow, true).await?,
        WorkflowsCommand::Disable { workflow } => switch(app, &caller, &workflow, false).await?,
    }
    Ok(())
}

async fn switch(app: &App, caller: &Caller, workflow: &str, on: bool) -> Result<()> {
    let w = find(app, caller, workflow).await?;
    let w = app
        .set_workflow_enabled(caller, w.id, on)
        .await
        .map_err(crate::explain)?;
    println!("workflow {:?} is {}", w.name, on_off(w.enabled));
    Ok(())
}
