//! Ports: what the pages need from the engine. The server implements these traits and puts them
//! into the Leptos context; `app` never depends on the server crate.

use crate::types::{ImageSummary, ImageView, Overview, OwnershipRule, Page, TeamView};
use std::sync::Arc;

/// A failure behind a port, already safe to show (details are logged by the server).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PortError(pub String);

/// Read-only questions about the estate.
#[async_trait::async_trait]
pub trait EstateQueries: Send + Sync {
    /// Headline numbers and teams.
    async fn overview(&self) -> Result<Overview, PortError>;
    /// One team with its images; `None` if no such team.
    async fn team(&self, name: &str) -> Result<Option<TeamView>, PortError>;
    /// One image (by any of its digests) with its findings.
    async fn image(&self, digest: &str) -> Result<Option<ImageView>, PortError>;
    /// A page of images in a stable order.
    async fn images(&self, limit: i64, offset: i64) -> Result<Page<ImageSummary>, PortError>;
    /// Every ownership rule.
    async fn ownership_rules(&self) -> Result<Vec<OwnershipRule>, PortError>;
}

/// The handle pages take from the context.
pub type Estate = Arc<dyn EstateQueries>;
