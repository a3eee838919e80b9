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
        LedgerCommand::Export { file, db } => {
            use base64::Engine as _;
            let config = load_config(cli_config, &db)?;
            let store = open_store(&config).await?;
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
            std::fs::write(&file, serde_json::to_vec_pretty(&export)?).with_context(|| format!("cannot write {}", file.display()))?;
            println!("{} entries and {} checkpoints written to {}", export.entries.len(), export.checkpoints.len(), file.display());
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Verify { server: Some(server), token, public_key, .. } => {
            use base64::Engine as _;
            let client = reqwest::Client::new();
            let base = server.trim_end_matches('/');
            let token = token.context("--server needs --token")?;
            let resp = client.get(format!("{base}/api/v1/ledger/checkpoint")).bearer_auth(&token).send().await?;
            anyhow::ensure!(resp.status().is_success(), "checkpoint: HTTP {}", resp.status());
            let note = resp.text().await?;
            // The whole log, 10,000 entries a call, as the server serves it.
            let mut entries = Vec::new();
            loop {
                let start = entries.len();
                let page: Vec<serde_json::Value> = client
                    .get(format!("{base}/api/v1/ledger/entries?start={start}&end={}", start + 10_000))
                    .bearer_auth(&token)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                if page.is_empty() {
                    break;
                }
                entries.extend(page.into_iter().map(|e| e["leaf"].as_str().unwrap_or_default().to_string()));
            }
            let key = match public_key {
                Some(pk) => {
                    let pk = if std::path::Path::new(&pk).exists() { std::fs::read_to_string(&pk)? } else { pk };
                    crate::ledger::parse_verifier_key(&pk).map_err(anyhow::Error::msg)?
                }
                None => {
                    // Without a key given, the checkpoint's own signature line cannot be trusted:
                    // say so, and check the tree against its size and root only.
                    let size: usize = note.lines().nth(1).and_then(|l| l.parse().ok()).context("checkpoint: no size line")?;
                    let root = note
                        .lines()
                        .nth(2)
                        .and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok())
                        .context("checkpoint: no root line")?;
                    let export =
                        crate::ledger::Export { origin: crate::ledger::ORIGIN.into(), verifier_key: None, entries, checkpoints: vec![] };
                    let leaves: Vec<_> = export
                        .entries
                        .iter()
                        .filter_map(|e| base64::engine::general_purpose::STANDARD.decode(e).ok())
                        .map(|b| crate::ledger::merkle::leaf_hash(&b))
                        .collect();
                    anyhow::ensure!(leaves.len() >= size, "the server serves {} entries, its checkpoint covers {size}", leaves.len());
                    if crate::ledger::merkle::root(&leaves[..size])[..] == root[..] {
                        println!("ledger consistent with the served checkpoint: {size} entries (signature not checked: give --public-key)");
                        return Ok(ExitCode::SUCCESS);
                    }
                    println!("LEDGER TAMPERED: the served entries do not match the served checkpoint");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let export = crate::ledger::Export {
                origin: crate::ledger::ORIGIN.into(),
                verifier_key: None,
                entries,
                checkpoints: vec![note.clone()],
            };
            match crate::ledger::verify_export(&export, &key) {
                Ok((n, root)) => {
                    println!("ledger intact on {base}: {n} entries, root {root}, checkpoint signature verified");
                    // The server's proofs, checked against the signed checkpoint.
                    let (size, signed_root) = crate::ledger::verify_checkpoint(&note, &key).map_err(anyhow::Error::msg)?;
                    let leaves: Vec<_> = export
                        .entries
                        .iter()
                        .filter_map(|e| base64::engine::general_purpose::STANDARD.decode(e).ok())
                        .map(|b| crate::ledger::merkle::leaf_hash(&b))
                        .collect();
                    let hashes = |v: &serde_json::Value| -> Vec<crate::ledger::merkle::Hash> {
                        v["hashes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|h| h.as_str())
                            .filter_map(|h| base64::engine::general_purpose::STANDARD.decode(h).ok())
                            .filter_map(|b| b.try_into().ok())
                            .collect()
                    };
                    if size > 0 {
                        let p: serde_json::Value = client
                            .get(format!("{base}/api/v1/ledger/proof/inclusion?index=0&size={size}"))
                            .bearer_auth(&token)
                            .send()
                            .await?
                            .json()
                            .await?;
                        let ok = crate::ledger::merkle::verify_inclusion(0, size, &leaves[0], &hashes(&p), &signed_root);
                        println!("inclusion proof of entry 0 in {size}: {}", if ok { "verified" } else { "FAILED" });
                        anyhow::ensure!(ok, "the server's inclusion proof does not verify");
                    }
                    if size > 1 {
                        let from = size / 2;
                        let p: serde_json::Value = client
                            .get(format!("{base}/api/v1/ledger/proof/consistency?from={from}&to={size}"))
                            .bearer_auth(&token)
                            .send()
                            .await?
                            .json()
                            .await?;
                        let old_root = crate::ledger::merkle::root(&leaves[..from as usize]);
                        let ok = crate::ledger::merkle::verify_consistency(from, size, &old_root, &signed_root, &hashes(&p));
                        println!("consistency proof {from} → {size}: {}", if ok { "verified" } else { "FAILED" });
                        anyhow::ensure!(ok, "the server's consistency proof does not verify");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("LEDGER TAMPERED: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        LedgerCommand::Verify { file: Some(file), public_key, .. } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let export: crate::ledger::Export = serde_json::from_str(&text).context("not a ledger export")?;
            let pk = public_key.context("--public-key is required with --file")?;
            let pk = if std::path::Path::new(&pk).exists() { std::fs::read_to_string(&pk)? } else { pk };
            let key = crate::ledger::parse_verifier_key(&pk).map_err(anyhow::Error::msg)?;
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
        LedgerCommand::Verify { db, .. } => {
            let config = load_config(cli_config, &db)?;
            let store = open_store(&config).await?;
            let (path, _) = crate::ledger::key_path(config.ledger_key.as_deref(), &config.database_url)?;
            let key = if path.exists() { Some(crate::ledger::LedgerKey::load(&path)?.public()) } else { None };
            let report = crate::ledger::verify_store(&store, key.as_ref()).await?;
            match &report.error {
                None => {
                    println!(
                        "ledger intact: {} entries, root {}, {} checkpoints verified{}",
                        report.size,
                        report.root,
                        report.checkpoints_checked,
                        if key.is_none() { " (no key found: signatures not checked)" } else { "" }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(e) => {
                    println!("LEDGER TAMPERED: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
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
