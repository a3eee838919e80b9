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

/// One matching finding.
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
