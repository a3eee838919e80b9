//! `drydock ledger …`: keys, checkpoints, export, and verification of a database, an export or a
//! running server.

use super::{load_config, open_store, DbArgs};
use crate::store::capabilities::*;
use crate::store::Store;
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Write a new Ed25519 signing key (PKCS#8 PEM) to FILE; print its public verifier key.
    Keygen { file: PathBuf },
    /// Print the ledger's public verifier key (for `verify --public-key` elsewhere).
    PublicKey {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Sign (if needed) and print the checkpoint covering every entry.
    Checkpoint {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Recompute every entry and the tree, check every stored checkpoint; non-zero exit naming
    /// the first bad index if anything was changed. `--file` checks an export offline.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// An export (`drydock ledger export`) to check instead of the database.
        #[arg(long, requires = "public_key", conflicts_with = "database_url")]
        file: Option<PathBuf>,
        /// A running Drydock to check through its API (with --token).
        #[arg(long, conflicts_with_all = ["database_url", "file"], requires = "token")]
        server: Option<String>,
        /// API token for --server (any role but ingest). [env: DRYDOCK_TOKEN]
        #[arg(long, env = "DRYDOCK_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The ledger's verifier key (NAME+ID+BASE64, as `keygen` prints), or a file holding it.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Write every entry and signed checkpoint to FILE, for `verify --file` on another machine.
    Export {
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub(super) async fn run(cli_config: Option<&PathBuf>, command: LedgerCommand) -> anyhow::Result<ExitCode> {
    match command {
        LedgerCommand::Keygen { file } => {
            let key = crate::ledger::LedgerKey::generate(&file)?;
            println!("{}", key.verifier_key());
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::PublicKey { db } => {
            let config = load_config(cli_config, &db)?;
            let key = crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url)?;
            println!("{}", key.verifier_key());
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Checkpoint { db } => {
            let config = load_config(cli_config, &db)?;
            let store = open_store(&config).await?;
            let key = crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url)?;
            let note = checkpoint_and_witness(&store, &key, config.ledger_witness.as_deref()).await?;
            print!("{note}");
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Export { file, db } => export(&load_config(cli_config, &db)?, &file).await,
        LedgerCommand::Verify { server: Some(server), token, public_key, .. } => {
            let token = token.context("--server needs --token")?;
            let key = public_key.map(|pk| read_verifier_key(&pk)).transpose()?;
            print_remote(&server, crate::ledger::remote::verify(&server, &token, key.as_ref()).await?)
        }
        LedgerCommand::Verify { file: Some(file), public_key, .. } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let export: crate::ledger::Export = serde_json::from_str(&text).context("not a ledger export")?;
            let key = read_verifier_key(&public_key.context("--public-key is required with --file")?)?;
            match crate::ledger::verify_export(&export, &key) {
                Ok((n, root)) => {
                    println!("ledger export intact: {n} entries, root {root}, {} checkpoints verified", export.checkpoints.len());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("LEDGER TAMPERED: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        LedgerCommand::Verify { db, .. } => verify_database(&load_config(cli_config, &db)?).await,
    }
}

/// Writes every entry and signed checkpoint to `file` (one snapshot of the ledger).
async fn export(config: &crate::config::Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    use base64::Engine as _;
    let store = open_store(config).await?;
    let key = crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url)?;
    checkpoint_and_witness(&store, &key, config.ledger_witness.as_deref()).await?;
    // One snapshot: the entries and checkpoints agree whatever a running serve appends.
    let snapshot = store.ledger_snapshot().await?;
    let export = crate::ledger::Export {
        origin: crate::ledger::ORIGIN.into(),
        verifier_key: Some(key.verifier_key()),
        entries: snapshot
            .entries
            .iter()
            .filter_map(|r| r.entry.as_ref())
            .map(|e| base64::engine::general_purpose::STANDARD.encode(e))
            .collect(),
        checkpoints: snapshot.checkpoints.into_iter().map(|(_, n)| n).collect(),
    };
    std::fs::write(file, serde_json::to_vec_pretty(&export)?).with_context(|| format!("cannot write {}", file.display()))?;
    println!("{} entries and {} checkpoints written to {}", export.entries.len(), export.checkpoints.len(), file.display());
    Ok(ExitCode::SUCCESS)
}

/// Recomputes the database's ledger and checks its checkpoints (with the key when it is found).
async fn verify_database(config: &crate::config::Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let (path, _) = crate::ledger::key_path(config.ledger_key.as_deref(), &config.database_url)?;
    let key = if path.exists() { Some(crate::ledger::LedgerKey::load(&path)?.public()) } else { None };
    let report = crate::ledger::verify_store(&store, key.as_ref()).await?;
    match &report.error {
        None => {
            let unsigned = if key.is_none() { " (no key found: signatures not checked)" } else { "" };
            println!(
                "ledger intact: {} entries, root {}, {} checkpoints verified{unsigned}",
                report.size, report.root, report.checkpoints_checked
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(e) => {
            println!("LEDGER TAMPERED: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A verifier key given as text (NAME+ID+BASE64) or as a file holding it.
pub(super) fn read_verifier_key(pk: &str) -> anyhow::Result<ed25519_dalek::VerifyingKey> {
    let text = if std::path::Path::new(pk).exists() { std::fs::read_to_string(pk)? } else { pk.to_string() };
    crate::ledger::parse_verifier_key(&text).map_err(anyhow::Error::msg)
}

/// Prints what the verification of a running server found; a failed proof is an error.
fn print_remote(server: &str, verdict: crate::ledger::remote::RemoteVerdict) -> anyhow::Result<ExitCode> {
    use crate::ledger::remote::RemoteVerdict;
    let said = |ok: bool| if ok { "verified" } else { "FAILED" };
    match verdict {
        RemoteVerdict::Unsigned { size, consistent: true } => {
            println!("ledger consistent with the served checkpoint: {size} entries (signature not checked: give --public-key)");
            Ok(ExitCode::SUCCESS)
        }
        RemoteVerdict::Unsigned { consistent: false, .. } => {
            println!("LEDGER TAMPERED: the served entries do not match the served checkpoint");
            Ok(ExitCode::FAILURE)
        }
        RemoteVerdict::Tampered(e) => {
            println!("LEDGER TAMPERED: {e}");
            Ok(ExitCode::FAILURE)
        }
        RemoteVerdict::Intact { entries, root, inclusion, consistency } => {
            println!("ledger intact on {}: {entries} entries, root {root}, checkpoint signature verified", server.trim_end_matches('/'));
            if let Some((size, ok)) = inclusion {
                println!("inclusion proof of entry 0 in {size}: {}", said(ok));
                anyhow::ensure!(ok, "the server's inclusion proof does not verify");
            }
            if let Some((from, size, ok)) = consistency {
                println!("consistency proof {from} → {size}: {}", said(ok));
                anyhow::ensure!(ok, "the server's consistency proof does not verify");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The current checkpoint; a new one is pushed to the witness before the command ends.
async fn checkpoint_and_witness(store: &Store, key: &crate::ledger::LedgerKey, witness: Option<&str>) -> anyhow::Result<String> {
    let (_, note, new) = crate::ledger::current_checkpoint(store, key, chrono::Utc::now()).await?;
    if let (true, Some(w)) = (new, witness) {
        if !crate::ledger::push_with_retries(w, &note, crate::ledger::WITNESS_ATTEMPTS, crate::ledger::WITNESS_TIMEOUT).await {
            eprintln!("warning: the checkpoint could not be pushed to the witness {w}");
        }
    }
    Ok(note)
}
