//! What evidence bundles read of the ledger and write to it (`backend/bundle.rs`).

use super::*;
use chrono::{DateTime, Utc};

store_capability! {
    /// Ledger entries picked by what they record, and the record of each export (`backend/bundle.rs`).
    pub trait BundleStore {
        /// Entries of these kinds appended before `before`, in ledger order.
        fn ledger_entries_of_kinds(&self, kinds: &[&str], before: DateTime<Utc>) -> Result<Vec<StoredEntry>>;
        /// (index, canonical bytes) of the entries `indexes` (sorted), in ledger order.
        fn ledger_entries_at(&self, indexes: &[u64]) -> Result<Vec<(u64, String)>>;
        /// Every entry about `subject`, in ledger order.
        fn ledger_entries_of_subject(&self, subject: &str) -> Result<Vec<StoredEntry>>;
        /// The latest `limit` entries of `kind`, newest first.
        fn latest_entries_of_kind(&self, kind: &str, limit: i64) -> Result<Vec<StoredEntry>>;
        /// Days with recorded snapshot content, newest first.
        fn snapshot_content_days(&self, limit: i64) -> Result<Vec<chrono::NaiveDate>>;
        /// The ledger entry of an export (who, which day, which teams, the manifest's hash).
        fn record_evidence_export(&self, payload: serde_json::Value, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
    }
}
