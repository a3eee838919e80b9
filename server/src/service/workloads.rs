//! What runs: workloads, clusters, unaccounted images, a workload's forensics.

use super::{require, views, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::store::capabilities::*;
use crate::store::{RunningFacts, WorkloadFilter};
use app::types::{ClusterOverview, Page, UnaccountedEntry, WorkloadForensics, WorkloadRow};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

impl Service {
    /// Workloads matching `filter` (its team scope is the caller's, whatever the filter said).
    #[tracing::instrument(skip(self, who))]
    pub async fn workloads(
        &self,
        who: Option<&Principal>,
        mut filter: WorkloadFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<WorkloadRow>> {
        let p = require(who, Action::ReadEstate, None)?;
        if let Some(s) = &filter.state {
            if !["running", "waiting", "terminated", "unknown"].contains(&s.as_str()) {
                return Err(Error::invalid("state", format!("must be running, waiting, terminated or unknown, not {s:?}")));
            }
        }
        filter.visible_teams = p.visible_teams();
        Ok(self.store.workloads(&filter, limit.clamp(1, 1000), offset.max(0)).await?.map(WorkloadRow::from))
    }

    /// Clusters with nodes and live counts.
    #[tracing::instrument(skip_all)]
    pub async fn clusters(&self, who: Option<&Principal>) -> Result<Vec<ClusterOverview>> {
        require(who, Action::ReadEstate, None)?;
        Ok(views::clusters(self.store.clusters().await?))
    }

    /// Running images not in a configured registry, from one not approved, never scanned, or
    /// scanned longer ago than `scan_max_age_days`, by (cluster, namespace, workload, image).
    #[tracing::instrument(skip_all)]
    pub async fn unaccounted(&self, who: Option<&Principal>) -> Result<Vec<UnaccountedEntry>> {
        let p = require(who, Action::ReadEstate, None)?;
        let hosts = crate::registry::approved_hosts(&self.store).await?;
        let stale_before = crate::domain::dates::add_days_at(self.clock.now(), -self.scan_max_age_days);
        let facts = self.store.running_facts(p.visible_teams().as_deref()).await?;
        Ok(unaccounted(facts, &hosts, stale_before))
    }

    /// A workload's images over time and who touched it: its team's details.
    #[tracing::instrument(skip(self, who))]
    pub async fn workload_forensics(
        &self,
        who: Option<&Principal>,
        cluster: &str,
        namespace: &str,
        workload: &str,
    ) -> Result<Option<WorkloadForensics>> {
        let p = require(who, Action::ReadEstate, None)?;
        let Some(f) = self.store.workload_forensics(cluster, namespace, workload).await? else { return Ok(None) };
        // The same visibility as the workload list: a workload the caller may not list is refused.
        let filter = WorkloadFilter {
            cluster: Some(cluster.into()),
            namespace: Some(namespace.into()),
            workload: Some(workload.into()),
            ended: true,
            visible_teams: p.visible_teams(),
            ..Default::default()
        };
        if self.store.workloads(&filter, 1, 0).await?.total == 0 {
            return Err(Error::Forbidden("this workload belongs to another team".into()));
        }
        Ok(Some(views::workload_forensics(cluster, namespace, workload, f)))
    }
}

/// The unaccounted entries of live containers: each (cluster, namespace, workload, image, digest)
/// once, with its reasons and how many containers run it there. The store counts containers per
/// place and image row (an index resolves to a manifest per node platform): of a place's rows
/// with reasons, the first decides them and the containers of each are counted.
fn unaccounted(facts: RunningFacts, approved_hosts: &[String], stale_before: DateTime<Utc>) -> Vec<UnaccountedEntry> {
    let mut out: Vec<UnaccountedEntry> = Vec::new();
    type Place = (String, String, Option<String>, String, Option<String>);
    let mut seen: HashMap<Place, usize> = HashMap::new();
    for w in facts.runs {
        let mut reasons = Vec::new();
        if w.image_row.is_none_or(|id| !facts.in_registry.contains(&id)) {
            reasons.push("not_in_registry".to_string());
        }
        let host = crate::domain::ImageRef::parse(&w.image).ok().map(|r| r.repository.registry);
        if host.is_none_or(|h| !approved_hosts.contains(&h)) {
            reasons.push("unapproved_registry".to_string());
        }
        match w.image_row.and_then(|id| facts.last_scanned.get(&id).copied().flatten()) {
            None => reasons.push("never_scanned".to_string()),
            Some(t) if t < stale_before => reasons.push("stale_scan".to_string()),
            Some(_) => {}
        }
        if reasons.is_empty() {
            continue;
        }
        let key = (w.cluster.clone(), w.namespace.clone(), w.workload.clone(), w.image.clone(), w.digest.clone());
        match seen.get(&key) {
            Some(&i) => out[i].containers += w.containers,
            None => {
                seen.insert(key, out.len());
                out.push(UnaccountedEntry {
                    digest: w.digest,
                    image_id: w.image_id,
                    image: w.image,
                    reasons,
                    cluster: w.cluster,
                    namespace: w.namespace,
                    workload: w.workload,
                    team: w.team,
                    containers: w.containers,
                });
            }
        }
    }
    out
}
