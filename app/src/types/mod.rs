//! Types shared by the server and the browser: what the pages and the JSON API carry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A finding's severity, normalised across scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Negligible,
    Unknown,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 6] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Negligible, Severity::Unknown];

    /// The lowercase name used in the API, the database and CSS classes.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Negligible => "negligible",
            Severity::Unknown => "unknown",
        }
    }

    /// Sort rank: 0 is the worst.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// Reads a scanner's severity word; anything unrecognised (or absent) is `Unknown`.
    pub fn from_scanner(s: Option<&str>) -> Severity {
        s.and_then(|s| s.parse().ok()).unwrap_or(Severity::Unknown)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" => Ok(Severity::High),
            "medium" | "moderate" => Ok(Severity::Medium),
            "low" => Ok(Severity::Low),
            "negligible" => Ok(Severity::Negligible),
            "unknown" | "none" | "" => Ok(Severity::Unknown),
            other => Err(format!("unknown severity {other:?}")),
        }
    }
}

/// Open findings counted per severity bucket (the API's `findings` object).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FindingCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub negligible: i64,
    pub unknown: i64,
}

impl FindingCounts {
    /// Adds `n` findings of severity `s`.
    pub fn add(&mut self, s: Severity, n: i64) {
        *self.bucket_mut(s) += n;
    }

    /// The count of one severity.
    pub fn get(&self, s: Severity) -> i64 {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Negligible => self.negligible,
            Severity::Unknown => self.unknown,
        }
    }

    fn bucket_mut(&mut self, s: Severity) -> &mut i64 {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Negligible => &mut self.negligible,
            Severity::Unknown => &mut self.unknown,
        }
    }

    /// All findings.
    pub fn total(&self) -> i64 {
        Severity::ALL.iter().map(|s| self.get(*s)).sum()
    }

    /// Sums two count sets.
    pub fn merged(mut self, other: &FindingCounts) -> FindingCounts {
        for s in Severity::ALL {
            self.add(s, other.get(s));
        }
        self
    }

    /// A key that orders "worst first": more criticals, then more highs, ...
    pub fn worst_first_key(&self) -> [i64; 6] {
        Severity::ALL.map(|s| -self.get(s))
    }
}

/// How a digest relates to its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AliasKind {
    /// A manifest digest as pushed to a repository (`RepoDigests`).
    Repo,
    /// A platform manifest digest inside an index.
    Platform,
    /// An index / manifest list digest.
    Index,
    /// The image configuration digest (`ImageID`).
    Config,
}

impl AliasKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AliasKind::Repo => "repo",
            AliasKind::Platform => "platform",
            AliasKind::Index => "index",
            AliasKind::Config => "config",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<AliasKind> {
        Some(match s {
            "repo" => AliasKind::Repo,
            "platform" => AliasKind::Platform,
            "index" => AliasKind::Index,
            "config" => AliasKind::Config,
            _ => return None,
        })
    }
}

/// One digest of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Alias {
    pub digest: String,
    pub kind: AliasKind,
}

/// A repository an image is in, with the tags that point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RepositoryTags {
    /// `registry/name`, e.g. `docker.io/bkimminich/juice-shop`.
    pub repository: String,
    pub tags: Vec<String>,
}

/// An image as listed by `GET /api/v1/images`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageSummary {
    /// The image's primary digest: its manifest digest when known, else its config digest.
    pub digest: String,
    pub aliases: Vec<Alias>,
    pub repositories: Vec<RepositoryTags>,
    /// Owning team, `None` when no ownership rule matches ("unowned").
    pub team: Option<String>,
    /// Open findings by severity.
    pub findings: FindingCounts,
    /// Operating system as the scanner saw it, e.g. "alpine 3.11.5".
    pub os: Option<String>,
    pub first_seen: DateTime<Utc>,
    /// When a scanner with vulnerability data last looked at it.
    pub last_scanned: Option<DateTime<Utc>>,
    /// Not scanned, scanned, or SBOM only: "no findings" never stands in for "not scanned".
    pub scan_state: ScanState,
    /// Each scanner that reported on the image, with its latest report.
    pub scanners: Vec<ScannerSeen>,
    /// True for an index / manifest list (its platform manifests are in `platforms`).
    pub is_index: bool,
    /// `os/architecture[/variant]` from the image config (None for an index or when unknown).
    pub platform: Option<String>,
    /// An index's platform manifests.
    pub platforms: Vec<PlatformManifest>,
    pub media_type: Option<String>,
    /// The config's labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// The promotion state in force (by label or by repository placement).
    pub promotion: Promotion,
    /// none / present / verified (a trusted key verified a signature naming this digest).
    pub signed: SignatureState,
    /// Which key verified it, or why a present signature did not verify.
    pub signature_detail: Option<String>,
    /// The config's user (None when the collector has not read the config).
    pub user: Option<String>,
    /// `org.opencontainers.image.base.name` / `.digest`.
    pub base_name: Option<String>,
    pub base_digest: Option<String>,
}

/// A platform manifest of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlatformManifest {
    pub digest: String,
    pub platform: String,
}

/// Whether an image is promoted, and by which rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Promotion {
    /// `label` or `repository`: the rule in force.
    pub mode: String,
    pub promoted: bool,
    /// The label's value, or the promoted repository the image is in.
    pub value: Option<String>,
}

/// A cosign signature's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignatureState {
    #[default]
    None,
    Present,
    Verified,
}

impl SignatureState {
    pub fn parse(s: &str) -> SignatureState {
        match s {
            "verified" => SignatureState::Verified,
            "present" => SignatureState::Present,
            _ => SignatureState::None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SignatureState::None => "not signed",
            SignatureState::Present => "signature not verified",
            SignatureState::Verified => "signed (verified)",
        }
    }
}

/// Whether Drydock knows an image's vulnerabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScanState {
    /// No report at all.
    NotScanned,
    /// At least one report with vulnerability data.
    Scanned,
    /// Only SBOMs: packages are known, vulnerabilities are not.
    SbomOnly,
}

impl ScanState {
    pub fn label(self) -> &'static str {
        match self {
            ScanState::NotScanned => "not scanned",
            ScanState::Scanned => "scanned",
            ScanState::SbomOnly => "SBOM only",
        }
    }
}

/// One scanner's latest report on an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScannerSeen {
    pub scanner: String,
    /// False for an SBOM without vulnerability data.
    pub vulnerability_data: bool,
    pub last_report: DateTime<Utc>,
}

impl ImageSummary {
    /// "2026-11-27" when scanned, else "SBOM only" or "not scanned".
    pub fn scan_status_text(&self) -> String {
        match (self.scan_state, &self.last_scanned) {
            (ScanState::Scanned, Some(t)) => crate::format::date(t),
            (state, _) => state.label().to_string(),
        }
    }

    /// The most readable name: the first repository and tag, else the short digest.
    pub fn display_name(&self) -> String {
        match self.repositories.first() {
            Some(r) => match r.tags.first() {
                Some(t) => format!("{}:{}", r.repository, t),
                None => r.repository.clone(),
            },
            None => crate::format::short_digest(&self.digest),
        }
    }
}

/// One stored scanner report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScanSummary {
    pub id: i64,
    pub scanner: String,
    pub artifact: String,
    /// The image the report was matched to, `None` when it named no digest.
    pub image: Option<String>,
    /// SHA-256 of the report body as received.
    pub report_sha256: String,
    /// The report's own date (evidence; which report is current is decided by `received_at`).
    pub scanned_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The report claimed a date more than a day after Drydock received it.
    #[serde(default)]
    pub future_dated: bool,
    /// Findings the report itself contained, by severity.
    pub findings: FindingCounts,
}

/// `GET /api/v1/images/{digest}`: the list entry plus the image's scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageDetail<I = ImageSummary> {
    #[serde(flatten)]
    pub summary: I,
    pub scans: Vec<ScanSummary>,
    /// Where it runs now (pods not ended), by cluster, namespace, workload and container.
    pub runs_in: Vec<RunsIn>,
}

/// One current (or resolved) finding on an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FindingRow {
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

/// A team with its estate totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamSummary {
    pub name: String,
    pub display_name: String,
    /// Images (platform manifests; an index is not counted: its platforms are).
    pub images: i64,
    pub findings: FindingCounts,
}

/// The estate overview page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Overview {
    pub images: i64,
    pub unowned_images: i64,
    pub unmatched_reports: i64,
    pub scans: i64,
    pub findings: FindingCounts,
    /// Teams, worst first.
    pub teams: Vec<TeamSummary>,
    /// Findings of images no rule assigns to a team.
    pub unowned_findings: FindingCounts,
}

/// The team page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamView<I = ImageSummary> {
    pub team: TeamSummary,
    /// The team's images, worst first.
    pub images: Vec<I>,
}

/// The image page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageView<I = ImageSummary> {
    pub image: ImageDetail<I>,
    /// Open findings, worst first, then resolved ones.
    pub findings: Vec<FindingRow>,
    /// The package inventory scanners and SBOMs reported.
    pub packages: Vec<PackageRow>,
}

/// A page of a list, as every list endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// How an ownership rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A repository path prefix, matched on whole path segments (owns images).
    RepositoryPrefix,
    /// A Kubernetes namespace (owns what runs in it).
    Namespace,
    /// A pod label `key=value` (owns the pods carrying it).
    Label,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::RepositoryPrefix => "repository_prefix",
            RuleKind::Namespace => "namespace",
            RuleKind::Label => "label",
        }
    }
    pub fn parse(s: &str) -> Option<RuleKind> {
        match s {
            "repository_prefix" => Some(RuleKind::RepositoryPrefix),
            "namespace" => Some(RuleKind::Namespace),
            "label" => Some(RuleKind::Label),
            _ => None,
        }
    }
}

/// An ownership rule: which images belong to which team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OwnershipRule {
    pub id: i64,
    pub kind: RuleKind,
    pub pattern: String,
    pub team: String,
    /// How many images (repository prefix) or live containers (namespace, label) this rule
    /// currently decides the owner of.
    pub images: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// An installed package of an image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PackageRow {
    pub pkg_type: String,
    pub name: String,
    pub version: String,
    pub path: String,
}

mod access;
mod forensics;
mod registry;
mod runtime;

pub use access::*;
pub use forensics::*;
pub use registry::*;
pub use runtime::*;

// The containers of images are generic over the image: the server's store fills them with its
// own rows, the server's application layer turns those into `ImageSummary` (deriving what the
// store does not know, such as promotion) with `map`.

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), total: self.total }
    }
}

impl<I> ImageDetail<I> {
    pub fn map<J>(self, f: impl FnOnce(I) -> J) -> ImageDetail<J> {
        ImageDetail { summary: f(self.summary), scans: self.scans, runs_in: self.runs_in }
    }
}

impl<I> ImageView<I> {
    pub fn map<J>(self, f: impl FnOnce(I) -> J) -> ImageView<J> {
        ImageView { image: self.image.map(f), findings: self.findings, packages: self.packages }
    }
}

impl<I> TeamView<I> {
    pub fn map<J>(self, f: impl FnMut(I) -> J) -> TeamView<J> {
        TeamView { team: self.team, images: self.images.into_iter().map(f).collect() }
    }
}

impl<I> ImageForensics<I> {
    pub fn map<J>(self, f: impl FnOnce(I) -> J) -> ImageForensics<J> {
        ImageForensics {
            image: f(self.image),
            source: self.source,
            revision: self.revision,
            pushes: self.pushes,
            runs: self.runs,
            access: self.access,
            ledger: self.ledger,
        }
    }
}

impl<I> RepositoryView<I> {
    pub fn map<J>(self, mut f: impl FnMut(I) -> J) -> RepositoryView<J> {
        RepositoryView {
            repository: self.repository,
            registry: self.registry,
            tags: self
                .tags
                .into_iter()
                .map(|t| TagInfo {
                    tag: t.tag,
                    image: f(t.image),
                    updated_at: t.updated_at,
                    last_push: t.last_push,
                    last_push_by: t.last_push_by,
                })
                .collect(),
            events: self.events,
        }
    }
}
