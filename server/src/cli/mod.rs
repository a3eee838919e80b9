//! The command line. Logs go to stderr; stdout carries only command output (a token, summaries).

use crate::config::Config;
use crate::store::capabilities::*;
use crate::store::{sha256_hex, Actor, IngestOutcome, Store};
use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod backup;
mod cluster;
mod collect;
mod escalate;
mod evidence;
mod ingest_files;
mod jobs;
mod ledger;
mod registry;
mod snapshot;
mod tokens;

pub use cluster::ClusterCommand;
pub use ledger::LedgerCommand;
pub use registry::RegistryCommand;
pub use tokens::TokenCommand;

use ingest_files::ingest_files;

/// Drydock: what runs in your container estate, who owns it, what must be patched.
#[derive(Parser, Debug)]
#[command(name = "drydock", version)]
pub struct Cli {
    /// Configuration file (TOML). Default: drydock.toml in the working directory, if present.
    #[arg(long, global = true, env = "DRYDOCK_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the store is.
#[derive(Args, Debug, Clone, Default)]
pub struct DbArgs {
    /// sqlite://FILE (created if missing) or postgres://... [env: DRYDOCK_DATABASE_URL]
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web UI and the API.
    Serve {
        /// Address to listen on [default: 127.0.0.1:3000, env: DRYDOCK_ADDR]
        #[arg(long)]
        addr: Option<String>,
        #[command(flatten)]
        db: DbArgs,
        /// Load the demo estate into an empty database (SQLite only).
        #[arg(long)]
        demo: bool,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key) [env: DRYDOCK_TLS_CERT]
        #[arg(long)]
        tls_cert: Option<String>,
        /// The certificate's PEM private key [env: DRYDOCK_TLS_KEY]
        #[arg(long)]
        tls_key: Option<String>,
    },
    /// Create or upgrade the database schema.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Send scanner reports in, directly into the database or to a running server.
    Ingest(IngestArgs),
    /// Manage the registries Drydock collects from.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// The audit ledger: keys, checkpoints, verification.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Evidence for auditors: export the signed bundle of the compliance state at a date, verify one offline.
    Evidence {
        #[command(subcommand)]
        command: evidence::EvidenceCommand,
    },
    /// Manage the Kubernetes clusters Drydock collects from.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Background jobs: each job's next run, last success and failure, and the recent runs.
    Jobs(jobs::JobsArgs),
    /// Judge the estate by the policies and record the day's scorecard snapshot (--at DATE: that day).
    Snapshot(snapshot::SnapshotArgs),
    /// One escalation pass of the patch campaigns (--at RFC3339: at that time), delivered before it exits.
    Escalate(escalate::EscalateArgs),
    /// The configuration: `reference` prints every setting, its environment variable, default and meaning (Markdown).
    #[command(name = "config")]
    Configuration {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Copy the SQLite database, consistently, while Drydock runs (PostgreSQL: use pg_dump).
    Backup(backup::BackupArgs),
    /// Run every configured collector once (registries, clusters), print a summary of each; non-zero exit if any failed.
    Collect {
        /// Run once and exit (the only mode: `serve` collects on its schedule).
        #[arg(long, required = true)]
        once: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Every setting as a Markdown table (docs/CONFIGURATION.md is this output).
    Reference,
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Report files (Trivy JSON, Grype JSON, CycloneDX JSON).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Send to a running Drydock instead of opening the database.
    #[arg(long, conflicts_with = "database_url", requires = "token")]
    pub server: Option<String>,
    /// API token for --server (role ingest, security or admin). [env: DRYDOCK_TOKEN]
    #[arg(long, env = "DRYDOCK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The cluster Kubernetes pod and node lists among the files belong to (created if new).
    #[arg(long)]
    pub cluster: Option<String>,
}

/// Parses arguments, runs the command, maps failure to a non-zero exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    // Tasks still running (connections past the shutdown deadline) are dropped, not awaited.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    // DRYDOCK_TRACE_SPANS=1 logs each service and store call as it ends, with its time
    // (`RUST_LOG=drydock=debug` includes the store's): where a slow request's time went.
    let spans = if std::env::var("DRYDOCK_TRACE_SPANS").is_ok_and(|v| v == "1") {
        tracing_subscriber::fmt::format::FmtSpan::CLOSE
    } else {
        tracing_subscriber::fmt::format::FmtSpan::NONE
    };
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_span_events(spans).with_writer(std::io::stderr).try_init();
}

fn load_config(cli_config: Option<&PathBuf>, db: &DbArgs) -> anyhow::Result<Config> {
    let mut config = Config::load(cli_config.map(|p| p.as_path()))?;
    if let Some(url) = &db.database_url {
        config.database_url = url.clone();
    }
    Ok(config)
}

/// The application layer for commands that change the estate as the command line (`cli`): the
/// same checks and audit records as the API and the forms. Jobs it queues run in `serve`.
fn service(config: &Config, store: Store) -> anyhow::Result<crate::service::Service> {
    service_signing(config, store, Err("the command line signs no checkpoints here".into()))
}

/// As `service`, with the ledger's key for what this process signs (the jobs of `drydock jobs
/// --run-pending`, evidence bundles).
fn service_signing(
    config: &Config,
    store: Store,
    ledger_key: Result<Arc<crate::ledger::LedgerKey>, String>,
) -> anyhow::Result<crate::service::Service> {
    let clock: crate::clock::SharedClock = Arc::new(crate::clock::SystemClock);
    let signing = ledger_key.clone();
    let jobs = crate::jobs::Jobs::new(
        store.clone(),
        crate::jobs::JobSettings::from_config(config)?,
        config.collect_settings()?,
        ledger_key,
        clock.clone(),
    );
    Ok(crate::service::Service {
        store,
        clock,
        promotion: config.promotion()?,
        scan_max_age_days: config.scan_max_age_days,
        jobs,
        ledger_key: signing,
        ledger_witness: None,
        configured_mappings: Arc::new(Vec::new()),
        webhook_policy: Arc::new(config.webhook_policy()?),
        admission_tally: Default::default(),
        admission_cache: Default::default(),
    })
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::connect_with(&config.database_url, config.db_acquire_timeout()?)
        .await
        .with_context(|| format!("cannot open the database {}", crate::config::redact_url(&config.database_url)))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { addr, db, demo, tls_cert, tls_key } => {
            let mut config = load_config(cli.config.as_ref(), &db)?;
            if let Some(a) = addr {
                config.addr = a;
            }
            config.tls_cert = tls_cert.or(config.tls_cert);
            config.tls_key = tls_key.or(config.tls_key);
            config.demo |= demo;
            config.check_demo()?;
            let store = open_store(&config).await?;
            if config.demo && crate::demo::load_if_empty(&store, &config.promotion()?).await? {
                tracing::info!("demo mode: the estate holds the demo reports");
            }
            // Teams that the group mapping names exist from the start.
            if let Some(spec) = &config.group_roles {
                let mut teams: Vec<crate::domain::TeamName> = crate::auth::mapping::parse(spec)
                    .map_err(|e| anyhow::anyhow!("DRYDOCK_GROUP_ROLES: {e}"))?
                    .into_iter()
                    .filter_map(|m| m.grant.team)
                    .collect();
                teams.sort();
                teams.dedup();
                store.ensure_teams(&teams, &Actor("config".into()), chrono::Utc::now()).await?;
            }
            let listener =
                tokio::net::TcpListener::bind(&config.addr).await.with_context(|| format!("cannot listen on {}", config.addr))?;
            crate::startup::serve(listener, store, Arc::new(config)).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { db } => {
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            println!("database {} is up to date ({})", crate::config::redact_url(&config.database_url), store.backend());
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command } => tokens::run(cli.config.as_ref(), command).await,
        Command::Ingest(args) => ingest_files(cli.config.as_ref(), args).await,
        Command::Registry { command } => registry::run(cli.config.as_ref(), command).await,
        Command::Cluster { command } => cluster::run(cli.config.as_ref(), command).await,
        Command::Collect { once: _, db } => collect::run(cli.config.as_ref(), db).await,
        Command::Ledger { command } => ledger::run(cli.config.as_ref(), command).await,
        Command::Evidence { command } => evidence::run(cli.config.as_ref(), command).await,
        Command::Jobs(args) => jobs::run(cli.config.as_ref(), args).await,
        Command::Snapshot(args) => snapshot::run(cli.config.as_ref(), args).await,
        Command::Escalate(args) => escalate::run(cli.config.as_ref(), args).await,
        Command::Configuration { command: ConfigCommand::Reference } => {
            print!("{}", crate::config::reference_markdown());
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup(args) => backup::run(cli.config.as_ref(), args).await,
    }
}

/// A command's `--at` time: RFC 3339, on a day from 2000-01-01 to ten years after `now`.
fn command_time(t: &str, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    let at = chrono::DateTime::parse_from_rfc3339(t.trim())
        .with_context(|| format!("--at {t:?} is not an RFC 3339 time (e.g. 2026-12-20T09:00:00Z)"))?
        .with_timezone(&chrono::Utc);
    crate::domain::dates::command_day("--at", at.date_naive(), now.date_naive()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(at)
}
