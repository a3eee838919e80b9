//! `drydock cluster`: the Kubernetes clusters Drydock collects from.

use super::{load_config, open_store, service, DbArgs};
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Add a cluster: drydock cluster add NAME --server URL --token-env VAR [--ca-file F]
    Add {
        name: String,
        /// The API server, e.g. https://10.0.0.1:6443
        #[arg(long)]
        server: String,
        /// The environment variable holding a bearer token that may list pods and nodes.
        #[arg(long)]
        token_env: String,
        /// PEM CA bundle of the API server.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// Allow plain http:// to a non-loopback API server (the token travels in clear).
        #[arg(long)]
        insecure: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub async fn run(cli_config: Option<&PathBuf>, command: ClusterCommand) -> anyhow::Result<ExitCode> {
    match command {
        ClusterCommand::Add { name, server, token_env, ca_file, insecure, db } => {
            let ca_pem = match &ca_file {
                Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("--ca-file {}", f.display()))?),
                None => None,
            };
            let name = crate::domain::ClusterName::parse(name.trim()).map_err(|e| anyhow::anyhow!("cluster name: {e}"))?;
            let mut new = crate::cluster::NewCluster { name, server, token_env, ca_pem, insecure };
            new.validate().map_err(|e| anyhow::anyhow!("cluster {e}"))?;
            let config = load_config(cli_config, &db)?;
            let store = open_store(&config).await?;
            let new = service(&config, store)?.add_cluster(Some(&crate::auth::Principal::cli()), new).await?;
            println!("cluster {} added: {} (token from ${})", new.name, new.server, new.token_env);
            Ok(ExitCode::SUCCESS)
        }
    }
}
