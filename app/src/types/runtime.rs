//! What runs: containers, clusters and nodes, unaccounted images.

use super::*;

/// One container as it runs (or ran) in a cluster (`GET /api/v1/workloads`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkloadRow {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    /// `Kind/name` of the owning workload (Deployment, StatefulSet, DaemonSet, CronJob, Job, Pod).
    pub workload: Option<String>,
    pub container: String,
    /// `container`, `init` or `ephemeral`.
    pub container_kind: String,
    /// The image reference as the pod spec names it.
    pub image: String,
    /// The runtime's `imageID`, raw.
    pub image_id: String,
    /// The digest in `image_id`, or null.
    pub digest: Option<String>,
    /// The digest of the image it resolves to (an index resolved to the node's platform), or null.
    pub image_digest: Option<String>,
    pub team: Option<String>,
    /// `running`, `waiting`, `terminated` or `unknown`.
    pub state: String,
    pub reason: Option<String>,
    pub node: Option<String>,
    /// The runtime uid (`status.user.linux.uid`, else the security context's `runAsUser`).
    pub run_as_user: Option<i64>,
    /// The image config's `User`, which applies when neither says (empty: root).
    pub image_user: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When the pod was no longer listed (null while it runs).
    pub ended_at: Option<DateTime<Utc>>,
}

/// A running image Drydock cannot account for (`GET /api/v1/unaccounted`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UnaccountedEntry {
    /// The digest it runs by, or null (then `image_id` is the raw runtime value).
    pub digest: Option<String>,
    pub image_id: String,
    pub image: String,
    /// `not_in_registry`, `unapproved_registry`, `never_scanned`, `stale_scan`.
    pub reasons: Vec<String>,
    pub cluster: String,
    pub namespace: String,
    pub workload: Option<String>,
    pub team: Option<String>,
    /// Containers (pods × containers) running it there.
    pub containers: i64,
}

/// A cluster with its nodes (the Clusters page, `GET /api/v1/clusters`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterOverview {
    pub name: String,
    /// The API server, or null for a cluster that only receives uploads.
    pub server: Option<String>,
    pub upload_only: bool,
    pub last_attempt: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_upload: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub pods: i64,
    pub containers: i64,
    pub nodes: Vec<NodeRow>,
}

/// A node's versions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeRow {
    pub name: String,
    pub kubelet_version: Option<String>,
    pub container_runtime: Option<String>,
    pub kernel: Option<String>,
    pub os_image: Option<String>,
    pub architecture: Option<String>,
    pub last_seen: DateTime<Utc>,
}

/// Where an image runs (image page, `GET /api/v1/images/{digest}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunsIn {
    pub cluster: String,
    pub namespace: String,
    pub workload: Option<String>,
    pub container: String,
    pub state: String,
    pub pods: i64,
}

/// The Workloads page's filter (empty strings mean no filter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkloadQuery {
    pub cluster: String,
    pub namespace: String,
    pub team: String,
    pub state: String,
    pub limit: i64,
    pub offset: i64,
}

/// A background job and its state (the admin Jobs page).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobStatus {
    /// `registry.collect`, `cluster.collect`, `registry.refresh`, `ledger.verify`, …
    pub kind: String,
    /// What it is for (a registry, a cluster, `registry/repository`), empty for estate-wide jobs.
    pub key: String,
    pub next_run: DateTime<Utc>,
    /// Periodic jobs: the period; one-off jobs: none.
    pub every_seconds: Option<i64>,
    /// Failed runs in a row (the back-off grows with it).
    pub failures: i64,
    /// The worker running it now.
    pub running_by: Option<String>,
    pub last_started: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// One run of a job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobRun {
    pub kind: String,
    pub key: String,
    pub worker: String,
    pub due_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `ok`, `failed` or `abandoned` (its worker died; another took the job over).
    pub outcome: String,
    pub error: Option<String>,
}

/// The Jobs page: every job, and the most recent runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobsView {
    pub jobs: Vec<JobStatus>,
    pub runs: Vec<JobRun>,
}
