//! Registries as configured by admins, and what was collected from them.

use super::{require, views, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::registry::{NewRegistry, RegistryRow};
use crate::store::capabilities::*;
use app::types::{RegistryOverview, RepositoryView};

impl Service {
    /// Configured registries with their collection status (never a secret).
    #[tracing::instrument(skip_all)]
    pub async fn registries(&self, who: Option<&Principal>) -> Result<Vec<RegistryRow>> {
        require(who, Action::ReadEstate, None)?;
        Ok(self.store.registries().await?)
    }

    /// The Registries page: each registry with its repositories.
    #[tracing::instrument(skip_all)]
    pub async fn registry_overviews(&self, who: Option<&Principal>) -> Result<Vec<RegistryOverview>> {
        require(who, Action::ReadEstate, None)?;
        Ok(views::registry_overviews(self.store.registry_overviews().await?))
    }

    /// One repository with its tags (images of the caller's teams) and notified pushes.
    #[tracing::instrument(skip(self, who))]
    pub async fn repository(&self, who: Option<&Principal>, name: &str) -> Result<Option<RepositoryView>> {
        let p = require(who, Action::ReadEstate, None)?;
        Ok(self.store.repository_view(name, p.visible_teams().as_deref()).await?.map(|v| self.repository_view(v)))
    }

    /// Configures a registry (admin); its first collection is queued.
    #[tracing::instrument(skip(self, who, new), fields(registry = %new.name))]
    pub async fn add_registry(&self, who: Option<&Principal>, mut new: NewRegistry) -> Result<RegistryRow> {
        let p = require(who, Action::ManageEstateConfig, None)?;
        new.validate().map_err(Error::from)?;
        let created = self.store.add_registry(&new, &crate::store::Actor(p.actor.clone()), self.clock.now()).await?;
        if let Err(e) = self.jobs.collect_registry_soon(&new.name).await {
            tracing::warn!(registry = %created.name, error = %e, "the first collection could not be queued (the schedule will run it)");
        }
        Ok(created)
    }

    /// Puts a registry on the approved list or takes it off (admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn set_registry_approval(&self, who: Option<&Principal>, name: &str, approved: bool) -> Result<()> {
        let p = require(who, Action::ManageEstateConfig, None)?;
        Ok(self.store.set_registry_approved(name, approved, &crate::store::Actor(p.actor.clone()), self.clock.now()).await?)
    }
}
