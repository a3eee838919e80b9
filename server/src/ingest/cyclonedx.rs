//! CycloneDX JSON 1.4–1.7 (as Trivy, Syft/Grype and trivy-operator write it): the components
//! become the image's package inventory; embedded `vulnerabilities[].affects[]` become findings.
//! A BOM without a `vulnerabilities` member is an SBOM only: it tells what is installed, not what
//! is vulnerable, so it never closes findings and never counts as a scan.
//!
//! The image is `metadata.component` (type `container`): Trivy's `aquasecurity:trivy:RepoDigest`,
//! `ImageID` and `RepoTag` properties; else a `pkg:oci/...@sha256:...` purl; else Syft's
//! `version` holding a digest. Severity: the highest of a vulnerability's ratings (sources
//! disagree; a compliance tool takes the worst).

use super::{dedupe_findings, Finding, ImageFacts, ImageIdentity, IngestError, Package, Report};
use crate::domain::purl::PackageCoordinates;
use crate::domain::{Digest, ImageRef};
use app::types::Severity;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

const SUPPORTED: [&str; 4] = ["1.4", "1.5", "1.6", "1.7"];

/// A CycloneDX BOM as its JSON says it: the fields Drydock reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    spec_version: String,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    components: Option<Vec<Component>>,
    #[serde(default)]
    vulnerabilities: Option<Vec<Vulnerability>>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    tools: Option<Value>,
    #[serde(default)]
    component: Option<Component>,
}

#[derive(Deserialize, Clone)]
struct Component {
    #[serde(rename = "bom-ref", default)]
    bom_ref: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    properties: Option<Vec<Property>>,
    #[serde(default)]
    components: Option<Vec<Component>>,
}

#[derive(Deserialize, Clone)]
struct Property {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

impl Component {
    fn props<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.properties.iter().flatten().filter(move |p| p.name == name).filter_map(|p| p.value.as_deref())
    }
    fn prop<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.props(name).next()
    }
}

#[derive(Deserialize)]
struct Vulnerability {
    id: String,
    #[serde(default)]
    source: Option<VulnSource>,
    #[serde(default)]
    ratings: Option<Vec<Rating>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    recommendation: Option<String>,
    #[serde(default)]
    advisories: Option<Vec<Advisory>>,
    #[serde(default)]
    published: Option<DateTime<Utc>>,
    #[serde(default)]
    affects: Option<Vec<Affect>>,
}

#[derive(Deserialize)]
struct VulnSource {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Rating {
    #[serde(default)]
    score: Option<f64>,
    #[serde(default)]
    severity: Option<String>,
}

#[derive(Deserialize)]
struct Advisory {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Affect {
    #[serde(rename = "ref")]
    reference: String,
}

/// How errors name the format.
pub const LABEL: &str = "CycloneDX BOM";

/// The report a CycloneDX BOM makes (`super::parse` reads its JSON).
pub fn read(bom: Bom) -> Result<Report, IngestError> {
    if !SUPPORTED.contains(&bom.spec_version.as_str()) {
        return Err(IngestError::Invalid(format!(
            "CycloneDX BOM: specVersion {} is not supported (Drydock reads 1.4 to 1.7)",
            bom.spec_version
        )));
    }
    let metadata = bom.metadata;
    let scanner = metadata.as_ref().and_then(|m| tool_name(m.tools.as_ref())).unwrap_or("cyclonedx");
    let subject = metadata.as_ref().and_then(|m| m.component.clone());

    // Every component, nested ones included, by bom-ref.
    let mut all = Vec::new();
    flatten(bom.components.unwrap_or_default(), &mut all);
    let os = all.iter().find(|c| c.kind.as_deref() == Some("operating-system")).map(|c| match &c.version {
        Some(v) => format!("{} {v}", c.name),
        None => c.name.clone(),
    });
    let os_family = all.iter().find(|c| c.kind.as_deref() == Some("operating-system")).map(|c| c.name.to_ascii_lowercase());
    let mut packages = HashSet::new();
    let mut by_ref: HashMap<&str, Package> = HashMap::new();
    for c in &all {
        if matches!(c.kind.as_deref(), Some("operating-system") | Some("container")) {
            continue;
        }
        let p = package_of(c);
        if let Some(r) = &c.bom_ref {
            by_ref.insert(r.as_str(), p.clone());
        }
        packages.insert(p);
    }

    let vulnerability_data = bom.vulnerabilities.is_some();
    let mut findings = Vec::new();
    for (vi, v) in bom.vulnerabilities.unwrap_or_default().into_iter().enumerate() {
        if v.id.trim().is_empty() {
            return Err(IngestError::Invalid(format!("CycloneDX BOM: vulnerabilities[{vi}].id is empty")));
        }
        findings.extend(read_vulnerability(vi, v, &by_ref, os_family.as_deref(), &mut packages)?);
    }
    let (artifact, image) = match &subject {
        Some(c) => (c.name.clone(), identity(c, os)?),
        None => ("(unknown)".into(), None),
    };
    let mut packages: Vec<Package> = packages.into_iter().collect();
    packages.sort_by(|a, b| (&a.package_type, &a.name, &a.version, &a.path).cmp(&(&b.package_type, &b.name, &b.version, &b.path)));
    Ok(Report {
        scanner,
        format: "cyclonedx-json",
        artifact,
        scanned_at: metadata.and_then(|m| m.timestamp),
        image,
        findings: dedupe_findings(findings),
        packages,
        vulnerability_data,
        facts: ImageFacts { os_family, ..Default::default() },
        secrets: Vec::new(),
    })
}

/// One vulnerability's findings: one per component it affects (named by bom-ref, or by a purl
/// of a component the BOM does not list, which joins the packages).
fn read_vulnerability(
    vi: usize,
    v: Vulnerability,
    by_ref: &HashMap<&str, Package>,
    os_family: Option<&str>,
    packages: &mut HashSet<Package>,
) -> Result<Vec<Finding>, IngestError> {
    let ratings = v.ratings.unwrap_or_default();
    let severity = ratings
        .iter()
        .map(|r| Severity::from_scanner(r.severity.as_deref()))
        .filter(|s| *s != Severity::Unknown)
        .min_by_key(|s| s.rank())
        .unwrap_or(Severity::Unknown);
    let cvss_score = ratings.iter().filter_map(|r| r.score).fold(None, |acc: Option<f64>, s| Some(acc.map_or(s, |a| a.max(s))));
    let url = v.source.and_then(|s| s.url).or_else(|| v.advisories.iter().flatten().find_map(|a| a.url.clone()));
    let fixed_version = v.recommendation.as_deref().and_then(fixed_from_recommendation);
    let title: Option<String> = v.description.as_deref().map(|d| d.split(". ").next().unwrap_or(d).chars().take(200).collect());
    let mut findings = Vec::new();
    for (ai, a) in v.affects.unwrap_or_default().into_iter().enumerate() {
        let p = match by_ref.get(a.reference.as_str()) {
            Some(p) => p.clone(),
            None => package_from_purl(&a.reference).ok_or_else(|| {
                IngestError::Invalid(format!(
                    "CycloneDX BOM: vulnerabilities[{vi}].affects[{ai}].ref {:?} names no component and is not a purl",
                    a.reference
                ))
            })?,
        };
        packages.insert(p.clone());
        findings.push(Finding {
            coordinates: PackageCoordinates::for_package(p.purl.as_deref(), &p.package_type, os_family, &p.name),
            epss: None,
            vulnerability_id: v.id.clone(),
            package_name: p.name,
            installed_version: p.version,
            package_path: p.path,
            package_type: p.package_type,
            purl: p.purl,
            severity,
            fixed_version: fixed_version.clone(),
            title: title.clone(),
            url: url.clone(),
            cvss_score,
            published: v.published,
        });
    }
    Ok(findings)
}

fn flatten(components: Vec<Component>, out: &mut Vec<Component>) {
    for mut c in components {
        let children = c.components.take().unwrap_or_default();
        out.push(c);
        flatten(children, out);
    }
}

/// The generating tool, as one of the scanners Drydock knows (findings merge per scanner).
/// `metadata.tools` is a list of `{vendor, name}` in 1.4 and `{components: [...]}` from 1.5 on.
fn tool_name(tools: Option<&Value>) -> Option<&'static str> {
    let tools = tools?;
    let list = tools.as_array().or_else(|| tools.get("components").and_then(Value::as_array))?;
    list.iter().filter_map(|t| t.get("name").and_then(Value::as_str)).find_map(|n| match n.to_ascii_lowercase().as_str() {
        "trivy" => Some("trivy"),
        "grype" => Some("grype"),
        "syft" => Some("syft"),
        _ => None,
    })
}

fn package_of(c: &Component) -> Package {
    let purl = c.purl.clone().filter(|p| !p.is_empty());
    let package_type = c
        .prop("aquasecurity:trivy:PkgType")
        .or_else(|| c.prop("syft:package:type"))
        .map(str::to_string)
        .or_else(|| purl.as_deref().and_then(purl_type))
        .unwrap_or_else(|| c.kind.clone().unwrap_or_else(|| "unknown".into()));
    let path = c.prop("aquasecurity:trivy:FilePath").map(str::to_string).unwrap_or_else(|| {
        // Syft lists every location as syft:location:N:path.
        let mut paths: Vec<&str> = c
            .properties
            .iter()
            .flatten()
            .filter(|p| p.name.starts_with("syft:location:") && p.name.ends_with(":path"))
            .filter_map(|p| p.value.as_deref())
            .collect();
        paths.sort();
        paths.dedup();
        paths.join(", ")
    });
    Package { package_type, name: c.name.clone(), version: c.version.clone().unwrap_or_default(), purl, path }
}

/// `pkg:TYPE/...` → TYPE.
fn purl_type(purl: &str) -> Option<String> {
    purl.strip_prefix("pkg:")?.split('/').next().filter(|t| !t.is_empty()).map(str::to_string)
}

/// A package from a purl alone (`pkg:type/ns/name@version?...`).
fn package_from_purl(purl: &str) -> Option<Package> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next()?;
    let (path, version) = rest.rsplit_once('@')?;
    let name = path.rsplit('/').next()?;
    Some(Package {
        package_type: purl_type(purl)?,
        name: percent_decode(name),
        version: percent_decode(version),
        purl: Some(purl.to_string()),
        path: String::new(),
    })
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Trivy writes "Upgrade libxml2 to version 2.10.4-r0".
fn fixed_from_recommendation(r: &str) -> Option<String> {
    let v = r.split(" to version ").nth(1)?.trim().trim_end_matches('.');
    (!v.is_empty()).then(|| v.to_string())
}

fn identity(c: &Component, os: Option<String>) -> Result<Option<ImageIdentity>, IngestError> {
    if c.kind.as_deref() != Some("container") {
        return Ok(None);
    }
    let bad = |what: &str, e: String| IngestError::Invalid(format!("CycloneDX BOM: metadata.component {what}: {e}"));
    let mut repo_digests = Vec::new();
    for rd in c.props("aquasecurity:trivy:RepoDigest") {
        let r = ImageRef::parse(rd).map_err(|e| bad("RepoDigest", e.to_string()))?;
        let d = r.digest.clone().ok_or_else(|| bad("RepoDigest", format!("{rd:?} has no @digest")))?;
        repo_digests.push((r, d));
    }
    let name_ref = ImageRef::parse(&c.name).ok();
    if repo_digests.is_empty() {
        // pkg:oci/NAME@DIGEST?repository_url=HOST/PATH
        if let Some(purl) = c.purl.as_deref().filter(|p| p.starts_with("pkg:oci/")) {
            let digest = purl.split('@').nth(1).map(|d| percent_decode(d.split('?').next().unwrap_or(d)));
            let repo = url::Url::parse(&format!("http://x/?{}", purl.split('?').nth(1).unwrap_or("")))
                .ok()
                .and_then(|u| u.query_pairs().find(|(k, _)| k == "repository_url").map(|(_, v)| v.into_owned()));
            if let Some(d) = digest {
                let d = Digest::parse(&d).map_err(|e| bad("purl", e.to_string()))?;
                let r = match repo.as_deref().and_then(|r| ImageRef::parse(r).ok()).or(name_ref.clone()) {
                    Some(r) => r,
                    None => return Err(bad("purl", format!("{purl:?} names no repository"))),
                };
                repo_digests.push((r, d));
            }
        }
    }
    if repo_digests.is_empty() {
        // Syft: the container's version is the manifest digest.
        if let (Some(v), Some(r)) = (c.version.as_deref().filter(|v| v.starts_with("sha256:")), name_ref.clone()) {
            repo_digests.push((r, Digest::parse(v).map_err(|e| bad("version", e.to_string()))?));
        }
    }
    let config_digest = match c.prop("aquasecurity:trivy:ImageID") {
        Some(id) => Some(Digest::parse(id).map_err(|e| bad("ImageID", e.to_string()))?),
        None => None,
    };
    if repo_digests.is_empty() && config_digest.is_none() {
        return Ok(None);
    }
    let mut tags = Vec::new();
    for t in c.props("aquasecurity:trivy:RepoTag") {
        tags.push(ImageRef::parse(t).map_err(|e| bad("RepoTag", e.to_string()))?);
    }
    if tags.is_empty() {
        tags.extend(name_ref.filter(|r| r.tag.is_some()));
    }
    let architecture = c.purl.as_deref().and_then(|p| {
        url::Url::parse(&format!("http://x/?{}", p.split('?').nth(1).unwrap_or("")))
            .ok()?
            .query_pairs()
            .find(|(k, _)| k == "arch")
            .map(|(_, v)| v.into_owned())
    });
    Ok(Some(ImageIdentity { repo_digests, config_digest, tags, os, architecture, created: None }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_and_recommendations() {
        let p = package_from_purl("pkg:generic/python@3.11.3?package-id=6116cb95a76157bb").unwrap();
        assert_eq!((p.package_type.as_str(), p.name.as_str(), p.version.as_str()), ("generic", "python", "3.11.3"));
        let p = package_from_purl("pkg:npm/%40babel/core@7.0.0").unwrap();
        assert_eq!(p.name, "core");
        assert_eq!(package_from_purl("not-a-purl"), None);
        assert_eq!(fixed_from_recommendation("Upgrade libxml2 to version 2.10.4-r0").as_deref(), Some("2.10.4-r0"));
        assert_eq!(fixed_from_recommendation("No fix"), None);
    }
}
