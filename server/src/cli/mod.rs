//! The command line. Logs go to stderr; stdout carries only command output (a token, summaries).

use crate::config::Config;
use crate::domain::Role;
use crate::store::{sha256_hex, Actor, IngestOutcome, Store};
use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod ingest_files;
mod jobs;
mod ledger;

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
    /// Manage the Kubernetes clusters Drydock collects from.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Background jobs: each job's next run, last success and failure, and the recent runs.
    Jobs(jobs::JobsArgs),
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

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it (alone) on stdout; only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// ingest, viewer, developer, manager, security or admin
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
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
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
    let clock: crate::clock::SharedClock = Arc::new(crate::clock::SystemClock);
    let jobs = crate::jobs::Jobs::new(
        store.clone(),
        crate::jobs::JobSettings::from_config(config),
        config.collect_settings()?,
        Err("the command line signs no checkpoints here".into()),
        clock.clone(),
    );
    Ok(crate::service::Service {
        store,
        clock,
        promotion: config.promotion()?,
        scan_max_age_days: config.scan_max_age_days,
        jobs,
        ledger_key: Err("the command line signs no checkpoints here".into()),
        ledger_witness: None,
        configured_mappings: Arc::new(Vec::new()),
    })
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", crate::config::redact_url(&config.database_url)))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { addr, db, demo } => {
            let mut config = load_config(cli.config.as_ref(), &db)?;
            if let Some(a) = addr {
                config.addr = a;
            }
            config.demo |= demo;
            config.check_demo()?;
            let store = open_store(&config).await?;
            if config.demo && crate::demo::load_if_empty(&store).await? {
                tracing::info!("demo mode: the estate holds the demo reports");
            }
            // Teams that the group mapping names exist from the start.
            if let Some(spec) = &config.group_roles {
                let mut teams: Vec<String> = crate::auth::mapping::parse(spec)
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
        Command::Token { command: TokenCommand::Create { name, role, team, clusters, registries, db } } => {
            role.parse::<Role>().map_err(anyhow::Error::msg)?;
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            let bindings = crate::store::TokenBindings { clusters, registries };
            let secret = service(&config, store)?
                .create_token(Some(&crate::auth::Principal::cli()), &name, &role, team.as_deref(), &bindings)
                .await?;
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest(args) => ingest_files(cli.config.as_ref(), args).await,
        Command::Registry {
            command: RegistryCommand::Add { name, url, username, password_env, ca_file, insecure, auth_hosts, approved, repositories, db },
        } => {
            let ca_pem = match &ca_file {
                Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("--ca-file {}", f.display()))?),
                None => None,
            };
            let mut new =
                crate::registry::NewRegistry { name, url, username, password_env, ca_pem, insecure, auth_hosts, approved, repositories };
            new.validate().map_err(|e| anyhow::anyhow!("registry {e}"))?;
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            let r = service(&config, store)?.add_registry(Some(&crate::auth::Principal::cli()), new).await?;
            println!("registry {} added: {}{}", r.name, r.url, if r.approved { " (approved)" } else { "" });
            Ok(ExitCode::SUCCESS)
        }
        Command::Registry { command: RegistryCommand::List { db } } => {
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            for r in store.registries().await? {
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
        Command::Ledger { command } => ledger::run(cli.config.as_ref(), command).await,
        Command::Jobs(args) => jobs::run(cli.config.as_ref(), args).await,
        Command::Cluster { command: ClusterCommand::Add { name, server, token_env, ca_file, insecure, db } } => {
            let ca_pem = match &ca_file {
                Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("--ca-file {}", f.display()))?),
                None => None,
            };
            let mut new = crate::k8s::collect::NewCluster { name, server, token_env, ca_pem, insecure };
            new.validate().map_err(|e| anyhow::anyhow!("cluster {e}"))?;
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            let new = service(&config, store)?.add_cluster(Some(&crate::auth::Principal::cli()), new).await?;
            println!("cluster {} added: {} (token from ${})", new.name, new.server, new.token_env);
            Ok(ExitCode::SUCCESS)
        }
        Command::Collect { once: _, db } => {
            let config = load_config(cli.config.as_ref(), &db)?;
            let settings = config.collect_settings()?;
            let store = open_store(&config).await?;
            let regs = store.registries().await?;
            let clusters = store.collectable_clusters().await?;
            if regs.is_empty() && clusters.is_empty() {
                bail!("no registries or clusters are configured (drydock registry add NAME URL, drydock cluster add NAME --server URL --token-env VAR)");
            }
            let mut failed = false;
            for c in clusters {
                match crate::k8s::collect::collect_and_record(&store, &c, chrono::Utc::now()).await {
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
    }
}
