//! Compliance: the estate search and the KEV catalogue.

use super::*;

/// The estate search's question (the Search page's form; `GET /api/v1/search` query).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchQuery {
    /// A vulnerability id (`CVE-2022-22965`, `GHSA-…`).
    #[serde(default)]
    pub cve: Option<String>,
    /// A package URL without version (`pkg:deb/debian/openssl`); qualifiers are ignored.
    #[serde(default)]
    pub package: Option<String>,
    /// A version range in the purl `vers` syntax (`vers:deb/<1.1.1n-0+deb11u4`); with `package`.
    #[serde(default)]
    pub range: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

/// The estate search's answer (`GET /api/v1/search`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchResult {
    /// Affected images the caller may see, most matches first.
    pub items: Vec<SearchItem>,
    /// How many affected images the caller may see.
    pub total: i64,
    /// Distinct vulnerabilities matched, estate-wide.
    pub unique_vulnerabilities: i64,
    /// Matching findings (image × vulnerability × package version × path), estate-wide.
    pub instances: i64,
    /// Affected images running somewhere now, estate-wide.
    pub running_images: i64,
    /// Affected images that run nowhere (only in a registry or a report), estate-wide.
    pub registry_only_images: i64,
}

/// One affected image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchItem {
    /// The image's primary digest (`digest` in `/api/v1/images`).
    pub image: String,
    pub team: Option<String>,
    /// `registry-host/name` of each repository holding it.
    pub repositories: Vec<String>,
    pub matches: Vec<SearchMatch>,
    /// Where it runs now (workloads the caller may see).
    pub running: Vec<RunningWorkload>,
}

/// One matching finding, once however many places in the image hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchMatch {
    pub vulnerability: String,
    /// The package URL without version (`pkg:deb/debian/openssl`).
    pub package: String,
    pub installed: String,
    pub fixed: Option<String>,
    /// The vulnerability is in the uploaded CISA KEV catalogue.
    pub kev: bool,
    /// EPSS probability (0..1), null when unknown.
    pub epss: Option<f64>,
    /// The finding's severity (the worst among the scanners listing it).
    pub severity: Severity,
    /// How many places in the image (package paths: a library bundled by several applications)
    /// hold this package at this version; 1 or more. The answer's `instances` counts each place.
    pub locations: i64,
}

/// A workload running an affected image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunningWorkload {
    pub cluster: String,
    pub namespace: String,
    /// `Kind/name`, or the pod's name for a bare pod.
    pub workload: String,
    /// Containers running it there.
    pub containers: i64,
}

/// The KEV catalogue as last uploaded (`POST /api/v1/kev`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KevCatalogInfo {
    /// CISA's `catalogVersion`.
    pub version: String,
    pub released: DateTime<Utc>,
    pub entries: i64,
    /// SHA-256 of the uploaded body.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
}

/// A policy as configured, with how many subjects it judges and fails now (`GET /api/v1/policies`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyView {
    /// `vulnerability-sla`, `approved-registry`, `approved-base-image`, `signed`,
    /// `promoted-before-production`, `non-root`, `denylisted-packages`, `os-end-of-life`,
    /// `node-versions`, `scan-freshness`.
    pub id: String,
    pub title: String,
    /// `image`, `container` or `node`.
    pub subject: String,
    pub enabled: bool,
    /// `all`, `team:NAME`, `namespace:NAME` or `environment:NAME`.
    pub scope: String,
    /// The policy's parameters (null for one without any).
    pub params: serde_json::Value,
    /// Subjects judged and failing at the last evaluation.
    pub subjects: i64,
    pub failing: i64,
    /// Who saved it last (null: the defaults apply).
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
}

/// One policy to save (`PUT /api/v1/policies` takes a list; policies not named keep their settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyInput {
    pub id: String,
    pub enabled: bool,
    #[serde(default = "all_scope")]
    pub scope: String,
    /// Null or absent: the defaults.
    #[serde(default)]
    pub params: serde_json::Value,
}

fn all_scope() -> String {
    "all".into()
}

/// A team's score for one policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyScore {
    pub policy: String,
    pub title: String,
    pub subjects: i64,
    pub failing: i64,
    /// Passing share, 0–100.
    pub score: f64,
    pub grade: String,
}

/// A team in the managers' ranking (`GET /api/v1/scorecards`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamScoreRow {
    /// Null: subjects of no team.
    pub team: Option<String>,
    /// The mean of its policy scores (null when nothing of it is judged).
    pub score: Option<f64>,
    pub grade: Option<String>,
    pub subjects: i64,
    pub failing: i64,
    /// The score seven days ago (from the snapshots), when there is one.
    pub score_last_week: Option<f64>,
}

/// The managers' overview: every team ranked, worst first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Scorecards {
    pub teams: Vec<TeamScoreRow>,
    /// When the policies last judged the estate (null: never yet).
    pub evaluated_at: Option<DateTime<Utc>>,
    /// How scores and grades are computed.
    pub formula: String,
}

/// A failing subject with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FailingSubject {
    pub policy: String,
    /// `image`, `container` or `node`.
    pub subject_kind: String,
    /// An image's digest; `cluster/namespace/pod/container`; `cluster/node`.
    pub subject: String,
    pub environment: Option<String>,
    pub reason: String,
    pub failing_since: Option<DateTime<Utc>>,
}

/// One subject's result for one policy (`GET /api/v1/policy-results`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyResultRow {
    pub policy: String,
    /// `image`, `container` or `node`.
    pub subject_kind: String,
    /// An image's digest; `cluster/namespace/pod/container`; `cluster/node`.
    pub subject: String,
    pub team: Option<String>,
    pub environment: Option<String>,
    pub passed: bool,
    pub reason: String,
    pub failing_since: Option<DateTime<Utc>>,
}

/// A day of a team's trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    pub day: chrono::NaiveDate,
    pub score: f64,
}

/// A team's scorecard (`GET /api/v1/teams/{team}/scorecard`): the numbers its page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamScorecard {
    pub team: String,
    pub score: Option<f64>,
    pub grade: Option<String>,
    pub policies: Vec<PolicyScore>,
    /// Failing subjects (at most 500), the longest failing first.
    pub failing: Vec<FailingSubject>,
    /// How many subjects fail (of the policy asked for, on the page), however many are listed.
    pub failing_total: i64,
    /// The daily overall score, oldest first (the last 90 days).
    pub trend: Vec<TrendPoint>,
    pub evaluated_at: Option<DateTime<Utc>>,
    pub formula: String,
}

/// An environment rule: (cluster, namespace pattern) → environment (`GET /api/v1/environment-rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentRuleView {
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

/// A new environment rule (`POST /api/v1/environment-rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewEnvironmentRule {
    pub cluster: String,
    pub namespace: String,
    pub environment: String,
    #[serde(default)]
    pub production: bool,
    #[serde(default)]
    pub internet_facing: bool,
}

/// The Policies page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoliciesPage {
    pub policies: Vec<PolicyView>,
    pub environments: Vec<EnvironmentRuleView>,
    /// The viewer may edit policies (security, admin) / environment rules (admin).
    pub may_edit: bool,
    pub may_edit_environments: bool,
}

/// Failing subjects on one page of a team's scorecard.
pub const FAILING_PAGE: i64 = 50;

/// A team's scorecard page: the API's numbers and the trend chart (SVG drawn on the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorecardPage {
    pub card: TeamScorecard,
    pub trend_svg: Option<String>,
}

/// One vulnerability ranked by exposure ("fix these first").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RiskItem {
    pub vulnerability: String,
    /// See `formula`.
    pub score: f64,
    /// The worst severity of its open findings.
    pub severity: String,
    pub kev: bool,
    pub epss: Option<f64>,
    /// Affected images.
    pub images: i64,
    /// Running containers of affected images.
    pub instances: i64,
    /// Running containers by environment (`none`: no environment rule matches), and
    /// `registry-only`: affected images running nowhere.
    pub environments: std::collections::BTreeMap<String, i64>,
    /// Teams owning affected images.
    pub teams: Vec<String>,
}

/// `GET /api/v1/risk`: vulnerabilities by score, highest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RiskList {
    pub items: Vec<RiskItem>,
    /// How many ranked vulnerabilities the scope holds (the estate keeps its top 5,000, a team its top 200).
    pub total: i64,
    /// The team asked for, or the caller's teams for a team-scoped role (empty: the estate).
    pub teams: Vec<String>,
    /// When the ranking was made (null: not yet).
    pub ranked_at: Option<DateTime<Utc>>,
    pub formula: String,
}
