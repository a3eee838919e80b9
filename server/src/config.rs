//! One typed configuration: defaults, then an optional TOML file, then `DRYDOCK_`-prefixed
//! environment variables, then command-line flags (each layer overrides the one before).

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Drydock's settings. Secrets in here never reach `Debug` output or logs. Each field's doc
/// comment is its entry in the configuration reference (`drydock config reference`,
/// `docs/CONFIGURATION.md`): keep it a sentence an operator can act on.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Config {
    /// The store: `sqlite://relative.db`, `sqlite:///abs/path.db` (created if missing) or
    /// `postgres://user:password@host/db` (the password is redacted wherever this is logged).
    pub database_url: String,
    /// Address `serve` listens on (it opens only after migrations, and the demo load with `--demo`).
    pub addr: String,
    /// A PEM certificate chain: with `tls_key`, `serve` speaks HTTPS only (the Kubernetes API
    /// server calls admission webhooks over HTTPS). Read again on SIGHUP and when the files change.
    pub tls_cert: Option<String>,
    /// The PEM private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<String>,
    /// Largest request body accepted, in bytes (scanner reports can be big): 64 MiB by default.
    pub max_body_bytes: usize,
    /// Memory the uploads being read and parsed may hold at once, in MiB (each counts six times
    /// its body: the bytes, the parsed JSON and the report); more uploads wait their turn.
    pub upload_memory_mb: usize,
    /// How long a request waits for a database connection (seconds, 0.1 to 60); then, as when
    /// the database is unreachable, restarting or SQLite's write lock is held past its 15 s busy
    /// timeout, the answer is `503` with `Retry-After: 5`, never `500`: requests fail fast while
    /// the database is down and recover with it.
    pub db_acquire_timeout_seconds: f64,
    /// A request's header must arrive within this many seconds (1 to 30), or the connection is
    /// closed; it is also how long a kept-alive connection may wait for its next request.
    pub header_read_timeout_seconds: u64,
    /// A request body that sends nothing for this many seconds is cut off (1 to 3600).
    pub request_body_idle_seconds: u64,
    /// A request other than an upload still unanswered after this many seconds is answered 503
    /// with `Retry-After` (1 to 3600).
    pub request_timeout_seconds: u64,
    /// Connections held open at once (1 to 1,000,000); more wait to be accepted. The open-file
    /// limit is raised to its hard limit at start; keep this below it.
    pub max_connections: usize,
    /// On SIGTERM or ctrl-c: how long in-flight requests (uploads included) and running jobs may
    /// still take, in seconds (0 to 3600); then the process exits whatever clients hold, and jobs
    /// still running are handed back to the other replicas.
    pub shutdown_grace_seconds: u64,
    /// Secret: when set, `/metrics` needs `Authorization: Bearer <metrics_token>` (401 otherwise).
    pub metrics_token: Option<String>,
    /// Load the demo estate into an empty database on `serve`.
    pub demo: bool,
    /// Where the compiled site (`pkg/` with wasm, js, css) lives.
    pub site_root: String,
    /// The URL people use to reach Drydock (`https://...` makes cookies Secure); the OIDC
    /// callback is `{public_url}/auth/callback`.
    pub public_url: Option<String>,
    /// OIDC issuer URL; sign-in is configured when this and `oidc_client_id` are set (the
    /// Authorization Code flow with PKCE; `public_url` must be set too).
    pub oidc_issuer: Option<String>,
    /// The client id registered with the identity provider.
    pub oidc_client_id: Option<String>,
    /// Secret: the client secret registered with the identity provider (never printed).
    pub oidc_client_secret: Option<String>,
    /// The scopes asked for at sign-in, space separated.
    pub oidc_scopes: String,
    /// The id_token claim carrying the person's groups.
    pub oidc_groups_claim: String,
    /// Roles from the identity provider's groups: `group=role[:team],...`, e.g.
    /// `platform-admins=admin,team-a-dev=developer:team-a` (the teams named exist from the start).
    pub group_roles: Option<String>,
    /// Whom people without a role should ask (shown on every page).
    pub access_contact: String,
    /// A session ends after this long without activity.
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in, active or not.
    pub session_absolute_hours: i64,
    /// A signed-in person's grants are derived again from their groups and the mappings in force
    /// once older than this (seconds; at most 60).
    pub grants_refresh_seconds: i64,
    /// How often the `ledger.verify` job verifies the whole ledger, in minutes (also when first
    /// scheduled); the ledger page shows the last run's result and time.
    pub ledger_verify_minutes: u64,
    /// How often each registry and each cluster with an API server is collected, in minutes (one
    /// job each); a failing one backs off 5, 10, 20, 40... minutes, at most 6 h.
    pub collect_interval_minutes: u64,
    /// The same in seconds, when set (it wins over the minutes): for short test runs.
    pub collect_interval_seconds: Option<u64>,
    /// How often a signed checkpoint of the ledger's head is made when it grew, in minutes (and
    /// handed to the witness).
    pub ledger_checkpoint_minutes: u64,
    /// Every subject is judged by the policies again this often, in minutes (a change makes the
    /// evaluation due at once).
    pub policy_evaluate_minutes: u64,
    /// Whether this process runs background jobs (collections, ledger verification, purges).
    /// Several replicas may all run them: each due job is claimed by one.
    pub jobs_worker: bool,
    /// A claimed job's lease (seconds): a worker that dies mid-job leaves it to another after this.
    pub job_lease_seconds: u64,
    /// How often an idle worker looks for due jobs (seconds, fractions allowed).
    pub job_poll_seconds: f64,
    /// Trusted cosign public keys: paths of ECDSA P-256 PEM files, comma separated.
    pub cosign_keys: String,
    /// How promotion is decided: `label` (the image's label `promotion_label` says it) or
    /// `repository` (the image is in a repository matching `promotion_repositories`).
    pub promotion_mode: String,
    /// The label carrying the promotion state (label mode).
    pub promotion_label: String,
    /// Repository patterns that count as promoted (repository mode), comma separated, over
    /// `registry/name` or `registry/name:tag`, `*` within a path segment, `**` across, e.g.
    /// `registry.example.com/prod/**`.
    pub promotion_repositories: String,
    /// A running image whose newest scan is older than this many days is unaccounted (`stale_scan`).
    pub scan_max_age_days: i64,
    /// Secret: the ledger's Ed25519 signing key (a PKCS#8 PEM file). Unset with SQLite:
    /// `<database>.ledger.pem` beside the file, created when first needed. Required with
    /// PostgreSQL (replicas share one key; none is generated).
    pub ledger_key: Option<String>,
    /// Where new checkpoints are also sent: an http(s) URL (POSTed in the background, 10 s per
    /// attempt, 4 attempts) or a file (appended): an outside copy, so that someone holding the
    /// database and the key still cannot rewrite history unseen.
    pub ledger_witness: Option<String>,
    /// The SMTP server escalation mail goes through, as lettre reads it: `smtp://host:port`
    /// (plain), `smtp://host:port?tls=required` (STARTTLS), `smtps://host:port` (implicit TLS).
    /// Unset: e-mail messages wait and are retried; webhooks and the inbox still work.
    pub smtp_url: Option<String>,
    /// The sender of escalation mail (`Drydock <drydock@example.com>`).
    pub smtp_from: Option<String>,
    /// The SMTP user name.
    pub smtp_username: Option<String>,
    /// Secret: the SMTP password (never printed).
    pub smtp_password: Option<String>,
    /// How often campaigns are brought up to date with the estate and their ladders escalated,
    /// in minutes.
    pub escalate_minutes: u64,
    /// Loopback and private networks webhooks may reach (`["10.0.0.0/8", "127.0.0.0/8"]`; in the
    /// environment a list or comma separated). Without it a webhook may not point at loopback or
    /// private addresses; link-local and metadata addresses never.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub webhook_allow_networks: Vec<String>,
    /// How many background jobs one process runs at once (a registry or cluster that never
    /// answers holds one slot, not the evaluation, escalation or checkpoints).
    pub jobs_concurrency: usize,
}

/// How `serve` holds connections (`Config::connection_limits`; `http/connections.rs` applies them).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A request's header must arrive within this (and a kept-alive connection's next request).
    pub header_read: std::time::Duration,
    /// A request body that sends nothing for this long is cut off.
    pub body_idle: std::time::Duration,
    /// Connections open at once; more wait to be accepted.
    pub max_connections: usize,
    /// After the shutdown signal, how long in-flight requests may still take.
    pub grace: std::time::Duration,
}

/// A list setting given as a list (TOML, `["a", "b"]` in the environment) or as `a, b`.
fn list_or_comma_separated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(l) => l,
        Either::Text(t) => t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
    })
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://drydock.db".into(),
            addr: "127.0.0.1:3000".into(),
            tls_cert: None,
            tls_key: None,
            max_body_bytes: 64 * 1024 * 1024,
            upload_memory_mb: 512,
            db_acquire_timeout_seconds: 2.0,
            header_read_timeout_seconds: 10,
            request_body_idle_seconds: 30,
            request_timeout_seconds: 30,
            max_connections: 1000,
            shutdown_grace_seconds: 30,
            metrics_token: None,
            demo: false,
            site_root: "target/site".into(),
            public_url: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_scopes: "openid profile email groups".into(),
            oidc_groups_claim: "groups".into(),
            group_roles: None,
            access_contact: "your Drydock administrator".into(),
            session_idle_minutes: 8 * 60,
            session_absolute_hours: 12,
            grants_refresh_seconds: 60,
            ledger_verify_minutes: 60,
            collect_interval_minutes: 15,
            collect_interval_seconds: None,
            ledger_checkpoint_minutes: 60,
            policy_evaluate_minutes: 15,
            jobs_worker: true,
            job_lease_seconds: 300,
            job_poll_seconds: 5.0,
            cosign_keys: String::new(),
            promotion_mode: "label".into(),
            promotion_label: "promotion".into(),
            promotion_repositories: String::new(),
            scan_max_age_days: 7,
            ledger_key: None,
            ledger_witness: None,
            smtp_url: None,
            smtp_from: None,
            smtp_username: None,
            smtp_password: None,
            escalate_minutes: 5,
            webhook_allow_networks: Vec::new(),
            jobs_concurrency: 4,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("addr", &self.addr)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("upload_memory_mb", &self.upload_memory_mb)
            .field("db_acquire_timeout_seconds", &self.db_acquire_timeout_seconds)
            .field("header_read_timeout_seconds", &self.header_read_timeout_seconds)
            .field("request_body_idle_seconds", &self.request_body_idle_seconds)
            .field("request_timeout_seconds", &self.request_timeout_seconds)
            .field("max_connections", &self.max_connections)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("demo", &self.demo)
            .field("site_root", &self.site_root)
            .field("public_url", &self.public_url)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field("oidc_client_secret", &self.oidc_client_secret.as_ref().map(|_| "***"))
            .field("oidc_scopes", &self.oidc_scopes)
            .field("oidc_groups_claim", &self.oidc_groups_claim)
            .field("group_roles", &self.group_roles)
            .field("collect_interval_minutes", &self.collect_interval_minutes)
            .field("collect_interval_seconds", &self.collect_interval_seconds)
            .field("ledger_checkpoint_minutes", &self.ledger_checkpoint_minutes)
            .field("policy_evaluate_minutes", &self.policy_evaluate_minutes)
            .field("jobs_worker", &self.jobs_worker)
            .field("job_lease_seconds", &self.job_lease_seconds)
            .field("job_poll_seconds", &self.job_poll_seconds)
            .field("cosign_keys", &self.cosign_keys)
            .field("promotion_mode", &self.promotion_mode)
            .field("promotion_label", &self.promotion_label)
            .field("promotion_repositories", &self.promotion_repositories)
            .field("scan_max_age_days", &self.scan_max_age_days)
            .field("ledger_key", &self.ledger_key)
            .field("ledger_witness", &self.ledger_witness)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("smtp_from", &self.smtp_from)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "***"))
            .field("escalate_minutes", &self.escalate_minutes)
            .field("webhook_allow_networks", &self.webhook_allow_networks)
            .field("jobs_concurrency", &self.jobs_concurrency)
            .finish()
    }
}

pub use crate::domain::redact_url;

impl Config {
    /// Loads defaults, then `file` (or `drydock.toml` in the working directory when it exists),
    /// then `DRYDOCK_*` variables (e.g. `DRYDOCK_DATABASE_URL`, `DRYDOCK_MAX_BODY_BYTES`).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(p) => {
                anyhow::ensure!(p.exists(), "config file {} does not exist", p.display());
                fig = fig.merge(Toml::file(p));
            }
            None if Path::new("drydock.toml").exists() => fig = fig.merge(Toml::file("drydock.toml")),
            None => {}
        }
        // DRYDOCK_CONFIG names the file itself; it is not a setting.
        fig = fig.merge(Env::prefixed("DRYDOCK_").ignore(&["config"]));
        fig.extract().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
    }
}

impl Config {
    /// True when the public URL is https (cookies are then marked Secure).
    pub fn is_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// `db_acquire_timeout_seconds`, checked.
    pub fn db_acquire_timeout(&self) -> anyhow::Result<std::time::Duration> {
        let s = self.db_acquire_timeout_seconds;
        anyhow::ensure!((0.1..=60.0).contains(&s), "db_acquire_timeout_seconds: between 0.1 and 60 seconds, not {s}");
        Ok(std::time::Duration::from_secs_f64(s))
    }

    /// How `serve` holds connections, checked (each bound names its key).
    pub fn connection_limits(&self) -> anyhow::Result<ConnectionLimits> {
        let within = |key: &str, v: u64, lo: u64, hi: u64| -> anyhow::Result<std::time::Duration> {
            anyhow::ensure!((lo..=hi).contains(&v), "{key}: between {lo} and {hi} seconds, not {v}");
            Ok(std::time::Duration::from_secs(v))
        };
        anyhow::ensure!(
            (1..=1_000_000).contains(&self.max_connections),
            "max_connections: between 1 and 1000000, not {}",
            self.max_connections
        );
        within("request_timeout_seconds", self.request_timeout_seconds, 1, 3600)?;
        Ok(ConnectionLimits {
            header_read: within("header_read_timeout_seconds", self.header_read_timeout_seconds, 1, 30)?,
            body_idle: within("request_body_idle_seconds", self.request_body_idle_seconds, 1, 3600)?,
            max_connections: self.max_connections,
            grace: within("shutdown_grace_seconds", self.shutdown_grace_seconds, 0, 3600)?,
        })
    }

    /// `request_timeout_seconds` (checked by `connection_limits` before serving).
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout_seconds.clamp(1, 3600))
    }

    /// `--demo` opens the estate to anyone who picks a role: refused on PostgreSQL (a shared
    /// database) and behind an https public URL (a real deployment).
    pub fn check_demo(&self) -> anyhow::Result<()> {
        if self.demo && !self.database_url.starts_with("sqlite:") {
            anyhow::bail!("--demo is refused on PostgreSQL: it is meant for a local SQLite file, never a shared database");
        }
        if self.demo && self.is_https() {
            anyhow::bail!("--demo is refused when the public URL is https: demo sign-in would open a real deployment to anyone");
        }
        Ok(())
    }

    /// The collector's settings: the trusted keys, loaded (a key that does not load is an error).
    pub fn collect_settings(&self) -> anyhow::Result<crate::registry::CollectSettings> {
        let mut trusted_keys = Vec::new();
        for p in self.cosign_keys.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            trusted_keys
                .push(crate::registry::cosign::TrustedKey::load(Path::new(p)).map_err(|e| anyhow::anyhow!("DRYDOCK_COSIGN_KEYS: {e}"))?);
        }
        Ok(crate::registry::CollectSettings { trusted_keys })
    }

    /// How promotion is decided, checked.
    pub fn promotion(&self) -> anyhow::Result<crate::registry::Promotion> {
        match self.promotion_mode.as_str() {
            "label" => Ok(crate::registry::Promotion::Label(self.promotion_label.clone())),
            "repository" => {
                let patterns: Vec<String> =
                    self.promotion_repositories.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect();
                anyhow::ensure!(!patterns.is_empty(), "DRYDOCK_PROMOTION_MODE=repository needs DRYDOCK_PROMOTION_REPOSITORIES");
                Ok(crate::registry::Promotion::Repository(patterns))
            }
            other => anyhow::bail!("DRYDOCK_PROMOTION_MODE: {other:?} is not label or repository"),
        }
    }

    /// Where webhooks may go, checked (a bad network is an error naming it).
    pub fn webhook_policy(&self) -> anyhow::Result<crate::domain::network::AddressPolicy> {
        crate::domain::network::AddressPolicy::parse(&self.webhook_allow_networks)
            .map_err(|e| anyhow::anyhow!("DRYDOCK_WEBHOOK_ALLOW_NETWORKS: {e}"))
    }

    /// OIDC settings when sign-in is configured.
    pub fn oidc(&self) -> anyhow::Result<Option<crate::auth::oidc::OidcSettings>> {
        let (Some(issuer), Some(client_id)) = (&self.oidc_issuer, &self.oidc_client_id) else {
            return Ok(None);
        };
        let public = self
            .public_url
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("DRYDOCK_PUBLIC_URL must be set when OIDC is configured (the callback URL is built from it)"))?;
        Ok(Some(crate::auth::oidc::OidcSettings {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: self.oidc_client_secret.clone(),
            redirect_url: format!("{}/auth/callback", public.trim_end_matches('/')),
            scopes: self.oidc_scopes.split_whitespace().map(str::to_string).collect(),
            groups_claim: self.oidc_groups_claim.clone(),
        }))
    }
}

/// The configuration reference in Markdown, from the one typed configuration: each setting's
/// key, environment variable, default and meaning (its doc comment). `docs/CONFIGURATION.md` is
/// this text; a test keeps them equal.
pub fn reference_markdown() -> String {
    use utoipa::openapi::{schema::Schema, RefOr};
    use utoipa::PartialSchema as _;
    let RefOr::T(Schema::Object(schema)) = Config::schema() else { unreachable!("Config is a struct: its schema is an object") };
    let defaults = serde_json::to_value(Config::default()).expect("the defaults serialise");
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from the typed configuration (`server/src/config.rs`) by `drydock config reference`; \
         do not edit by hand.\n\n\
         Each setting is read, each layer overriding the one before, from its default, a TOML file \
         (`--config FILE`, `DRYDOCK_CONFIG`, or `drydock.toml` in the working directory), its \
         `DRYDOCK_` environment variable, then the command's flags (`--database-url`, `--addr`, `--demo`).\n\n\
         | setting | environment variable | default | meaning |\n|---|---|---|---|\n",
    );
    for (key, field) in &schema.properties {
        let meaning = match field {
            RefOr::T(Schema::Object(o)) => o.description.clone().unwrap_or_default(),
            RefOr::T(Schema::Array(a)) => a.description.clone().unwrap_or_default(),
            _ => String::new(),
        };
        let default = default_text(&defaults[key.as_str()]);
        let meaning = meaning.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|");
        out.push_str(&format!("| `{key}` | `DRYDOCK_{}` | {default} | {meaning} |\n", key.to_uppercase()));
    }
    out
}

/// A default as the reference shows it.
fn default_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "unset".into(),
        serde_json::Value::String(s) if s.is_empty() => "empty".into(),
        serde_json::Value::String(s) => format!("`{s}`"),
        serde_json::Value::Array(a) if a.is_empty() => "empty".into(),
        other => format!("`{other}`"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_reference_is_the_generated_one() {
        let committed = include_str!("../../docs/CONFIGURATION.md");
        assert!(
            committed == super::reference_markdown(),
            "docs/CONFIGURATION.md is not what the configuration says: run `cargo run -p server -- config reference > docs/CONFIGURATION.md`"
        );
    }

    #[test]
    fn every_setting_has_a_meaning() {
        let text = super::reference_markdown();
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| `")).collect();
        let keys = serde_json::to_value(super::Config::default()).unwrap().as_object().unwrap().len();
        assert_eq!(rows.len(), keys, "one row per setting");
        for row in rows {
            assert!(!row.trim_end().ends_with("|  |"), "a setting without a meaning: {row}");
        }
    }
}
