//! The engine behind `app`'s ports: page queries answered by the store.

use crate::store::{Store, StoreError};
use app::ports::{EstateQueries, PortError};
use app::types::{ImageSummary, ImageView, Overview, OwnershipRule, Page, TeamView};

/// `EstateQueries` over the store.
pub struct StoreEstate(pub Store);

fn port(e: StoreError) -> PortError {
    tracing::error!(error = %e, "page query failed");
    PortError("the estate could not be read; the cause is in the server log".into())
}

#[async_trait::async_trait]
impl EstateQueries for StoreEstate {
    async fn overview(&self) -> Result<Overview, PortError> {
        self.0.overview().await.map_err(port)
    }
    async fn team(&self, name: &str) -> Result<Option<TeamView>, PortError> {
        self.0.team_view(name).await.map_err(port)
    }
    async fn image(&self, digest: &str) -> Result<Option<ImageView>, PortError> {
        self.0.image_view(digest).await.map_err(port)
    }
    async fn images(&self, limit: i64, offset: i64) -> Result<Page<ImageSummary>, PortError> {
        self.0.images(limit.clamp(1, 1000), offset.max(0), None).await.map_err(port)
    }
    async fn ownership_rules(&self) -> Result<Vec<OwnershipRule>, PortError> {
        self.0.ownership_rules().await.map_err(port)
    }
}
