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

/// Trivy's `Secrets` (the juice-shop report's real one: a private key in `lib/insecurity.js`) are
/// stored per image with rule, category, severity, file and lines, listed by `/api/v1/secrets`
/// and shown on the image page — and the secret's text (`Code`, `Match`) is nowhere: not in the
/// answers, not on the page, not in the database file.
#[tokio::test]
async fn trivy_secrets_are_stored_and_shown_without_their_text() {
    let bytes = fixture("trivy/juice-shop-v10.2.0.json");
    let raw: Value = serde_json::from_slice(&bytes).unwrap();
    let mut expected = Vec::new();
    let mut texts = Vec::new();
    for r in raw["Results"].as_array().unwrap() {
        for s in r["Secrets"].as_array().into_iter().flatten() {
            expected.push((r["Target"].as_str().unwrap().to_string(), s["RuleID"].as_str().unwrap().to_string(), s["StartLine"].as_i64()));
            // The secret's text as Trivy reports it (Trivy masks the key material itself): the
            // match, and the lines of code it is on.
            texts.push(s["Match"].as_str().unwrap().trim().to_string());
            for line in s["Code"]["Lines"].as_array().into_iter().flatten().filter(|l| l["IsCause"] == true) {
                texts.push(line["Content"].as_str().unwrap().trim().to_string());
            }
        }
    }
    assert!(!expected.is_empty() && texts.iter().all(|t| t.len() >= 20), "the fixture holds a secret: {texts:?}");
    let report = ingest::parse(&bytes, Some(Format::Trivy)).unwrap();
    assert_eq!(report.secrets.len(), expected.len());

    // The demo estate loads this report through the same path as any upload.
    let app = super::signin::demo_app().await;
    let file = app.db.url.trim_start_matches("sqlite://").split('?').next().unwrap().to_string();
    let token = app.token("security").await;
    let list = app.get_json("/api/v1/secrets", &token).await;
    assert_eq!(list["total"].as_u64().unwrap() as usize, expected.len());
    let got: Vec<(String, String, Option<i64>)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap().to_string(), s["rule"].as_str().unwrap().to_string(), s["start_line"].as_i64()))
        .collect();
    assert_eq!(got, expected);
    let first = &list["items"][0];
    assert_eq!(first["severity"], "high");
    assert_eq!(first["category"], "AsymmetricPrivateKey");
    let digest = first["image"].as_str().unwrap().to_string();
    let detail = app.get_json(&format!("/api/v1/images/{digest}"), &token).await;
    super::signin::demo_sign_in(&app, "security").await;
    let page = app.client.get(app.url(&format!("/images/{digest}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("id=\"image-secrets\"") && page.contains("/juice-shop/lib/insecurity.js") && page.contains("private-key"),
        "the page lists it"
    );
    for t in &texts {
        assert!(!list.to_string().contains(t.as_str()) && !detail.to_string().contains(t.as_str()), "an answer holds the secret");
        assert!(!page.contains(t.as_str()), "the page holds the secret");
    }
    // The database (its file and its write-ahead log) holds none of it either.
    let mut stored = std::fs::read(&file).unwrap();
    stored.extend(std::fs::read(format!("{file}-wal")).unwrap_or_default());
    for t in &texts {
        assert!(!stored.windows(t.len()).any(|w| w == t.as_bytes()), "the database holds the secret's text");
    }
}
