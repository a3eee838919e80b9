//! `drydock snapshot [--at DATE]`: judges the estate by the policies now and records the day's
//! scorecard snapshot (for DATE: to record a given day, e.g. a missed one).

use super::{load_config, open_store, service, DbArgs};
use crate::domain::dates;
use chrono::Utc;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SnapshotArgs {
    /// The day to record (YYYY-MM-DD; default: today, UTC). The evaluation runs at that day's end
    /// (or now, whichever is earlier).
    #[arg(long)]
    pub at: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(cli_config: Option<&PathBuf>, args: SnapshotArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli_config, &args.db)?;
    let store = open_store(&config).await?;
    let now = Utc::now();
    let day = match &args.at {
        Some(d) => {
            let day = dates::parse("--at", d).map_err(|e| anyhow::anyhow!("{e}"))?;
            dates::command_day("--at", day, now.date_naive()).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => now.date_naive(),
    };
    let end_of_day = day.and_hms_opt(23, 59, 59).map(|t| t.and_utc()).unwrap_or(now);
    let at = end_of_day.min(now);
    let (results, failing, n) = service(&config, store)?.snapshot(Some(&crate::auth::Principal::cli()), day, at).await?;
    println!("{day}: {results} results ({failing} failing), {n} team and policy scores recorded");
    Ok(ExitCode::SUCCESS)
}
