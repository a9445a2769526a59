//! `kith import`: bring a CSV, XLSX or vCard file in with a progress bar, check it
//! first with `--dry-run`, fetch the refused rows as a file to fix, or take an import
//! back as a whole.

use std::path::PathBuf;
use std::time::Instant;

use crate::caller;
use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kith_app::import::{DateOrder, Format, ImportRequest, OnDuplicate, Report};
use kith_app::App;
use kith_core::objects::ObjectKind;

/// `kith import …`
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import contacts.
    Contacts(FileArgs),
    /// Import companies.
    Companies(FileArgs),
    /// Import deals.
    Deals(FileArgs),
    /// Import activities (history: notes, calls, emails, meetings).
    Activities(FileArgs),
    /// Import orders (one row per order; customers by email).
    Orders(FileArgs),
    /// List recent imports.
    List,
    /// Show one import's counts and status.
    Show {
        /// Import id.
        id: uuid::Uuid,
    },
    /// Write the refused rows of an import as CSV (the file's columns, then the line
    /// and the reasons), ready to fix and import again.
    Errors {
        /// Import id.
        id: uuid::Uuid,
        /// Output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Take an import back: remove what it created, restore what it updated (records
    /// changed since are kept).
    Revert {
        /// Import id.
        id: uuid::Uuid,
    },
}

/// What every file import takes.
#[derive(Args)]
pub struct FileArgs {
    /// The file: .csv/.tsv/.txt, .xlsx or .vcf.
    file: PathBuf,
    /// Map a column to a field: `--map "Mobil=phone"`, `--map "Level=custom.level"`,
    /// `--map "Notes=ignore"`. Repeatable; overrides the guess from the headers.
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// Check every row and report, store nothing.
    #[arg(long)]
    dry_run: bool,
    /// A row matching a record that exists (same email, phone or external id):
    /// skip it, update the record, or merge (fill only empty fields).
    #[arg(long, default_value = "skip", value_parser = ["skip", "update", "merge"])]
    on_duplicate: String,
    /// Phone region for numbers without +, instead of the workspace's (e.g. DK, CN).
    #[arg(long, value_name = "CC")]
    region: Option<String>,
    /// Text encoding of a CSV or vCard file (utf-8, gbk, gb18030, windows-1252 …); detected if absent.
    #[arg(long)]
    encoding: Option<String>,
    /// CSV delimiter; detected if absent.
    #[arg(long)]
    delimiter: Option<char>,
    /// File format (csv, xlsx, vcard); detected if absent.
    #[arg(long)]
    format: Option<String>,
    /// Read 01/02/2026 as January 2nd (default: as the file's own dates show, such as
    /// 5/14/1980; else month first for --region US, day first elsewhere).
    #[arg(long, conflicts_with = "day_first")]
    month_first: bool,
    /// Read 01/02/2026 as 1 February.
    #[arg(long)]
    day_first: bool,
    /// Make unknown columns into new custom text fields.
    #[arg(long)]
    create_fields: bool,
    /// Act as this user (default: the first admin when there is one workspace).
    #[arg(long, env = "KITH_USER")]
    user: Option<String>,
}

/// Runs `kith import …`.
pub async fn run(app: &App, cmd: ImportCommand) -> Result<()> {
    let (object, args) = match cmd {
        ImportCommand::Contacts(a) => (ObjectKind::Contact, a),
        ImportCommand::Companies(a) => (ObjectKind::Company, a),
        ImportCommand::Deals(a) => (ObjectKind::Deal, a),
        ImportCommand::Activities(a) => (ObjectKind::Activity, a),
        ImportCommand::Orders(a) => (ObjectKind::Order, a),
        ImportCommand::List => {
            let caller = caller(app, None).await?;
            for i in app.imports(&caller).await? {
                println!(
                    "{}  {}  {:<9} {:<8} {} created, {} updated, {} skipped, {} refused  {}",
                    i.id,
                    i.created_at.format("%Y-%m-%d %H:%M"),
                    i.status,
                    i.object,
                    i.created,
                    i.updated,
                    i.skipped,
                    i.failed,
                    i.file_name
                );
            }
            return Ok(());
        }
        ImportCommand::Show { id } => {
            let caller = caller(app, None).await?;
            let i = app.import_status(&caller, id).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&kith_web::import_json(&i))?
            );
            return Ok(());
        }
        ImportCommand::Errors { id, output } => {
            let caller = caller(app, None).await?;
            let bytes = app.import_errors_csv(&caller, id).await?;
            match output {
                Some(p) => std::fs::write(&p, bytes)
                    .with_context(|| format!("cannot write {}", p.display()))?,
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
            return Ok(());
        }
        ImportCommand::Revert { id } => {
            let caller = caller(app, None).await?;
            let i = app.revert_import(&caller, id).await?;
            println!("{}", i.message.unwrap_or_default());
            return Ok(());
        }
    };
    let caller = caller(app, args.user.as_deref()).await?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut req = ImportRequest::new(object, &file_name);
    req.format = args.format.as_deref().map(Format::parse).transpose()?;
    req.encoding = args.encoding;
    req.delimiter = args.delimiter;
    req.on_duplicate = OnDuplicate::parse(&args.on_duplicate)?;
    req.region = args.region;
    req.date_order = match (args.month_first, args.day_first) {
        (true, _) => Some(DateOrder::MonthFirst),
        (_, true) => Some(DateOrder::DayFirst),
        _ => None,
    };
    req.create_fields = args.create_fields;
    req.dry_run = args.dry_run;
    for m in &args.map {
        let (col, field) = m
            .rsplit_once('=')
            .ok_or_else(|| anyhow!("--map {m}: write COLUMN=FIELD"))?;
        req.mapping
            .push((col.trim().to_string(), field.trim().to_string()));
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {percent:>3}% {msg} · ETA {eta}")
            .map_err(|e| anyhow!("{e}"))?
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let progress = |i: &kith_store::imports::Import| {
        bar.set_length(i.bytes_total.max(1) as u64);
        bar.set_position(i.bytes_done.max(0) as u64);
        let secs = started.elapsed().as_secs_f64().max(0.001);
        bar.set_message(format!(
            "{} rows, {:.0} rows/s",
            i.rows_done,
            i.rows_done as f64 / secs
        ));
    };
    let report = app.import_file(&caller, &args.file, &req, &progress).await;
    bar.finish_and_clear();
    let report = report?;
    print_report(&report, started.elapsed().as_secs_f64(), args.dry_run);
    Ok(())
}

fn print_report(r: &Report, secs: f64, dry_run: bool) {
    let i = &r.import;
    let what = if dry_run { "checked" } else { "imported" };
    println!(
        "{what} {} rows of {} in {:.1} s ({:.0} rows/s){}",
        i.rows_done,
        i.file_name,
        secs,
        i.rows_done as f64 / secs.max(0.001),
        if r.resumed {
            ", resuming an unfinished import"
        } else {
            ""
        }
    );
    let verb = |done: &str, would: &str| {
        if dry_run {
            would.to_string()
        } else {
            done.to_string()
        }
    };
    println!(
        "{} {} {}, {} {}, {} skipped (already present), {} refused",
        i.created,
        i.object,
        verb("records created", "records would be created"),
        i.updated,
        verb("updated", "would be updated"),
        i.skipped,
        i.failed
    );
    println!(
        "columns: {}",
        r.mapping
            .columns
            .iter()
            .map(|(h, t)| format!(
                "{h} → {}",
                t.as_ref()
                    .map(|t| t.name())
                    .unwrap_or_else(|| "(ignored)".into())
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for n in &r.notes {
        println!("note: {n}");
    }
    for rej in r.rejects.iter().take(20) {
        println!("line {}: {}", rej.line, rej.reasons());
    }
    if !dry_run {
        if i.failed > 0 {
            println!(
                "refused rows: kith import errors {} --output errors.csv (fix them and import that file)",
                i.id
            );
        }
        println!(
            "import id: {} (undo with: kith import revert {})",
            i.id, i.id
        );
    }
}
