//! The rows of policy evaluation as the store reads and writes them (`backend/policy.rs`): saved
//! policies and environment rules, what an evaluation reads, its results, scores and snapshots.

use super::{ImageRow, NodeVersions};
use chrono::{DateTime, Utc};

/// A policy's stored settings (`params` as JSON text).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRecord {
    pub id: String,
    pub enabled: bool,
    pub scope: String,
    pub params: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// An environment rule: (cluster, namespace pattern) → environment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EnvironmentRule {
    pub id: i64,
    /// A cluster name, or `*` for every cluster.
    pub cluster: String,
    /// A namespace, or a pattern with `*` (`prod-*`).
    pub namespace: String,
    pub environment: String,
    pub production: bool,
    pub internet_facing: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// An image with what the policies read beyond the image list's row.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyImage {
    pub id: i64,
    pub row: ImageRow,
    pub eosl: Option<bool>,
    pub diff_ids: Vec<String>,
}

/// An open finding as the SLA reads it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OpenVulnRecord {
    pub image_id: i64,
    pub vulnerability: String,
    pub package: String,
    pub installed: String,
    #[sqlx(try_from = "String")]
    pub severity: app::types::Severity,
    pub fixed: Option<String>,
    pub epss: Option<f64>,
    pub kev: bool,
    pub first_seen: DateTime<Utc>,
}

/// An installed package of an image.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackageFact {
    pub image_id: i64,
    pub pkg_type: String,
    pub name: String,
    pub version: String,
    pub purl: Option<String>,
    pub os_family: Option<String>,
}

/// The open findings an evaluation reads: only those that may be past their SLA deadline. A
/// finding of a listed severity may be when first seen before that severity's cutoff, or before
/// `kev_before` when known exploited, or before `epss_before`'s cutoff when its EPSS is at or above
/// that threshold (and it has a fix, when only fixable ones count). Severities not listed have no
/// deadline and are not read.
#[derive(Debug, Clone, Default)]
pub struct OverdueCutoffs {
    pub before: Vec<(app::types::Severity, DateTime<Utc>)>,
    pub kev_before: Option<DateTime<Utc>>,
    pub epss_before: Option<(f64, DateTime<Utc>)>,
    pub only_fixable: bool,
}

/// Which packages an evaluation reads with the images' findings.
#[derive(Debug, Clone, PartialEq)]
pub enum PackagesWanted {
    /// None (no denylist in force).
    None,
    /// Every package.
    All,
    /// Those whose lower-cased name or package URL matches one of these `LIKE` patterns (see
    /// `PackageCoordinates::name_like_pattern`), and every package URL with a percent escape.
    Matching(Vec<String>),
}

/// The open findings and packages of some images (an evaluation reads them a chunk at a time).
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    pub vulns: Vec<OpenVulnRecord>,
    pub packages: Vec<PackageFact>,
}

/// What one evaluation reads besides the images' findings and packages, in a fixed number of
/// queries.
#[derive(Debug, Clone, Default)]
pub struct EvaluationInputs {
    pub images: Vec<PolicyImage>,
    /// Live containers.
    pub runs: Vec<RunFact>,
    /// Nodes, with their cluster's name.
    pub nodes: Vec<(String, NodeVersions)>,
    pub environments: Vec<EnvironmentRule>,
}

/// What the evaluation knows of a live container (the columns of `WorkloadRecord` it judges by).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunFact {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// The image reference as the pod spec names it.
    pub image: String,
    pub team: Option<String>,
    pub run_as_user: Option<i64>,
    pub image_user: Option<String>,
    pub image_row: Option<i64>,
}

/// One subject's result for one policy.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyResultRecord {
    pub policy: String,
    pub subject_kind: String,
    pub subject: String,
    pub team: Option<String>,
    pub environment: Option<String>,
    pub passed: bool,
    pub reason: String,
    /// When it started failing (none when it passes). An evaluation's failing result may leave
    /// it out when its rule cannot tell: storing it keeps the stored start, or starts it then.
    pub failing_since: Option<DateTime<Utc>>,
}

/// Per team ('' for none) and policy: subjects judged and failing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyScoreRecord {
    pub team: String,
    pub policy: String,
    pub subjects: i64,
    pub failing: i64,
    pub evaluated_at: DateTime<Utc>,
}

/// A day's snapshot row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SnapshotRecord {
    pub day: chrono::NaiveDate,
    pub team: String,
    pub policy: String,
    pub subjects: i64,
    pub failing: i64,
}
