//! `drydock collect --once`: every collector once, in this process.

use super::{load_config, open_store, DbArgs};
use crate::store::capabilities::*;
use anyhow::bail;
use std::path::PathBuf;
use std::process::ExitCode;

pub async fn run(cli_config: Option<&PathBuf>, db: DbArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli_config, &db)?;
    let settings = config.collect_settings()?;
    let store = open_store(&config).await?;
    let regs = store.registries().await?;
    let clusters = store.collectable_clusters().await?;
    if regs.is_empty() && clusters.is_empty() {
        bail!("no registries or clusters are configured (drydock registry add NAME URL, drydock cluster add NAME --server URL --token-env VAR)");
    }
    let mut failed = false;
    for c in clusters {
        match crate::cluster::collect_and_record(&store, &c, chrono::Utc::now()).await {
            Ok((pods, containers, ended, nodes)) => {
                println!("cluster {}: {pods} pods, {containers} containers, {ended} pods ended, {nodes} nodes", c.name)
            }
            Err(e) => {
                println!("cluster {}: FAILED: {e}", c.name);
                failed = true;
            }
        }
    }
    for r in regs {
        match crate::registry::collect_registry(&store, &r, &settings, None, chrono::Utc::now()).await {
            Ok(s) => {
                println!(
                    "{}: {} repositories, {} tags, {} new manifests, {} verified signatures{}",
                    r.name,
                    s.repositories,
                    s.tags,
                    s.new_manifests,
                    s.signatures_verified,
                    if s.errors.is_empty() { String::new() } else { format!("; FAILED: {}", s.errors.join("; ")) }
                );
                failed |= !s.errors.is_empty();
            }
            Err(e) => {
                println!("{}: FAILED: {e}", r.name);
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
