//! The Grype and CycloneDX parsers over every real file in `server/fixtures/{grype,cyclonedx}/`;
//! expected values are computed here from the raw JSON, independently of the parsers.

use super::helpers::{fixture, fixture_path};
use app::types::{FindingCounts, Severity};
use drydock::ingest::{self, Format, IngestError};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

fn files(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

fn bucket(word: Option<&str>) -> Severity {
    match word.map(|w| w.to_ascii_lowercase()).as_deref() {
        Some("critical") => Severity::Critical,
        Some("high") => Severity::High,
        Some("medium") => Severity::Medium,
        Some("low") => Severity::Low,
        Some("negligible") => Severity::Negligible,
        _ => Severity::Unknown,
    }
}

#[test]
fn every_grype_file_parses_with_independent_counts() {
    let names = files("grype");
    assert_eq!(names.len(), 3);
    for name in names {
        let bytes = fixture(&format!("grype/{name}"));
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let report = ingest::parse(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Unique by (id, artifact name, version, sorted location paths).
        let mut seen = HashSet::new();
        let mut counts = FindingCounts::default();
        for m in raw["matches"].as_array().unwrap() {
            let mut paths: Vec<&str> = m["artifact"]["locations"].as_array().unwrap().iter().map(|l| l["path"].as_str().unwrap()).collect();
            paths.sort();
            paths.dedup();
            let key = (
                m["vulnerability"]["id"].as_str().unwrap(),
                m["artifact"]["name"].as_str().unwrap(),
                m["artifact"]["version"].as_str().unwrap(),
                paths,
            );
            if seen.insert(key) {
                counts.add(bucket(m["vulnerability"]["severity"].as_str()), 1);
            }
        }
        assert_eq!(report.findings.len(), seen.len(), "{name}: finding count");
        assert_eq!(report.counts(), counts, "{name}: severity counts");
        assert_eq!(report.scanner, "grype");
        assert!(report.vulnerability_data);
        let target = &raw["source"]["target"];
        assert_eq!(report.artifact, target["userInput"].as_str().unwrap(), "{name}: artifact");
        // Identity: the first repoDigest when the report has one, else the config digest (imageID).
        let want = target["repoDigests"]
            .as_array()
            .and_then(|a| a.first())
            .map(|s| s.as_str().unwrap().split('@').nth(1).unwrap().to_string())
            .or_else(|| target["imageID"].as_str().map(str::to_string));
        let got = report.image.as_ref().and_then(|i| i.primary()).map(|d| d.to_string());
        assert_eq!(got, want, "{name}: image identity");
        let config = report.image.as_ref().and_then(|i| i.config_digest.as_ref()).map(|d| d.to_string());
        assert_eq!(config.as_deref(), target["imageID"].as_str(), "{name}: config digest");
        assert_eq!(ingest::parse(&bytes, Some(Format::Grype)).unwrap().findings, report.findings);
    }
}

#[test]
fn old_grype_schema_python36_has_1509_findings_681_negligible() {
    let report = ingest::parse(&fixture("grype/defectdojo-many_vulns-python36.json"), None).unwrap();
    assert_eq!(report.findings.len(), 1509);
    let c = report.counts();
    assert_eq!((c.negligible, c.unknown, c.high, c.medium, c.low, c.critical), (681, 76, 32, 613, 107, 0));
    // 0.7 has links and cvssV2 instead of dataSource and cvss[].
    let f = report.findings.iter().find(|f| f.vulnerability_id == "CVE-2011-3389").unwrap();
    assert_eq!(f.url.as_deref(), Some("https://security-tracker.debian.org/tracker/CVE-2011-3389"));
    assert_eq!(f.cvss_score, Some(4.3));
    assert_eq!(report.image.unwrap().os.as_deref(), Some("debian 10"));
}

#[test]
fn new_grype_schema_reads_fixes_and_missing_severity() {
    let report = ingest::parse(&fixture("grype/defectdojo-issue_9618-rhel8.json"), None).unwrap();
    let f = report.findings.iter().find(|f| f.vulnerability_id == "CVE-2023-38473").unwrap();
    assert_eq!(f.fixed_version.as_deref(), Some("0:0.7-21.el8_9.1"));
    assert_eq!(f.package_path, "/var/lib/rpm/Packages");
    assert_eq!(report.counts().unknown, 1, "the match without severity is unknown");
}

/// Components by bom-ref, walking nested components.
fn components(v: &Value) -> HashMap<String, Value> {
    fn walk(list: &Value, out: &mut HashMap<String, Value>) {
        for c in list.as_array().into_iter().flatten() {
            out.insert(c["bom-ref"].as_str().unwrap_or_default().to_string(), c.clone());
            walk(&c["components"], out);
        }
    }
    let mut out = HashMap::new();
    walk(&v["components"], &mut out);
    out
}

#[test]
fn every_cyclonedx_file_parses_with_independent_counts() {
    let names = files("cyclonedx");
    assert_eq!(names.len(), 3);
    for name in names {
        let bytes = fixture(&format!("cyclonedx/{name}"));
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let report = ingest::parse(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let by_ref = components(&raw);
        let mut counts = FindingCounts::default();
        let mut n = 0;
        for v in raw["vulnerabilities"].as_array().into_iter().flatten() {
            // The worst of the ratings.
            let sev = v["ratings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| bucket(r["severity"].as_str()))
                .filter(|s| *s != Severity::Unknown)
                .min()
                .unwrap_or(Severity::Unknown);
            for a in v["affects"].as_array().unwrap() {
                assert!(by_ref.contains_key(a["ref"].as_str().unwrap()), "{name}: affects a listed component");
                n += 1;
                counts.add(sev, 1);
            }
        }
        assert_eq!(report.findings.len(), n, "{name}: finding count");
        assert_eq!(report.counts(), counts, "{name}: severity counts");
        // Every library/application component is in the inventory (OS and container are not packages).
        let libraries: HashSet<(String, String)> = by_ref
            .values()
            .filter(|c| !matches!(c["type"].as_str(), Some("operating-system") | Some("container")))
            .map(|c| (c["name"].as_str().unwrap().to_string(), c["version"].as_str().unwrap_or_default().to_string()))
            .collect();
        let inventory: HashSet<(String, String)> = report.packages.iter().map(|p| (p.name.clone(), p.version.clone())).collect();
        assert_eq!(inventory, libraries, "{name}: package inventory");
        assert_eq!(report.artifact, raw["metadata"]["component"]["name"].as_str().unwrap());
        assert!(report.vulnerability_data, "{name}: has a vulnerabilities member");
        assert!(report.image.is_some(), "{name}: names its image");
        assert_eq!(ingest::parse(&bytes, Some(Format::CycloneDx)).unwrap().findings, report.findings);
    }
}

#[test]
fn cyclonedx_identity_by_tool() {
    // Trivy: RepoDigest and ImageID properties.
    let alpine = ingest::parse(&fixture("cyclonedx/trivy-operator-alpine-3.18-cdx15.json"), None).unwrap();
    let id = alpine.image.unwrap();
    assert_eq!(id.primary().unwrap().to_string(), "sha256:eece025e432126ce23f223450a0326fbebde39cdf496a85d8c016293fc851978");
    assert_eq!(id.config_digest.unwrap().to_string(), "sha256:8ca4688f4f356596b5ae539337c9941abc78eda10021d35cbc52659c74d9b443");
    assert_eq!(id.os.as_deref(), Some("alpine 3.18.4"));
    assert_eq!(alpine.scanner, "trivy");
    assert!(alpine.findings.is_empty());
    // Grype/Syft: the container component's version is the digest; tools as a 1.4 list.
    let grype = ingest::parse(&fixture("cyclonedx/secobserve-grype-0.59.1-cdx14.json"), None).unwrap();
    assert_eq!(grype.scanner, "grype");
    assert_eq!(
        grype.image.unwrap().primary().unwrap().to_string(),
        "sha256:88901af20b50287be153ec4f20ed78f947eb5fa0d0a52432ced6e261b66b6cbc"
    );
    // Trivy's recommendation carries the fixed version.
    let trivy = ingest::parse(&fixture("cyclonedx/secobserve-trivy-0.38.3-cdx14.json"), None).unwrap();
    let f = trivy.findings.iter().find(|f| f.vulnerability_id == "CVE-2023-29469").unwrap();
    assert_eq!(f.fixed_version.as_deref(), Some("2.10.4-r0"));
    assert_eq!(f.severity, Severity::Medium);
}

#[test]
fn a_bom_without_vulnerabilities_is_an_sbom_only() {
    let mut v: Value = serde_json::from_slice(&fixture("cyclonedx/trivy-operator-alpine-3.18-cdx15.json")).unwrap();
    v.as_object_mut().unwrap().remove("vulnerabilities");
    let report = ingest::parse(&serde_json::to_vec(&v).unwrap(), None).unwrap();
    assert!(!report.vulnerability_data);
    assert_eq!(report.packages.len(), 15);
}

#[test]
fn bad_boms_and_grype_reports_name_the_problem() {
    let mut v: Value = serde_json::from_slice(&fixture("cyclonedx/trivy-operator-alpine-3.18-cdx15.json")).unwrap();
    v["specVersion"] = "1.2".into();
    let e = ingest::parse(&serde_json::to_vec(&v).unwrap(), None).unwrap_err();
    assert!(matches!(&e, IngestError::Invalid(m) if m.contains("specVersion 1.2")), "{e}");

    let mut v: Value = serde_json::from_slice(&fixture("cyclonedx/secobserve-trivy-0.38.3-cdx14.json")).unwrap();
    v["vulnerabilities"][0]["affects"][0]["ref"] = "no-such-component".into();
    let e = ingest::parse(&serde_json::to_vec(&v).unwrap(), None).unwrap_err();
    assert!(matches!(&e, IngestError::Invalid(m) if m.contains("vulnerabilities[0].affects[0].ref")), "{e}");

    let mut v: Value = serde_json::from_slice(&fixture("grype/defectdojo-busybox-epss.json")).unwrap();
    v["matches"][3]["artifact"].as_object_mut().unwrap().remove("name");
    let e = ingest::parse(&serde_json::to_vec(&v).unwrap(), None).unwrap_err();
    assert!(matches!(&e, IngestError::Invalid(m) if m.contains("matches[3].artifact")), "{e}");
}
