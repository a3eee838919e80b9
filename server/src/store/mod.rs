//! The estate store on two backends: SQLite (the embedded default; WAL, foreign keys, busy
//! timeout) and PostgreSQL (for several replicas). The SQL is written once, in `backend/`, and
//! compiled twice: `include!`d into one module per backend with its own `DB` type, so each
//! backend gets concrete types (native `timestamptz` on PostgreSQL) without generic bounds.
//!
//! Every state change goes through a function here that opens one transaction, makes the change
//! and appends its audit event (`append_event`) before committing.

use crate::ingest::Report;
use app::types::{FindingCounts, ImageView, Overview, OwnershipRule, Page, TeamView};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// Store failures: `NotFound` and `Invalid` carry a message for the user; `Db` is logged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this to this row (the message names no other team).
    #[error("{0}")]
    Forbidden(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Crate-wide store result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who made a change: a person, a token, the CLI, a collector. Recorded with every event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    /// The local command line (whoever can open the database file).
    pub fn cli() -> Actor {
        Actor("cli".into())
    }
    /// An API token, by its name.
    pub fn token(name: &str) -> Actor {
        Actor(format!("token:{name}"))
    }
}

/// What `ingest_report` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new report was stored.
    Created(IngestSummary),
    /// The same bytes were stored before; nothing changed.
    Duplicate(IngestSummary),
}

impl IngestOutcome {
    /// The summary either way.
    pub fn summary(&self) -> &IngestSummary {
        match self {
            IngestOutcome::Created(s) | IngestOutcome::Duplicate(s) => s,
        }
    }
}

/// The answer to `POST /api/v1/scans`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct IngestSummary {
    pub image: Option<String>,
    pub artifact: String,
    pub scanner: String,
    pub findings: FindingCounts,
    /// The report claimed a date more than a day after Drydock received it (kept as evidence,
    /// never trusted for which report is current or how fresh the image's scan is).
    pub future_dated: bool,
}

/// A verified API token.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: crate::domain::Role,
    pub team: Option<String>,
    /// Ingest tokens: the clusters and registries they may post for (empty: none).
    pub bindings: TokenBindings,
}

pub use crate::domain::TokenBindings;

/// A group → role mapping as stored, with who added it when.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoleMappingRow {
    pub id: i64,
    pub idp_group: String,
    pub role: String,
    pub team: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// An image as the store keeps it: what the image list shows except the values the service
/// derives (promotion). Containers of images (team view, image detail and view, forensics,
/// repository tags) are returned holding these rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    pub digest: String,
    pub aliases: Vec<app::types::Alias>,
    pub repositories: Vec<app::types::RepositoryTags>,
    pub team: Option<String>,
    pub findings: FindingCounts,
    pub os: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_scanned: Option<DateTime<Utc>>,
    pub scan_state: app::types::ScanState,
    pub scanners: Vec<app::types::ScannerSeen>,
    pub is_index: bool,
    pub platform: Option<String>,
    pub platforms: Vec<app::types::PlatformManifest>,
    pub media_type: Option<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    pub signed: app::types::SignatureState,
    pub signature_detail: Option<String>,
    pub user: Option<String>,
    pub base_name: Option<String>,
    pub base_digest: Option<String>,
}

/// A new ownership rule.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewRule {
    /// `repository_prefix` (images), `namespace` or `label` (`key=value`, pods). What runs is
    /// owned by a label rule first, then a namespace rule, then its image's owner.
    pub kind: app::types::RuleKind,
    pub pattern: String,
    pub team: String,
}

/// Row counts of the tables a report writes to (tests use it to prove nothing was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCounts(pub Vec<(String, i64)>);

/// The last scheduled verification of the ledger.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LastVerification {
    pub ran_at: DateTime<Utc>,
    pub size: i64,
    pub root: String,
    pub checkpoints_checked: i64,
    /// The first problem found; None when the ledger verified.
    pub problem: Option<String>,
}

/// One stored audit event as the ledger's verification reads it (a row of the store).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEntry {
    #[sqlx(rename = "ledger_index")]
    pub index: Option<i64>,
    pub entry: Option<String>,
    pub leaf_hash: Option<String>,
    pub time: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub payload: String,
}

/// The database handle, one variant per backend.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

macro_rules! dispatch {
    ($self:expr, $f:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(p) => backend_sqlite::$f(p $(, $arg)*).await,
            Store::Postgres(p) => backend_postgres::$f(p $(, $arg)*).await,
        }
    };
}

mod jobs;
pub use jobs::{ClaimedJob, JobClaimRow, JobRow, JobRunRow, PeriodicJob};

impl Store {
    /// Opens the database named by `url` (creating a missing SQLite file) and migrates it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn connect(url: &str) -> Result<Store> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
            Store::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(15));
            let pool = SqlitePoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(20)).connect_with(opts).await?;
            Store::Sqlite(pool)
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL {:?}: use sqlite://FILE or postgres://...",
                crate::domain::redact_url(url)
            )));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations (PostgreSQL: under sqlx's advisory lock, so replicas may race).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite(p) => sqlx::migrate!("../migrations/sqlite").run(p).await?,
            Store::Postgres(p) => sqlx::migrate!("../migrations/postgres").run(p).await?,
        }
        // Events written before the ledger existed join the log once, in id order.
        let carried = dispatch!(self, ledger_backfill())?;
        if carried > 0 {
            tracing::info!(entries = carried, "older audit events carried into the ledger");
        }
        // A ledger from before stored subtree hashes and mentions gets them once.
        let nodes = dispatch!(self, ledger_index_backfill())?;
        if nodes > 0 {
            tracing::info!(nodes, "ledger subtree hashes built for entries written before they were stored");
        }
        Ok(())
    }

    /// Which backend this is (`sqlite` or `postgres`).
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Answers when the database does.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, ping())
    }

    /// Stores a parsed report in one transaction (see `backend/ingest.rs`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ingest_report(&self, report: &Report, report_sha256: &str, actor: &Actor, now: DateTime<Utc>) -> Result<IngestOutcome> {
        dispatch!(self, ingest_report(report, report_sha256, actor, now))
    }

    /// Creates an API token; returns the secret (shown once, stored only as a hash).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_token(
        &self,
        name: &str,
        role: crate::domain::Role,
        team: Option<&str>,
        bindings: &TokenBindings,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<String> {
        dispatch!(self, create_token(name, role, team, bindings, actor, now))
    }

    /// Finds a live token by its secret and notes its use.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_token(&self, secret: &str, now: DateTime<Utc>) -> Result<Option<TokenInfo>> {
        dispatch!(self, verify_token(secret, now))
    }

    /// Adds an ownership rule (creating its team if needed) and reassigns owners.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_ownership_rule(&self, rule: &NewRule, actor: &Actor, now: DateTime<Utc>) -> Result<OwnershipRule> {
        dispatch!(self, add_ownership_rule(rule, actor, now))
    }

    /// Points `repository:tag` at the image with `digest` (any alias), as a registry would report.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn place_tag(&self, reference: &crate::domain::ImageRef, digest: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, place_tag(reference, digest, actor, now))
    }

    /// Every API token (never the secrets).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_tokens(&self) -> Result<Vec<app::types::ApiToken>> {
        dispatch!(self, list_tokens())
    }

    /// Revokes a token whose role `may_revoke` allows (else `Forbidden`, nothing changed).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_token(
        &self,
        id: i64,
        may_revoke: &(dyn Fn(crate::domain::Role) -> bool + Sync),
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, revoke_token(id, may_revoke, actor, now))
    }

    /// Creates missing teams.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ensure_teams(&self, names: &[String], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, ensure_teams(names, actor, now))
    }

    /// Creates or renames a team.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn upsert_team(&self, name: &str, display_name: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, upsert_team(name, display_name, actor, now))
    }

    /// True when no report, team or rule has been stored yet.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn is_empty(&self) -> Result<bool> {
        dispatch!(self, is_empty())
    }

    /// Row counts of every estate table.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn table_counts(&self) -> Result<TableCounts> {
        dispatch!(self, table_counts())
    }

    /// A page of images in a stable order; `teams` limits it to those teams' images plus the
    /// unowned ones (`None`: every image).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn images(&self, limit: i64, offset: i64, teams: Option<&[String]>) -> Result<Page<ImageRow>> {
        dispatch!(self, images_page(limit, offset, teams))
    }

    /// One image by any of its digests, with its scans.
    /// One image; `teams` (a team-scoped reader's) limits the workloads it lists as running it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn image_detail(&self, digest: &str, teams: Option<&[String]>) -> Result<Option<app::types::ImageDetail<ImageRow>>> {
        dispatch!(self, image_detail(digest, teams))
    }

    /// One image with its findings (the image page).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn image_view(&self, digest: &str, teams: Option<&[String]>) -> Result<Option<ImageView<ImageRow>>> {
        dispatch!(self, image_view(digest, teams))
    }

    /// One team with its images.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn team_view(&self, name: &str) -> Result<Option<TeamView<ImageRow>>> {
        dispatch!(self, team_view(name))
    }

    /// Estate headline numbers.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn overview(&self) -> Result<Overview> {
        dispatch!(self, overview())
    }

    /// Every ownership rule.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ownership_rules(&self) -> Result<Vec<OwnershipRule>> {
        dispatch!(self, ownership_rules())
    }

    /// The audit events, oldest first (the ledger issue builds on this).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_events(&self) -> Result<Vec<AuditEvent>> {
        dispatch!(self, audit_events())
    }
}

/// A person as the identity provider describes them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedInUser {
    /// `issuer#sub`: stable across renames.
    pub subject: String,
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

impl Store {
    /// A live session's data and expiry (unix seconds).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_load(&self, id: &str, now_unix: i64) -> Result<Option<(String, i64)>> {
        dispatch!(self, session_load(id, now_unix))
    }
    /// Inserts a session unless the id exists.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_create(&self, id: &str, data: &str, expires_at: i64, subject: Option<&str>) -> Result<bool> {
        dispatch!(self, session_create(id, data, expires_at, subject))
    }
    /// Upserts a session.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_save(&self, id: &str, data: &str, expires_at: i64, subject: Option<&str>) -> Result<()> {
        dispatch!(self, session_save(id, data, expires_at, subject))
    }
    /// Deletes a session.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_delete(&self, id: &str) -> Result<()> {
        dispatch!(self, session_delete(id))
    }
    /// Deletes expired sessions; returns how many.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_delete_expired(&self, now_unix: i64) -> Result<u64> {
        dispatch!(self, session_delete_expired(now_unix))
    }
    /// Records a sign-in, sign-out or failed sign-in (and the person, on sign-in).
    /// Ends every session of a person (admin); how many there were.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn end_user_sessions(&self, subject: &str, actor: &Actor, now: DateTime<Utc>) -> Result<u64> {
        dispatch!(self, end_user_sessions(subject, actor, now))
    }

    /// People who signed in, with live session counts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn users(&self, now_unix: i64) -> Result<Vec<app::types::UserRow>> {
        dispatch!(self, users(now_unix))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_auth_event(
        &self,
        user: Option<&SignedInUser>,
        actor: &Actor,
        kind: &str,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, record_auth_event(user, actor, kind, payload, now))
    }
    /// Stored mappings with ids (the admin page).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn role_mapping_rows(&self) -> Result<Vec<RoleMappingRow>> {
        dispatch!(self, role_mapping_rows())
    }
    /// Stores a group → role mapping (audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_role_mapping(&self, m: &crate::auth::mapping::GroupMapping, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, add_role_mapping(m, actor, now))
    }
    /// Deletes a stored mapping (audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_role_mapping(&self, id: i64, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, delete_role_mapping(id, actor, now))
    }
    /// Stored group → role mappings: (group, role, team).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn role_mappings(&self) -> Result<Vec<(String, String, Option<String>)>> {
        dispatch!(self, role_mappings())
    }
}

/// One recorded change.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub time: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub payload: serde_json::Value,
}

/// How long a collector waits after `failures` failed runs in a row: 5 minutes, doubling, at most 6 hours.
pub fn backoff(failures: i64) -> chrono::Duration {
    chrono::Duration::minutes((5i64 << failures.clamp(0, 7)).min(360))
}

/// SHA-256 of bytes as lowercase hex.
pub use crate::domain::sha256_hex;

/// The audit ledger (`backend/ledger.rs`).
impl Store {
    /// Entries in the log.
    /// Stored ledger nodes (level 0: leaf hashes) by (level, index).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_nodes(
        &self,
        keys: &std::collections::BTreeSet<(u32, u64)>,
    ) -> Result<std::collections::HashMap<(u32, u64), [u8; 32]>> {
        dispatch!(self, ledger_nodes(keys))
    }

    /// Keeps the scheduled verification's result.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_verification(
        &self,
        size: i64,
        root: &str,
        checkpoints_checked: i64,
        problem: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, record_verification(size, root, checkpoints_checked, problem, now))
    }

    /// The last scheduled verification: (ran at, size, root hex, checkpoints checked, problem).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn last_verification(&self) -> Result<Option<LastVerification>> {
        dispatch!(self, last_verification())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_size(&self) -> Result<i64> {
        dispatch!(self, ledger_size())
    }

    /// Leaf hashes of entries `0..size`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_leaves(&self, size: i64) -> Result<Vec<[u8; 32]>> {
        dispatch!(self, ledger_leaves(size))
    }

    /// Stored entries `start..end` (and any event not in the log, which verification reports).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_rows(&self, start: i64, end: i64) -> Result<Vec<StoredEntry>> {
        dispatch!(self, ledger_rows(start, end))
    }

    /// Stored checkpoints, smallest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_checkpoints(&self) -> Result<Vec<(i64, String)>> {
        dispatch!(self, ledger_checkpoints())
    }

    /// Everything recorded about one image.
    /// Everything about an image; `teams` (a team-scoped reader's) limits its runs, the access to
    /// them and its ledger entries to what that reader may see.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn image_forensics(&self, digest: &str, teams: Option<&[String]>) -> Result<Option<app::types::ImageForensics<ImageRow>>> {
        dispatch!(self, image_forensics(digest, teams))
    }

    /// A workload's images over time and the people who touched it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn workload_forensics(
        &self,
        cluster: &str,
        namespace: &str,
        workload: &str,
    ) -> Result<Option<app::types::WorkloadForensics>> {
        dispatch!(self, workload_forensics(cluster, namespace, workload))
    }

    /// The newest `n` ledger entries.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_recent(&self, n: i64) -> Result<Vec<app::types::LedgerRow>> {
        dispatch!(self, ledger_recent(n))
    }

    /// The signed checkpoint of one size, if kept.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_checkpoint_at(&self, size: i64) -> Result<Option<String>> {
        dispatch!(self, ledger_checkpoint_at(size))
    }

    /// Keeps a signed checkpoint.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_checkpoint(&self, size: i64, root_hex: &str, note: &str, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, store_checkpoint(size, root_hex, note, now))
    }
}

/// Filters for the workloads list.
#[derive(Debug, Clone, Default)]
pub struct WorkloadFilter {
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    pub team: Option<String>,
    pub state: Option<String>,
    /// `Kind/name` of one workload.
    pub workload: Option<String>,
    /// Include containers of ended pods.
    pub ended: bool,
    /// Limit to these teams' containers and unowned ones (developers, managers).
    pub visible_teams: Option<Vec<String>>,
}

/// What runs (`backend/clusters.rs`).
impl Store {
    /// Stores a pod upload (creating an upload-only cluster for a new name); (pods, containers, ended).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cluster_server(&self, name: &str) -> Result<Option<Option<String>>> {
        dispatch!(self, cluster_server(name))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_pods(
        &self,
        cluster: &str,
        upload: &crate::k8s::PodsUpload,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize, u64)> {
        dispatch!(self, store_pods(cluster, upload, actor, now))
    }

    /// Stores a node list.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_nodes(&self, cluster: &str, nodes: &[crate::k8s::NodeRecord], actor: &Actor, now: DateTime<Utc>) -> Result<usize> {
        dispatch!(self, store_nodes(cluster, nodes, actor, now))
    }

    /// A page of containers.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn workloads(&self, f: &WorkloadFilter, limit: i64, offset: i64) -> Result<Page<app::types::WorkloadRow>> {
        dispatch!(self, workloads(f, limit, offset))
    }

    /// Running images that cannot be accounted for.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn unaccounted(
        &self,
        approved_hosts: &[String],
        stale_before: DateTime<Utc>,
        visible_teams: Option<&[String]>,
    ) -> Result<Vec<app::types::UnaccountedEntry>> {
        dispatch!(self, unaccounted(approved_hosts, stale_before, visible_teams))
    }

    /// Records Kubernetes audit events (facts only), each once; returns how many were new.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_k8s_audit(
        &self,
        cluster: &str,
        facts: &[crate::k8s::audit::AuditFact],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        dispatch!(self, record_k8s_audit(cluster, facts, actor, now))
    }

    /// Configures a cluster's API server.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_cluster(&self, new: &crate::domain::cluster::NewCluster, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, add_cluster(new, actor, now))
    }

    /// Clusters with an API server.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn collectable_clusters(&self) -> Result<Vec<crate::domain::cluster::ClusterRow>> {
        dispatch!(self, collectable_clusters())
    }

    /// The cluster's CA bundle.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cluster_ca(&self, id: i64) -> Result<Option<String>> {
        dispatch!(self, cluster_ca(id))
    }

    /// Records a cluster collection's outcome.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_cluster_run(&self, id: i64, outcome: std::result::Result<(), String>, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, record_cluster_run(id, outcome, now))
    }

    /// Clusters with nodes and counts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn clusters(&self) -> Result<Vec<app::types::ClusterOverview>> {
        dispatch!(self, clusters())
    }
}

/// Registries and the collector's inventory (`backend/registries.rs`).
impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn registries(&self) -> Result<Vec<crate::domain::registry::RegistryRow>> {
        dispatch!(self, registries())
    }

    /// Every registry with its repositories.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn registry_overviews(&self) -> Result<Vec<app::types::RegistryOverview>> {
        dispatch!(self, registry_overviews())
    }

    /// One repository (`registry-host/name`), its tags limited to `teams` when given.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn repository_view(&self, full: &str, teams: Option<&[String]>) -> Result<Option<app::types::RepositoryView<ImageRow>>> {
        dispatch!(self, repository_view(full, teams))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn registry_by_name(&self, name: &str) -> Result<Option<crate::domain::registry::RegistryRow>> {
        dispatch!(self, registry_by_name(name))
    }

    /// The registry's CA bundle (kept out of `RegistryRow`, which pages and the API show).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn registry_ca(&self, id: i64) -> Result<Option<String>> {
        dispatch!(self, registry_ca(id))
    }

    /// Adds a registry (already validated), audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_registry(
        &self,
        new: &crate::domain::registry::NewRegistry,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<crate::domain::registry::RegistryRow> {
        dispatch!(self, add_registry(new, actor, now))
    }

    /// Puts a registry on (or takes it off) the approved list, audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_registry_approved(&self, name: &str, approved: bool, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, set_registry_approved(name, approved, actor, now))
    }

    /// Records a collector run's outcome and, for a full run, the registry's counts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_registry_run(
        &self,
        id: i64,
        outcome: std::result::Result<(), String>,
        counts: Option<(usize, usize)>,
        partial: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, record_registry_run(id, outcome, counts, partial, now))
    }

    /// Of `digests`, those the collector has read already.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn collected_digests(&self, digests: &[String]) -> Result<std::collections::HashSet<String>> {
        dispatch!(self, collected_digests(digests))
    }

    /// digest → (signature manifest last checked, state).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn signature_refs(&self, digests: &[String]) -> Result<std::collections::HashMap<String, (String, String)>> {
        dispatch!(self, signature_refs(digests))
    }

    /// Stores one repository's inventory in one transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_repository_inventory(
        &self,
        registry_id: i64,
        host: &str,
        inv: &crate::domain::registry::RepositoryInventory,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, store_repository_inventory(registry_id, host, inv, actor, now))
    }

    /// Records notified pushes and deletions; returns the repositories to refresh and the count of new events.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_registry_events(
        &self,
        registry_id: i64,
        registry: &str,
        events: &[crate::domain::registry::RegistryEvent],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Vec<String>, usize)> {
        dispatch!(self, record_registry_events(registry_id, registry, events, actor, now))
    }
}

mod backend_sqlite {
    //! The store's SQL compiled for SQLite.
    pub type DB = sqlx::Sqlite;
    /// Take the write lock up front: a deferred transaction that later writes can fail with
    /// SQLITE_BUSY when another process writes first, whatever the busy timeout.
    pub const BEGIN: &str = "BEGIN IMMEDIATE";
    /// Serialises writers of one key inside a transaction: nothing to do, `BEGIN IMMEDIATE`
    /// already serialises every writer.
    pub const KEY_LOCK: Option<&str> = None;
    /// A claimer needs no row lock: `BEGIN IMMEDIATE` holds the database's write lock.
    pub const SKIP_LOCKED: &str = "";
    include!("backend/common.rs");
    include!("backend/ingest.rs");
    include!("backend/admin.rs");
    include!("backend/queries.rs");
    include!("backend/sessions.rs");
    include!("backend/registries.rs");
    include!("backend/clusters.rs");
    include!("backend/ledger.rs");
    include!("backend/jobs.rs");
}

mod backend_postgres {
    //! The store's SQL compiled for PostgreSQL.
    pub type DB = sqlx::Postgres;
    pub const BEGIN: &str = "BEGIN";
    /// Serialises writers of one key (an image digest) until the transaction ends, so concurrent
    /// reports of one new image land on one row instead of failing on its unique digest.
    pub const KEY_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");
    /// Claimers skip rows another claimer holds instead of waiting for it.
    pub const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
    include!("backend/common.rs");
    include!("backend/ingest.rs");
    include!("backend/admin.rs");
    include!("backend/queries.rs");
    include!("backend/sessions.rs");
    include!("backend/registries.rs");
    include!("backend/clusters.rs");
    include!("backend/ledger.rs");
    include!("backend/jobs.rs");
}
