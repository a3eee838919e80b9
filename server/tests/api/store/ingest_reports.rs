//! Reports stored: idempotent by content, counts, rescans resolving and reopening findings,
//! which report is current, Trivy and Grype of one image counted once, and an image's findings
//! across scanners the same when the same content is received again.

use super::*;
use crate::helpers::trivy_fixtures;
use crate::helpers::TestDb;
use app::types::FindingCounts;

on_both_backends!(
    ingest_is_idempotent_by_content,
    every_fixture_is_stored_with_its_counts,
    rescan_resolves_and_reopens_findings,
    the_report_received_last_is_current_whatever_its_date,
    trivy_and_grype_of_one_image_count_once,
    the_same_content_received_again_leaves_the_images_findings_as_they_were,
);

async fn ingest_is_idempotent_by_content(store: &Store) {
    let bytes = juice_shop();
    let now = Utc::now();
    let first = ingest_bytes(store, &bytes, now).await;
    let before = store.table_counts().await.unwrap();
    let second = ingest_bytes(store, &bytes, now).await;
    assert!(matches!(first, IngestOutcome::Created(_)));
    assert!(matches!(second, IngestOutcome::Duplicate(_)));
    assert_eq!(first.summary(), second.summary());
    assert_eq!(store.table_counts().await.unwrap(), before, "a duplicate writes nothing");
    let page = store.images(100, 0, None).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].findings.total(), 236);

    // A report without an image is idempotent too.
    let dojo = fixture("trivy/defectdojo-scheme_2_many_vulns.json");
    let a = ingest_bytes(store, &dojo, now).await;
    let before = store.table_counts().await.unwrap();
    let b = ingest_bytes(store, &dojo, now).await;
    assert!(matches!(a, IngestOutcome::Created(_)) && matches!(b, IngestOutcome::Duplicate(_)));
    assert_eq!(a.summary().image, None);
    assert_eq!(a.summary().findings.total(), 5);
    assert_eq!(store.table_counts().await.unwrap(), before);
    let o = store.overview().await.unwrap();
    assert_eq!((o.images, o.scans, o.unmatched_reports), (1, 2, 1));
}

async fn every_fixture_is_stored_with_its_counts(store: &Store) {
    let now = Utc::now();
    let mut expected_total = FindingCounts::default();
    let mut images = 0;
    for name in trivy_fixtures() {
        let bytes = fixture(&format!("trivy/{name}"));
        let report = ingest::parse(&bytes, None).unwrap();
        let outcome = ingest_bytes(store, &bytes, now).await;
        assert_eq!(outcome.summary().findings, report.counts(), "{name}");
        if let Some(d) = &outcome.summary().image {
            images += 1;
            expected_total = expected_total.merged(&report.counts());
            let detail = store.image_detail(&crate::helpers::digest(d), None).await.unwrap().expect("image by primary digest");
            assert_eq!(detail.image.findings, report.counts(), "{name}: image counts");
            assert_eq!(detail.scans.len(), 1);
            // Found by the config digest too.
            if let Some(cfg) = report.image.as_ref().and_then(|i| i.config_digest.clone()) {
                let by_cfg =
                    store.image_detail(&crate::helpers::digest(cfg.as_str()), None).await.unwrap().expect("image by config digest");
                assert_eq!(by_cfg.image.digest, detail.image.digest);
            }
            assert_eq!(detail.image.team, None, "no rules yet: unowned");
        }
    }
    let o = store.overview().await.unwrap();
    assert_eq!(o.images, images);
    assert_eq!(o.teams.iter().fold(o.unowned_findings, |a, t| a.merged(&t.findings)), expected_total);
    assert_eq!(o.unowned_images, images);
    assert_eq!(store.images(3, 0, None).await.unwrap().items.len(), 3);
    let all = store.images(1000, 0, None).await.unwrap();
    let again = store.images(1000, 0, None).await.unwrap();
    assert_eq!(all, again, "stable order");
    let paged: Vec<String> =
        [store.images(4, 0, None).await.unwrap(), store.images(4, 4, None).await.unwrap(), store.images(4, 8, None).await.unwrap()]
            .into_iter()
            .flat_map(|p| p.items.into_iter().map(|i| i.digest))
            .collect();
    assert_eq!(paged, all.items.iter().map(|i| i.digest.clone()).collect::<Vec<_>>());
}

async fn rescan_resolves_and_reopens_findings(store: &Store) {
    let (first, _) = juice_shop_variant("2026-01-01T00:00:00Z", 0);
    let (second, removed) = juice_shop_variant("2026-01-02T00:00:00Z", 10);
    let (third, _) = juice_shop_variant("2026-01-03T00:00:00Z", 0);
    // Received a month after the reports' own dates: first sighting is Drydock's receipt.
    let received: Vec<DateTime<Utc>> =
        ["2026-02-01T09:00:00Z", "2026-02-02T09:00:00Z", "2026-02-03T09:00:00Z"].iter().map(|t| t.parse().unwrap()).collect();
    let d = ingest_bytes(store, &first, received[0]).await.summary().image.clone().unwrap();
    ingest_bytes(store, &second, received[1]).await;
    let view = store.image_view(&crate::helpers::digest(&d), None).await.unwrap().unwrap();
    assert_eq!(view.image.image.findings.total(), 226);
    let resolved: Vec<_> = view.findings.iter().filter(|f| f.resolved_at.is_some()).collect();
    assert_eq!(resolved.len(), 10);
    let t2: DateTime<Utc> = "2026-01-02T00:00:00Z".parse().unwrap();
    for f in &resolved {
        assert!(removed.contains(&f.vulnerability), "{} was not removed", f.vulnerability);
        assert_eq!(f.resolved_at, Some(t2), "resolved at the newer scan's time");
        assert_eq!(f.first_seen, received[0], "first seen when Drydock received the first report, not the scanner's date");
    }
    // Open findings keep their first sighting across rescans.
    assert!(view.findings.iter().filter(|f| f.resolved_at.is_none()).all(|f| f.first_seen == received[0]));
    assert_eq!(view.image.scans.len(), 2);
    // The finding comes back: reopened, not duplicated.
    ingest_bytes(store, &third, received[2]).await;
    let view = store.image_view(&crate::helpers::digest(&d), None).await.unwrap().unwrap();
    assert_eq!(view.image.image.findings.total(), 236);
    assert_eq!(view.findings.len(), 236);
    assert!(view.findings.iter().all(|f| f.resolved_at.is_none()));
    assert!(view.findings.iter().all(|f| f.first_seen == received[0]), "a reopened finding keeps its first sighting");
}

async fn the_report_received_last_is_current_whatever_its_date(store: &Store) {
    // Which report is current is decided by when Drydock received it; a report's own date is
    // evidence only (a scanner's clock, or a forger, may claim any date).
    let (newer, _) = juice_shop_variant("2026-02-01T00:00:00Z", 0);
    let (older, _) = juice_shop_variant("2026-01-01T00:00:00Z", 40);
    let now = Utc::now();
    let d = ingest_bytes(store, &newer, now).await.summary().image.clone().unwrap();
    let late = ingest_bytes(store, &older, now + chrono::Duration::seconds(1)).await;
    assert!(matches!(late, IngestOutcome::Created(_)));
    assert_eq!(late.summary().findings.total(), 196, "the response describes the report itself");
    let detail = store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap();
    assert_eq!(detail.image.findings.total(), 196, "received last, so current");
    assert_eq!(detail.scans.len(), 2);
    assert_eq!(detail.scans[0].scanned_at, "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap(), "newest received first");
    assert_eq!(detail.image.last_scanned, Some("2026-02-01T00:00:00Z".parse().unwrap()), "freshness: the freshest evidence");
    // A report dated far ahead (2999, no findings) is flagged, and a genuine rescan after it is
    // current: the image is not frozen, and its freshness never lies in the future.
    let mut future: Value = serde_json::from_slice(&juice_shop()).unwrap();
    future["CreatedAt"] = Value::String("2999-01-01T00:00:00Z".into());
    for r in future["Results"].as_array_mut().unwrap() {
        r["Vulnerabilities"] = Value::Array(vec![]);
    }
    let t = now + chrono::Duration::seconds(2);
    let out = ingest_bytes(store, &serde_json::to_vec(&future).unwrap(), t).await;
    assert!(out.summary().future_dated);
    assert_eq!(store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap().image.findings.total(), 0);
    let (genuine, _) = juice_shop_variant("2026-03-01T00:00:00Z", 40);
    ingest_bytes(store, &genuine, t + chrono::Duration::seconds(1)).await;
    let detail = store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap();
    assert_eq!(detail.image.findings.total(), 196, "the genuine rescan after the forged one is current");
    assert!(detail.image.last_scanned.unwrap() <= t, "freshness uses the earlier of report date and receipt");
    assert_eq!(detail.scans.iter().filter(|s| s.future_dated).count(), 1);
}

/// Juice Shop's real Trivy findings as Grype would report them on the same image: Grype's JSON
/// shape, the same packages and versions (package URLs as Trivy gave them), file locations for
/// OS packages (Grype gives them, Trivy does not), the first five findings missed, the next three
/// rated one step worse, and one finding Trivy does not have.
fn juice_shop_as_grype() -> Vec<u8> {
    let trivy: Value = serde_json::from_slice(&juice_shop()).unwrap();
    let mut matches = Vec::new();
    let mut k = 0;
    for r in trivy["Results"].as_array().unwrap() {
        let os = r["Class"] == "os-pkgs";
        for v in r["Vulnerabilities"].as_array().into_iter().flatten() {
            k += 1;
            if k <= 5 {
                continue;
            }
            let severity = match (k <= 8, v["Severity"].as_str().unwrap()) {
                (true, "LOW") => "Medium",
                (true, "MEDIUM") => "High",
                (true, "HIGH") => "Critical",
                (_, s) => s,
            };
            let path = if os { format!("/lib/apk/db/installed#{k}") } else { format!("/{}", v["PkgPath"].as_str().unwrap_or("")) };
            matches.push(serde_json::json!({
                "vulnerability": {"id": v["VulnerabilityID"], "severity": severity, "epss": [{"cve": v["VulnerabilityID"], "epss": 0.25, "percentile": 0.9, "date": "2026-11-01"}]},
                "artifact": {"name": v["PkgName"], "version": v["InstalledVersion"], "type": if os { "apk" } else { "npm" },
                             "purl": v["PkgIdentifier"]["PURL"], "locations": [{"path": path}]}
            }));
        }
    }
    matches.push(serde_json::json!({
        "vulnerability": {"id": "GHSA-grype-only", "severity": "Low"},
        "artifact": {"name": "busybox", "version": "1.31.1-r9", "type": "apk", "purl": "pkg:apk/alpine/busybox@1.31.1-r9?arch=x86_64", "locations": [{"path": "/bin/busybox"}]}
    }));
    serde_json::to_vec(&serde_json::json!({
        "matches": matches,
        "source": {"type": "image", "target": {"userInput": "bkimminich/juice-shop:v10.2.0", "repoDigests": trivy["Metadata"]["RepoDigests"]}},
        "distro": {"name": "alpine", "version": "3.11.5"},
        "descriptor": {"name": "grype", "version": "0.80.0", "timestamp": "2026-01-01T00:00:00Z"}
    }))
    .unwrap()
}

/// The severity order, worst first, for the test's own merge.
fn rank(s: &str) -> usize {
    ["critical", "high", "medium", "low", "negligible", "unknown"].iter().position(|x| x.eq_ignore_ascii_case(s)).unwrap_or(5)
}

async fn trivy_and_grype_of_one_image_count_once(store: &Store) {
    let trivy_bytes = juice_shop();
    let grype_bytes = juice_shop_as_grype();
    // The expected merge, from the raw documents: key (vulnerability, package, version, path for
    // npm packages only) → the worst severity.
    let mut expected: std::collections::BTreeMap<(String, String, String, String), usize> = Default::default();
    let trivy: Value = serde_json::from_slice(&trivy_bytes).unwrap();
    for r in trivy["Results"].as_array().unwrap() {
        for v in r["Vulnerabilities"].as_array().into_iter().flatten() {
            let path = if r["Class"] == "os-pkgs" { String::new() } else { v["PkgPath"].as_str().unwrap_or("").to_string() };
            let key = (
                v["VulnerabilityID"].as_str().unwrap().into(),
                v["PkgName"].as_str().unwrap().into(),
                v["InstalledVersion"].as_str().unwrap().into(),
                path,
            );
            let e = expected.entry(key).or_insert(5);
            *e = (*e).min(rank(v["Severity"].as_str().unwrap()));
        }
    }
    let grype: Value = serde_json::from_slice(&grype_bytes).unwrap();
    for m in grype["matches"].as_array().unwrap() {
        let a = &m["artifact"];
        let path = if a["type"] == "apk" {
            String::new()
        } else {
            a["locations"][0]["path"].as_str().unwrap().trim_start_matches('/').to_string()
        };
        let key = (
            m["vulnerability"]["id"].as_str().unwrap().into(),
            a["name"].as_str().unwrap().into(),
            a["version"].as_str().unwrap().into(),
            path,
        );
        let e = expected.entry(key).or_insert(5);
        *e = (*e).min(rank(m["vulnerability"]["severity"].as_str().unwrap()));
    }
    let mut want = app::types::FindingCounts::default();
    for r in expected.values() {
        want.add(app::types::Severity::ALL[*r], 1);
    }

    let t0: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
    let d = ingest_bytes(store, &trivy_bytes, t0).await.summary().image.clone().unwrap();
    let only_trivy = store.image_view(&crate::helpers::digest(&d), None).await.unwrap().unwrap();
    assert_eq!(only_trivy.image.image.findings.total(), 236);
    let t1 = t0 + chrono::Duration::days(3);
    let g = ingest_bytes(store, &grype_bytes, t1).await;
    assert_eq!(g.summary().image.as_deref(), Some(d.as_str()), "the same image");
    let view = store.image_view(&crate::helpers::digest(&d), None).await.unwrap().unwrap();
    assert_eq!(view.findings.len(), expected.len(), "one finding per vulnerability, package, version and path");
    assert_eq!(view.image.image.findings, want, "counted once, the worst severity winning");
    assert_eq!(expected.len(), 237, "Trivy's 236 and Grype's one of its own");
    // Both scanners name the shared ones; the first sighting is Trivy's receipt, the one only
    // Grype reports was first seen at Grype's.
    let shared = view.findings.iter().filter(|f| f.scanner == "grype,trivy").count();
    assert_eq!(shared, 236 - 5);
    assert!(view.findings.iter().filter(|f| f.scanner.contains("trivy")).all(|f| f.first_seen == t0));
    let own = view.findings.iter().find(|f| f.vulnerability == "GHSA-grype-only").unwrap();
    assert_eq!((own.first_seen, own.scanner.as_str(), own.package_path.as_str()), (t1, "grype", ""), "OS packages carry no path");
    // The team totals count the merged findings too.
    let totals = store.overview().await.unwrap();
    assert_eq!(totals.teams.iter().fold(totals.unowned_findings, |a, t| a.merged(&t.findings)), want);
}

/// An image's findings across scanners, every column, one line a finding in a stable order.
async fn image_vulnerability_rows(store: &Store, digest: &str) -> Vec<String> {
    const SQL: &str = "SELECT vulnerability_id || '|' || purl_type || '|' || purl_namespace || '|' || purl_name || '|' || package_name
            || '|' || installed_version || '|' || path_key || '|' || severity || '|' || COALESCE(fixed_version, '-')
            || '|' || COALESCE(CAST(epss AS TEXT), '-') || '|' || scanners || '|' || CAST(first_seen AS TEXT)
            || '|' || COALESCE(CAST(resolved_at AS TEXT), '-')
         FROM image_vulnerabilities WHERE image_id = (SELECT image_id FROM image_aliases WHERE digest = $1) ORDER BY 1";
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(SQL).bind(digest).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(SQL).bind(digest).fetch_all(p).await.unwrap(),
    }
}

/// A new image's findings across scanners are written from its first report; a known image's
/// are rebuilt from its stored findings. The same report received again a day later (other
/// bytes, the same content) takes the second path: every row, every column is as it was (first
/// seen at the first receipt), and the image's counts are its open findings. Juice Shop's
/// report gains findings that merge with others (`juice_shop_with_findings_that_merge`), so the
/// grouping, not only the copying, is compared.
async fn the_same_content_received_again_leaves_the_images_findings_as_they_were(store: &Store) {
    let t0: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
    let reports =
        [("grype python36", fixture("grype/defectdojo-many_vulns-python36.json")), ("juice shop", juice_shop_with_findings_that_merge())];
    for (name, bytes) in reports {
        let d = ingest_bytes(store, &bytes, t0).await.summary().image.clone().unwrap();
        let first = image_vulnerability_rows(store, &d).await;
        let counts = store.image_view(&crate::helpers::digest(&d), None).await.unwrap().unwrap().image.image.findings;
        assert!(first.len() > 200, "{name}: {} findings", first.len());
        assert_eq!(counts.total() as usize, first.len(), "{name}: the image's counts are its open findings");
        let again = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&bytes).unwrap()).unwrap();
        let outcome = ingest_bytes(store, &again, t0 + chrono::Duration::days(1)).await;
        assert!(matches!(outcome, IngestOutcome::Created(_)), "{name}: stored as a second report");
        assert_eq!(image_vulnerability_rows(store, &d).await, first, "{name}: rebuilt from the stored findings");
        if name == "juice shop" {
            assert_eq!(first.len(), 236, "the two added findings merge with others");
            let ajv = first.iter().find(|r| r.starts_with("CVE-2020-15366|npm||ajv|")).unwrap();
            let apk = first.iter().find(|r| r.starts_with("CVE-2021-36159|apk|alpine|apk-tools|")).unwrap();
            // The smallest name and the largest fixed version by their bytes, the worst severity,
            // the path without its leading `/`; an OS package whatever its name and path.
            assert!(ajv.contains("|AJV|5.5.2|usr/local/lib/node_modules/npm/node_modules/ajv/package.json|high|6.9.0|"), "{ajv}");
            assert!(apk.contains("|apk-tools|2.10.4-r3||critical|2.10.7-r0|"), "{apk}");
        }
    }
}

/// Juice Shop's report with two more findings, each merging with one already there: Ajv's first
/// finding again under its name in capitals at its path with a leading `/`, as high with an
/// earlier-sorting fix; apk-tools' first again under another name at a path, as low with no fix.
fn juice_shop_with_findings_that_merge() -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&juice_shop()).unwrap();
    let results = v["Results"].as_array_mut().unwrap();
    let os = results[0]["Vulnerabilities"].as_array_mut().unwrap();
    let mut apk = os[0].clone();
    assert_eq!((apk["PkgName"].as_str(), apk["Severity"].as_str()), (Some("apk-tools"), Some("CRITICAL")));
    apk["PkgName"] = "apk-tools-extra".into();
    apk["PkgPath"] = "/sbin/apk".into();
    apk["Severity"] = "LOW".into();
    apk.as_object_mut().unwrap().remove("FixedVersion");
    os.push(apk);
    let npm = results[1]["Vulnerabilities"].as_array_mut().unwrap();
    let mut ajv = npm[0].clone();
    assert_eq!(
        (ajv["PkgName"].as_str(), ajv["Severity"].as_str(), ajv["FixedVersion"].as_str()),
        (Some("ajv"), Some("MEDIUM"), Some("6.12.3"))
    );
    ajv["PkgName"] = "AJV".into();
    ajv["PkgPath"] = format!("/{}", ajv["PkgPath"].as_str().unwrap()).into();
    ajv["Severity"] = "HIGH".into();
    ajv["FixedVersion"] = "6.9.0".into();
    npm.push(ajv);
    serde_json::to_vec(&v).unwrap()
}
