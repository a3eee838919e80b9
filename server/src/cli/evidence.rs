//! `drydock evidence export --at DATE [--team T]... FILE` and `drydock evidence verify FILE
//! --public-key KEY`: the signed bundle of the compliance state at a date, and its offline check
//! (no database, no server).

use super::{load_config, open_store, DbArgs};
use crate::domain::dates;
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Write the evidence bundle of the end of DATE (a gzip'd tar) to FILE.
    Export {
        /// The day (YYYY-MM-DD) whose recorded snapshot the bundle proves.
        #[arg(long)]
        at: String,
        /// Only these teams (repeat; default: every team).
        #[arg(long = "team")]
        teams: Vec<String>,
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Check a bundle offline against the ledger's public key; exit 0 with a summary, non-zero
    /// naming the first thing that does not hold.
    Verify {
        file: PathBuf,
        /// The ledger's verifier key (NAME+ID+BASE64, as `drydock ledger public-key` prints), or a file holding it.
        #[arg(long)]
        public_key: String,
    },
}

pub(super) async fn run(cli_config: Option<&PathBuf>, command: EvidenceCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvidenceCommand::Export { at, teams, file, db } => {
            let config = load_config(cli_config, &db)?;
            let at = dates::parse("--at", &at).map_err(|e| anyhow::anyhow!("{e}"))?;
            let key = crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url)?;
            let service = super::service_signing(&config, open_store(&config).await?, Ok(Arc::new(key)))?;
            let teams = (!teams.is_empty()).then_some(teams);
            let bundle =
                service.evidence_bundle(Some(&crate::auth::Principal::cli()), at, teams).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&file, &bundle.bytes).with_context(|| format!("cannot write {}", file.display()))?;
            println!(
                "evidence of {at} written to {} ({} bytes), manifest SHA-256 {}",
                file.display(),
                bundle.bytes.len(),
                bundle.manifest_sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Verify { file, public_key } => {
            let key = super::ledger::read_verifier_key(&public_key)?;
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            match crate::bundle::verify::verify(&bytes, &key) {
                Ok(v) => {
                    println!("{v}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("EVIDENCE DOES NOT HOLD: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
