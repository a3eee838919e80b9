//! The store's own rows: what its queries answer, as the tables hold it. The application layer
//! (`service/views.rs`) turns them into the pages' and the API's types, deriving what the SQL does
//! not know (promotion, forensics' image history, the unaccounted reasons, the last push of a tag).
//! Value types shared with the pages (severities and their counts, scan and signature states,
//! aliases, repository tags) are used as they are: they carry no presentation.

use super::ImageRow;
use crate::domain::registry::RegistryRow;
use app::types::{FindingCounts, RuleKind, Severity};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// One container of a pod, as it runs or ran, with the row id of the image it resolves to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkloadRecord {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    pub workload: Option<String>,
    pub container: String,
    pub container_kind: String,
    pub image: String,
    pub image_id: String,
    pub digest: Option<String>,
    pub image_digest: Option<String>,
    pub team: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub node: Option<String>,
    pub run_as_user: Option<i64>,
    pub image_user: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub image_row: Option<i64>,
}

/// The live containers of one place (cluster, namespace, workload, image reference, digest) that
/// resolve to one image row, counted: what the unaccounted images are judged by.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunningPlace {
    pub cluster: String,
    pub namespace: String,
    pub workload: Option<String>,
    pub image: String,
    pub digest: Option<String>,
    pub image_row: Option<i64>,
    /// The smallest of the containers' image IDs and owning teams.
    pub image_id: String,
    pub team: Option<String>,
    pub containers: i64,
}

/// Live containers, by place, with what decides whether each image is accounted for: whether a
/// configured registry holds its image row, and when that row was last scanned.
#[derive(Debug, Clone, Default)]
pub struct RunningFacts {
    pub runs: Vec<RunningPlace>,
    pub in_registry: HashSet<i64>,
    pub last_scanned: HashMap<i64, Option<DateTime<Utc>>>,
}

/// Containers of one workload and state running an image.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunsInRecord {
    pub cluster: String,
    pub namespace: String,
    pub workload: Option<String>,
    pub container: String,
    pub state: String,
    pub pods: i64,
}

/// One audited Kubernetes request about a pod or object (`source_ips` as the JSON array stored).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessRecord {
    pub happened_at: DateTime<Utc>,
    pub cluster: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub verb: String,
    pub subresource: Option<String>,
    pub username: Option<String>,
    pub source_ips: String,
    pub code: Option<i64>,
}

/// A ledger entry's headline.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LedgerHeadline {
    pub ledger_index: i64,
    pub time: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub subject: String,
}

/// A registry notification as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegistryEventRecord {
    pub action: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub actor: Option<String>,
    pub source_addr: Option<String>,
    pub happened_at: DateTime<Utc>,
}

/// One stored scanner report on an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRecord {
    pub id: i64,
    pub scanner: String,
    pub artifact: String,
    pub report_sha256: String,
    pub scanned_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub findings: FindingCounts,
    pub future_dated: bool,
}

/// A finding of an image with its vulnerability's title and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecord {
    pub vulnerability: String,
    pub package: String,
    pub installed: String,
    pub fixed: Option<String>,
    pub severity: Severity,
    pub package_path: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub scanner: String,
    pub first_seen: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// An installed package of an image.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackageRecord {
    pub pkg_type: String,
    pub name: String,
    pub version: String,
    pub path: String,
}

/// An image with its scans and where it runs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    pub image: ImageRow,
    pub scans: Vec<ScanRecord>,
    pub runs_in: Vec<RunsInRecord>,
}

/// An image with its findings (open ones first, worst first) and packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageContents {
    pub image: ImageRecord,
    pub findings: Vec<FindingRecord>,
    pub packages: Vec<PackageRecord>,
    pub secrets: Vec<SecretRecord>,
}

/// A secret found in an image (never its text), with the image's digest and team.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SecretRecord {
    pub digest: String,
    pub team: Option<String>,
    pub target: String,
    pub rule_id: String,
    pub category: String,
    pub severity: String,
    pub title: String,
    pub start_line: Option<i64>,
    pub end_line: Option<i64>,
    pub layer_diff_id: Option<String>,
    pub reported_at: DateTime<Utc>,
}

/// Everything recorded about one image: pushes, runs, access to the pods that ran it, ledger
/// entries naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageHistory {
    pub image: ImageRow,
    pub pushes: Vec<RegistryEventRecord>,
    pub runs: Vec<WorkloadRecord>,
    pub access: Vec<AccessRecord>,
    pub ledger: Vec<LedgerHeadline>,
}

/// A workload's containers over time (oldest first) and the audited access to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadHistory {
    pub runs: Vec<WorkloadRecord>,
    pub access: Vec<AccessRecord>,
}

/// A repository, its tags with their images, and its notified events (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryRecord {
    /// `registry-host/name`.
    pub repository: String,
    /// The configured registry it was collected from.
    pub registry: Option<String>,
    pub tags: Vec<TagRecord>,
    pub events: Vec<RegistryEventRecord>,
}

/// A tag and the image it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRecord {
    pub tag: String,
    pub image: ImageRow,
    pub updated_at: DateTime<Utc>,
}

/// A repository of a configured registry with its counts and its latest push.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepositoryCounts {
    pub registry_id: i64,
    pub registry: String,
    pub name: String,
    pub tags: i64,
    pub images: i64,
    pub collected_at: Option<DateTime<Utc>>,
    pub last_push: Option<DateTime<Utc>>,
    pub last_push_by: Option<String>,
}

/// Configured registries and their repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRecords {
    pub registries: Vec<RegistryRow>,
    pub repositories: Vec<RepositoryCounts>,
}

/// A cluster with its live counts and collection status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClusterRecord {
    pub id: i64,
    pub name: String,
    pub server: Option<String>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_upload: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub pods: i64,
    pub containers: i64,
    pub last_attempt: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
}

/// A node's versions, with its cluster's id.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NodeVersions {
    pub cluster_id: i64,
    pub name: String,
    pub kubelet_version: Option<String>,
    pub container_runtime: Option<String>,
    pub kernel: Option<String>,
    pub os_image: Option<String>,
    pub architecture: Option<String>,
    pub last_seen: DateTime<Utc>,
}

/// Clusters and every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRecords {
    pub clusters: Vec<ClusterRecord>,
    pub nodes: Vec<NodeVersions>,
}

/// A team with its image count and open findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamTotals {
    pub name: String,
    pub display_name: String,
    pub images: i64,
    pub findings: FindingCounts,
}

/// The estate's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstateTotals {
    pub images: i64,
    pub unowned_images: i64,
    pub unmatched_reports: i64,
    pub scans: i64,
    pub unowned_findings: FindingCounts,
    pub teams: Vec<TeamTotals>,
}

/// A team and its images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamImages {
    pub team: TeamTotals,
    /// One page of the team's images, worst first.
    pub images: Vec<ImageRow>,
    /// All of the team's images (the pages together).
    pub total: i64,
}

/// An API token as stored (the secret's hash left out; bindings one per line).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub team: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub clusters: String,
    pub registries: String,
}

impl TokenRecord {
    /// Ingest tokens: the clusters they may post for.
    pub fn cluster_list(&self) -> Vec<String> {
        split_lines(&self.clusters)
    }
    /// Ingest tokens: the registries they may post for.
    pub fn registry_list(&self) -> Vec<String> {
        split_lines(&self.registries)
    }
}

/// A newline-separated list column as its items.
pub(crate) fn split_lines(s: &str) -> Vec<String> {
    s.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// A person who signed in, with their live sessions.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    pub subject: String,
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub sessions: i64,
}

/// An ownership rule with how many subjects it decides now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    pub id: i64,
    pub kind: RuleKind,
    pub pattern: String,
    pub team: String,
    pub subjects: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// What an estate search asks of the open findings: one vulnerability, or one package (by its
/// coordinates), its installed versions limited to `versions` when a range was asked.
pub enum SearchFilter {
    Vulnerability(String),
    Package { coordinates: crate::domain::purl::PackageCoordinates, versions: Option<Vec<String>> },
}

/// An image a search matches: its primary digest, owner, and open matching findings (every
/// path counted).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchImageRecord {
    pub image_row: i64,
    pub digest: String,
    pub team: Option<String>,
    pub instances: i64,
}

/// Every image a search matches, and the distinct vulnerabilities their matches name.
#[derive(Debug, Clone, Default)]
pub struct SearchImages {
    pub images: Vec<SearchImageRecord>,
    pub unique_vulnerabilities: i64,
}

/// One open finding the estate search matched, with its image and whether the CVE is in the
/// uploaded KEV catalogue.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SearchMatchRecord {
    pub image_row: i64,
    /// The image's primary digest.
    pub digest: String,
    pub team: Option<String>,
    pub vulnerability: String,
    pub purl_type: String,
    pub purl_namespace: String,
    pub purl_name: String,
    pub installed: String,
    pub fixed: Option<String>,
    pub epss: Option<f64>,
    pub kev: bool,
    #[sqlx(try_from = "String")]
    pub severity: app::types::Severity,
    /// When Drydock first received a report listing it.
    pub first_seen: DateTime<Utc>,
}

/// Open findings a campaign's selector matches, summed per image, installed version, severity and
/// whether the vulnerability is known-exploited: what an item's deadline derives from (the
/// version is kept for a package range, which is decided outside SQL).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AffectedRecord {
    pub image_row: i64,
    /// The image's primary digest.
    pub digest: String,
    pub team: Option<String>,
    pub installed: String,
    #[sqlx(try_from = "String")]
    pub severity: app::types::Severity,
    pub kev: bool,
    /// The highest EPSS among them.
    pub epss: Option<f64>,
    /// The earliest first sighting among them.
    pub first_seen: DateTime<Utc>,
}

/// What the search tells about matched images: their repositories and live containers.
#[derive(Debug, Clone, Default)]
pub struct MatchedImages {
    /// Image row → `registry-host/name` of each repository holding it.
    pub repositories: HashMap<i64, Vec<String>>,
    /// Live containers running a matched image (an index counts through its platforms), each
    /// with the matched image row it runs.
    pub running: Vec<(i64, WorkloadRecord)>,
}

/// A stored KEV upload.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KevUploadRecord {
    pub version: String,
    pub released: DateTime<Utc>,
    pub entries: i64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
}

/// The ledger as one snapshot read it, a batch at a time: the log's size, every checkpoint (size,
/// note), how many events are outside the log (no index, or a negative one) and beyond its size,
/// and the entries `0..size` in order.
#[derive(Debug)]
pub struct LedgerStream {
    pub size: i64,
    pub checkpoints: Vec<(i64, String)>,
    pub outside: i64,
    pub beyond: i64,
    pub batches: tokio::sync::mpsc::Receiver<std::result::Result<Vec<super::StoredEntry>, super::StoreError>>,
}

/// The ledger as one snapshot read it: the log's size, every stored entry, every checkpoint
/// (size, note).
#[derive(Debug, Clone)]
pub struct LedgerSnapshot {
    pub size: i64,
    pub entries: Vec<super::StoredEntry>,
    pub checkpoints: Vec<(i64, String)>,
}
