//! Server functions: thin adaptors from the pages onto the ports in the Leptos context.

use crate::error::Error;
use crate::types::{ApiToken, DeploymentInfo, ImageSummary, ImageView, Overview, OwnershipRule, Page, RoleMapping, TeamView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn estate() -> Result<crate::ports::Estate, Error> {
    use_context::<crate::ports::Estate>().ok_or_else(|| Error::unavailable("the estate store is not available"))
}

/// The port's error as the server function's, with the HTTP status a caller of the endpoint (or
/// the page rendering it) sees (401 nobody signed in, 403 refused, 404, 422, 503, 500); a 503 for
/// a database that is not answering carries its `Retry-After`.
#[cfg(feature = "ssr")]
fn port_err(e: Error) -> Error {
    if let (Some(resp), Ok(status)) = (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(e.status())) {
        resp.set_status(status);
        if let Error::Unavailable { retry_after: Some(seconds), .. } = &e {
            resp.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(*seconds));
        }
    }
    e
}

/// The estate overview.
#[server(endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, Error> {
    estate()?.overview().await.map_err(port_err)
}

/// The compliance-first overview.
#[server(endpoint = "compliance-overview")]
pub async fn get_compliance_overview() -> Result<crate::types::ComplianceOverviewPage, Error> {
    estate()?.compliance_overview().await.map_err(port_err)
}

/// The manager home.
#[server(endpoint = "my-teams")]
pub async fn get_my_teams() -> Result<crate::types::MyTeamsPage, Error> {
    estate()?.my_teams().await.map_err(port_err)
}

/// One team and `limit` (default 50) of its images from `offset` (default 0), worst first;
/// `None` when unknown.
#[server(endpoint = "team")]
pub async fn get_team(name: String, limit: Option<i64>, offset: Option<i64>) -> Result<Option<TeamView>, Error> {
    estate()?.team(&name, limit.unwrap_or(50), offset.unwrap_or(0)).await.map_err(port_err)
}

/// One image by any of its digests, `None` when unknown.
#[server(endpoint = "image")]
pub async fn get_image(digest: String) -> Result<Option<ImageView>, Error> {
    estate()?.image(&digest).await.map_err(port_err)
}

/// A page of images.
#[server(endpoint = "images")]
pub async fn get_images(limit: i64, offset: i64) -> Result<Page<ImageSummary>, Error> {
    estate()?.images(limit, offset).await.map_err(port_err)
}

/// The ownership rules.
#[server(endpoint = "ownership-rules")]
pub async fn get_ownership_rules() -> Result<Vec<OwnershipRule>, Error> {
    estate()?.ownership_rules().await.map_err(port_err)
}

/// What kind of deployment this is (demo mode, backend).
#[server(endpoint = "deployment")]
pub async fn get_deployment() -> Result<DeploymentInfo, Error> {
    estate()?.deployment().await.map_err(port_err)
}

/// API tokens (security and admin only).
#[server(endpoint = "tokens")]
pub async fn get_tokens() -> Result<Vec<ApiToken>, Error> {
    estate()?.tokens().await.map_err(port_err)
}

/// Group → role mappings (admin only).
#[server(endpoint = "role-mappings")]
pub async fn get_role_mappings() -> Result<Vec<RoleMapping>, Error> {
    estate()?.role_mappings().await.map_err(port_err)
}

/// People who signed in, with live sessions (admin only).
#[server(endpoint = "users")]
pub async fn get_users() -> Result<Vec<crate::types::UserRow>, Error> {
    estate()?.users().await.map_err(port_err)
}

/// Background jobs and their recent runs (admin only).
#[server(endpoint = "jobs")]
pub async fn get_jobs() -> Result<crate::types::JobsView, Error> {
    estate()?.jobs().await.map_err(port_err)
}

/// Registries with status and repositories.
#[server(endpoint = "registries")]
pub async fn get_registries() -> Result<Vec<crate::types::RegistryOverview>, Error> {
    estate()?.registries().await.map_err(port_err)
}

/// One repository by `registry-host/name`, `None` when unknown.
#[server(endpoint = "repository")]
pub async fn get_repository(name: String) -> Result<Option<crate::types::RepositoryView>, Error> {
    estate()?.repository(&name).await.map_err(port_err)
}

/// Clusters with nodes and counts.
#[server(endpoint = "clusters")]
pub async fn get_clusters() -> Result<Vec<crate::types::ClusterOverview>, Error> {
    estate()?.clusters().await.map_err(port_err)
}

/// A page of containers.
#[server(endpoint = "workloads")]
pub async fn get_workloads(query: crate::types::WorkloadQuery) -> Result<Page<crate::types::WorkloadRow>, Error> {
    estate()?.workloads(query).await.map_err(port_err)
}

/// Running images that cannot be accounted for.
#[server(endpoint = "unaccounted")]
pub async fn get_unaccounted() -> Result<Vec<crate::types::UnaccountedEntry>, Error> {
    estate()?.unaccounted().await.map_err(port_err)
}

/// Every team ranked by its policy score.
#[server(endpoint = "scorecards")]
pub async fn get_scorecards() -> Result<crate::types::Scorecards, Error> {
    estate()?.scorecards().await.map_err(port_err)
}

/// One team's scorecard and trend chart.
#[server(endpoint = "team-scorecard")]
pub async fn get_team_scorecard(team: String, policy: Option<String>, offset: Option<i64>) -> Result<crate::types::ScorecardPage, Error> {
    estate()?.team_scorecard(&team, policy.as_deref(), offset.unwrap_or(0).max(0)).await.map_err(port_err)
}

/// The policies and environment rules.
#[server(endpoint = "policies")]
pub async fn get_policies() -> Result<crate::types::PoliciesPage, Error> {
    estate()?.policies_page().await.map_err(port_err)
}

/// Affected images by vulnerability, or by package and version range.
#[server(endpoint = "search")]
pub async fn search_estate(query: crate::types::SearchQuery) -> Result<crate::types::SearchResult, Error> {
    estate()?.search(query).await.map_err(port_err)
}

/// The admission settings page.
#[server(endpoint = "admission-settings")]
pub async fn get_admission_page() -> Result<crate::types::AdmissionPage, Error> {
    estate()?.admission_page().await.map_err(port_err)
}

/// The evidence page.
#[server(endpoint = "evidence")]
pub async fn get_evidence_page() -> Result<crate::types::EvidencePage, Error> {
    estate()?.evidence_page().await.map_err(port_err)
}

/// The enterprise Docker checklist.
#[server(endpoint = "checklist")]
pub async fn get_checklist() -> Result<crate::types::Checklist, Error> {
    estate()?.checklist().await.map_err(port_err)
}

/// Vulnerabilities ranked by exposure ("fix these first").
#[server(endpoint = "risk")]
pub async fn get_risk(team: Option<String>) -> Result<crate::types::RiskList, Error> {
    estate()?.risk(team).await.map_err(port_err)
}

/// Patch campaigns.
#[server(endpoint = "campaigns")]
pub async fn get_campaigns() -> Result<crate::types::CampaignsPage, Error> {
    estate()?.campaigns_page().await.map_err(port_err)
}

/// One campaign.
#[server(endpoint = "campaign")]
pub async fn get_campaign(id: i64) -> Result<crate::types::CampaignPage, Error> {
    estate()?.campaign_page(id).await.map_err(port_err)
}

/// Campaign items: `updates`, `overdue` or `exceptions`.
#[server(endpoint = "campaign-items")]
pub async fn get_campaign_items(kind: String) -> Result<crate::types::ItemsPage, Error> {
    estate()?.items_page(kind).await.map_err(port_err)
}

/// Escalation messages: `inbox` or `deliveries`.
#[server(endpoint = "messages")]
pub async fn get_messages(kind: String) -> Result<Vec<crate::types::DeliveryMessage>, Error> {
    estate()?.messages_page(kind).await.map_err(port_err)
}

/// Escalation contacts.
#[server(endpoint = "contacts")]
pub async fn get_contacts() -> Result<crate::types::ContactsPage, Error> {
    estate()?.contacts_page().await.map_err(port_err)
}

/// Everything recorded about one image.
#[server(endpoint = "image-forensics")]
pub async fn get_image_forensics(digest: String) -> Result<Option<crate::types::ImageForensics>, Error> {
    estate()?.image_forensics(&digest).await.map_err(port_err)
}

/// The ledger's checkpoint and a verification run.
#[server(endpoint = "ledger")]
pub async fn get_ledger() -> Result<crate::types::LedgerStatus, Error> {
    estate()?.ledger().await.map_err(port_err)
}

/// A workload's images over time and the people who touched it.
#[server(endpoint = "workload-forensics")]
pub async fn get_workload_forensics(
    cluster: String,
    namespace: String,
    workload: String,
) -> Result<Option<crate::types::WorkloadForensics>, Error> {
    estate()?.workload_forensics(&cluster, &namespace, &workload).await.map_err(port_err)
}
