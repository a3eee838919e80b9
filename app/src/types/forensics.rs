//! Forensics and the audit ledger, as the pages show them.

use super::*;

/// Everything the record says about one image (the forensics page).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageForensics {
    pub image: ImageSummary,
    /// `org.opencontainers.image.source` / `.revision` labels: what it was built from.
    pub source: Option<String>,
    pub revision: Option<String>,
    /// Pushes and deletions of any of its digests, as the registry notified them.
    pub pushes: Vec<RegistryEventRow>,
    /// Every container that ran it, ended ones included.
    pub runs: Vec<WorkloadRow>,
    /// Exec and attach into pods that ran it, from the Kubernetes audit log.
    pub access: Vec<AccessRow>,
    /// Every ledger entry about it.
    pub ledger: Vec<LedgerRow>,
}

/// A person's exec/attach (or other action) on a pod.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccessRow {
    pub time: DateTime<Utc>,
    pub cluster: String,
    pub namespace: Option<String>,
    pub pod: Option<String>,
    pub verb: String,
    pub subresource: Option<String>,
    pub user: Option<String>,
    pub source_ips: Vec<String>,
    pub code: Option<i64>,
}

/// One ledger entry, for reading.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LedgerRow {
    pub index: i64,
    pub time: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub subject: String,
}

/// The ledger page: the signed checkpoint and a verification run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LedgerStatus {
    /// Entries in the log now.
    pub size: i64,
    /// The current checkpoint's root (hex), or the last verified one without a key.
    pub root: String,
    pub checkpoint: Option<String>,
    pub verifier_key: Option<String>,
    /// The last scheduled verification: when, how many entries it covered, how many signed
    /// checkpoints it checked, and its first problem (None: intact). `None` before the first run.
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_size: i64,
    pub checkpoints_checked: usize,
    pub problem: Option<String>,
    /// The newest entries (estate-wide readers only; empty for team-scoped roles).
    pub recent: Vec<LedgerRow>,
    /// Whether this reader may see raw entries.
    pub entries_visible: bool,
}

/// A workload's story (the workload forensics page).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkloadForensics {
    pub cluster: String,
    pub namespace: String,
    /// `Kind/name`.
    pub workload: String,
    /// Each image it ran, first and last seen, in order.
    pub images: Vec<WorkloadImage>,
    /// Audited actions on its pods and on the workload object itself.
    pub access: Vec<AccessRow>,
}

/// One image a workload ran.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkloadImage {
    pub image: String,
    pub digest: Option<String>,
    pub image_digest: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Containers running it now.
    pub running: i64,
}
