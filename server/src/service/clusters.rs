//! Clusters as configured by admins: checked, stored, collected at once.

use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::cluster::NewCluster;
use crate::store::capabilities::*;

impl Service {
    /// Configures a cluster's API server (admin); its first collection is queued.
    #[tracing::instrument(skip(self, who, new), fields(cluster = %new.name))]
    pub async fn add_cluster(&self, who: Option<&Principal>, mut new: NewCluster) -> Result<NewCluster> {
        let p = require(who, Action::ManageEstateConfig, None)?;
        new.validate().map_err(Error::from)?;
        self.store.add_cluster(&new, &crate::store::Actor(p.actor.clone()), self.clock.now()).await?;
        if let Err(e) = self.jobs.collect_cluster_soon(&new.name).await {
            tracing::warn!(cluster = %new.name, error = %e, "the first collection could not be queued (the schedule will run it)");
        }
        Ok(new)
    }
}
