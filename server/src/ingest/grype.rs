//! Grype JSON (`grype -o json`), every schema from 0.7 to 0.9x. The layout changed over time, so
//! fields are read by what is present, never by the version number:
//! - vulnerability URL: `dataSource` (newer) or `links[0]` / `urls[0]` (older);
//! - CVSS: `cvss[].metrics.baseScore` (newer) or `cvssV3`/`cvssV2.baseScore` (0.7);
//! - fixed version: `fix.versions` (newer) or `fixedInVersion` (older);
//! - locations: objects with `path` (newer) or plain strings (oldest);
//! - image: `source.target` with `repoDigests` (newer), else only `imageID` (the config digest):
//!   `manifestDigest` is what Grype computed locally and is not the registry's digest.
//!
//! Finding identity: (vulnerability id, artifact name, version, location paths); severities map
//! to the same buckets as Trivy's (`Negligible` → negligible, missing → unknown).

use super::{dedupe_findings, Finding, ImageFacts, ImageIdentity, IngestError, Package, Report};
use crate::domain::purl::PackageCoordinates;
use crate::domain::{Digest, ImageRef};
use app::types::Severity;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

/// A Grype report as its JSON says it: the fields Drydock reads.
#[derive(Deserialize)]
pub struct GrypeReport {
    matches: Vec<Match>,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    distro: Option<Distro>,
    #[serde(default)]
    descriptor: Option<Descriptor>,
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(default)]
    timestamp: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Distro {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    target: Value,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ImageTarget {
    #[serde(default)]
    user_input: Option<String>,
    #[serde(rename = "imageID", default)]
    image_id: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    repo_digests: Option<Vec<String>>,
    #[serde(default)]
    architecture: Option<String>,
}

#[derive(Deserialize)]
struct Match {
    vulnerability: Vulnerability,
    artifact: Artifact,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vulnerability {
    id: String,
    #[serde(default)]
    severity: Option<String>,
    /// `[{"cve", "epss", "percentile", "date"}]` in Grype 0.80+; read leniently (older or newer
    /// shapes carry no score rather than refuse the report).
    #[serde(default)]
    epss: Option<Value>,
    #[serde(default)]
    data_source: Option<String>,
    #[serde(default)]
    links: Option<Vec<String>>,
    #[serde(default)]
    urls: Option<Vec<String>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    cvss: Option<Vec<CvssEntry>>,
    #[serde(default, rename = "cvssV3")]
    cvss_v3: Option<Score>,
    #[serde(default, rename = "cvssV2")]
    cvss_v2: Option<Score>,
    #[serde(default)]
    fix: Option<Fix>,
    #[serde(default)]
    fixed_in_version: Option<String>,
}

#[derive(Deserialize)]
struct CvssEntry {
    #[serde(default)]
    metrics: Option<Score>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Score {
    #[serde(default)]
    base_score: Option<f64>,
}

#[derive(Deserialize)]
struct Fix {
    #[serde(default)]
    versions: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Artifact {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    locations: Option<Vec<Location>>,
    #[serde(default)]
    purl: Option<String>,
}

/// An artifact's location: a path (the oldest schemas) or an object with one (`path`, `layerID`,
/// ...); any other value names no path. Read without building the object: Grype's many-matches
/// reports list three locations a match.
struct Location(Option<String>);

/// The keys of a location object: only `path` is read.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum LocationKey {
    Path,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Location, D::Error> {
        d.deserialize_any(LocationVisitor)
    }
}

struct LocationVisitor;

impl<'de> serde::de::Visitor<'de> for LocationVisitor {
    type Value = Location;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a path or an object with one")
    }
    fn visit_str<E>(self, s: &str) -> Result<Location, E> {
        Ok(Location(Some(s.to_string())))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Location, A::Error> {
        let mut path = None;
        while let Some(key) = map.next_key::<LocationKey>()? {
            match key {
                // A path that is not text names none, as a location of another kind does.
                LocationKey::Path => path = map.next_value::<Value>()?.as_str().map(str::to_string),
                LocationKey::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Location(path))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Location, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Location(None))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Location, E> {
        Ok(Location(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Location, E> {
        Ok(Location(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Location, E> {
        Ok(Location(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Location, E> {
        Ok(Location(None))
    }
    fn visit_unit<E>(self) -> Result<Location, E> {
        Ok(Location(None))
    }
}

/// How errors name the format.
pub const LABEL: &str = "Grype report";

/// The report a Grype document makes (`super::parse` reads its JSON).
pub fn read(report: GrypeReport) -> Result<Report, IngestError> {
    let (artifact, image) = identity(report.source.as_ref(), report.distro.as_ref())?;
    let os_family = report.distro.as_ref().and_then(|d| d.name.as_deref()).filter(|n| !n.is_empty()).map(str::to_ascii_lowercase);
    let mut findings = Vec::with_capacity(report.matches.len());
    let mut packages = HashSet::new();
    for (i, m) in report.matches.into_iter().enumerate() {
        if m.vulnerability.id.trim().is_empty() || m.artifact.name.trim().is_empty() {
            return Err(IngestError::Invalid(format!("Grype report: matches[{i}] has an empty vulnerability.id or artifact.name")));
        }
        let (finding, package) = read_match(m, os_family.as_deref());
        packages.insert(package);
        findings.push(finding);
    }
    let mut packages: Vec<Package> = packages.into_iter().collect();
    packages.sort_by(|a, b| (&a.package_type, &a.name, &a.version, &a.path).cmp(&(&b.package_type, &b.name, &b.version, &b.path)));
    Ok(Report {
        scanner: "grype",
        format: "grype-json",
        artifact,
        scanned_at: report.descriptor.and_then(|d| d.timestamp),
        image,
        findings: dedupe_findings(findings),
        packages,
        vulnerability_data: true,
        facts: ImageFacts { os_family, ..Default::default() },
        secrets: Vec::new(),
    })
}

/// One match: the finding and the package it is in.
fn read_match(m: Match, os_family: Option<&str>) -> (Finding, Package) {
    let (v, a) = (m.vulnerability, m.artifact);
    let path = artifact_path(&a);
    let package_type = a.kind.clone().unwrap_or_else(|| "unknown".into());
    let version = a.version.clone().unwrap_or_default();
    let package = Package {
        package_type: package_type.clone(),
        name: a.name.clone(),
        version: version.clone(),
        purl: a.purl.clone().filter(|p| !p.is_empty()),
        path: path.clone(),
    };
    let cvss_score = highest_cvss(&v);
    let epss = highest_epss(&v);
    let fixed_version =
        v.fix.and_then(|f| f.versions).filter(|vs| !vs.is_empty()).map(|vs| vs.join(", ")).or(v.fixed_in_version).filter(|s| !s.is_empty());
    let url = v.data_source.or_else(|| v.links.and_then(|l| l.into_iter().next())).or_else(|| v.urls.and_then(|l| l.into_iter().next()));
    let finding = Finding {
        coordinates: PackageCoordinates::for_package(a.purl.as_deref().filter(|p| !p.is_empty()), &package_type, os_family, &a.name),
        epss,
        severity: Severity::from_scanner(v.severity.as_deref()),
        vulnerability_id: v.id,
        package_name: a.name,
        installed_version: version,
        package_path: path,
        package_type,
        purl: a.purl.filter(|p| !p.is_empty()),
        fixed_version,
        title: v.description.map(|d| first_sentence(&d)),
        url,
        cvss_score,
        published: None,
    };
    (finding, package)
}

/// The artifact's locations, sorted and joined (a location is a path or an object with one).
fn artifact_path(a: &Artifact) -> String {
    let mut paths: Vec<String> = a.locations.iter().flatten().filter_map(|l| l.0.clone()).collect();
    paths.sort();
    paths.dedup();
    paths.join(", ")
}

/// The highest CVSS base score of any version the match carries.
fn highest_cvss(v: &Vulnerability) -> Option<f64> {
    v.cvss
        .iter()
        .flatten()
        .filter_map(|c| c.metrics.as_ref().and_then(|m| m.base_score))
        .chain(v.cvss_v3.as_ref().and_then(|s| s.base_score))
        .chain(v.cvss_v2.as_ref().and_then(|s| s.base_score))
        .fold(None, |acc: Option<f64>, s| Some(acc.map_or(s, |a| a.max(s))))
}

/// The highest EPSS probability given (values outside 0..=1 ignored).
fn highest_epss(v: &Vulnerability) -> Option<f64> {
    v.epss
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("epss").and_then(Value::as_f64))
        .filter(|e| (0.0..=1.0).contains(e))
        .reduce(f64::max)
}

/// Grype has no title; the description's first sentence stands in, kept short.
fn first_sentence(d: &str) -> String {
    let s = d.split(". ").next().unwrap_or(d).trim();
    if s.chars().count() > 200 {
        s.chars().take(199).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

fn identity(source: Option<&Source>, distro: Option<&Distro>) -> Result<(String, Option<ImageIdentity>), IngestError> {
    let Some(source) = source else { return Ok(("(unknown)".into(), None)) };
    if source.kind.as_deref() != Some("image") {
        // A directory or file scan: findings without an image.
        let artifact = match &source.target {
            Value::String(s) => s.clone(),
            other => other.get("userInput").and_then(Value::as_str).unwrap_or("(unknown)").to_string(),
        };
        return Ok((artifact, None));
    }
    let t: ImageTarget =
        serde_json::from_value(source.target.clone()).map_err(|e| IngestError::Invalid(format!("Grype report: source.target: {e}")))?;
    let artifact = t.user_input.clone().or_else(|| t.tags.as_ref().and_then(|v| v.first().cloned())).unwrap_or_else(|| "(unknown)".into());
    let mut repo_digests = Vec::new();
    for (i, rd) in t.repo_digests.iter().flatten().enumerate() {
        let r = ImageRef::parse(rd).map_err(|e| IngestError::Invalid(format!("Grype report: source.target.repoDigests[{i}]: {e}")))?;
        let d = r
            .digest
            .clone()
            .ok_or_else(|| IngestError::Invalid(format!("Grype report: source.target.repoDigests[{i}] {rd:?} has no @digest")))?;
        repo_digests.push((r, d));
    }
    let config_digest = match t.image_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => Some(Digest::parse(id).map_err(|e| IngestError::Invalid(format!("Grype report: source.target.imageID: {e}")))?),
        None => None,
    };
    if repo_digests.is_empty() && config_digest.is_none() {
        return Ok((artifact, None));
    }
    let mut tags = Vec::new();
    for (i, tag) in t.tags.iter().flatten().enumerate() {
        tags.push(ImageRef::parse(tag).map_err(|e| IngestError::Invalid(format!("Grype report: source.target.tags[{i}]: {e}")))?);
    }
    let os = distro.and_then(|d| match (&d.name, &d.version) {
        (Some(n), Some(v)) if !v.is_empty() => Some(format!("{n} {v}")),
        (Some(n), _) => Some(n.clone()),
        _ => None,
    });
    Ok((artifact, Some(ImageIdentity { repo_digests, config_digest, tags, os, architecture: t.architecture, created: None })))
}

#[cfg(test)]
mod tests {
    use super::Location;

    /// A location is a path, or an object's `path` when it is text; anything else names none.
    #[test]
    fn a_location_is_a_path_or_an_object_with_one() {
        let read = |json: &str| serde_json::from_str::<Vec<Location>>(json).unwrap().into_iter().map(|l| l.0).collect::<Vec<_>>();
        let p = |s: &str| Some(s.to_string());
        assert_eq!(read(r#"["/usr/lib/a.so", "b\\c"]"#), vec![p("/usr/lib/a.so"), p("b\\c")]);
        assert_eq!(
            read(
                r#"[{"path": "/var/lib/dpkg/status", "layerID": "sha256:ab", "annotations": {"evidence": ["x"]}},
                     {"layerID": "sha256:cd", "path": "/p"}, {"layerID": "x"}, {"path": 7}, {"path": null}]"#
            ),
            vec![p("/var/lib/dpkg/status"), p("/p"), None, None, None]
        );
        assert_eq!(read(r#"[1, 2.5, true, null, [], ["/x"]]"#), vec![None; 6]);
        assert!(serde_json::from_str::<Vec<Location>>(r#"[{"path": "/a""#).is_err(), "a broken document is still refused");
    }
}
