//! `drydock escalate --once [--at RFC3339]`: one escalation pass at a given time (now by
//! default): campaigns brought up to date with the estate, every ladder level due at that time
//! decided once, and its messages delivered by this process before it exits.

use super::{load_config, open_store, service, DbArgs};
use chrono::Utc;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct EscalateArgs {
    /// Run one pass and exit (the only mode: `serve` escalates on its schedule).
    #[arg(long, required = true)]
    pub once: bool,
    /// The time the pass runs at (RFC 3339, e.g. 2026-12-20T09:00:00Z; default: now).
    #[arg(long)]
    pub at: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(cli_config: Option<&PathBuf>, args: EscalateArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli_config, &args.db)?;
    let store = open_store(&config).await?;
    let at = match &args.at {
        Some(t) => super::command_time(t, Utc::now())?,
        None => Utc::now(),
    };
    let r = service(&config, store)?.escalate(Some(&crate::auth::Principal::cli()), at).await?;
    println!(
        "{at}: {} items joined, {} changed, {} escalations decided, {} messages queued, {} sent, {} failed attempts",
        r.joined, r.changed, r.escalations, r.messages, r.sent, r.failed
    );
    for e in &r.errors {
        eprintln!("a campaign could not be refreshed (the others were): {e}");
    }
    Ok(ExitCode::SUCCESS)
}
