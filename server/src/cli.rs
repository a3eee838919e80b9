//! The command line. Logs go to stderr; stdout carries only command output (a token, summaries).

use crate::config::Config;
use crate::domain::Role;
use crate::ingest;
use crate::store::{sha256_hex, Actor, IngestOutcome, Store};
use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

fn load_config(cli_config: Option<&PathBuf>, db: &DbArgs) -> anyhow::Result<Config> {
    let mut config = Config::load(cli_config.map(|p| p.as_path()))?;
    if let Some(url) = &db.database_url {
        config.database_url = url.clone();
    }
    Ok(config)
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
            let listener = tokio::net::TcpListener::bind(&config.addr)
                .await
                .with_context(|| format!("cannot listen on {}", config.addr))?;
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
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            let bindings = crate::store::TokenBindings { clusters, registries };
            let secret = store.create_token(&name, role, team.as_deref(), &bindings, &Actor::cli(), chrono::Utc::now()).await?;
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest(args) => ingest_files(cli.config.as_ref(), args).await,
        Command::Registry { command: RegistryCommand::Add { name, url, username, password_env, ca_file, insecure, auth_hosts, approved, repositories, db } } => {
            let ca_pem = match &ca_file {
                Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("--ca-file {}", f.display()))?),
                None => None,
            };
            let mut new = crate::registry::NewRegistry { name, url, username, password_env, ca_pem, insecure, auth_hosts, approved, repositories };
            new.validate().map_err(|e| anyhow::anyhow!("registry {e}"))?;
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            let r = store.add_registry(&new, &Actor::cli(), chrono::Utc::now()).await?;
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
        Command::Ledger { command: LedgerCommand::Keygen { file } } => {
            let key = crate::ledger::LedgerKey::generate(&file)?;
            println!("{}", key.verifier_key());
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger { command: LedgerCommand::PublicKey { db } } => {
            let config = load_config(cli.config.as_ref(), &db)?;
            let key = crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url)?;
            println!("{}", key.verifier_key());
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger { command: LedgerCommand::Checkpoint { db } } => {
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            let key = crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url)?;
            let note = checkpoint_and_witness(&store, &key, config.ledger_witness.as_deref()).await?;
            print!("{note}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger { command: LedgerCommand::Export { file, db } } => {
            use base64::Engine as _;
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            let key = crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url)?;
            checkpoint_and_witness(&store, &key, config.ledger_witness.as_deref()).await?;
            let rows = store.ledger_rows(0, i64::MAX).await?;
            let export = crate::ledger::Export {
                origin: crate::ledger::ORIGIN.into(),
                verifier_key: Some(key.verifier_key()),
                entries: rows.iter().filter_map(|r| r.entry.as_ref()).map(|e| base64::engine::general_purpose::STANDARD.encode(e)).collect(),
                checkpoints: store.ledger_checkpoints().await?.into_iter().map(|(_, n)| n).collect(),
            };
            std::fs::write(&file, serde_json::to_vec_pretty(&export)?).with_context(|| format!("cannot write {}", file.display()))?;
            println!("{} entries and {} checkpoints written to {}", export.entries.len(), export.checkpoints.len(), file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger { command: LedgerCommand::Verify { server: Some(server), token, public_key, .. } } => {
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
                    let root = note.lines().nth(2).and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok()).context("checkpoint: no root line")?;
                    let export = crate::ledger::Export { origin: crate::ledger::ORIGIN.into(), verifier_key: None, entries, checkpoints: vec![] };
                    let leaves: Vec<_> = export.entries.iter().filter_map(|e| base64::engine::general_purpose::STANDARD.decode(e).ok()).map(|b| crate::ledger::merkle::leaf_hash(&b)).collect();
                    anyhow::ensure!(leaves.len() >= size, "the server serves {} entries, its checkpoint covers {size}", leaves.len());
                    if crate::ledger::merkle::root(&leaves[..size])[..] == root[..] {
                        println!("ledger consistent with the served checkpoint: {size} entries (signature not checked: give --public-key)");
                        return Ok(ExitCode::SUCCESS);
                    }
                    println!("LEDGER TAMPERED: the served entries do not match the served checkpoint");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let export = crate::ledger::Export { origin: crate::ledger::ORIGIN.into(), verifier_key: None, entries, checkpoints: vec![note.clone()] };
            match crate::ledger::verify_export(&export, &key) {
                Ok((n, root)) => {
                    println!("ledger intact on {base}: {n} entries, root {root}, checkpoint signature verified");
                    // The server's proofs, checked against the signed checkpoint.
                    let (size, signed_root) = crate::ledger::verify_checkpoint(&note, &key).map_err(anyhow::Error::msg)?;
                    let leaves: Vec<_> = export.entries.iter().filter_map(|e| base64::engine::general_purpose::STANDARD.decode(e).ok()).map(|b| crate::ledger::merkle::leaf_hash(&b)).collect();
                    let hashes = |v: &serde_json::Value| -> Vec<crate::ledger::merkle::Hash> {
                        v["hashes"].as_array().into_iter().flatten().filter_map(|h| h.as_str()).filter_map(|h| base64::engine::general_purpose::STANDARD.decode(h).ok()).filter_map(|b| b.try_into().ok()).collect()
                    };
                    if size > 0 {
                        let p: serde_json::Value = client.get(format!("{base}/api/v1/ledger/proof/inclusion?index=0&size={size}")).bearer_auth(&token).send().await?.json().await?;
                        let ok = crate::ledger::merkle::verify_inclusion(0, size, &leaves[0], &hashes(&p), &signed_root);
                        println!("inclusion proof of entry 0 in {size}: {}", if ok { "verified" } else { "FAILED" });
                        anyhow::ensure!(ok, "the server's inclusion proof does not verify");
                    }
                    if size > 1 {
                        let from = size / 2;
                        let p: serde_json::Value = client.get(format!("{base}/api/v1/ledger/proof/consistency?from={from}&to={size}")).bearer_auth(&token).send().await?.json().await?;
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
        Command::Ledger { command: LedgerCommand::Verify { file: Some(file), public_key, .. } } => {
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
        Command::Ledger { command: LedgerCommand::Verify { db, .. } } => {
            let config = load_config(cli.config.as_ref(), &db)?;
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
        Command::Cluster { command: ClusterCommand::Add { name, server, token_env, ca_file, insecure, db } } => {
            let ca_pem = match &ca_file {
                Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("--ca-file {}", f.display()))?),
                None => None,
            };
            let mut new = crate::k8s::collect::NewCluster { name, server, token_env, ca_pem, insecure };
            new.validate().map_err(|e| anyhow::anyhow!("cluster {e}"))?;
            let config = load_config(cli.config.as_ref(), &db)?;
            let store = open_store(&config).await?;
            store.add_cluster(&new, &Actor::cli(), chrono::Utc::now()).await?;
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

/// Where a Kubernetes file goes.
enum KubeTarget<'a> {
    Db(&'a Store),
    Server { client: &'a reqwest::Client, base: &'a str, token: &'a str },
}

/// Sends a pod or node list for `cluster`; one summary line.
async fn ingest_kubernetes(target: &KubeTarget<'_>, cluster: &str, file: &std::path::Path, bytes: &[u8], v: &serde_json::Value) -> anyhow::Result<String> {
    let upload = crate::k8s::parse_value(v).map_err(anyhow::Error::msg)?;
    match (target, upload) {
        (KubeTarget::Db(store), crate::k8s::Upload::Pods(p)) => {
            let (pods, containers, ended) = store.store_pods(cluster, &p, &Actor::cli(), chrono::Utc::now()).await?;
            Ok(format!("{}: cluster {cluster}: {pods} pods, {containers} containers recorded, {ended} pods ended", file.display()))
        }
        (KubeTarget::Db(store), crate::k8s::Upload::Nodes(n)) => {
            let n = store.store_nodes(cluster, &n, &Actor::cli(), chrono::Utc::now()).await?;
            Ok(format!("{}: cluster {cluster}: {n} nodes recorded", file.display()))
        }
        (KubeTarget::Server { client, base, token }, upload) => {
            let what = if matches!(upload, crate::k8s::Upload::Pods(_)) { "pods" } else { "nodes" };
            let url = format!("{base}/api/v1/clusters/{cluster}/{what}");
            let resp = client.post(&url).bearer_auth(token).body(bytes.to_vec()).send().await?;
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
            if !status.is_success() {
                bail!("{}: HTTP {status}: {}", file.display(), body["error"].as_str().unwrap_or("no error message"));
            }
            Ok(format!("{}: cluster {cluster}: {body}", file.display()))
        }
    }
}

/// One line per file on stdout.
fn describe(file: &std::path::Path, status: &str, s: &crate::store::IngestSummary) -> String {
    let f = &s.findings;
    format!(
        "{}: {status} {} ({}), {} findings: critical {}, high {}, medium {}, low {}, negligible {}, unknown {}",
        file.display(),
        s.image.as_deref().unwrap_or("no image digest (unmatched)"),
        s.artifact,
        f.total(),
        f.critical,
        f.high,
        f.medium,
        f.low,
        f.negligible,
        f.unknown
    )
}

async fn ingest_files(cli_config: Option<&PathBuf>, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let bar = indicatif::ProgressBar::new(args.files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut failed = 0;
    enum Target {
        Db(Store),
        Server { client: reqwest::Client, url: String, token: String },
    }
    fn target_ref(t: &Target) -> KubeTarget<'_> {
        match t {
            Target::Db(s) => KubeTarget::Db(s),
            Target::Server { client, url, token } => KubeTarget::Server { client, base: url.trim_end_matches("/api/v1/scans"), token },
        }
    }
    let target = match &args.server {
        Some(server) => Target::Server {
            client: reqwest::Client::new(),
            url: format!("{}/api/v1/scans", server.trim_end_matches('/')),
            token: args.token.clone().context("--server needs --token")?,
        },
        None => Target::Db(open_store(&load_config(cli_config, &args.db)?).await?),
    };
    for file in &args.files {
        bar.set_message(file.display().to_string());
        let result: anyhow::Result<String> = async {
            let bytes = tokio::fs::read(file).await.with_context(|| format!("cannot read {}", file.display()))?;
            // Kubernetes audit logs (JSON lines or an EventList).
            if crate::k8s::audit::looks_like_audit(&bytes) {
                let cluster = args.cluster.as_deref().unwrap_or("default");
                let facts = crate::k8s::audit::parse(&bytes).map_err(anyhow::Error::msg)?;
                return match &target {
                    Target::Db(store) => {
                        let new = store.record_k8s_audit(cluster, &facts, &Actor::cli(), chrono::Utc::now()).await?;
                        Ok(format!("{}: cluster {cluster}: {} audit events, {new} new", file.display(), facts.len()))
                    }
                    Target::Server { client, url, token } => {
                        let url = format!("{}/api/v1/audit/k8s?cluster={cluster}", url.trim_end_matches("/api/v1/scans"));
                        let resp = client.post(&url).bearer_auth(token).body(bytes.clone()).send().await?;
                        let status = resp.status();
                        let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
                        if !status.is_success() {
                            bail!("{}: HTTP {status}: {}", file.display(), body["error"].as_str().unwrap_or("no error message"));
                        }
                        Ok(format!("{}: cluster {cluster}: {body}", file.display()))
                    }
                };
            }
            // Kubernetes pod and node lists go to the cluster named by --cluster.
            let kube = serde_json::from_slice::<serde_json::Value>(&bytes).ok().filter(crate::k8s::is_kubernetes);
            if let Some(v) = kube {
                let cluster = args.cluster.as_deref().context("this is a Kubernetes pod or node list: name its cluster with --cluster NAME")?;
                return ingest_kubernetes(&target_ref(&target), cluster, file, &bytes, &v).await;
            }
            match &target {
                Target::Db(store) => {
                    let report = ingest::parse(&bytes, None)?;
                    let outcome = store.ingest_report(&report, &sha256_hex(&bytes), &Actor::cli(), chrono::Utc::now()).await?;
                    Ok(match &outcome {
                        IngestOutcome::Created(s) => describe(file, "stored", s),
                        IngestOutcome::Duplicate(s) => describe(file, "already stored", s),
                    })
                }
                Target::Server { client, url, token } => {
                    let resp = client.post(url).bearer_auth(token).body(bytes).send().await?;
                    let status = resp.status();
                    let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
                    if !status.is_success() {
                        bail!("{}: HTTP {status}: {}", file.display(), body["error"].as_str().unwrap_or("no error message"));
                    }
                    let s: crate::store::IngestSummary = crate::store::IngestSummary {
                        image: body["image"].as_str().map(str::to_string),
                        artifact: body["artifact"].as_str().unwrap_or_default().to_string(),
                        scanner: body["scanner"].as_str().unwrap_or_default().to_string(),
                        findings: serde_json::from_value(body["findings"].clone()).unwrap_or_default(),
                        future_dated: body["future_dated"].as_bool().unwrap_or(false),
                    };
                    Ok(describe(file, if status.as_u16() == 201 { "stored" } else { "already stored" }, &s))
                }
            }
        }
        .await;
        match result {
            Ok(line) => bar.suspend(|| println!("{line}")),
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {}: {e:#}", file.display()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if failed > 0 {
        eprintln!("{failed} of {} files failed", args.files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
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
