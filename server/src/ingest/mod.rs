//! Report parsing. Parsers are pure (bytes in, domain values out, no database); `parse` is the
//! one entry point the HTTP API and the command line share: it detects the format from the body
//! unless the caller names it.

pub mod cyclonedx;
pub mod grype;
pub mod trivy;

use crate::domain::purl::PackageCoordinates;
use crate::domain::{Digest, ImageRef};
use app::types::{FindingCounts, Severity};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// Why a body is not an acceptable report. Each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// 400: the body is not JSON at all (or is truncated).
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    /// 415: JSON, but not a report format Drydock knows.
    #[error("{0}")]
    UnknownFormat(String),
    /// 422: a known format with a missing or wrong field.
    #[error("{0}")]
    Invalid(String),
}

/// Report formats Drydock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Trivy,
    Grype,
    CycloneDx,
}

impl Format {
    /// Parses `?format=` values.
    pub fn from_name(s: &str) -> Result<Format, IngestError> {
        match s.to_ascii_lowercase().as_str() {
            "trivy" | "trivy-json" => Ok(Format::Trivy),
            "grype" | "grype-json" => Ok(Format::Grype),
            "cyclonedx" | "cyclonedx-json" | "cdx" => Ok(Format::CycloneDx),
            other => Err(IngestError::UnknownFormat(format!("unknown report format {other:?}; Drydock reads: trivy, grype, cyclonedx"))),
        }
    }
}

/// A parsed scanner report, independent of its source format.
#[derive(Debug, Clone)]
pub struct Report {
    /// `trivy`, `grype`, ...: findings merge per scanner.
    pub scanner: &'static str,
    /// The format the body was in.
    pub format: &'static str,
    /// What the scanner was pointed at (`ArtifactName`).
    pub artifact: String,
    /// When the scanner ran, if it says.
    pub scanned_at: Option<DateTime<Utc>>,
    /// The image the report is about, if it names any digest.
    pub image: Option<ImageIdentity>,
    /// Findings, unique by identity.
    pub findings: Vec<Finding>,
    /// Package inventory (installed packages the report lists, vulnerable or not).
    pub packages: Vec<Package>,
    /// False for an SBOM without vulnerability data: it tells what is installed, not what is
    /// vulnerable, so it never resolves findings and the image does not count as scanned.
    pub vulnerability_data: bool,
    /// What the report says about the image itself (what policies judge).
    pub facts: ImageFacts,
    /// Secrets found in the image's files (Trivy's `Secrets`; other formats carry none).
    pub secrets: Vec<SecretFinding>,
}

/// The most secrets one report may list.
pub const MAX_SECRETS: usize = 10_000;

/// A secret a scanner found in an image: where and what kind, never the secret's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFinding {
    /// The file (the scanner's target).
    pub target: String,
    /// The scanner's rule (`private-key`, `aws-access-key-id`…).
    pub rule_id: String,
    /// `AsymmetricPrivateKey`, `AWS`…
    pub category: String,
    pub severity: Severity,
    pub title: String,
    pub start_line: Option<i64>,
    pub end_line: Option<i64>,
    /// The layer that added the file.
    pub layer_diff_id: Option<String>,
}

/// Facts about the scanned image a report states (Trivy's `Metadata`; the OS family elsewhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// `debian`, `alpine`, `rocky`, ... (lower case).
    pub os_family: Option<String>,
    /// The OS release is past its end of life (Trivy `Metadata.OS.EOSL`); `None`: not stated.
    pub eosl: Option<bool>,
    /// The image's layer diff IDs, base first (`Metadata.DiffIDs`).
    pub diff_ids: Vec<String>,
    /// The image config's `User` (`Metadata.ImageConfig.config.User`; empty: root).
    pub user: Option<String>,
    /// The image config's labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Report {
    /// Findings per severity.
    pub fn counts(&self) -> FindingCounts {
        let mut c = FindingCounts::default();
        for f in &self.findings {
            c.add(f.severity, 1);
        }
        c
    }

    /// The findings as the report listed them, the scan's evidence: a JSON array of
    /// `[vulnerability_id, package_name, installed_version, package_path, severity, fixed_version]`.
    pub fn listed_findings_json(&self) -> String {
        let rows: Vec<_> = self
            .findings
            .iter()
            .map(|f| {
                let (v, p, i, path) = f.identity();
                (v, p, i, path, f.severity.as_str(), f.fixed_version.as_deref())
            })
            .collect();
        serde_json::to_string(&rows).expect("strings serialise")
    }
}

/// What identifies the scanned image.
#[derive(Debug, Clone)]
pub struct ImageIdentity {
    /// Manifest digests with the repository they were pulled from.
    pub repo_digests: Vec<(ImageRef, Digest)>,
    /// The image config digest (`ImageID`).
    pub config_digest: Option<Digest>,
    /// Tags the scanner saw (`RepoTags`).
    pub tags: Vec<ImageRef>,
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub created: Option<DateTime<Utc>>,
}

impl ImageIdentity {
    /// The primary digest: the first manifest digest, else the config digest.
    pub fn primary(&self) -> Option<&Digest> {
        self.repo_digests.first().map(|(_, d)| d).or(self.config_digest.as_ref())
    }
}

/// One vulnerability in one installed package.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub vulnerability_id: String,
    pub package_name: String,
    pub installed_version: String,
    /// Where a language package was found; empty for OS packages.
    pub package_path: String,
    /// Ecosystem (`alpine`, `node-pkg`, `jar`, ...).
    pub package_type: String,
    pub purl: Option<String>,
    pub severity: Severity,
    pub fixed_version: Option<String>,
    pub title: Option<String>,
    pub url: Option<String>,
    pub cvss_score: Option<f64>,
    pub published: Option<DateTime<Utc>>,
    /// The package's coordinates (its purl without version and qualifiers, or built).
    pub coordinates: PackageCoordinates,
    /// EPSS probability (0..1), when the report carries it (Grype's `vulnerability.epss`).
    pub epss: Option<f64>,
}

impl Finding {
    /// The identity findings merge by across rescans.
    pub fn identity(&self) -> (&str, &str, &str, &str) {
        (&self.vulnerability_id, &self.package_name, &self.installed_version, &self.package_path)
    }
}

/// An installed package.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Package {
    pub package_type: String,
    pub name: String,
    pub version: String,
    pub purl: Option<String>,
    pub path: String,
}

/// Parses `body` as a report in `format`, or in the format detected from the body. The report
/// is read straight from the bytes into its types; a body with a NUL escape (or whose top level
/// the quick look cannot read) goes through a parsed JSON value, which names where it is wrong.
pub fn parse(body: &[u8], format: Option<Format>) -> Result<Report, IngestError> {
    if memchr::memmem::find(body, b"\\u0000").is_some() {
        return parse_via_value(body, format);
    }
    let detected = match probe(body) {
        Ok(d) => d,
        Err(ProbeError::NotJson(m)) => return Err(IngestError::NotJson(m)),
        Err(ProbeError::Shape) => return parse_via_value(body, format),
    };
    let format = match format {
        Some(f) => f,
        None => detected?,
    };
    let report = match format {
        Format::Trivy => trivy::read(document(body, trivy::LABEL)?),
        Format::Grype => grype::read(document(body, grype::LABEL)?),
        Format::CycloneDx => cyclonedx::read(document(body, cyclonedx::LABEL)?),
    }?;
    report.check_limits().map_err(IngestError::Invalid)?;
    Ok(report)
}

/// The slower way: the whole body as a JSON value first (a NUL is named by its path).
fn parse_via_value(body: &[u8], format: Option<Format>) -> Result<Report, IngestError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| IngestError::NotJson(e.to_string()))?;
    if let Some(at) = crate::domain::find_nul(&value) {
        return Err(IngestError::Invalid(format!("{at}: contains a NUL character")));
    }
    let format = match format {
        Some(f) => f,
        None => detect(&value)?,
    };
    let report = match format {
        Format::Trivy => trivy::read(located(value, trivy::LABEL)?),
        Format::Grype => grype::read(located(value, grype::LABEL)?),
        Format::CycloneDx => cyclonedx::read(located(value, cyclonedx::LABEL)?),
    }?;
    report.check_limits().map_err(IngestError::Invalid)?;
    Ok(report)
}

/// A format's document read from the bytes. Only a body that fails is read again with the path
/// of every value tracked, to name where it is wrong: tracking keeps a string per key read, and
/// took 0.2-0.3 ms of the 1.9 ms a resent 100-finding report costs (BENCHMARKS.md, session 30).
fn document<T: serde::de::DeserializeOwned>(body: &[u8], label: &str) -> Result<T, IngestError> {
    match T::deserialize(&mut serde_json::Deserializer::from_slice(body)) {
        Ok(document) => Ok(document),
        Err(_) => located(&mut serde_json::Deserializer::from_slice(body), label),
    }
}

/// A format's document; a field that does not fit is named by its JSON path.
fn located<'de, T: serde::Deserialize<'de>>(value: impl serde::Deserializer<'de>, label: &str) -> Result<T, IngestError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        IngestError::Invalid(format!("{label}: {} at {}", e.inner(), if path == "." { "the top level".into() } else { path }))
    })
}

enum ProbeError {
    NotJson(String),
    /// JSON, but not a top level the quick look reads (not an object, a key twice…).
    Shape,
}

/// The top-level keys formats are told by, read without building the document (the rest is
/// skipped, but checked to be JSON).
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(rename = "SchemaVersion", default, deserialize_with = "present")]
    schema_version: bool,
    #[serde(rename = "ArtifactName", default, deserialize_with = "present")]
    artifact_name: bool,
    #[serde(rename = "Results", default, deserialize_with = "present")]
    results: bool,
    #[serde(default, deserialize_with = "is_array")]
    matches: bool,
    #[serde(default, deserialize_with = "present")]
    source: bool,
    #[serde(default, deserialize_with = "present")]
    descriptor: bool,
    #[serde(rename = "bomFormat", default)]
    bom_format: Option<serde_json::Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    use serde::Deserialize as _;
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

fn is_array<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(true)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
            Ok(false)
        }
        fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_str<E>(self, _: &str) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_unit<E>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    d.deserialize_any(V)
}

/// The body's format as `detect` would tell it, from a quick look at its top level.
fn probe(body: &[u8]) -> Result<Result<Format, IngestError>, ProbeError> {
    use serde::Deserialize as _;
    // Only an object is looked at (a struct would also read an array, by position).
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ProbeError::Shape);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let p = match Probe::deserialize(&mut de).and_then(|p| de.end().map(|()| p)) {
        Ok(p) => p,
        Err(e) if e.is_data() => return Err(ProbeError::Shape),
        Err(e) => return Err(ProbeError::NotJson(e.to_string())),
    };
    Ok(if p.schema_version || (p.artifact_name && p.results) {
        Ok(Format::Trivy)
    } else if p.matches && (p.source || p.descriptor) {
        Ok(Format::Grype)
    } else if p.bom_format.as_ref().and_then(|f| f.as_str()) == Some("CycloneDX") {
        Ok(Format::CycloneDx)
    } else {
        Err(unknown_format())
    })
}

/// Longest values a report may carry (bytes), documented in the README: within what both
/// databases index, so a report is refused the same way on both rather than failing on one.
pub const MAX_ID: usize = 256;
pub const MAX_NAME: usize = 512;
pub const MAX_PATH: usize = 1024;
pub const MAX_TEXT: usize = 8192;
/// The most repository digests, and the most tags, one report may name its image by.
pub const MAX_IMAGE_NAMES: usize = 1_000;

impl Report {
    /// Every stored field within its documented limit; the message names the first one over.
    pub fn check_limits(&self) -> Result<(), String> {
        use crate::domain::check_len;
        check_len("artifact", &self.artifact, MAX_PATH)?;
        for (i, f) in self.findings.iter().enumerate() {
            check_len(&format!("findings[{i}].vulnerability_id"), &f.vulnerability_id, MAX_ID)?;
            check_len(&format!("findings[{i}].package_name"), &f.package_name, MAX_NAME)?;
            check_len(&format!("findings[{i}].installed_version"), &f.installed_version, MAX_ID)?;
            check_len(&format!("findings[{i}].package_path"), &f.package_path, MAX_PATH)?;
            check_len(&format!("findings[{i}].package_type"), &f.package_type, MAX_ID)?;
            check_len(&format!("findings[{i}].fixed_version"), f.fixed_version.as_deref().unwrap_or(""), MAX_PATH)?;
            check_len(&format!("findings[{i}].purl"), f.purl.as_deref().unwrap_or(""), MAX_PATH)?;
            check_len(&format!("findings[{i}].title"), f.title.as_deref().unwrap_or(""), MAX_TEXT)?;
            check_len(&format!("findings[{i}].url"), f.url.as_deref().unwrap_or(""), MAX_PATH)?;
        }
        for (i, p) in self.packages.iter().enumerate() {
            check_len(&format!("packages[{i}].name"), &p.name, MAX_NAME)?;
            check_len(&format!("packages[{i}].version"), &p.version, MAX_ID)?;
            check_len(&format!("packages[{i}].path"), &p.path, MAX_PATH)?;
            check_len(&format!("packages[{i}].package_type"), &p.package_type, MAX_ID)?;
            check_len(&format!("packages[{i}].purl"), p.purl.as_deref().unwrap_or(""), MAX_PATH)?;
        }
        if let Some(id) = &self.image {
            // Each name is a row and its statement's parameters: a report naming tens of thousands
            // would pass SQLite's parameter limit (a 500), and no image is pulled from that many.
            if id.repo_digests.len() > MAX_IMAGE_NAMES || id.tags.len() > MAX_IMAGE_NAMES {
                return Err(format!(
                    "the image is named by {} repository digests and {} tags; at most {MAX_IMAGE_NAMES} of each",
                    id.repo_digests.len(),
                    id.tags.len()
                ));
            }
            for (i, t) in id.tags.iter().enumerate() {
                check_len(&format!("image.tags[{i}]"), &t.repository.full(), MAX_PATH)?;
            }
            check_len("image.os", id.os.as_deref().unwrap_or(""), MAX_ID)?;
            check_len("image.architecture", id.architecture.as_deref().unwrap_or(""), MAX_ID)?;
        }
        Ok(())
    }
}

/// Tells the format from the body's fields.
pub fn detect(v: &serde_json::Value) -> Result<Format, IngestError> {
    let obj = v
        .as_object()
        .ok_or_else(|| IngestError::UnknownFormat("the body is JSON but not an object; no known report format starts that way".into()))?;
    if obj.contains_key("SchemaVersion") || (obj.contains_key("ArtifactName") && obj.contains_key("Results")) {
        return Ok(Format::Trivy);
    }
    if obj.get("matches").is_some_and(|m| m.is_array()) && (obj.contains_key("source") || obj.contains_key("descriptor")) {
        return Ok(Format::Grype);
    }
    if obj.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
        return Ok(Format::CycloneDx);
    }
    Err(unknown_format())
}

fn unknown_format() -> IngestError {
    IngestError::UnknownFormat(
        "the body is JSON but not a report format Drydock knows (Trivy JSON, Grype JSON, CycloneDX JSON); name it with ?format= if detection is wrong".into(),
    )
}

/// Drops repeated findings (same identity), keeping the first; scanners occasionally list a
/// package twice across results.
pub(crate) fn dedupe_findings(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = HashSet::new();
    findings
        .into_iter()
        .filter(|f| seen.insert((f.vulnerability_id.clone(), f.package_name.clone(), f.installed_version.clone(), f.package_path.clone())))
        .collect()
}
