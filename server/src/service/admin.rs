//! People, tokens, role mappings and background jobs: security and admin capabilities.

use super::{require, views, Error, Result, Service};
use crate::auth::{rbac, Action, Principal};
use crate::domain::Role;
use crate::store::capabilities::*;
use crate::store::{Actor, TokenBindings};
use app::types::{ApiToken, JobRun, JobStatus, JobsView, RoleMapping, UserRow};

impl Service {
    /// Tokens the caller may manage (security: ingest tokens; admin: all), never their secrets.
    #[tracing::instrument(skip_all)]
    pub async fn tokens(&self, who: Option<&Principal>) -> Result<Vec<ApiToken>> {
        let p = require(who, Action::ManageTokens, None)?;
        let mut tokens = self.store.list_tokens().await?;
        tokens.retain(|t| t.role.parse().is_ok_and(|r| rbac::may_manage_token_role(&p.grants, r)));
        Ok(views::all(tokens))
    }

    /// Creates a token and answers its secret (shown once; only its hash is kept).
    #[tracing::instrument(skip(self, who, bindings))]
    pub async fn create_token(
        &self,
        who: Option<&Principal>,
        name: &str,
        role: Role,
        team: Option<&crate::domain::TeamName>,
        bindings: &TokenBindings,
    ) -> Result<String> {
        let p = require(who, Action::ManageTokens, None)?;
        if !rbac::may_manage_token_role(&p.grants, role) {
            return Err(Error::Forbidden("security may create ingest tokens only; ask an admin for other roles".into()));
        }
        Ok(self.store.create_token(name, role, team, bindings, &Actor(p.actor.clone()), self.clock.now()).await?)
    }

    /// Revokes a token the caller may manage.
    #[tracing::instrument(skip(self, who))]
    pub async fn revoke_token(&self, who: Option<&Principal>, id: i64) -> Result<()> {
        let p = require(who, Action::ManageTokens, None)?;
        let may_revoke = |role: Role| rbac::may_manage_token_role(&p.grants, role);
        Ok(self.store.revoke_token(id, &may_revoke, &Actor(p.actor.clone()), self.clock.now()).await?)
    }

    /// Group → role mappings: from the configuration, then the stored ones (admin).
    #[tracing::instrument(skip_all)]
    pub async fn role_mappings(&self, who: Option<&Principal>) -> Result<Vec<RoleMapping>> {
        require(who, Action::ManageRoleMappings, None)?;
        let mut out: Vec<RoleMapping> = self
            .configured_mappings
            .iter()
            .map(|m| RoleMapping {
                id: None,
                group: m.group.clone(),
                role: m.grant.role.as_str().to_string(),
                team: m.grant.team.as_deref().map(str::to_string),
                source: "configuration (DRYDOCK_GROUP_ROLES)".into(),
            })
            .collect();
        out.extend(self.store.role_mapping_rows().await?.into_iter().map(|m| RoleMapping {
            id: Some(m.id),
            group: m.idp_group,
            role: m.role,
            team: m.team,
            source: format!("added {} by {}", m.created_at.format("%Y-%m-%d"), m.created_by),
        }));
        Ok(out)
    }

    /// Maps a group to a role (and team) (admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn add_role_mapping(&self, who: Option<&Principal>, mapping: &crate::auth::mapping::GroupMapping) -> Result<()> {
        let p = require(who, Action::ManageRoleMappings, None)?;
        Ok(self.store.add_role_mapping(mapping, &Actor(p.actor.clone()), self.clock.now()).await?)
    }

    /// Deletes a stored mapping (admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn delete_role_mapping(&self, who: Option<&Principal>, id: i64) -> Result<()> {
        let p = require(who, Action::ManageRoleMappings, None)?;
        Ok(self.store.delete_role_mapping(id, &Actor(p.actor.clone()), self.clock.now()).await?)
    }

    /// People who signed in, with their live sessions (admin).
    #[tracing::instrument(skip_all)]
    pub async fn users(&self, who: Option<&Principal>) -> Result<Vec<UserRow>> {
        require(who, Action::ManageRoleMappings, None)?;
        Ok(views::all(self.store.users(self.clock.now().timestamp()).await?))
    }

    /// Ends every session of a person (admin); NotFound when nobody with `subject` signed in.
    #[tracing::instrument(skip(self, who))]
    pub async fn end_user_sessions(&self, who: Option<&Principal>, subject: &str) -> Result<u64> {
        let p = require(who, Action::ManageRoleMappings, None)?;
        Ok(self.store.end_user_sessions(subject, &Actor(p.actor.clone()), self.clock.now()).await?)
    }

    /// Every background job with its state, and the most recent runs (admin).
    #[tracing::instrument(skip_all)]
    pub async fn jobs(&self, who: Option<&Principal>, runs: i64) -> Result<JobsView> {
        require(who, Action::ManageEstateConfig, None)?;
        let jobs = self.store.jobs().await?;
        let runs = self.store.job_runs(runs.clamp(1, 10_000)).await?;
        Ok(JobsView {
            jobs: jobs
                .into_iter()
                .map(|j| JobStatus {
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
                .map(|r| JobRun {
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

    /// Runs every job due at `at` in this process, one after another (`drydock jobs --run-pending`).
    #[tracing::instrument(skip(self, who))]
    pub async fn run_pending_jobs(
        &self,
        who: Option<&Principal>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::jobs::RunReport>> {
        require(who, Action::ManageEstateConfig, None)?;
        Ok(self.jobs.run_pending(at).await?)
    }

    /// Judges the estate at `at` and records `day`'s scorecard snapshot (`drydock snapshot`):
    /// (results, failing, scores recorded).
    #[tracing::instrument(skip(self, who))]
    pub async fn snapshot(
        &self,
        who: Option<&Principal>,
        day: chrono::NaiveDate,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(usize, usize, u64)> {
        let p = require(who, Action::ManageEstateConfig, None)?;
        let (results, failing) = crate::policy::run(&self.store, &self.promotion, at).await?;
        let n = crate::policy::record_snapshot(&self.store, day, &crate::store::Actor(p.actor.clone()), self.clock.now()).await?;
        Ok((results, failing, n))
    }

    /// One escalation pass at `at`, delivered by this process (`drydock escalate --once`).
    #[tracing::instrument(skip(self, who))]
    pub async fn escalate(&self, who: Option<&Principal>, at: chrono::DateTime<chrono::Utc>) -> Result<app::types::EscalationReport> {
        require(who, Action::ManageEstateConfig, None)?;
        Ok(crate::campaigns::pass(&self.store, self.jobs.notifier(), self.jobs.worker(), at).await?)
    }
}
