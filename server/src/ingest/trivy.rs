//! Trivy JSON (`SchemaVersion` 2): `trivy image --format json`.

use super::{dedupe_findings, Finding, ImageFacts, ImageIdentity, IngestError, Package, Report, SecretFinding, MAX_SECRETS};
use crate::domain::purl::PackageCoordinates;
use crate::domain::{Digest, ImageRef};
use app::types::Severity;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// A Trivy report (schema 2) as its JSON says it: the fields Drydock reads.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrivyReport {
    schema_version: i64,
    artifact_name: String,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    results: Option<Vec<TrivyResult>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    #[serde(default, rename = "OS")]
    os: Option<Os>,
    #[serde(default, rename = "ImageID")]
    image_id: Option<String>,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    repo_digests: Option<Vec<String>>,
    #[serde(default)]
    image_config: Option<ImageConfig>,
    #[serde(default, rename = "DiffIDs")]
    diff_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Os {
    family: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "EOSL")]
    eosl: Option<bool>,
}

#[derive(Deserialize)]
struct ImageConfig {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    created: Option<DateTime<Utc>>,
    #[serde(default)]
    config: Option<ContainerConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerConfig {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyResult {
    target: String,
    #[serde(default)]
    class: Option<String>,
    #[serde(default, rename = "Type")]
    kind: Option<String>,
    #[serde(default)]
    vulnerabilities: Option<Vec<Vulnerability>>,
    #[serde(default)]
    packages: Option<Vec<TrivyPackage>>,
    #[serde(default)]
    secrets: Option<Vec<TrivySecret>>,
}

/// A secret Trivy found: where and what kind. Its `Code` and `Match` (the secret's text) are never
/// read.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivySecret {
    #[serde(rename = "RuleID")]
    rule_id: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    start_line: Option<i64>,
    #[serde(default)]
    end_line: Option<i64>,
    #[serde(default)]
    layer: Option<SecretLayer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretLayer {
    #[serde(default, rename = "DiffID")]
    diff_id: Option<String>,
}

/// The secrets of one result, checked and bounded (the file is the result's target).
fn read_secrets(ri: usize, target: &str, list: Vec<TrivySecret>, out: &mut Vec<SecretFinding>) -> Result<(), IngestError> {
    for (si, s) in list.into_iter().enumerate() {
        let at = || format!("Trivy report: Results[{ri}].Secrets[{si}]");
        let text = |field: &str, v: Option<String>, max: usize| -> Result<String, IngestError> {
            let v = v.unwrap_or_default();
            if v.chars().count() > max || v.chars().any(char::is_control) {
                return Err(IngestError::Invalid(format!("{}.{field} is longer than {max} characters or holds control characters", at())));
            }
            Ok(v)
        };
        let rule_id = text("RuleID", Some(s.rule_id), 200)?;
        if rule_id.is_empty() {
            return Err(IngestError::Invalid(format!("{}.RuleID is empty", at())));
        }
        if out.len() >= MAX_SECRETS {
            return Err(IngestError::Invalid(format!("Trivy report: more than {MAX_SECRETS} secrets")));
        }
        out.push(SecretFinding {
            target: text("Target", Some(target.to_string()), 4096)?,
            rule_id,
            category: text("Category", s.category, 200)?,
            severity: Severity::from_scanner(s.severity.as_deref()),
            title: text("Title", s.title, 500)?,
            start_line: s.start_line.filter(|l| (0..=100_000_000).contains(l)),
            end_line: s.end_line.filter(|l| (0..=100_000_000).contains(l)),
            layer_diff_id: s.layer.and_then(|l| l.diff_id).filter(|d| d.len() <= 200),
        });
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PkgIdentifier {
    #[serde(default, rename = "PURL")]
    purl: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: String,
    pkg_name: String,
    #[serde(default)]
    installed_version: Option<String>,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    pkg_path: Option<String>,
    #[serde(default)]
    pkg_identifier: Option<PkgIdentifier>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default, rename = "PrimaryURL")]
    primary_url: Option<String>,
    #[serde(default, rename = "CVSS")]
    cvss: Option<BTreeMap<String, Cvss>>,
    #[serde(default)]
    published_date: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Cvss {
    #[serde(default, rename = "V3Score")]
    v3: Option<f64>,
    #[serde(default, rename = "V2Score")]
    v2: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    file_path: Option<String>,
    #[serde(default)]
    identifier: Option<PkgIdentifier>,
}

/// How errors name the format.
pub const LABEL: &str = "Trivy report";

/// The report a Trivy document makes (`super::parse` reads its JSON).
pub fn read(report: TrivyReport) -> Result<Report, IngestError> {
    if report.schema_version != 2 {
        return Err(IngestError::Invalid(format!("Trivy report: SchemaVersion {} is not supported (expected 2)", report.schema_version)));
    }
    let meta = report.metadata.unwrap_or_default();
    let image = identity(&meta)?;
    let config = meta.image_config.as_ref().and_then(|c| c.config.as_ref());
    let facts = ImageFacts {
        os_family: meta.os.as_ref().map(|o| o.family.to_ascii_lowercase()),
        eosl: meta.os.as_ref().and_then(|o| o.eosl),
        diff_ids: meta.diff_ids.clone().unwrap_or_default(),
        user: config.and_then(|c| c.user.clone()),
        labels: config.and_then(|c| c.labels.clone()).unwrap_or_default(),
    };
    let mut findings = Vec::new();
    let mut packages = HashSet::new();
    let mut secrets = Vec::new();
    for (ri, mut result) in report.results.unwrap_or_default().into_iter().enumerate() {
        if let Some(list) = result.secrets.take() {
            read_secrets(ri, &result.target, list, &mut secrets)?;
        }
        read_result(ri, result, facts.os_family.as_deref(), &mut findings, &mut packages)?;
    }
    let mut packages: Vec<Package> = packages.into_iter().collect();
    packages.sort_by(|a, b| (&a.package_type, &a.name, &a.version, &a.path).cmp(&(&b.package_type, &b.name, &b.version, &b.path)));
    Ok(Report {
        scanner: "trivy",
        format: "trivy-json",
        artifact: report.artifact_name,
        scanned_at: report.created_at,
        image,
        findings: dedupe_findings(findings),
        packages,
        vulnerability_data: true,
        facts,
        secrets,
    })
}

/// One result (a target: the OS or a language's lock file): its packages and findings.
fn read_result(
    ri: usize,
    result: TrivyResult,
    os_family: Option<&str>,
    findings: &mut Vec<Finding>,
    packages: &mut HashSet<Package>,
) -> Result<(), IngestError> {
    let pkg_type = result.kind.clone().or_else(|| result.class.clone()).unwrap_or_else(|| "unknown".into());
    // Language packages are found at a path; OS packages are not.
    let is_lang = result.class.as_deref() == Some("lang-pkgs");
    for p in result.packages.unwrap_or_default() {
        packages.insert(Package {
            package_type: pkg_type.clone(),
            version: p.version.unwrap_or_default(),
            purl: p.identifier.and_then(|i| i.purl),
            path: p.file_path.unwrap_or_else(|| if is_lang { result.target.clone() } else { String::new() }),
            name: p.name,
        });
    }
    for (vi, v) in result.vulnerabilities.unwrap_or_default().into_iter().enumerate() {
        if v.vulnerability_id.trim().is_empty() || v.pkg_name.trim().is_empty() {
            return Err(IngestError::Invalid(format!(
                "Trivy report: Results[{ri}].Vulnerabilities[{vi}] has an empty VulnerabilityID or PkgName"
            )));
        }
        let purl = v.pkg_identifier.and_then(|i| i.purl);
        let installed = v.installed_version.unwrap_or_default();
        let path = v.pkg_path.unwrap_or_default();
        packages.insert(Package {
            package_type: pkg_type.clone(),
            name: v.pkg_name.clone(),
            version: installed.clone(),
            purl: purl.clone(),
            path: path.clone(),
        });
        let cvss_score = v
            .cvss
            .as_ref()
            .and_then(|m| m.values().filter_map(|c| c.v3.or(c.v2)).fold(None, |acc: Option<f64>, s| Some(acc.map_or(s, |a| a.max(s)))));
        findings.push(Finding {
            coordinates: PackageCoordinates::for_package(purl.as_deref(), &pkg_type, os_family, &v.pkg_name),
            epss: None,
            severity: Severity::from_scanner(v.severity.as_deref()),
            vulnerability_id: v.vulnerability_id,
            package_name: v.pkg_name,
            installed_version: installed,
            package_path: path,
            package_type: pkg_type.clone(),
            purl,
            fixed_version: v.fixed_version.filter(|s| !s.is_empty()),
            title: v.title,
            url: v.primary_url,
            cvss_score,
            published: v.published_date,
        });
    }
    Ok(())
}

fn identity(meta: &Metadata) -> Result<Option<ImageIdentity>, IngestError> {
    let mut repo_digests = Vec::new();
    for (i, rd) in meta.repo_digests.iter().flatten().enumerate() {
        let r = ImageRef::parse(rd).map_err(|e| IngestError::Invalid(format!("Trivy report: Metadata.RepoDigests[{i}]: {e}")))?;
        let d = r
            .digest
            .clone()
            .ok_or_else(|| IngestError::Invalid(format!("Trivy report: Metadata.RepoDigests[{i}] {rd:?} has no @digest")))?;
        repo_digests.push((r, d));
    }
    let config_digest = match meta.image_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => Some(Digest::parse(id).map_err(|e| IngestError::Invalid(format!("Trivy report: Metadata.ImageID: {e}")))?),
        None => None,
    };
    if repo_digests.is_empty() && config_digest.is_none() {
        return Ok(None);
    }
    let mut tags = Vec::new();
    for (i, t) in meta.repo_tags.iter().flatten().enumerate() {
        let r = ImageRef::parse(t).map_err(|e| IngestError::Invalid(format!("Trivy report: Metadata.RepoTags[{i}]: {e}")))?;
        tags.push(r);
    }
    let os = meta.os.as_ref().map(|o| match &o.name {
        Some(n) => format!("{} {}", o.family, n),
        None => o.family.clone(),
    });
    Ok(Some(ImageIdentity {
        repo_digests,
        config_digest,
        tags,
        os,
        architecture: meta.image_config.as_ref().and_then(|c| c.architecture.clone()),
        created: meta.image_config.as_ref().and_then(|c| c.created),
    }))
}
