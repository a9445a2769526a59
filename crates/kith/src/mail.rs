//! `kith mail fetch`: fetch replies by IMAP now (the server does it every two minutes).

use anyhow::{anyhow, Result};
use clap::Subcommand;
use kith_app::App;

/// `kith mail …`
#[derive(Subcommand)]
pub enum MailCommand {
    /// Fetch new replies from each workspace's IMAP folder (or one workspace's) and log
    /// them on their contacts' timelines.
    Fetch {
        /// Workspace name (default: every workspace with IMAP set up).
        #[arg(long)]
        workspace: Option<String>,
    },
}

/// Runs a `kith mail` command.
pub async fn run(app: &App, cmd: MailCommand) -> Result<()> {
    match cmd {
        MailCommand::Fetch { workspace } => {
            let list = match workspace {
                Some(name) => vec![
                    kith_store::accounts::workspace_by_name(app.db(), &name)
                        .await?
                        .ok_or_else(|| anyhow!("no workspace named `{name}`"))?
                        .id,
                ],
                None => kith_store::mail::workspaces_with_imap(&mut app.db().clone()).await?,
            };
            if list.is_empty() {
                println!("no workspace has an IMAP server set up (Settings → Mail)");
            }
            for ws in list {
                let r = app.fetch_replies(ws).await?;
                println!(
                    "{}: {} new, {} logged, {} from unknown senders, {} already logged",
                    ws.0, r.seen, r.logged, r.unknown_sender, r.duplicate
                );
            }
            Ok(())
        }
    }
}
