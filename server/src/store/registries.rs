//! Registries and the collector's inventory (`backend/registries.rs`).

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use super::{backend_postgres, backend_sqlite};
#[allow(unused_imports)]
use chrono::{DateTime, Utc};

/// Registries and the collector's inventory (`backend/registries.rs`).
impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn registries(&self) -> Result<Vec<crate::domain::registry::RegistryRow>> {
        dispatch!(self, registries())
    }

    /// Every registry with its repositories.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn registry_overviews(&self) -> Result<RegistryRecords> {
        dispatch!(self, registry_overviews())
    }

    /// One repository (`registry-host/name`), its tags limited to `teams` when given.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn repository_view(&self, full: &str, teams: Option<&[String]>) -> Result<Option<RepositoryRecord>> {
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
