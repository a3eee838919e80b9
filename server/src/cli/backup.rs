//! `drydock backup FILE`: a consistent copy of the SQLite database while Drydock runs (SQLite's
//! `VACUUM INTO`: one read transaction, so writers go on), with the ledger's key beside it when
//! the key is the one kept beside the database. Restoring is copying both back (README, "Backup,
//! restore, upgrade"). PostgreSQL is backed up with `pg_dump`: the command says so.

use super::{load_config, open_store, service, DbArgs};
use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The copy to write (must not exist yet).
    pub file: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(cli_config: Option<&PathBuf>, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli_config, &args.db)?;
    anyhow::ensure!(
        config.database_url.starts_with("sqlite:"),
        "drydock backup copies a SQLite database; back PostgreSQL up with pg_dump (README: Backup, restore, upgrade)"
    );
    anyhow::ensure!(!args.file.exists(), "{} exists already: name a new file", args.file.display());
    let store = open_store(&config).await?;
    let (size, entries) = service(&config, store)?.backup_into(Some(&crate::auth::Principal::cli()), &args.file).await?;
    println!("{}: {size} bytes, the ledger's {entries} entries", args.file.display());
    let (key, beside_database) = crate::ledger::key_path(config.ledger_key.as_deref(), &config.database_url)?;
    if beside_database && key.exists() {
        let copy = PathBuf::from(format!("{}.ledger.pem", args.file.display()));
        std::fs::copy(&key, &copy).with_context(|| format!("the ledger key {} could not be copied", key.display()))?;
        restrict(&copy)?;
        println!("{}: the ledger's signing key (keep it as secret as the original)", copy.display());
    } else {
        println!("the ledger's key ({}) is not copied: keep it with the backup, or its checkpoints cannot be verified", key.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Owner-only permissions on a copied key.
fn restrict(path: &std::path::Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
