//! What comes in: scanner reports, pod and node lists, Kubernetes audit events, registry
//! notifications. Security and admin may send anything; an ingest token only for the clusters
//! and registries it is bound to, and never a pod or node list of a cluster the collector reads
//! from its API server (the collector owns that state).

use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::ClusterName;
use crate::store::capabilities::*;
use crate::store::{Actor, IngestOutcome};

impl Service {
    /// May `who` send pod or node lists for `cluster`? Answers whether the cluster exists.
    #[tracing::instrument(skip(self, who))]
    pub async fn may_upload_to(&self, who: Option<&Principal>, cluster: &ClusterName) -> Result<bool> {
        let p = require(who, Action::SendData, None)?;
        let server = self.store.cluster_server(cluster.as_str()).await?;
        if let Some(b) = &p.bindings {
            if !b.clusters.iter().any(|c| c == cluster.as_str()) {
                return Err(not_bound("cluster", cluster.as_str()));
            }
            if server.clone().flatten().is_some() {
                return Err(Error::Forbidden(format!(
                    "cluster {cluster:?} is collected from its API server: the collector owns its state, uploads by ingest tokens are refused"
                )));
            }
        }
        Ok(server.is_some())
    }

    /// Stores a pod list (its scope decides what ended); answers (pods, containers, ended, the
    /// cluster existed before).
    #[tracing::instrument(skip(self, who, upload))]
    pub async fn upload_pods(
        &self,
        who: Option<&Principal>,
        cluster: &ClusterName,
        upload: &crate::k8s::PodsUpload,
    ) -> Result<(usize, usize, u64, bool)> {
        let existed = self.may_upload_to(who, cluster).await?;
        let actor = actor(who);
        let (pods, containers, ended) = self.store.store_pods(cluster, upload, &actor, self.clock.now()).await?;
        Ok((pods, containers, ended, existed))
    }

    /// Stores a node list; answers the number of nodes.
    #[tracing::instrument(skip(self, who, nodes))]
    pub async fn upload_nodes(&self, who: Option<&Principal>, cluster: &ClusterName, nodes: &[crate::k8s::NodeRecord]) -> Result<usize> {
        self.may_upload_to(who, cluster).await?;
        Ok(self.store.store_nodes(cluster, nodes, &actor(who), self.clock.now()).await?)
    }

    /// May `who` send audit events of `cluster`? (About the cluster, not its pod state: a
    /// collected cluster may receive them.)
    pub fn may_send_audit<'a>(&self, who: Option<&'a Principal>, cluster: &ClusterName) -> Result<&'a Principal> {
        let p = require(who, Action::SendData, None)?;
        match &p.bindings {
            Some(b) if !b.clusters.iter().any(|c| c == cluster.as_str()) => Err(not_bound("cluster", cluster.as_str())),
            _ => Ok(p),
        }
    }

    /// Records audit events, each once; answers how many were new.
    #[tracing::instrument(skip(self, who, facts))]
    pub async fn record_audit(
        &self,
        who: Option<&Principal>,
        cluster: &ClusterName,
        facts: &[crate::k8s::audit::AuditFact],
    ) -> Result<usize> {
        self.may_send_audit(who, cluster)?;
        Ok(self.store.record_k8s_audit(cluster, facts, &actor(who), self.clock.now()).await?)
    }

    /// May `who` send notifications of `registry`?
    pub fn may_notify<'a>(&self, who: Option<&'a Principal>, registry: &str) -> Result<&'a Principal> {
        let p = require(who, Action::SendData, None)?;
        match &p.bindings {
            Some(b) if !b.registries.iter().any(|r| r == registry) => Err(not_bound("registry", registry)),
            _ => Ok(p),
        }
    }

    /// Records a registry's notified pushes and deletions (each event once) and queues a refresh
    /// of every repository they name; answers how many events were new.
    #[tracing::instrument(skip(self, who, events))]
    pub async fn registry_events(
        &self,
        who: Option<&Principal>,
        registry: &str,
        events: &[crate::domain::registry::RegistryEvent],
    ) -> Result<usize> {
        self.may_notify(who, registry)?;
        let reg = self
            .store
            .registry_by_name(registry)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no registry is named {registry:?}; add it first (POST /api/v1/registries)")))?;
        let (repos, new) = self.store.record_registry_events(reg.id, &reg.name, events, &actor(who), self.clock.now()).await?;
        for r in &repos {
            if let Err(e) = self.jobs.refresh_repository(&reg.name, r).await {
                tracing::warn!(registry = %reg.name, repository = %r, error = %e, "the refresh could not be queued (the schedule will collect it)");
            }
        }
        Ok(new)
    }

    /// Stores a parsed scanner report (its bytes' SHA-256 makes a resend a no-op).
    #[tracing::instrument(skip(self, who, report), fields(artifact = %report.artifact))]
    pub async fn ingest_report(&self, who: Option<&Principal>, report: &crate::ingest::Report, sha256: &str) -> Result<IngestOutcome> {
        require(who, Action::SendData, None)?;
        Ok(self.store.ingest_report(report, sha256, &actor(who), self.clock.now()).await?)
    }
}

/// The actor recorded for `who`'s changes (`token:NAME`, `user:LOGIN`, `cli`).
fn actor(who: Option<&Principal>) -> Actor {
    Actor(who.map(|p| p.actor.clone()).unwrap_or_else(|| "anonymous".into()))
}

fn not_bound(what: &str, name: &str) -> Error {
    Error::Forbidden(format!("this ingest token is not bound to {what} {name:?} (drydock token create --role ingest --{what} {name})"))
}
