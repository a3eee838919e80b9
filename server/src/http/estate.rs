//! The ports `app` declares, as adapters over the application layer (`crate::service`): each
//! method takes the person behind the current request and calls one service function.

use super::session::CurrentUser;
use crate::service::policies::FailingWindow;
use crate::service::{Error, Service};
use app::ports::EstateQueries;
use app::types::{ApiToken, DeploymentInfo, ImageSummary, ImageView, Overview, OwnershipRule, Page, RoleMapping, SignInMode, TeamView};
use std::sync::Arc;

/// `EstateQueries` over the service.
pub struct ServiceEstate {
    pub service: Arc<Service>,
    pub sign_in: SignInMode,
    pub demo: bool,
    pub access_contact: String,
}

/// The person behind the current request (pages and server functions alike).
fn current() -> CurrentUser {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<CurrentUser>().cloned())
        .unwrap_or_default()
}

#[async_trait::async_trait]
impl EstateQueries for ServiceEstate {
    async fn overview(&self) -> Result<Overview, Error> {
        self.service.overview(current().principal.as_ref()).await
    }
    async fn compliance_overview(&self) -> Result<app::types::ComplianceOverviewPage, Error> {
        let overview = self.service.compliance_overview(current().principal.as_ref()).await?;
        let points: Vec<(chrono::NaiveDate, f64)> = overview.trend.iter().map(|p| (p.day, p.score)).collect();
        Ok(app::types::ComplianceOverviewPage { trend_svg: crate::charts::sparkline_svg(&points), overview })
    }
    async fn my_teams(&self) -> Result<app::types::MyTeamsPage, Error> {
        let home = self.service.my_teams(current().principal.as_ref()).await?;
        let trend_svgs = home
            .cards
            .iter()
            .map(|c| crate::charts::sparkline_svg(&c.trend.iter().map(|p| (p.day, p.score)).collect::<Vec<_>>()))
            .collect();
        Ok(app::types::MyTeamsPage { home, trend_svgs })
    }
    async fn team(&self, name: &str, limit: i64, offset: i64) -> Result<Option<TeamView>, Error> {
        // A name of the wrong form names no team: the page says so as for an unknown one.
        let Ok(name) = crate::domain::TeamName::parse(name) else { return Ok(None) };
        self.service.team(current().principal.as_ref(), &name, limit, offset).await
    }
    async fn image(&self, digest: &str) -> Result<Option<ImageView>, Error> {
        // A digest of the wrong form names no image: the page says so as for an unknown one.
        let Ok(digest) = crate::domain::Digest::parse(digest) else { return Ok(None) };
        self.service.image_view(current().principal.as_ref(), &digest).await
    }
    async fn images(&self, limit: i64, offset: i64) -> Result<Page<ImageSummary>, Error> {
        self.service.images(current().principal.as_ref(), limit, offset).await
    }
    async fn ownership_rules(&self) -> Result<Vec<OwnershipRule>, Error> {
        self.service.ownership_rules(current().principal.as_ref()).await
    }
    async fn tokens(&self) -> Result<Vec<ApiToken>, Error> {
        self.service.tokens(current().principal.as_ref()).await
    }
    async fn role_mappings(&self) -> Result<Vec<RoleMapping>, Error> {
        self.service.role_mappings(current().principal.as_ref()).await
    }
    async fn users(&self) -> Result<Vec<app::types::UserRow>, Error> {
        self.service.users(current().principal.as_ref()).await
    }
    async fn jobs(&self) -> Result<app::types::JobsView, Error> {
        self.service.jobs(current().principal.as_ref(), 50).await
    }
    async fn deployment(&self) -> Result<DeploymentInfo, Error> {
        let user = current();
        Ok(DeploymentInfo {
            demo: self.demo,
            backend: self.service.backend().to_string(),
            sign_in: self.sign_in,
            user: user.principal.as_ref().map(|p| p.display.clone()),
            roles: user
                .principal
                .map(|p| {
                    p.grants
                        .iter()
                        .map(|g| match &g.team {
                            Some(t) => format!("{} ({t})", g.role.as_str()),
                            None => g.role.as_str().to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            access_contact: self.access_contact.clone(),
            nav: super::navigation::nav_for(current().principal.as_ref()),
            may_configure: current().principal.as_ref().is_some_and(|p| p.can(crate::auth::Action::ManageEstateConfig, None)),
        })
    }
    async fn registries(&self) -> Result<Vec<app::types::RegistryOverview>, Error> {
        self.service.registry_overviews(current().principal.as_ref()).await
    }
    async fn repository(&self, name: &str) -> Result<Option<app::types::RepositoryView>, Error> {
        self.service.repository(current().principal.as_ref(), name).await
    }
    async fn clusters(&self) -> Result<Vec<app::types::ClusterOverview>, Error> {
        self.service.clusters(current().principal.as_ref()).await
    }
    async fn workloads(&self, q: app::types::WorkloadQuery) -> Result<Page<app::types::WorkloadRow>, Error> {
        let text = |s: String| Some(s).filter(|s| !s.is_empty());
        let f = crate::store::WorkloadFilter {
            cluster: text(q.cluster),
            namespace: text(q.namespace),
            team: text(q.team),
            state: text(q.state),
            workload: None,
            ended: false,
            visible_teams: None,
        };
        self.service.workloads(current().principal.as_ref(), f, q.limit, q.offset).await
    }
    async fn unaccounted(&self) -> Result<Vec<app::types::UnaccountedEntry>, Error> {
        self.service.unaccounted(current().principal.as_ref()).await
    }
    async fn scorecards(&self) -> Result<app::types::Scorecards, Error> {
        self.service.scorecards(current().principal.as_ref()).await
    }
    async fn team_scorecard(&self, team: &str, policy: Option<&str>, offset: i64) -> Result<app::types::ScorecardPage, Error> {
        let window = FailingWindow { policy, offset, limit: app::types::FAILING_PAGE };
        let card = self.service.team_scorecard(current().principal.as_ref(), team, window).await?;
        let points: Vec<(chrono::NaiveDate, f64)> = card.trend.iter().map(|p| (p.day, p.score)).collect();
        let caption = format!("{}: score by day", if team == crate::service::policies::UNOWNED { "no team" } else { team });
        Ok(app::types::ScorecardPage { trend_svg: crate::charts::score_trend_svg(&points, &caption), card })
    }
    async fn policies_page(&self) -> Result<app::types::PoliciesPage, Error> {
        let who = current().principal;
        let policies = self.service.policies(who.as_ref()).await?;
        let environments = self.service.environment_rules(who.as_ref()).await?;
        let can = |a| who.as_ref().is_some_and(|p| p.can(a, None));
        Ok(app::types::PoliciesPage {
            policies,
            environments,
            may_edit: can(crate::auth::Action::ManagePolicies),
            may_edit_environments: can(crate::auth::Action::ManageEstateConfig),
        })
    }
    async fn search(&self, query: app::types::SearchQuery) -> Result<app::types::SearchResult, Error> {
        self.service.search(current().principal.as_ref(), &query).await
    }
    async fn admission_page(&self) -> Result<app::types::AdmissionPage, Error> {
        self.service.admission_page(current().principal.as_ref()).await
    }
    async fn evidence_page(&self) -> Result<app::types::EvidencePage, Error> {
        self.service.evidence_page(current().principal.as_ref()).await
    }
    async fn checklist(&self) -> Result<app::types::Checklist, Error> {
        self.service.checklist(current().principal.as_ref()).await
    }
    async fn risk(&self, team: Option<String>) -> Result<app::types::RiskList, Error> {
        let team = team.filter(|t| !t.is_empty());
        self.service.risk(current().principal.as_ref(), team.as_deref(), Some(100), None).await
    }
    async fn image_forensics(&self, digest: &str) -> Result<Option<app::types::ImageForensics>, Error> {
        let Ok(digest) = crate::domain::Digest::parse(digest) else { return Ok(None) };
        self.service.image_forensics(current().principal.as_ref(), &digest).await
    }
    async fn workload_forensics(
        &self,
        cluster: &str,
        namespace: &str,
        workload: &str,
    ) -> Result<Option<app::types::WorkloadForensics>, Error> {
        self.service.workload_forensics(current().principal.as_ref(), cluster, namespace, workload).await
    }
    async fn ledger(&self) -> Result<app::types::LedgerStatus, Error> {
        self.service.ledger_status(current().principal.as_ref()).await
    }
    async fn campaigns_page(&self) -> Result<app::types::CampaignsPage, Error> {
        let who = current().principal;
        let campaigns = self.service.campaign_summaries(who.as_ref()).await?;
        let may_decide = who.as_ref().is_some_and(|p| p.can(crate::auth::Action::ManagePolicies, None));
        let exceptions_waiting = if may_decide { Some(self.service.exception_queue(who.as_ref()).await?.len() as i64) } else { None };
        Ok(app::types::CampaignsPage { campaigns, may_create: may_decide, exceptions_waiting })
    }
    async fn campaign_page(&self, id: i64) -> Result<app::types::CampaignPage, Error> {
        use crate::service::campaigns::{allowed_actions, burndown, team_progress};
        let who = current().principal;
        let campaign = self.service.campaign(who.as_ref(), id).await?;
        let today = self.service.clock.now().date_naive();
        let points = burndown(&campaign.items, campaign.created_at.date_naive(), today);
        let deadline = campaign.deadline.as_deref().and_then(|d| d.parse().ok());
        let burndown_svg = crate::charts::burndown_svg(&points, deadline, &format!("{}: items not yet fixed, by day", campaign.title));
        let (may_ack, may_request, may_decide) = allowed_actions(who.as_ref(), &campaign.items);
        let may_manage = who.as_ref().is_some_and(|p| p.can(crate::auth::Action::ManagePolicies, None));
        Ok(app::types::CampaignPage {
            teams: team_progress(&campaign.items),
            burndown_svg,
            burndown: points,
            may_ack,
            may_request,
            may_decide,
            may_manage,
            campaign,
        })
    }
    async fn items_page(&self, kind: String) -> Result<app::types::ItemsPage, Error> {
        let who = current().principal;
        let items = match kind.as_str() {
            "updates" => self.service.required_updates(who.as_ref()).await,
            "overdue" => self.service.overdue_items(who.as_ref(), Some(1000), None).await.map(|p| p.items),
            "exceptions" => self.service.exception_queue(who.as_ref()).await,
            other => return Err(Error::NotFound(format!("no item list {other:?}"))),
        }?;
        let (may_ack, may_request, may_decide) = crate::service::campaigns::allowed_actions(who.as_ref(), &items);
        let teams = who.as_ref().and_then(|p| p.visible_teams()).unwrap_or_default();
        Ok(app::types::ItemsPage { items, may_ack, may_request, may_decide, teams })
    }
    async fn messages_page(&self, kind: String) -> Result<Vec<app::types::DeliveryMessage>, Error> {
        let who = current().principal;
        match kind.as_str() {
            "inbox" => self.service.inbox(who.as_ref()).await,
            "deliveries" => self.service.delivery_log(who.as_ref(), Some(300)).await,
            other => return Err(Error::NotFound(format!("no message list {other:?}"))),
        }
    }
    async fn contacts_page(&self) -> Result<app::types::ContactsPage, Error> {
        let who = current().principal;
        let contacts = self.service.contacts(who.as_ref()).await?;
        let teams = self.service.team_names(who.as_ref()).await?;
        let may_edit = who.as_ref().is_some_and(|p| p.can(crate::auth::Action::ManageEstateConfig, None));
        Ok(app::types::ContactsPage { contacts, teams, may_edit })
    }
}
