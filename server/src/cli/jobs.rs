//! `drydock jobs`: each job's state and the recent runs; `--run-pending` runs what is due.

use super::{load_config, open_store, service, service_signing, DbArgs};
use crate::auth::Principal;
use chrono::{DateTime, Utc};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct JobsArgs {
    /// How many recent runs to list.
    #[arg(long, default_value_t = 30)]
    pub limit: i64,
    /// Run every job due now (or at --at) in this process, print each run, and exit; non-zero
    /// exit when one failed.
    #[arg(long)]
    pub run_pending: bool,
    /// With --run-pending: the time to run at (RFC 3339), e.g. to catch up a schedule.
    #[arg(long, requires = "run_pending")]
    pub at: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "-".into())
}

pub async fn run(cli_config: Option<&PathBuf>, args: JobsArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli_config, &args.db)?;
    let store = open_store(&config).await?;
    let cli = Principal::cli();
    if args.run_pending {
        let at = match &args.at {
            Some(a) => super::command_time(a, Utc::now())?,
            None => Utc::now(),
        };
        let key =
            crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url).map(Arc::new).map_err(|e| e.to_string());
        let ran = service_signing(&config, store, key)?.run_pending_jobs(Some(&cli), at).await?;
        return Ok(if print_runs(&ran) { ExitCode::FAILURE } else { ExitCode::SUCCESS });
    }
    let view = service(&config, store)?.jobs(Some(&cli), args.limit).await?;
    print_jobs(&view);
    Ok(ExitCode::SUCCESS)
}

/// Prints each run; true when one failed.
fn print_runs(ran: &[crate::jobs::RunReport]) -> bool {
    let mut failed = false;
    for r in ran {
        let key = if r.key.is_empty() { String::new() } else { format!(" {}", r.key) };
        match &r.outcome {
            Ok(what) => println!("{}{key}: {what}", r.kind),
            Err(e) => {
                println!("{}{key}: FAILED: {e}", r.kind);
                failed = true;
            }
        }
    }
    failed
}

fn print_jobs(view: &app::types::JobsView) {
    let named = |kind: &str, key: &str| if key.is_empty() { kind.to_string() } else { format!("{kind} {key}") };
    println!("JOB\tNEXT RUN\tLAST SUCCESS\tLAST FAILURE\tFAILURES IN A ROW\tHELD BY");
    for j in &view.jobs {
        let failure = match (&j.last_failure, &j.last_error) {
            (Some(t), Some(e)) => format!("{} ({e})", when(Some(*t))),
            (t, _) => when(*t),
        };
        let held = j.running_by.as_deref().unwrap_or("-");
        println!("{}\t{}\t{}\t{failure}\t{}\t{held}", named(&j.kind, &j.key), when(Some(j.next_run)), when(j.last_success), j.failures);
    }
    println!();
    println!("STARTED\tJOB\tDUE\tOUTCOME\tSECONDS\tWORKER\tERROR");
    for r in &view.runs {
        let secs =
            r.finished_at.map(|f| format!("{:.1}", (f - r.started_at).num_milliseconds() as f64 / 1000.0)).unwrap_or_else(|| "-".into());
        let (name, error) = (named(&r.kind, &r.key), r.error.as_deref().unwrap_or(""));
        println!("{}\t{name}\t{}\t{}\t{secs}\t{}\t{error}", when(Some(r.started_at)), when(Some(r.due_at)), r.outcome, r.worker);
    }
}
