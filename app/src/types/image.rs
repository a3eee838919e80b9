//! An image as pages and the API show it (identity, aliases, repositories, scan and signature
//! state, promotion), its detail and page, and the image containers' `map`.

use super::*;

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
pub struct ImageDetail {
    #[serde(flatten)]
    pub summary: ImageSummary,
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
    /// The worst severity among the scanners that list it.
    pub severity: Severity,
    /// Where a language package was found (empty for OS packages).
    pub package_path: String,
    pub title: Option<String>,
    pub url: Option<String>,
    /// The scanners whose current reports list it, comma-separated (`grype,trivy`): one finding
    /// per image, vulnerability, package, version and path, however many scanners report it.
    pub scanner: String,
    /// When Drydock first received a report listing it (SLAs count from here).
    pub first_seen: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The image page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageView {
    pub image: ImageDetail,
    /// Open findings, worst first, then resolved ones.
    pub findings: Vec<FindingRow>,
    /// The package inventory scanners and SBOMs reported.
    pub packages: Vec<PackageRow>,
    /// Secrets the newest Trivy report found in its files (never the secret's text).
    #[serde(default)]
    pub secrets: Vec<SecretRow>,
}

/// A secret found in an image's file: where and what kind, never the secret itself
/// (`GET /api/v1/secrets`, the image page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecretRow {
    /// The image's primary digest.
    pub image: String,
    pub team: Option<String>,
    /// The file it is in.
    pub file: String,
    /// The scanner's rule (`private-key`, `aws-access-key-id`…).
    pub rule: String,
    /// `AsymmetricPrivateKey`, `AWS`…
    pub category: String,
    pub severity: Severity,
    pub title: String,
    pub start_line: Option<i64>,
    pub end_line: Option<i64>,
    /// The layer that added the file (its diff ID).
    pub layer: Option<String>,
    pub reported_at: DateTime<Utc>,
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

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), total: self.total }
    }
}
