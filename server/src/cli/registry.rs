//! `drydock registry`: the registries Drydock collects from.

use super::{load_config, open_store, service, DbArgs};
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Add a registry: drydock registry add NAME URL [--username U --password-env VAR] [--ca-file F]
    Add {
        name: String,
        /// Base URL, e.g. https://registry.example.com (http:// only for loopback or --insecure).
        url: String,
        #[arg(long)]
        username: Option<String>,
        /// The environment variable holding the password or token (the secret is never stored).
        #[arg(long, requires = "username")]
        password_env: Option<String>,
        /// PEM CA bundle to trust for this registry.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// Allow plain http:// to a non-loopback host.
        #[arg(long)]
        insecure: bool,
        /// A host (besides the registry's own) whose https token realm may receive the
        /// credentials (repeatable; Docker Hub's auth.docker.io is known by default).
        #[arg(long = "auth-host")]
        auth_hosts: Vec<String>,
        /// Put the registry on the approved list.
        #[arg(long)]
        approved: bool,
        /// Repositories to read when the registry has no catalog (repeatable).
        #[arg(long = "repository")]
        repositories: Vec<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the registries and their collection status.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

pub async fn run(cli_config: Option<&PathBuf>, command: RegistryCommand) -> anyhow::Result<ExitCode> {
    match command {
        RegistryCommand::Add { name, url, username, password_env, ca_file, insecure, auth_hosts, approved, repositories, db } => {
            let ca_pem = match &ca_file {
                Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("--ca-file {}", f.display()))?),
                None => None,
            };
            let name = crate::domain::RegistryName::parse(name.trim()).map_err(|e| anyhow::anyhow!("registry name: {e}"))?;
            let mut new =
                crate::registry::NewRegistry { name, url, username, password_env, ca_pem, insecure, auth_hosts, approved, repositories };
            new.validate().map_err(|e| anyhow::anyhow!("registry {e}"))?;
            let config = load_config(cli_config, &db)?;
            let store = open_store(&config).await?;
            let r = service(&config, store)?.add_registry(Some(&crate::auth::Principal::cli()), new).await?;
            println!("registry {} added: {}{}", r.name, r.url, if r.approved { " (approved)" } else { "" });
            Ok(ExitCode::SUCCESS)
        }
        RegistryCommand::List { db } => {
            let config = load_config(cli_config, &db)?;
            let store = open_store(&config).await?;
            for r in service(&config, store)?.registries(Some(&crate::auth::Principal::cli())).await? {
                let s = &r.status;
                println!(
                    "{}\t{}\t{}\trepositories {}, tags {}, manifests {}\tlast success {}\t{}",
                    r.name,
                    r.url,
                    if r.approved { "approved" } else { "not approved" },
                    s.repositories,
                    s.tags,
                    s.manifests,
                    s.last_success.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into()),
                    s.last_error.as_deref().map(|e| format!("FAILING: {e}")).unwrap_or_else(|| "ok".into())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
