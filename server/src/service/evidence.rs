//! The lists the checklist's answers link to, each scoped to the caller (a team's people see
//! their teams' subjects and those of no team): notified pushes, audited access to pods,
//! application libraries with a fix, outstanding items past their deadline, how each team with
//! outstanding work is told, images no rule gives a team.

use super::campaigns::item_view;
use super::homes::outstanding_by_team;
use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::store::capabilities::*;
use crate::store::{OutdatedLibraryRecord, PodAccessRecord, PushRecord};
use app::types::{CampaignItem, ImageSummary, OutdatedLibrary, Page, PodAccess, PushEvent, Severity, TeamNotice};
use chrono::Duration;
use std::collections::{BTreeMap, BTreeSet};

/// A page's limit (1..=1000, `default` when absent) and offset (0..=1,000,000).
pub(super) fn paging(limit: Option<i64>, offset: Option<i64>, default: i64) -> Result<(i64, i64)> {
    let limit = limit.unwrap_or(default);
    if !(1..=1000).contains(&limit) {
        return Err(Error::invalid("limit", "between 1 and 1000"));
    }
    let offset = offset.unwrap_or(0);
    if !(0..=1_000_000).contains(&offset) {
        return Err(Error::invalid("offset", "between 0 and 1000000"));
    }
    Ok((limit, offset))
}

/// How far back the messages a team was sent are counted.
pub const NOTICE_DAYS: i64 = 30;

fn push_event(r: PushRecord) -> PushEvent {
    PushEvent {
        registry: r.registry,
        repository: r.repository,
        tag: r.tag,
        digest: r.digest,
        actor: r.actor,
        source_addr: r.source_addr,
        team: r.team,
        happened_at: r.happened_at,
    }
}

fn pod_access(r: PodAccessRecord) -> PodAccess {
    PodAccess {
        cluster: r.cluster,
        namespace: r.namespace,
        pod: r.name,
        verb: r.verb,
        subresource: r.subresource,
        username: r.username,
        source_ips: r.source_ips,
        code: r.code,
        happened_at: r.happened_at,
    }
}

fn library(r: OutdatedLibraryRecord) -> OutdatedLibrary {
    let namespace = if r.purl_namespace.is_empty() { String::new() } else { format!("{}/", r.purl_namespace) };
    let fixed: BTreeSet<&str> = r.fixed_versions.split(',').filter(|v| !v.is_empty()).collect();
    OutdatedLibrary {
        package: format!("pkg:{}/{namespace}{}", r.purl_type, r.purl_name),
        version: r.installed_version.clone(),
        fixed_versions: fixed.into_iter().map(str::to_string).collect(),
        vulnerabilities: r.vulnerabilities,
        severity: Severity::ALL.get(r.worst as usize).copied().unwrap_or(Severity::Unknown),
        images: r.images,
    }
}

impl Service {
    /// Pushes the registries notified, newest first.
    #[tracing::instrument(skip(self, who))]
    pub async fn pushes(&self, who: Option<&Principal>, limit: Option<i64>, offset: Option<i64>) -> Result<Page<PushEvent>> {
        let p = require(who, Action::ReadEstate, None)?;
        let (limit, offset) = paging(limit, offset, 100)?;
        Ok(self.store.pushes(p.visible_teams().as_deref(), limit, offset).await?.map(push_event))
    }

    /// Audited actions on pods (`exec_only`: exec, attach, port-forward), newest first.
    #[tracing::instrument(skip(self, who))]
    pub async fn pod_access(
        &self,
        who: Option<&Principal>,
        exec_only: bool,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<PodAccess>> {
        let p = require(who, Action::ReadEstate, None)?;
        let (limit, offset) = paging(limit, offset, 100)?;
        Ok(self.store.pod_access(p.visible_teams().as_deref(), exec_only, limit, offset).await?.map(pod_access))
    }

    /// Application libraries at a version with a fixed vulnerability, worst first.
    #[tracing::instrument(skip(self, who))]
    pub async fn outdated_libraries(
        &self,
        who: Option<&Principal>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<OutdatedLibrary>> {
        let p = require(who, Action::ReadEstate, None)?;
        let (limit, offset) = paging(limit, offset, 100)?;
        Ok(self.store.outdated_libraries(p.visible_teams().as_deref(), limit, offset).await?.map(library))
    }

    /// Outstanding campaign items past their deadline, the longest overdue first.
    #[tracing::instrument(skip(self, who))]
    pub async fn overdue_items(&self, who: Option<&Principal>, limit: Option<i64>, offset: Option<i64>) -> Result<Page<CampaignItem>> {
        let p = require(who, Action::ReadEstate, None)?;
        let (limit, offset) = paging(limit, offset, 100)?;
        let today = self.clock.now().date_naive();
        Ok(self.store.overdue_items(p.visible_teams().as_deref(), today, limit, offset).await?.map(|r| item_view(r, today)))
    }

    /// Images no ownership rule gives a team (every role may see them), newest first.
    #[tracing::instrument(skip(self, who))]
    pub async fn unowned_images(&self, who: Option<&Principal>, limit: Option<i64>, offset: Option<i64>) -> Result<Page<ImageSummary>> {
        require(who, Action::ReadEstate, None)?;
        let (limit, offset) = paging(limit, offset, 100)?;
        Ok(self.store.unowned_images(limit, offset).await?.map(|r| self.summary(r)))
    }

    /// Each team with outstanding items (that the caller may see): how many, how many overdue,
    /// the ladder levels its own contacts cover, and its messages of the last 30 days.
    #[tracing::instrument(skip(self, who))]
    pub async fn team_notices(&self, who: Option<&Principal>) -> Result<Page<TeamNotice>> {
        let p = require(who, Action::ReadEstate, None)?;
        let now = self.clock.now();
        let today = now.date_naive();
        let teams = p.visible_teams();
        let outstanding = outstanding_by_team(self.store.team_item_counts(teams.as_deref(), today, today).await?);
        let mut levels: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        for c in self.store.contacts().await? {
            levels.entry(c.team).or_default().insert(c.level);
        }
        let messages: BTreeMap<String, _> = self
            .store
            .messages_by_team(now - Duration::days(NOTICE_DAYS))
            .await?
            .into_iter()
            .map(|m| (m.team.clone().unwrap_or_default(), m))
            .collect();
        let items: Vec<TeamNotice> = outstanding
            .into_iter()
            .map(|(team, (outstanding, overdue))| {
                let m = messages.get(&team);
                TeamNotice {
                    contact_levels: levels.get(&team).map(|l| l.iter().copied().collect()).unwrap_or_default(),
                    sent_30d: m.map_or(0, |m| m.sent),
                    gave_up_30d: m.map_or(0, |m| m.gave_up),
                    last_sent: m.and_then(|m| m.last_sent),
                    team: Some(team).filter(|t| !t.is_empty()),
                    outstanding,
                    overdue,
                }
            })
            .collect();
        Ok(Page { total: items.len() as i64, items })
    }
}
