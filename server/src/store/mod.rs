//! The estate store on two backends: SQLite (the embedded default; WAL, foreign keys, busy
//! timeout) and PostgreSQL (for several replicas). The SQL is written once, in `backend/`, and
//! compiled twice: `include!`d into one module per backend with its own `DB` type, so each
//! backend gets concrete types (native `timestamptz` on PostgreSQL) without generic bounds.
//!
//! Every state change goes through a function here that opens one transaction, makes the change
//! and appends its audit event (`append_event`) before committing.

use crate::ingest::Report;
use app::types::{FindingCounts, Page};
use chrono::{DateTime, Utc};

mod error;
pub use error::{Result, StoreError};

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

pub use app::types::IngestSummary;

/// A verified API token.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: crate::domain::Role,
    pub team: Option<crate::domain::TeamName>,
    /// Ingest tokens: the clusters and registries they may post for (empty: none).
    pub bindings: TokenBindings,
    /// The data version read with the token: the estate as this request sees it.
    pub data_version: i64,
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

/// Declares a capability trait of the store and implements it for [`Store`]: each method calls
/// the backend function of its name (or the one after `=`) on the SQLite or the PostgreSQL pool.
/// Engines and services take the capabilities they use (`&impl JobQueue`), never the whole
/// store, so a unit test can hand them a small fake.
macro_rules! store_capability {
    (
        $(#[$tm:meta])*
        pub trait $trait:ident {
            $(
                $(#[$m:meta])*
                fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty $(= $backend:ident)?;
            )*
        }
    ) => {
        $(#[$tm])*
        #[allow(clippy::too_many_arguments)]
        pub trait $trait: Send + Sync {
            $(
                $(#[$m])*
                fn $name(&self $(, $arg: $ty)*) -> impl std::future::Future<Output = $ret> + Send;
            )*
        }

        #[allow(clippy::too_many_arguments)]
        impl $trait for Store {
            $(
                #[tracing::instrument(level = "debug", skip_all)]
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    store_capability!(@call self, $name $(= $backend)? ($($arg),*))
                }
            )*
        }
    };
    (@call $self:ident, $name:ident = $backend:ident ($($arg:ident),*)) => { dispatch!($self, $backend($($arg),*)) };
    (@call $self:ident, $name:ident ($($arg:ident),*)) => { dispatch!($self, $name($($arg),*)) };
}

macro_rules! dispatch {
    ($self:expr, $f:ident ( $($arg:expr),* )) => {{
        let _in_call = $crate::store::InCall::enter();
        match $self {
            Store::Sqlite(p) => backend_sqlite::$f(p $(, $arg)*).await,
            Store::Postgres(p) => backend_postgres::$f(p $(, $arg)*).await,
        }
    }};
}

mod admission;
mod batches;
mod bundle;
mod campaign_rows;
mod campaigns;
mod compliance;
mod connection;
mod evidence;
mod grouped_findings;
mod jobs;
mod ledger;
mod people;
mod policy;
mod policy_rows;
mod registries;
mod risk;
mod rows;
mod runtime;
mod sqlite_cache;
mod upkeep;
pub use admission::{AdmissionFacts, AdmissionFailure, AdmissionItem, DecisionCount, ResolvedImage};
pub use batches::{batches, SQLITE_BATCH};
pub use campaign_rows::*;
pub(crate) use connection::InCall;
pub use connection::PoolState;
pub use evidence::{Attribution, OutdatedLibraryRecord, PodAccessRecord, PushRecord, TeamMessagesRecord, LIBRARY_TYPES};
pub use jobs::{ClaimedJob, JobClaimRow, JobRow, JobRunRow, PeriodicJob};
pub use people::{SignedInUser, StoredSession};
pub use policy_rows::*;
pub use risk::{RiskFinding, RiskInputs, RiskRecord};
pub use rows::*;
pub use runtime::WorkloadFilter;
use sqlite_cache::{report_page_cache_kib, PAGE_CACHE_KIB};

/// Every capability trait of the store: `use crate::store::capabilities::*` to call them.
pub mod capabilities {
    pub use super::admission::{AdmissionStore, VendorStore};
    pub use super::bundle::BundleStore;
    pub use super::campaigns::CampaignStore;
    pub use super::compliance::FindingsStore;
    pub use super::evidence::EvidenceStore;
    pub use super::jobs::JobQueue;
    pub use super::ledger::LedgerLog;
    pub use super::people::{IdentityStore, SessionStore};
    pub use super::policy::PolicyStore;
    pub use super::registries::RegistryStore;
    pub use super::risk::RiskStore;
    pub use super::runtime::RuntimeStore;
    pub use super::upkeep::Upkeep;
    pub use super::InventoryStore;
}

store_capability! {
    /// The estate inventory: reports and their findings, images, teams and ownership rules (`backend/ingest.rs`, `backend/queries.rs`).
    pub trait InventoryStore {
        /// Stores a parsed report in one transaction (see `backend/ingest.rs`).
        fn ingest_report(&self, report: &Report, report_sha256: &str, actor: &Actor, now: DateTime<Utc>) -> Result<IngestOutcome>;
        /// Adds an ownership rule (creating its team if needed) and reassigns owners.
        fn add_ownership_rule(&self, rule: &crate::domain::ownership::RuleSpec, actor: &Actor, now: DateTime<Utc>) -> Result<RuleRecord>;
        /// Points `repository:tag` at the image with `digest` (any alias), as a registry would report.
        fn place_tag(&self, reference: &crate::domain::ImageRef, digest: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// Creates missing teams.
        fn ensure_teams(&self, names: &[crate::domain::TeamName], actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// Creates or renames a team.
        fn upsert_team(&self, name: &crate::domain::TeamName, display_name: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// True when no report, team or rule has been stored yet.
        fn is_empty(&self) -> Result<bool>;
        /// Row counts of every estate table.
        fn table_counts(&self) -> Result<TableCounts>;
        /// A page of images in a stable order; `teams` limits it to those teams' images plus the
        /// unowned ones (`None`: every image).
        fn images(&self, limit: i64, offset: i64, teams: Option<&[String]>) -> Result<Page<ImageRow>> = images_page;
        /// One image by any of its digests, with its scans.
        /// One image; `teams` (a team-scoped reader's) limits the workloads it lists as running it.
        fn image_detail(&self, digest: &crate::domain::Digest, teams: Option<&[String]>) -> Result<Option<ImageRecord>>;
        /// One image with its findings (the image page).
        fn image_view(&self, digest: &crate::domain::Digest, teams: Option<&[String]>) -> Result<Option<ImageContents>>;
        /// One team with a page of its images, worst first.
        fn team_view(&self, name: &crate::domain::TeamName, limit: i64, offset: i64) -> Result<Option<TeamImages>>;
        /// Estate headline numbers.
        fn overview(&self) -> Result<EstateTotals>;
        /// Every ownership rule.
        fn ownership_rules(&self) -> Result<Vec<RuleRecord>>;
        /// A page of the secrets found in images (`teams`: theirs and images of no team), worst first.
        fn secrets(&self, teams: Option<&[String]>, limit: i64, offset: i64) -> Result<Page<SecretRecord>> = secrets_page;
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

/// The version of a document security edits as a whole (the admission settings, the vendor
/// register) as stored: the SHA-256 of its text, an absent row read as `[]`. An editor sends
/// back the version it was shown; the store refuses a change over a document changed since.
pub fn document_version(stored: Option<&str>) -> String {
    sha256_hex(stored.unwrap_or("[]").as_bytes())
}

mod backend_sqlite {
    //! The store's SQL compiled for SQLite.
    pub type DB = sqlx::Sqlite;
    /// Take the write lock up front: a deferred transaction that later writes can fail with
    /// SQLITE_BUSY when another process writes first, whatever the busy timeout.
    pub const BEGIN: &str = "BEGIN IMMEDIATE";
    /// The most rows of a report's multi-row statement (`super::batches`).
    const BATCH: usize = super::SQLITE_BATCH;
    /// Serialises writers of one key inside a transaction: nothing to do, `BEGIN IMMEDIATE`
    /// already serialises every writer.
    pub const KEY_LOCK: Option<&str> = None;
    /// A claimer needs no row lock: `BEGIN IMMEDIATE` holds the database's write lock.
    pub const SKIP_LOCKED: &str = "";
    /// The distinct values of a text column, comma-separated, in an aggregate.
    pub const SCANNER_LIST: &str = "GROUP_CONCAT(DISTINCT f.scanner ORDER BY f.scanner)";
    /// Text compared by its bytes, as Drydock compares it (`grouped_findings`): SQLite's default.
    pub const BYTE_ORDER: &str = "";
    /// The levels delivered for an item, comma-separated.
    pub const LEVEL_LIST: &str = "GROUP_CONCAT(d.level)";
    /// The distinct fixed versions of a group of findings, comma-separated.
    pub const FIXED_LIST: &str = "GROUP_CONCAT(DISTINCT iv.fixed_version)";
    /// A deferred transaction reads one snapshot (WAL) from its first read on.
    pub const READ_SNAPSHOT: Option<&str> = None;
    /// The texts of a bound JSON array as a set (`x IN` it), whatever their number: what goes
    /// before the bound array and after it.
    pub const JSON_TEXTS: (&str, &str) = ("(SELECT value FROM json_each(", "))");
    /// Ledger entries `$1..$2` as one text: per entry, its index, entry, leaf hash, time, actor,
    /// kind, subject and payload, each as `BYTES:TEXT` (`-` for NULL), in no particular order:
    /// one row crossing sqlx-sqlite's worker thread instead of one per entry.
    pub const LEDGER_BATCH: Option<&str> = Some(
        "SELECT group_concat(
           CAST(length(CAST(ledger_index AS TEXT)) AS TEXT) || ':' || ledger_index
           || COALESCE(length(CAST(entry AS BLOB)) || ':' || entry, '-')
           || COALESCE(length(CAST(leaf_hash AS BLOB)) || ':' || leaf_hash, '-')
           || length(CAST(time AS BLOB)) || ':' || time || length(CAST(actor AS BLOB)) || ':' || actor
           || length(CAST(kind AS BLOB)) || ':' || kind || length(CAST(subject AS BLOB)) || ':' || subject
           || length(CAST(payload AS BLOB)) || ':' || payload, '')
         FROM audit_events WHERE ledger_index >= $1 AND ledger_index < $2",
    );
    /// The tables whose statistics `PRAGMA optimize` would gather (its debug mode lists the
    /// statements), looking at every table, not only those this connection used.
    pub const STALE_STATISTICS: &str = "PRAGMA optimize = 0x10013";
    /// Gathers them, with the temporary analysis limit `PRAGMA optimize` sets (a sample of rows
    /// per index, so it stays quick whatever the estate).
    pub const REFRESH_STATISTICS: Option<&str> = Some("PRAGMA optimize = 0x10012");
    include!("backend/common.rs");
    include!("backend/ingest.rs");
    include!("backend/reported_image.rs");
    include!("backend/image_findings.rs");
    include!("backend/image_contents.rs");
    include!("backend/admin.rs");
    include!("backend/queries.rs");
    include!("backend/sessions.rs");
    include!("backend/registries.rs");
    include!("backend/inventory.rs");
    include!("backend/clusters.rs");
    include!("backend/workloads.rs");
    include!("backend/ledger.rs");
    include!("backend/jobs.rs");
    include!("backend/compliance.rs");
    include!("backend/policy.rs");
    include!("backend/snapshots.rs");
    include!("backend/campaigns.rs");
    include!("backend/campaign_progress.rs");
    include!("backend/escalation.rs");
    include!("backend/risk.rs");
    include!("backend/bundle.rs");
    include!("backend/evidence.rs");
    include!("backend/admission.rs");
    include!("backend/upkeep.rs");
    include!("backend/campaign_insert_sqlite.rs");
    include!("backend/report_rows_sqlite.rs");
}

mod backend_postgres {
    //! The store's SQL compiled for PostgreSQL.
    pub type DB = sqlx::Postgres;
    pub const BEGIN: &str = "BEGIN";
    /// The most rows of a report's multi-row statement (`super::batches`): PostgreSQL keeps
    /// its prepared statements in the server's memory, not Drydock's.
    const BATCH: usize = CHUNK;
    /// Serialises writers of one key (an image digest) until the transaction ends, so concurrent
    /// reports of one new image land on one row instead of failing on its unique digest.
    pub const KEY_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");
    /// Claimers skip rows another claimer holds instead of waiting for it.
    pub const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
    /// The distinct values of a text column, comma-separated, in an aggregate.
    pub const SCANNER_LIST: &str = "STRING_AGG(DISTINCT f.scanner, ',' ORDER BY f.scanner)";
    /// Text compared by its bytes, as Drydock compares it (`grouped_findings`), whatever the
    /// database's collation.
    pub const BYTE_ORDER: &str = r#" COLLATE "C""#;
    /// The levels delivered for an item, comma-separated.
    pub const LEVEL_LIST: &str = "STRING_AGG(d.level::text, ',')";
    /// The distinct fixed versions of a group of findings, comma-separated.
    pub const FIXED_LIST: &str = "STRING_AGG(DISTINCT iv.fixed_version, ',')";
    /// Reads that must agree with each other (the ledger's size and its entries) share one snapshot.
    pub const READ_SNAPSHOT: Option<&str> = Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    /// The texts of a bound JSON array as a set (`x IN` it), whatever their number: what goes
    /// before the bound array and after it.
    pub const JSON_TEXTS: (&str, &str) = ("(SELECT jsonb_array_elements_text(CAST(", " AS jsonb)))");
    /// Ledger entries are read as rows: PostgreSQL sends rows without a hand-off per row, and
    /// building one text of a batch costs it more than sending the rows.
    pub const LEDGER_BATCH: Option<&str> = None;
    /// The tables changed more than autovacuum's default analyze threshold (50 rows and a tenth)
    /// since their statistics were gathered, or changed and never analysed, as `ANALYZE`
    /// statements: kept current by Drydock too, since a database run with autovacuum off (or
    /// behind) plans the webhook's and the pages' reads on stale or no statistics.
    pub const STALE_STATISTICS: &str = r#"SELECT 'ANALYZE "' || replace(schemaname, '"', '""') || '"."' || replace(relname, '"', '""') || '"'
         FROM pg_stat_user_tables
         WHERE schemaname = current_schema()
           AND (n_mod_since_analyze > 50 + 0.1 * n_live_tup
                OR (n_mod_since_analyze > 0 AND last_analyze IS NULL AND last_autoanalyze IS NULL))
         ORDER BY relname"#;
    /// Each table is analysed by its own statement.
    pub const REFRESH_STATISTICS: Option<&str> = None;
    include!("backend/common.rs");
    include!("backend/ingest.rs");
    include!("backend/reported_image.rs");
    include!("backend/image_findings.rs");
    include!("backend/image_contents.rs");
    include!("backend/admin.rs");
    include!("backend/queries.rs");
    include!("backend/sessions.rs");
    include!("backend/registries.rs");
    include!("backend/inventory.rs");
    include!("backend/clusters.rs");
    include!("backend/workloads.rs");
    include!("backend/ledger.rs");
    include!("backend/jobs.rs");
    include!("backend/compliance.rs");
    include!("backend/policy.rs");
    include!("backend/snapshots.rs");
    include!("backend/campaigns.rs");
    include!("backend/campaign_progress.rs");
    include!("backend/escalation.rs");
    include!("backend/risk.rs");
    include!("backend/bundle.rs");
    include!("backend/evidence.rs");
    include!("backend/admission.rs");
    include!("backend/upkeep.rs");
    include!("backend/campaign_insert_postgres.rs");
    include!("backend/report_rows_postgres.rs");
}
