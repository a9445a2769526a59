//! `kith`: the one binary. Serves the CRM, migrates, manages users and tokens, imports
//! and exports, backs up and seeds a demo workspace.

use std::io::Read;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use kith_app::{App, Role};
use kith_store::Db;

mod dedup;
mod export;
mod import;
mod mail;
mod search;
mod segments;
mod worker;
mod workflows;

/// Kith CRM.
#[derive(Parser)]
#[command(name = "kith", version, about = "Kith: a fast, self-hosted CRM")]
struct Cli {
    /// Database: sqlite://PATH (created if missing) or postgres://USER:PASS@HOST/DB.
    #[arg(long, global = true, env = "KITH_DB")]
    db: Option<String>,
    /// Show the full error chain.
    #[arg(long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (migrates the database first).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "KITH_LISTEN")]
        listen: SocketAddr,
        /// Seed a demo workspace (user demo@kith.local) if there is none; uses
        /// sqlite://kith-demo.db unless --db is given.
        #[arg(long)]
        demo: bool,
        /// Mark cookies Secure (set this behind HTTPS).
        #[arg(long, env = "KITH_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Run no background jobs in this process (run `kith worker` elsewhere).
        #[arg(long, env = "KITH_NO_WORKER")]
        no_worker: bool,
    },
    /// Run background jobs only (no web server); any number, on any nodes.
    Worker {
        /// Jobs run at the same time (default 4, or KITH_WORKER_CONCURRENCY).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Background jobs: list them (dead letters with --status dead), retry one.
    Jobs {
        #[command(subcommand)]
        command: worker::JobsCommand,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a consistent copy of the database to PATH while the server runs.
    Backup {
        /// Target file (must not exist).
        path: String,
    },
    /// Import CSV, XLSX or vCard files; list, inspect, export refused rows, revert.
    Import {
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// Find likely duplicate contacts or companies: score and reasons per pair.
    Dedup {
        /// contacts or companies.
        objects: String,
        /// List the pairs found before without scanning again.
        #[arg(long)]
        no_scan: bool,
        /// Pairs to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Segments (saved filters with members) and the built-in RFM, behaviour and value
    /// segmentations.
    Segments {
        #[command(subcommand)]
        command: segments::SegmentsCommand,
    },
    /// Workflows: list, show with their newest runs, enable, disable.
    Workflows {
        #[command(subcommand)]
        command: workflows::WorkflowsCommand,
    },
    /// Email: fetch replies by IMAP now.
    Mail {
        #[command(subcommand)]
        command: mail::MailCommand,
    },
    /// Merge duplicates into one record (keeps history, tags, deals, identities), or undo.
    Merge {
        #[command(subcommand)]
        command: dedup::MergeCommand,
    },
    /// Export contacts, companies, deals, activities or tasks as CSV, XLSX or vCard
    /// (all, or a filter, search or saved view), ready for `kith import`.
    Export(export::ExportArgs),
    /// A user's secret calendar feed URL (tasks and meetings) for calendar apps.
    CalendarFeed {
        #[command(subcommand)]
        command: export::CalendarCommand,
    },
    /// Seed the demo workspace into the database.
    Demo {
        /// Number of contacts.
        #[arg(long, default_value_t = 2000)]
        contacts: usize,
    },
    /// Search contacts, companies, deals, activities and tasks at once.
    Search(search::SearchArgs),
    /// Print the OpenAPI 3.1 document (or the Markdown reference rendered from it).
    Openapi {
        /// Print the Markdown reference (docs/API.md) instead of JSON.
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the workspace is created when it does not exist.
    Add {
        /// Email address (the sign-in name).
        email: String,
        /// admin, member or read_only.
        #[arg(long, default_value = "member")]
        role: String,
        /// Workspace name.
        #[arg(long, default_value = "default")]
        workspace: String,
        /// Read the password from standard input (the only way: it never shows in `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// The name the user is shown by (and an import may name them by as an owner).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; prints it once, as the last line.
    Create {
        /// The user's email.
        email: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

/// mimalloc instead of glibc's allocator: an import spent a sixth of its CPU in glibc's
/// free-list work across the reader, writer and SQLite threads (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KITH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let verbose = cli.verbose;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if verbose {
                eprintln!("error: {e:?}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn open(url: &str) -> Result<Db> {
    let db = Db::connect(url).await?;
    let report = kith_store::migrate::run(&db).await?;
    if let Some(b) = &report.backup {
        tracing::info!("database copied to {b} before migrating");
    }
    if !report.applied.is_empty() {
        tracing::info!(versions = ?report.applied, "schema migrated");
    }
    Ok(db)
}

async fn run(cli: Cli) -> Result<()> {
    let db_url = |demo: bool| {
        cli.db.clone().unwrap_or_else(|| {
            if demo {
                "sqlite://kith-demo.db".into()
            } else {
                "sqlite://kith.db".into()
            }
        })
    };
    match cli.command {
        Command::Serve {
            listen,
            demo,
            secure_cookies,
            no_worker,
        } => {
            let extra_ca = worker::extra_ca()?;
            let db = open(&db_url(demo)).await?;
            let app = App::new(db).with_extra_ca(extra_ca);
            if demo {
                if let Some(s) = app.seed_demo(2000).await? {
                    tracing::info!(
                        contacts = s.contacts,
                        companies = s.companies,
                        deals = s.deals,
                        "demo workspace seeded"
                    );
                }
                eprintln!(
                    "demo: sign in as {} with password {}",
                    kith_app::demo::EMAIL,
                    kith_app::demo::PASSWORD
                );
            }
            // Activities and tasks from before search covered them get their terms.
            let indexed = app.search_backfill().await?;
            if indexed > 0 {
                tracing::info!(records = indexed, "indexed for search");
            }
            // Background jobs, the periodic duplicate scan among them.
            let jobs = if no_worker {
                None
            } else {
                Some(worker::spawn(&app, worker::config(None)?))
            };
            // Uploaded imports that a stop interrupted continue from their checkpoint.
            for (ws, id) in app.pending_imports().await? {
                kith_web::spawn_import(app.clone(), ws, id);
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            if demo {
                // Unsubscribe and tracking links of the demo's campaigns point here.
                let me = app.caller_by_email(kith_app::demo::EMAIL).await?;
                if app.public_url(&me).await?.is_empty() {
                    app.save_public_url(me.workspace.id, &format!("http://{addr}"))
                        .await?;
                }
            }
            // Tests read this line to find a port picked by the OS.
            println!("kith listening on http://{addr}");
            let router = kith_web::router(kith_web::State {
                app: app.clone(),
                secure_cookies,
            });
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown())
                .await?;
            if let Some(jobs) = jobs {
                jobs.stop().await;
            }
            app.db().close().await;
            Ok(())
        }
        Command::Worker { concurrency } => {
            let extra_ca = worker::extra_ca()?;
            let app = App::new(open(&db_url(false)).await?).with_extra_ca(extra_ca);
            worker::run_alone(&app, concurrency).await?;
            app.db().close().await;
            Ok(())
        }
        Command::Jobs { command } => {
            let app = App::new(open(&db_url(false)).await?);
            worker::jobs(&app, command).await
        }
        Command::Migrate => {
            let db = Db::connect(&db_url(false)).await?;
            let report = kith_store::migrate::run(&db).await?;
            if let Some(b) = report.backup {
                println!("copied the database to {b} first");
            }
            if report.applied.is_empty() {
                println!(
                    "schema is up to date (version {})",
                    kith_store::migrate::latest()
                );
            } else {
                println!("applied migrations {:?}", report.applied);
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    workspace,
                    password_stdin,
                    name,
                },
        } => {
            let role = Role::parse(&role)
                .map_err(|_| anyhow::anyhow!("--role must be admin, member or read_only"))?;
            if !password_stdin {
                bail!("pass --password-stdin and the password on standard input");
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']);
            // Checked before the user is made, so a bad name leaves nothing half done.
            if let Some(n) = &name {
                kith_app::accounts::user_name(n).map_err(|e| anyhow::anyhow!("--name {e}"))?;
            }
            let app = App::new(open(&db_url(false)).await?);
            let user = app
                .add_user(&email, role, &workspace, password)
                .await
                .map_err(explain)?;
            if let Some(name) = name {
                let caller = app.caller_by_id(user.id).await.map_err(explain)?;
                app.set_name(&caller, &name).await.map_err(explain)?;
            }
            println!(
                "created {} ({}) in workspace {workspace}",
                user.email, user.role
            );
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { email, name },
        } => {
            let app = App::new(open(&db_url(false)).await?);
            let token = app.create_token(&email, &name).await.map_err(explain)?;
            eprintln!("API token for {email} (shown once; store it now):");
            println!("{token}");
            Ok(())
        }
        Command::Backup { path } => {
            if std::path::Path::new(&path).exists() {
                bail!("{path} exists already; a backup never overwrites a file");
            }
            let url = db_url(false);
            let db = Db::connect(&url).await?;
            match &db {
                Db::Sqlite { .. } => kith_store::migrate::backup_sqlite(&db, &path).await?,
                Db::Postgres(_) => {
                    let status = tokio::process::Command::new("pg_dump")
                        .args(["--format=custom", "--file", &path, &url])
                        .status()
                        .await
                        .context("cannot run pg_dump (install the PostgreSQL client tools)")?;
                    if !status.success() {
                        bail!("pg_dump failed ({status})");
                    }
                }
            }
            println!("backup written to {path}");
            Ok(())
        }
        Command::Import { command } => {
            let app = App::new(open(&db_url(false)).await?);
            import::run(&app, command).await
        }
        Command::Dedup {
            objects,
            no_scan,
            limit,
        } => {
            let app = App::new(open(&db_url(false)).await?);
            dedup::dedup(&app, &objects, !no_scan, limit).await
        }
        Command::Segments { command } => {
            let app = App::new(open(&db_url(false)).await?);
            segments::run(&app, command).await
        }
        Command::Workflows { command } => {
            let app = App::new(open(&db_url(false)).await?);
            workflows::run(&app, command).await
        }
        Command::Mail { command } => {
            let extra_ca = worker::extra_ca()?;
            let app = App::new(open(&db_url(false)).await?).with_extra_ca(extra_ca);
            mail::run(&app, command).await
        }
        Command::Merge { command } => {
            let app = App::new(open(&db_url(false)).await?);
            dedup::merge(&app, command).await
        }
        Command::Export(args) => {
            let app = App::new(open(&db_url(false)).await?);
            export::run(&app, args).await
        }
        Command::CalendarFeed { command } => {
            let app = App::new(open(&db_url(false)).await?);
            export::calendar(&app, command).await
        }
        Command::Demo { contacts } => {
            let app = App::new(open(&db_url(true)).await?);
            match app.seed_demo(contacts).await.map_err(explain)? {
                Some(s) => println!(
                    "seeded {} companies, {} contacts, {} deals, {} activities, {} tasks, {} orders; sign in as {} / {}",
                    s.companies, s.contacts, s.deals, s.activities, s.tasks, s.orders, kith_app::demo::EMAIL, kith_app::demo::PASSWORD
                ),
                None => println!("the demo workspace exists already"),
            }
            Ok(())
        }
        Command::Search(args) => {
            let app = App::new(open(&db_url(false)).await?);
            app.search_backfill().await?;
            search::run(&app, args).await
        }
        Command::Openapi { markdown } => {
            if markdown {
                print!("{}", kith_web::api_reference());
            } else {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&kith_web::openapi_spec())?
                );
            }
            Ok(())
        }
    }
}

/// The user a command acts as: `--user EMAIL`, or the first admin of the only workspace.
async fn caller(app: &App, user: Option<&str>) -> Result<kith_app::Caller> {
    Ok(match user {
        Some(email) => app.caller_by_email(email).await?,
        None => app.default_caller().await?,
    })
}

/// One clear line for errors the user caused.
fn explain(e: kith_app::Error) -> anyhow::Error {
    match e {
        kith_app::Error::Invalid(inner) if !inner.fields.is_empty() => {
            let parts: Vec<String> = inner
                .fields
                .0
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            anyhow::anyhow!("{}", parts.join("; "))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
