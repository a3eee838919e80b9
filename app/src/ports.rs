//! Ports: what the pages need from the engine. The server implements these traits and puts them
//! into the Leptos context; `app` never depends on the server crate.

use crate::types::{ApiToken, DeploymentInfo, ImageSummary, ImageView, Overview, OwnershipRule, Page, RoleMapping, TeamView};
use std::sync::Arc;

pub use crate::error::Error;

/// Read-only questions about the estate.
#[async_trait::async_trait]
pub trait EstateQueries: Send + Sync {
    /// Headline numbers and teams.
    async fn overview(&self) -> Result<Overview, Error>;
    /// The compliance-first overview with the estate's trend drawn.
    async fn compliance_overview(&self) -> Result<crate::types::ComplianceOverviewPage, Error>;
    /// The manager home: a card per team of the viewer, with its trend drawn.
    async fn my_teams(&self) -> Result<crate::types::MyTeamsPage, Error>;
    /// One team with its images; `None` if no such team.
    async fn team(&self, name: &str, limit: i64, offset: i64) -> Result<Option<TeamView>, Error>;
    /// One image (by any of its digests) with its findings.
    async fn image(&self, digest: &str) -> Result<Option<ImageView>, Error>;
    /// A page of images in a stable order.
    async fn images(&self, limit: i64, offset: i64) -> Result<Page<ImageSummary>, Error>;
    /// Every ownership rule.
    async fn ownership_rules(&self) -> Result<Vec<OwnershipRule>, Error>;
    /// API tokens (security and admin).
    async fn tokens(&self) -> Result<Vec<ApiToken>, Error>;
    /// Group → role mappings, configured and stored (admin).
    async fn role_mappings(&self) -> Result<Vec<RoleMapping>, Error>;
    /// People who signed in, with their live sessions (admin).
    async fn users(&self) -> Result<Vec<crate::types::UserRow>, Error>;
    /// Background jobs with their state, and the most recent runs (admin).
    async fn jobs(&self) -> Result<crate::types::JobsView, Error>;
    /// This deployment and the person viewing it.
    async fn deployment(&self) -> Result<DeploymentInfo, Error>;
    /// Configured registries with their status and repositories.
    async fn registries(&self) -> Result<Vec<crate::types::RegistryOverview>, Error>;
    /// One repository by `registry-host/name`; `None` if unknown.
    async fn repository(&self, name: &str) -> Result<Option<crate::types::RepositoryView>, Error>;
    /// Clusters with nodes and counts.
    async fn clusters(&self) -> Result<Vec<crate::types::ClusterOverview>, Error>;
    /// A page of containers, filtered (empty strings: no filter).
    async fn workloads(&self, filter: crate::types::WorkloadQuery) -> Result<Page<crate::types::WorkloadRow>, Error>;
    /// Everything recorded about one image; `None` if unknown.
    async fn image_forensics(&self, digest: &str) -> Result<Option<crate::types::ImageForensics>, Error>;
    /// A workload's images over time and the people who touched it; `None` if unknown.
    async fn workload_forensics(
        &self,
        cluster: &str,
        namespace: &str,
        workload: &str,
    ) -> Result<Option<crate::types::WorkloadForensics>, Error>;
    /// The ledger's checkpoint and a verification run.
    async fn ledger(&self) -> Result<crate::types::LedgerStatus, Error>;
    /// Running images that cannot be accounted for.
    async fn unaccounted(&self) -> Result<Vec<crate::types::UnaccountedEntry>, Error>;
    /// Every team ranked by its policy score.
    async fn scorecards(&self) -> Result<crate::types::Scorecards, Error>;
    /// One team's scorecard with its trend chart (`-`: subjects of no team), and its failing
    /// subjects (of `policy`, or all) from `offset` on, a page's worth.
    async fn team_scorecard(&self, team: &str, policy: Option<&str>, offset: i64) -> Result<crate::types::ScorecardPage, Error>;
    /// The policies, the environment rules, and what the viewer may edit.
    async fn policies_page(&self) -> Result<crate::types::PoliciesPage, Error>;
    /// The admission settings, the policies that may be enforced, whether the viewer may edit.
    async fn admission_page(&self) -> Result<crate::types::AdmissionPage, Error>;
    /// The evidence page: days with recorded snapshots, teams, the verifier key, recent exports.
    async fn evidence_page(&self) -> Result<crate::types::EvidencePage, Error>;
    /// The enterprise Docker checklist answered from the estate.
    async fn checklist(&self) -> Result<crate::types::Checklist, Error>;
    /// Vulnerabilities ranked by exposure: one team's, or as the viewer's roles see them.
    async fn risk(&self, team: Option<String>) -> Result<crate::types::RiskList, Error>;
    /// The estate search by vulnerability, or by package and version range.
    async fn search(&self, query: crate::types::SearchQuery) -> Result<crate::types::SearchResult, Error>;
    /// Patch campaigns with their progress.
    async fn campaigns_page(&self) -> Result<crate::types::CampaignsPage, Error>;
    /// One campaign with its items, per-team progress and burndown.
    async fn campaign_page(&self, id: i64) -> Result<crate::types::CampaignPage, Error>;
    /// Items by kind: `updates` (the viewer's teams' items to work on), `overdue`, `exceptions`
    /// (requests waiting for security).
    async fn items_page(&self, kind: String) -> Result<crate::types::ItemsPage, Error>;
    /// Escalation messages: `inbox` (the viewer's teams'), `deliveries` (the delivery log).
    async fn messages_page(&self, kind: String) -> Result<Vec<crate::types::DeliveryMessage>, Error>;
    /// Escalation contacts.
    async fn contacts_page(&self) -> Result<crate::types::ContactsPage, Error>;
}

/// The handle pages take from the context.
pub type Estate = Arc<dyn EstateQueries>;
