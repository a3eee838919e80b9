//! What runs: clusters, pods, nodes, workloads (`backend/clusters.rs`, `backend/workloads.rs`).

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use super::{backend_postgres, backend_sqlite};
#[allow(unused_imports)]
use chrono::{DateTime, Utc};

/// Filters for the workloads list.
#[derive(Debug, Clone, Default)]
pub struct WorkloadFilter {
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    pub team: Option<String>,
    pub state: Option<String>,
    /// `Kind/name` of one workload.
    pub workload: Option<String>,
    /// Include containers of ended pods.
    pub ended: bool,
    /// Limit to these teams' containers and unowned ones (developers, managers).
    pub visible_teams: Option<Vec<String>>,
}

/// What runs (`backend/clusters.rs`).
impl Store {
    /// Stores a pod upload (creating an upload-only cluster for a new name); (pods, containers, ended).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cluster_server(&self, name: &str) -> Result<Option<Option<String>>> {
        dispatch!(self, cluster_server(name))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_pods(
        &self,
        cluster: &str,
        upload: &crate::k8s::PodsUpload,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize, u64)> {
        dispatch!(self, store_pods(cluster, upload, actor, now))
    }

    /// Stores a node list.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_nodes(&self, cluster: &str, nodes: &[crate::k8s::NodeRecord], actor: &Actor, now: DateTime<Utc>) -> Result<usize> {
        dispatch!(self, store_nodes(cluster, nodes, actor, now))
    }

    /// A page of containers.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn workloads(&self, f: &WorkloadFilter, limit: i64, offset: i64) -> Result<Page<WorkloadRecord>> {
        dispatch!(self, workloads(f, limit, offset))
    }

    /// Live containers (of `visible_teams` and unowned ones when given) with, per image, whether a
    /// configured registry holds it and when it was last scanned.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn running_facts(&self, visible_teams: Option<&[String]>) -> Result<RunningFacts> {
        dispatch!(self, running_facts(visible_teams))
    }

    /// Records Kubernetes audit events (facts only), each once; returns how many were new.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_k8s_audit(
        &self,
        cluster: &str,
        facts: &[crate::k8s::audit::AuditFact],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        dispatch!(self, record_k8s_audit(cluster, facts, actor, now))
    }

    /// Configures a cluster's API server.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_cluster(&self, new: &crate::domain::cluster::NewCluster, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, add_cluster(new, actor, now))
    }

    /// Clusters with an API server.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn collectable_clusters(&self) -> Result<Vec<crate::domain::cluster::ClusterRow>> {
        dispatch!(self, collectable_clusters())
    }

    /// The cluster's CA bundle.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cluster_ca(&self, id: i64) -> Result<Option<String>> {
        dispatch!(self, cluster_ca(id))
    }

    /// Records a cluster collection's outcome.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_cluster_run(&self, id: i64, outcome: std::result::Result<(), String>, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, record_cluster_run(id, outcome, now))
    }

    /// Clusters with nodes and counts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn clusters(&self) -> Result<ClusterRecords> {
        dispatch!(self, clusters())
    }
}
