//! Registries and the collector's inventory (`backend/registries.rs`).

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use super::{backend_postgres, backend_sqlite};
#[allow(unused_imports)]
use chrono::{DateTime, Utc};

store_capability! {
    /// Registries, their collected repositories, manifests and runs (`backend/registries.rs`, `backend/inventory.rs`).
    pub trait RegistryStore {
        fn registries(&self) -> Result<Vec<crate::domain::registry::RegistryRow>>;
        /// Every registry with its repositories.
        fn registry_overviews(&self) -> Result<RegistryRecords>;
        /// One repository (`registry-host/name`), its tags limited to `teams` when given.
        fn repository_view(&self, full: &str, teams: Option<&[String]>) -> Result<Option<RepositoryRecord>>;
        fn registry_by_name(&self, name: &str) -> Result<Option<crate::domain::registry::RegistryRow>>;
        /// The registry's CA bundle (kept out of `RegistryRow`, which pages and the API show).
        fn registry_ca(&self, id: i64) -> Result<Option<String>>;
        /// Adds a registry (already validated), audited.
        fn add_registry(&self, new: &crate::domain::registry::NewRegistry, actor: &Actor, now: DateTime<Utc>) -> Result<crate::domain::registry::RegistryRow>;
        /// Puts a registry on (or takes it off) the approved list, audited.
        fn set_registry_approved(&self, name: &str, approved: bool, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// Records a collector run's outcome and, for a full run, the registry's counts.
        fn record_registry_run(&self, id: i64, outcome: std::result::Result<(), String>, counts: Option<(usize, usize)>, partial: bool, now: DateTime<Utc>) -> Result<()>;
        /// Of `digests`, those the collector has read already.
        fn collected_digests(&self, digests: &[String]) -> Result<std::collections::HashSet<String>>;
        /// digest → (signature manifest last checked, state).
        fn signature_refs(&self, digests: &[String]) -> Result<std::collections::HashMap<String, (String, String)>>;
        /// Stores one repository's inventory in one transaction.
        fn store_repository_inventory(&self, registry_id: i64, host: &str, inv: &crate::domain::registry::RepositoryInventory, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// Records notified pushes and deletions; returns the repositories to refresh and the count of new events.
        fn record_registry_events(&self, registry_id: i64, registry: &str, events: &[crate::domain::registry::RegistryEvent], actor: &Actor, now: DateTime<Utc>) -> Result<(Vec<String>, usize)>;
    }
}
