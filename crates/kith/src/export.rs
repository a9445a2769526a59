//! `kith export`: write a list (all records, a filter, a search or a saved view) to a
//! CSV, XLSX or vCard file that `kith import` takes back; and `kith calendar-feed`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::caller;
use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use kith_app::export::{ExportFormat, ExportRequest};
use kith_app::App;
use kith_core::filter::Filter;
use kith_core::objects::ObjectKind;

/// `kith export OBJECTS …`
#[derive(Args)]
pub struct ExportArgs {
    /// What to export: contacts, companies, deals, activities or tasks.
    objects: String,
    /// csv, xlsx or vcard (contacts only); default: from the output file's extension,
    /// else csv.
    #[arg(long)]
    format: Option<String>,
    /// Filter in text form, e.g. `city = Aarhus and tags has vip`.
    #[arg(long)]
    filter: Option<String>,
    /// Quick search, as in the search box.
    #[arg(long)]
    q: Option<String>,
    /// Sort: `field` or `-field` (default: oldest first).
    #[arg(long)]
    sort: Option<String>,
    /// A saved view's id: its filter, sort and columns.
    #[arg(long)]
    view: Option<uuid::Uuid>,
    /// Columns as list views name them (`last_name,email,company_id,custom.tier`);
    /// default: every field that imports back.
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// Output file (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Act as this user (default: the first admin when there is one workspace).
    #[arg(long, env = "KITH_USER")]
    user: Option<String>,
}

/// `kith calendar-feed …`
#[derive(Subcommand)]
pub enum CalendarCommand {
    /// Create (or replace) a user's secret calendar feed and print its URL path.
    Create {
        /// The user's email.
        email: String,
    },
    /// Revoke a user's calendar feed.
    Revoke {
        /// The user's email.
        email: String,
    },
}

/// Runs `kith export …`.
pub async fn run(app: &App, args: ExportArgs) -> Result<()> {
    let object = ObjectKind::from_plural(&args.objects).ok_or_else(|| {
        anyhow!(
            "cannot export `{}`: name contacts, companies, deals, activities or tasks",
            args.objects
        )
    })?;
    let format = match (&args.format, &args.output) {
        (Some(f), _) => ExportFormat::parse(f).map_err(crate::explain)?,
        (None, Some(p)) => {
            ExportFormat::from_file_name(&p.to_string_lossy()).unwrap_or(ExportFormat::Csv)
        }
        (None, None) => ExportFormat::Csv,
    };
    let req = ExportRequest {
        filter: args
            .filter
            .as_deref()
            .map(Filter::parse_any)
            .transpose()
            .context("--filter")?,
        q: args.q,
        sort: args.sort,
        view: args.view,
        columns: args.columns,
    };
    let caller = caller(app, args.user.as_deref()).await?;
    let rows = match &args.output {
        Some(path) => {
            // Written beside the target and renamed at the end: a failed export never
            // leaves a half file under the name asked for.
            let mut partial = path.clone().into_os_string();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("cannot write {}", partial.display()))?;
            let result = app
                .export(&caller, object, &req, format, BufWriter::new(file))
                .await;
            match result {
                Ok(rows) => {
                    std::fs::rename(&partial, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    rows
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(crate::explain(e));
                }
            }
        }
        None => {
            let stdout = std::io::stdout();
            let rows = app
                .export(&caller, object, &req, format, BufWriter::new(stdout.lock()))
                .await
                .map_err(crate::explain)?;
            std::io::stdout().flush()?;
            rows
        }
    };
    eprintln!(
        "exported {rows} {} as {}{}",
        object.plural(),
        format.extension(),
        args.output
            .as_ref()
            .map(|p| format!(" to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(())
}

/// Runs `kith calendar-feed …`.
pub async fn calendar(app: &App, cmd: CalendarCommand) -> Result<()> {
    match cmd {
        CalendarCommand::Create { email } => {
            let caller = app.caller_by_email(&email).await?;
            let token = app.create_calendar_feed(&caller).await?;
            eprintln!("calendar feed for {email} (shown once; add the server's address in front):");
            println!("/calendar/{token}.ics");
        }
        CalendarCommand::Revoke { email } => {
            let caller = app.caller_by_email(&email).await?;
            if app.revoke_calendar_feed(&caller).await? {
                println!("revoked the calendar feed of {email}");
            } else {
                println!("{email} has no calendar feed");
            }
        }
    }
    Ok(())
}
