//! `kith search QUERY`: the global search from the terminal, as text or JSON.

use std::io::IsTerminal;

use anyhow::Result;
use clap::Args;
use kith_app::search::{parse_types, SearchRequest};
use kith_app::App;
use kith_core::search::highlight::Marked;

/// `kith search …`
#[derive(Args)]
pub struct SearchArgs {
    /// What to look for: names, companies, emails, phone digits, words of notes and tasks.
    query: String,
    /// Only these types: contacts, companies, deals, activities (or notes), tasks;
    /// repeat or separate with commas.
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Hits per type (1–50).
    #[arg(long, default_value_t = 10)]
    limit: u32,
    /// Print the API's JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Search as this user (default: the first admin when there is one workspace).
    #[arg(long, env = "KITH_USER")]
    user: Option<String>,
}

/// Marks in bold on a terminal, between `[` and `]` otherwise.
fn show(m: &Marked, bold: bool) -> String {
    let (open, close) = if bold {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    m.pieces()
        .into_iter()
        .map(|(hit, p)| {
            if hit {
                format!("{open}{p}{close}")
            } else {
                p.to_string()
            }
        })
        .collect()
}

/// Runs the search and prints it.
pub async fn run(app: &App, args: SearchArgs) -> Result<()> {
    let caller = crate::caller(app, args.user.as_deref()).await?;
    let req = SearchRequest {
        q: args.query.clone(),
        types: parse_types(&args.types.join(",")).map_err(crate::explain)?,
        limit: Some(args.limit),
    };
    let results = app.search(&caller, &req).await.map_err(crate::explain)?;
    if args.json {
        let json = kith_web::search_json(&req.q, &results);
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    if results.groups.is_empty() {
        eprintln!("nothing matches “{}”", args.query.trim());
        return Ok(());
    }
    let bold = std::io::stdout().is_terminal();
    if results.corrected {
        println!("(no exact match: words one typo away)");
    }
    for g in &results.groups {
        println!("{}", g.object.plural());
        for h in &g.hits {
            let title = if h.title.text.is_empty() {
                h.record.text("kind").unwrap_or("—").to_string()
            } else {
                show(&h.title, bold)
            };
            let context = h
                .context
                .as_ref()
                .map(|(f, m)| format!("  {f}: {}", show(m, bold).replace('\n', " ")))
                .unwrap_or_default();
            println!("  {title}{context}  {}", h.record.id);
        }
        if g.more {
            println!("  … more (--type {} --limit 50)", g.object.plural());
        }
    }
    Ok(())
}
