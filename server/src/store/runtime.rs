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

store_capability! {
    /// Clusters, nodes, pods and the workloads running (`backend/clusters.rs`, `backend/workloads.rs`).
    pub trait RuntimeStore {
        /// Stores a pod upload (creating an upload-only cluster for a new name); (pods, containers, ended).
        fn cluster_server(&self, name: &str) -> Result<Option<Option<String>>>;
        fn store_pods(&self, cluster: &crate::domain::ClusterName, upload: &crate::k8s::PodsUpload, actor: &Actor, now: DateTime<Utc>) -> Result<(usize, usize, u64)>;
        /// Stores a node list.
        fn store_nodes(&self, cluster: &crate::domain::ClusterName, nodes: &[crate::k8s::NodeRecord], actor: &Actor, now: DateTime<Utc>) -> Result<usize>;
        /// A page of containers.
        fn workloads(&self, f: &WorkloadFilter, limit: i64, offset: i64) -> Result<Page<WorkloadRecord>>;
        /// Live containers (of `visible_teams` and unowned ones when given) with, per image, whether a
        /// configured registry holds it and when it was last scanned.
        fn running_facts(&self, visible_teams: Option<&[String]>) -> Result<RunningFacts>;
        /// Records Kubernetes audit events (facts only), each once; returns how many were new.
        fn record_k8s_audit(&self, cluster: &crate::domain::ClusterName, facts: &[crate::k8s::audit::AuditFact], actor: &Actor, now: DateTime<Utc>) -> Result<usize>;
        /// Configures a cluster's API server.
        fn add_cluster(&self, new: &crate::domain::cluster::NewCluster, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// Clusters with an API server.
        fn collectable_clusters(&self) -> Result<Vec<crate::domain::cluster::ClusterRow>>;
        /// The cluster's CA bundle.
        fn cluster_ca(&self, id: i64) -> Result<Option<String>>;
        /// Records a cluster collection's outcome.
        fn record_cluster_run(&self, id: i64, outcome: std::result::Result<(), String>, now: DateTime<Utc>) -> Result<()>;
        /// Clusters with nodes and counts.
        fn clusters(&self) -> Result<ClusterRecords>;
    }
}
