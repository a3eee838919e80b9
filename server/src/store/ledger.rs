//! The audit ledger as stored (`backend/ledger.rs`).

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use super::{backend_postgres, backend_sqlite};
#[allow(unused_imports)]
use chrono::{DateTime, Utc};

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

    /// The log's size, every stored entry and every checkpoint, read in one snapshot.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_snapshot(&self) -> Result<LedgerSnapshot> {
        dispatch!(self, ledger_snapshot())
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
    pub async fn image_forensics(&self, digest: &str, teams: Option<&[String]>) -> Result<Option<ImageHistory>> {
        dispatch!(self, image_forensics(digest, teams))
    }

    /// A workload's images over time and the people who touched it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn workload_forensics(&self, cluster: &str, namespace: &str, workload: &str) -> Result<Option<WorkloadHistory>> {
        dispatch!(self, workload_forensics(cluster, namespace, workload))
    }

    /// The newest `n` ledger entries.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ledger_recent(&self, n: i64) -> Result<Vec<LedgerHeadline>> {
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
