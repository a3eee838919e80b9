//! The engine behind `app`'s ports: page queries answered by the store, each checked against the
//! RBAC specification for the person making the request.

use crate::auth::{Action, Principal};
use crate::http::session::CurrentUser;
use crate::store::{Store, StoreError};
use app::ports::{EstateQueries, PortError};
use app::types::{ApiToken, DeploymentInfo, ImageSummary, ImageView, Overview, OwnershipRule, Page, RoleMapping, SignInMode, TeamView};

/// `EstateQueries` over the store.
pub struct StoreEstate {
    pub store: Store,
    /// Mappings from configuration (shown beside the stored ones).
    pub configured_mappings: std::sync::Arc<Vec<crate::auth::mapping::GroupMapping>>,
    pub sign_in: SignInMode,
    pub demo: bool,
    pub access_contact: String,
    pub promotion: crate::registry::Promotion,
    /// A running image scanned longer ago than this is unaccounted.
    pub scan_max_age_days: i64,
    /// The ledger's key (or why there is none).
    pub ledger_key: Result<std::sync::Arc<crate::ledger::LedgerKey>, String>,
    /// Where new checkpoints are also sent.
    pub ledger_witness: Option<String>,
    /// Where "now" comes from.
    pub clock: crate::clock::SharedClock,
}

fn port(e: StoreError) -> PortError {
    tracing::error!(error = %e, "page query failed");
    PortError::Internal("the estate could not be read; the cause is in the server log".into())
}

/// The person behind the current request (pages and server functions alike).
fn current() -> CurrentUser {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<CurrentUser>().cloned())
        .unwrap_or_default()
}

/// The signed-in principal allowed to do `action` on `team`, or the refusal.
fn require(action: Action, team: Option<&str>) -> Result<Principal, PortError> {
    let Some(p) = current().principal else { return Err(PortError::Unauthenticated) };
    if p.can(action, team) {
        Ok(p)
    } else if p.grants.is_empty() {
        Err(PortError::Forbidden("your identity provider's groups give you no role in Drydock".into()))
    } else {
        Err(PortError::Forbidden(match (action, team) {
            // Never the other team's name: a refusal must not tell what exists.
            (Action::ReadTeamDetails, Some(_)) => "your role does not cover this team's details".into(),
            _ => "your role does not allow this page".into(),
        }))
    }
}

#[async_trait::async_trait]
impl EstateQueries for StoreEstate {
    async fn overview(&self) -> Result<Overview, PortError> {
        require(Action::ReadEstate, None)?;
        self.store.overview().await.map_err(port)
    }
    async fn team(&self, name: &str) -> Result<Option<TeamView>, PortError> {
        require(Action::ReadEstate, None)?;
        require(Action::ReadTeamDetails, Some(name))?;
        let mut view = self.store.team_view(name).await.map_err(port)?;
        if let Some(v) = &mut view {
            self.promotion.apply(&mut v.images);
        }
        Ok(view)
    }
    async fn image(&self, digest: &str) -> Result<Option<ImageView>, PortError> {
        let p = require(Action::ReadEstate, None)?;
        let mut view = self.store.image_view(digest, p.visible_teams().as_deref()).await.map_err(port)?;
        if let Some(v) = &mut view {
            self.promotion.apply(std::slice::from_mut(&mut v.image.summary));
        }
        if let Some(v) = &view {
            let team = v.image.summary.team.as_deref();
            if !p.can(Action::ReadTeamDetails, team) {
                require(Action::ReadTeamDetails, team)?;
            }
        }
        Ok(view)
    }
    async fn images(&self, limit: i64, offset: i64) -> Result<Page<ImageSummary>, PortError> {
        let p = require(Action::ReadEstate, None)?;
        let visible = p.visible_teams();
        let mut page = self.store.images(limit.clamp(1, 1000), offset.max(0), visible.as_deref()).await.map_err(port)?;
        self.promotion.apply(&mut page.items);
        Ok(page)
    }
    async fn ownership_rules(&self) -> Result<Vec<OwnershipRule>, PortError> {
        require(Action::ReadEstate, None)?;
        self.store.ownership_rules().await.map_err(port)
    }
    async fn tokens(&self) -> Result<Vec<ApiToken>, PortError> {
        let p = require(Action::ManageTokens, None)?;
        let mut tokens = self.store.list_tokens().await.map_err(port)?;
        tokens.retain(|t| t.role.parse().is_ok_and(|r| crate::auth::rbac::may_manage_token_role(&p.grants, r)));
        Ok(tokens)
    }
    async fn role_mappings(&self) -> Result<Vec<RoleMapping>, PortError> {
        require(Action::ManageRoleMappings, None)?;
        let mut out: Vec<RoleMapping> = self
            .configured_mappings
            .iter()
            .map(|m| RoleMapping {
                id: None,
                group: m.group.clone(),
                role: m.grant.role.as_str().to_string(),
                team: m.grant.team.clone(),
                source: "configuration (DRYDOCK_GROUP_ROLES)".into(),
            })
            .collect();
        out.extend(self.store.role_mapping_rows().await.map_err(port)?);
        Ok(out)
    }
    async fn users(&self) -> Result<Vec<app::types::UserRow>, PortError> {
        require(Action::ManageRoleMappings, None)?;
        self.store.users(self.clock.now().timestamp()).await.map_err(port)
    }
    async fn jobs(&self) -> Result<app::types::JobsView, PortError> {
        require(Action::ManageEstateConfig, None)?;
        let jobs = self.store.jobs().await.map_err(port)?;
        let runs = self.store.job_runs(50).await.map_err(port)?;
        Ok(app::types::JobsView {
            jobs: jobs
                .into_iter()
                .map(|j| app::types::JobStatus {
                    kind: j.kind,
                    key: j.key,
                    next_run: j.run_at,
                    every_seconds: j.period_seconds,
                    failures: j.attempts,
                    running_by: j.locked_by,
                    last_started: j.last_started,
                    last_success: j.last_success,
                    last_failure: j.last_failure,
                    last_error: j.last_error,
                })
                .collect(),
            runs: runs
                .into_iter()
                .map(|r| app::types::JobRun {
                    kind: r.kind,
                    key: r.key,
                    worker: r.worker,
                    due_at: r.due_at,
                    started_at: r.started_at,
                    finished_at: r.finished_at,
                    outcome: r.outcome,
                    error: r.error,
                })
                .collect(),
        })
    }
    async fn deployment(&self) -> Result<DeploymentInfo, PortError> {
        let user = current();
        Ok(DeploymentInfo {
            demo: self.demo,
            backend: self.store.backend().to_string(),
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
        })
    }
    async fn registries(&self) -> Result<Vec<app::types::RegistryOverview>, PortError> {
        require(Action::ReadEstate, None)?;
        self.store.registry_overviews().await.map_err(port)
    }
    async fn repository(&self, name: &str) -> Result<Option<app::types::RepositoryView>, PortError> {
        let p = require(Action::ReadEstate, None)?;
        let visible = p.visible_teams();
        let mut view = self.store.repository_view(name, visible.as_deref()).await.map_err(port)?;
        if let Some(v) = &mut view {
            for t in &mut v.tags {
                self.promotion.apply(std::slice::from_mut(&mut t.image));
            }
        }
        Ok(view)
    }
    async fn clusters(&self) -> Result<Vec<app::types::ClusterOverview>, PortError> {
        require(Action::ReadEstate, None)?;
        self.store.clusters().await.map_err(port)
    }
    async fn workloads(&self, q: app::types::WorkloadQuery) -> Result<Page<app::types::WorkloadRow>, PortError> {
        let p = require(Action::ReadEstate, None)?;
        let text = |s: String| Some(s).filter(|s| !s.is_empty());
        let f = crate::store::WorkloadFilter {
            cluster: text(q.cluster),
            namespace: text(q.namespace),
            team: text(q.team),
            state: text(q.state),
            workload: None,
            ended: false,
            visible_teams: p.visible_teams(),
        };
        self.store.workloads(&f, q.limit.clamp(1, 1000), q.offset.max(0)).await.map_err(port)
    }
    async fn unaccounted(&self) -> Result<Vec<app::types::UnaccountedEntry>, PortError> {
        let p = require(Action::ReadEstate, None)?;
        let hosts = crate::http::api::approved_hosts(&self.store).await.map_err(port)?;
        let stale = self.clock.now() - chrono::Duration::days(self.scan_max_age_days);
        let visible = p.visible_teams();
        self.store.unaccounted(&hosts, stale, visible.as_deref()).await.map_err(port)
    }
    async fn image_forensics(&self, digest: &str) -> Result<Option<app::types::ImageForensics>, PortError> {
        let p = require(Action::ReadEstate, None)?;
        let mut f = self.store.image_forensics(digest, p.visible_teams().as_deref()).await.map_err(port)?;
        if let Some(f) = &mut f {
            if !p.can(Action::ReadTeamDetails, f.image.team.as_deref()) {
                require(Action::ReadTeamDetails, f.image.team.as_deref())?;
            }
            self.promotion.apply(std::slice::from_mut(&mut f.image));
        }
        Ok(f)
    }
    async fn workload_forensics(
        &self,
        cluster: &str,
        namespace: &str,
        workload: &str,
    ) -> Result<Option<app::types::WorkloadForensics>, PortError> {
        let p = require(Action::ReadEstate, None)?;
        // A workload's people and images are its team's details: the same visibility as workloads.
        let f = self.store.workload_forensics(cluster, namespace, workload).await.map_err(port)?;
        if f.is_some() {
            let filter = crate::store::WorkloadFilter {
                cluster: Some(cluster.into()),
                namespace: Some(namespace.into()),
                workload: Some(workload.into()),
                ended: true,
                visible_teams: p.visible_teams(),
                ..Default::default()
            };
            if self.store.workloads(&filter, 1, 0).await.map_err(port)?.total == 0 {
                return Err(PortError::Forbidden("this workload belongs to another team".into()));
            }
        }
        Ok(f)
    }
    async fn ledger(&self) -> Result<app::types::LedgerStatus, PortError> {
        let p = require(Action::ReadEstate, None)?;
        let (checkpoint, key) = match &self.ledger_key {
            Ok(k) => {
                let (_, note, new) = crate::ledger::current_checkpoint(&self.store, k, self.clock.now()).await.map_err(port)?;
                if new {
                    crate::ledger::witness_in_background(self.ledger_witness.as_deref(), &note);
                }
                (Some(note), Some(k.clone()))
            }
            Err(_) => (None, None),
        };
        // The verification ran on its schedule; a page view only reads its result.
        let last = self.store.last_verification().await.map_err(port)?;
        let size = self.store.ledger_size().await.map_err(port)?;
        let root = match &checkpoint {
            Some(note) => note
                .lines()
                .nth(2)
                .and_then(|l| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, l).ok())
                .map(hex::encode)
                .unwrap_or_default(),
            None => last.as_ref().map(|l| l.root.clone()).unwrap_or_default(),
        };
        let entries_visible = p.can(Action::ReadLedgerEntries, None);
        Ok(app::types::LedgerStatus {
            size,
            root,
            checkpoint,
            verifier_key: key.map(|k| k.verifier_key()),
            verified_at: last.as_ref().map(|l| l.ran_at),
            verified_size: last.as_ref().map(|l| l.size).unwrap_or(0),
            checkpoints_checked: last.as_ref().map(|l| l.checkpoints_checked as usize).unwrap_or(0),
            problem: last.and_then(|l| l.problem),
            recent: if entries_visible { self.store.ledger_recent(50).await.map_err(port)? } else { vec![] },
            entries_visible,
        })
    }
}
