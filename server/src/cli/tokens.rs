//! `drydock token`: API tokens.

use super::{load_config, open_store, service, DbArgs};
use crate::domain::Role;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it (alone) on stdout; only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// ingest, admission, viewer, developer, manager, security or admin
        #[arg(long)]
        role: String,
        /// The team the token acts for (developers, managers).
        #[arg(long)]
        team: Option<String>,
        /// Ingest tokens: a cluster whose pods, nodes and audit events it may post (repeatable;
        /// may name a cluster not yet known: its first upload creates it).
        #[arg(long = "cluster")]
        clusters: Vec<String>,
        /// Ingest tokens: a registry whose notifications it may post (repeatable).
        #[arg(long = "registry")]
        registries: Vec<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub async fn run(cli_config: Option<&PathBuf>, command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create { name, role, team, clusters, registries, db } => {
            let role = role.parse::<Role>().map_err(anyhow::Error::msg)?;
            let team = team.as_deref().map(crate::domain::TeamName::parse).transpose().map_err(anyhow::Error::msg)?;
            let config = load_config(cli_config, &db)?;
            let store = open_store(&config).await?;
            let bindings = crate::store::TokenBindings { clusters, registries };
            let secret =
                service(&config, store)?.create_token(Some(&crate::auth::Principal::cli()), &name, role, team.as_ref(), &bindings).await?;
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
