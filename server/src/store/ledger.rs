//! The audit ledger as stored (`backend/ledger.rs`).

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use super::{backend_postgres, backend_sqlite};
#[allow(unused_imports)]
use chrono::{DateTime, Utc};

store_capability! {
    /// The audit ledger: its leaves, subtree hashes, checkpoints, verifications and forensics (`backend/ledger.rs`).
    pub trait LedgerLog {
        /// The audit events, oldest first (the ledger issue builds on this).
        fn audit_events(&self) -> Result<Vec<AuditEvent>>;
        /// Entries in the log.
        /// Stored ledger nodes (level 0: leaf hashes) by (level, index).
        fn ledger_nodes(&self, keys: &std::collections::BTreeSet<(u32, u64)>) -> Result<std::collections::HashMap<(u32, u64), [u8; 32]>>;
        /// Keeps the scheduled verification's result.
        fn record_verification(&self, size: i64, root: &str, checkpoints_checked: i64, problem: Option<&str>, now: DateTime<Utc>) -> Result<()>;
        /// The last scheduled verification: (ran at, size, root hex, checkpoints checked, problem).
        fn last_verification(&self) -> Result<Option<LastVerification>>;
        fn ledger_size(&self) -> Result<i64>;
        /// Leaf hashes of entries `0..size`.
        fn ledger_leaves(&self, size: i64) -> Result<Vec<[u8; 32]>>;
        /// Stored entries `start..end` (and any event not in the log, which verification reports).
        fn ledger_rows(&self, start: i64, end: i64) -> Result<Vec<StoredEntry>>;
        /// The log's size, every stored entry and every checkpoint, read in one snapshot.
        fn ledger_snapshot(&self) -> Result<LedgerSnapshot>;
        /// The same snapshot, its entries `batch` at a time (verification).
        fn ledger_stream(&self, batch: i64) -> Result<LedgerStream>;
        /// Stored checkpoints, smallest first.
        fn ledger_checkpoints(&self) -> Result<Vec<(i64, String)>>;
        /// Everything recorded about one image.
        /// Everything about an image; `teams` (a team-scoped reader's) limits its runs, the access to
        /// them and its ledger entries to what that reader may see.
        fn image_forensics(&self, digest: &crate::domain::Digest, teams: Option<&[String]>) -> Result<Option<ImageHistory>>;
        /// A workload's images over time and the people who touched it.
        fn workload_forensics(&self, cluster: &str, namespace: &str, workload: &str) -> Result<Option<WorkloadHistory>>;
        /// The newest `n` ledger entries.
        fn ledger_recent(&self, n: i64) -> Result<Vec<LedgerHeadline>>;
        /// The signed checkpoint of one size, if kept.
        fn ledger_checkpoint_at(&self, size: i64) -> Result<Option<String>>;
        /// Keeps a signed checkpoint.
        fn store_checkpoint(&self, size: i64, root_hex: &str, note: &str, now: DateTime<Utc>) -> Result<()>;
    }
}
