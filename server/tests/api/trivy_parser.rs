//! The Trivy parser over every real report in `server/fixtures/trivy/`; expected values are
//! computed here from the raw JSON, independently of the parser.

use super::helpers::{fixture, trivy_fixtures};
use app::types::{FindingCounts, Severity};
use drydock::ingest::{self, Format, IngestError};
use serde_json::Value;

fn expected_counts(v: &Value) -> (usize, FindingCounts) {
    let mut counts = FindingCounts::default();
    let mut n = 0;
    for result in v["Results"].as_array().into_iter().flatten() {
        for vuln in result["Vulnerabilities"].as_array().into_iter().flatten() {
            n += 1;
            let sev = match vuln["Severity"].as_str() {
                Some("CRITICAL") => Severity::Critical,
                Some("HIGH") => Severity::High,
                Some("MEDIUM") => Severity::Medium,
                Some("LOW") => Severity::Low,
                _ => Severity::Unknown,
            };
            counts.add(sev, 1);
        }
    }
    (n, counts)
}

fn expected_primary_digest(v: &Value) -> Option<String> {
    let m = &v["Metadata"];
    if let Some(rd) = m["RepoDigests"].as_array().and_then(|a| a.first()).and_then(|s| s.as_str()) {
        return Some(rd.split('@').nth(1).unwrap().to_string());
    }
    m["ImageID"].as_str().map(str::to_string)
}

#[test]
fn every_fixture_parses_with_independent_counts_and_identity() {
    for name in trivy_fixtures() {
        let bytes = fixture(&format!("trivy/{name}"));
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let report = ingest::parse(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (n, counts) = expected_counts(&raw);
        assert_eq!(report.findings.len(), n, "{name}: finding count");
        assert_eq!(report.counts(), counts, "{name}: severity counts");
        assert_eq!(report.scanner, "trivy");
        assert_eq!(report.artifact, raw["ArtifactName"].as_str().unwrap(), "{name}: artifact");
        let primary = report.image.as_ref().and_then(|i| i.primary()).map(|d| d.to_string());
        assert_eq!(primary, expected_primary_digest(&raw), "{name}: image identity");
        // Explicitly named format gives the same result.
        let named = ingest::parse(&bytes, Some(Format::Trivy)).unwrap();
        assert_eq!(named.findings, report.findings, "{name}: ?format=trivy");
    }
}

#[test]
fn juice_shop_has_both_digests_and_236_findings() {
    let bytes = fixture("trivy/juice-shop-v10.2.0.json");
    let report = ingest::parse(&bytes, None).unwrap();
    assert_eq!(report.findings.len(), 236);
    let id = report.image.unwrap();
    assert_eq!(id.repo_digests.len(), 1);
    assert_eq!(id.repo_digests[0].0.repository.full(), "docker.io/bkimminich/juice-shop");
    assert_eq!(id.config_digest.unwrap().as_str(), "sha256:21ef0dc04325e8ee21e385dc672460ed6b5c058cef1fedb84086ed5fca3f91cd");
    assert_eq!(id.tags[0].tag.as_deref(), Some("v10.2.0"));
    assert_eq!(id.os.as_deref(), Some("alpine 3.11.5"));
    // Language packages carry their path; OS packages do not.
    assert!(report.findings.iter().any(|f| f.package_type == "node-pkg" && !f.package_path.is_empty()));
    assert!(report.findings.iter().any(|f| f.package_type == "alpine" && f.package_path.is_empty()));
}

#[test]
fn a_report_without_digests_has_no_image() {
    let report = ingest::parse(&fixture("trivy/defectdojo-scheme_2_many_vulns.json"), None).unwrap();
    assert!(report.image.is_none());
    assert_eq!(report.artifact, "teamdojo:latest");
}

#[test]
fn results_without_vulnerabilities_and_every_class_are_read() {
    // spring4shell has an os-pkgs result with no Vulnerabilities key, a lang-pkgs and a custom one.
    let bytes = fixture("trivy/spring4shell-jre11.json");
    let raw: Value = serde_json::from_slice(&bytes).unwrap();
    let classes: Vec<&str> = raw["Results"].as_array().unwrap().iter().map(|r| r["Class"].as_str().unwrap()).collect();
    assert!(classes.contains(&"custom"));
    assert!(raw["Results"].as_array().unwrap().iter().any(|r| r.get("Vulnerabilities").is_none()));
    let report = ingest::parse(&bytes, None).unwrap();
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn errors_name_the_problem() {
    assert!(matches!(ingest::parse(b"{\"SchemaVersion\": 2, ", None), Err(IngestError::NotJson(_))));
    assert!(matches!(ingest::parse(b"{\"hello\": 1}", None), Err(IngestError::UnknownFormat(_))));
    assert!(matches!(ingest::parse(b"[1,2]", None), Err(IngestError::UnknownFormat(_))));
    let e = ingest::parse(br#"{"SchemaVersion": 1, "ArtifactName": "x"}"#, None).unwrap_err();
    assert!(matches!(e, IngestError::Invalid(ref m) if m.contains("SchemaVersion 1")), "{e}");
    let e = ingest::parse(br#"{"SchemaVersion": 2}"#, None).unwrap_err();
    assert!(matches!(e, IngestError::Invalid(ref m) if m.contains("ArtifactName")), "{e}");
    let e = ingest::parse(
        br#"{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", "Vulnerabilities": [{"PkgName": "p"}]}]}"#,
        None,
    )
    .unwrap_err();
    assert!(matches!(e, IngestError::Invalid(ref m) if m.contains("VulnerabilityID") && m.contains("Results[0]")), "{e}");
    let e = ingest::parse(br#"{"SchemaVersion": 2, "ArtifactName": "x", "Metadata": {"ImageID": "sha256:nothex"}}"#, None).unwrap_err();
    assert!(matches!(e, IngestError::Invalid(ref m) if m.contains("ImageID")), "{e}");
}
