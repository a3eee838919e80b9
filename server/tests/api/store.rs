//! The store suite: every test runs on SQLite and on PostgreSQL.

use super::helpers::{fixture, trivy_fixtures, TestDb};
use app::types::{FindingCounts, RuleKind};
use chrono::{DateTime, Duration, Utc};
use drydock::domain::ownership::RuleSpec;
use drydock::domain::TeamName;
use drydock::ingest;
use drydock::store::capabilities::*;
use drydock::store::{sha256_hex, Actor, IngestOutcome, Store};
use serde_json::Value;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                    db.cleanup().await;
                }
                #[tokio::test]
                async fn postgres() {
                    let db = super::TestDb::postgres().await;
                    super::$name(&db.store).await;
                    db.cleanup().await;
                }
            }
        )*
    };
}

on_both_backends!(
    ingest_is_idempotent_by_content,
    every_fixture_is_stored_with_its_counts,
    rescan_resolves_and_reopens_findings,
    the_report_received_last_is_current_whatever_its_date,
    ownership_longest_prefix_on_segment_boundaries,
    tokens_are_hashed_and_verified,
    every_change_appends_an_audit_event,
    role_mappings_are_unique_and_audited,
    trivy_and_grype_of_one_image_count_once,
    a_team_page_lists_its_images_worst_first_a_page_at_a_time,
    an_evaluation_writes_only_the_results_that_changed,
);

fn actor() -> Actor {
    Actor("test".into())
}

async fn ingest_bytes(store: &Store, bytes: &[u8], now: DateTime<Utc>) -> IngestOutcome {
    let report = ingest::parse(bytes, None).unwrap();
    store.ingest_report(&report, &sha256_hex(bytes), &actor(), now).await.unwrap()
}

fn juice_shop() -> Vec<u8> {
    fixture("trivy/juice-shop-v10.2.0.json")
}

/// Juice Shop with the report time set and the first `drop` OS findings removed.
fn juice_shop_variant(created_at: &str, drop: usize) -> (Vec<u8>, Vec<String>) {
    let mut v: Value = serde_json::from_slice(&juice_shop()).unwrap();
    v["CreatedAt"] = Value::String(created_at.into());
    let vulns = v["Results"][0]["Vulnerabilities"].as_array_mut().unwrap();
    let removed: Vec<String> = vulns.drain(..drop).map(|x| x["VulnerabilityID"].as_str().unwrap().to_string()).collect();
    (serde_json::to_vec(&v).unwrap(), removed)
}

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

async fn ownership_longest_prefix_on_segment_boundaries(store: &Store) {
    let now = Utc::now();
    let d = ingest_bytes(store, &juice_shop(), now).await.summary().image.clone().unwrap();
    let rule = |pattern: &str, team: &str| RuleSpec::parse(RuleKind::RepositoryPrefix, pattern, team).unwrap();
    // "bkimm" is not a whole segment of bkimminich/juice-shop.
    store.add_ownership_rule(&rule("docker.io/bkimm", "wrong"), &actor(), now).await.unwrap();
    assert_eq!(store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap().image.team, None);
    store.add_ownership_rule(&rule("docker.io/bkimminich", "web"), &actor(), now).await.unwrap();
    assert_eq!(store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap().image.team.as_deref(), Some("web"));
    // A longer prefix wins, with or without the registry and whatever the trailing slash.
    store.add_ownership_rule(&rule("bkimminich/juice-shop/", "shop"), &actor(), now).await.unwrap();
    assert_eq!(store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap().image.team.as_deref(), Some("shop"));
    let rules = store.ownership_rules().await.unwrap();
    let decided: Vec<(String, i64)> = rules.iter().map(|r| (r.pattern.clone(), r.subjects)).collect();
    assert!(decided.contains(&("bkimminich/juice-shop".into(), 1)));
    assert!(decided.contains(&("docker.io/bkimminich".into(), 0)));
    let team = store.team_view(&TeamName::parse("shop").unwrap(), 50, 0).await.unwrap().unwrap();
    assert_eq!((team.images.len(), team.total), (1, 1));
    assert_eq!(team.team.findings.total(), 236);
    assert!(store.team_view(&TeamName::parse("nobody").unwrap(), 50, 0).await.unwrap().is_none());
    // Duplicates and bad patterns are refused.
    assert!(store.add_ownership_rule(&rule("docker.io/bkimminich", "other"), &actor(), now).await.is_err());
    assert!(RuleSpec::parse(RuleKind::RepositoryPrefix, "a//b", "other").is_err());
    assert!(RuleSpec::parse(RuleKind::RepositoryPrefix, "acme", "Bad Team").is_err());
}

async fn tokens_are_hashed_and_verified(store: &Store) {
    let now = Utc::now();
    let secret = store
        .create_token("ci", "admin".parse().unwrap(), Some(&TeamName::parse("team-a").unwrap()), &Default::default(), &actor(), now)
        .await
        .unwrap();
    assert!(secret.starts_with("ddk_") && secret.len() > 40);
    let t = store.verify_token(&secret, now).await.unwrap().expect("valid token");
    assert_eq!(t.name, "ci");
    assert_eq!(t.team.as_deref(), Some("team-a"));
    assert!(store.verify_token("ddk_wrong", now).await.unwrap().is_none());
    let events = store.audit_events().await.unwrap();
    let dump = serde_json::to_string(&events).unwrap();
    assert!(!dump.contains(&secret), "the secret is never recorded");
}

async fn every_change_appends_an_audit_event(store: &Store) {
    let now = Utc::now();
    assert_eq!(store.audit_events().await.unwrap().len(), 0);
    ingest_bytes(store, &juice_shop(), now).await;
    let events = store.audit_events().await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "scan.ingested");
    assert_eq!(events[0].payload["findings"]["critical"], 25);
    assert_eq!(events[0].payload["report_sha256"], sha256_hex(&juice_shop()));
    ingest_bytes(store, &juice_shop(), now + Duration::seconds(1)).await; // duplicate: no change, no event
    assert_eq!(store.audit_events().await.unwrap().len(), 1);
    store.add_ownership_rule(&RuleSpec::parse(RuleKind::RepositoryPrefix, "bkimminich", "web").unwrap(), &actor(), now).await.unwrap();
    let kinds: Vec<String> = store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["scan.ingested", "team.created", "ownership_rule.created"]);
}

async fn role_mappings_are_unique_and_audited(store: &Store) {
    let now = Utc::now();
    let m = drydock::auth::mapping::parse("team-a-dev=developer:team-a").unwrap().remove(0);
    store.add_role_mapping(&m, &actor(), now).await.unwrap();
    assert!(store.add_role_mapping(&m, &actor(), now).await.is_err(), "the same mapping twice is refused");
    let rows = store.role_mapping_rows().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].idp_group.as_str(), rows[0].created_by.as_str()), ("team-a-dev", actor().0.as_str()));
    assert_eq!(
        store.role_mappings().await.unwrap(),
        vec![("team-a-dev".into(), "developer".into(), Some(TeamName::parse("team-a").unwrap()))]
    );
    store.delete_role_mapping(rows[0].id, &actor(), now).await.unwrap();
    assert!(store.delete_role_mapping(rows[0].id, &actor(), now).await.is_err());
    let kinds: Vec<String> = store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["team.created", "role_mapping.created", "role_mapping.deleted"]);
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

/// Every fixture image owned by one team; the team's pages of two, put together, are all of its
/// images in the order worked out here from the image list (most criticals first, then highs…).
async fn a_team_page_lists_its_images_worst_first_a_page_at_a_time(store: &Store) {
    let now = Utc::now();
    for name in trivy_fixtures() {
        ingest_bytes(store, &fixture(&format!("trivy/{name}")), now).await;
    }
    for image in store.images(1000, 0, None).await.unwrap().items {
        for repo in &image.repositories {
            let rule = RuleSpec::parse(RuleKind::RepositoryPrefix, &repo.repository, "everyone").unwrap();
            let _ = store.add_ownership_rule(&rule, &actor(), now).await;
        }
    }
    let mut expected: Vec<(FindingCounts, String)> = store
        .images(1000, 0, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|i| i.team.as_deref() == Some("everyone"))
        .map(|i| (i.findings, i.digest))
        .collect();
    assert!(expected.len() >= 5, "the fixtures hold several images: {}", expected.len());
    expected.sort_by(|a, b| (a.0.worst_first_key(), &a.1).cmp(&(b.0.worst_first_key(), &b.1)));
    let team = TeamName::parse("everyone").unwrap();
    let mut paged = Vec::new();
    for offset in (0..expected.len() as i64 + 2).step_by(2) {
        let page = store.team_view(&team, 2, offset).await.unwrap().unwrap();
        assert_eq!(page.total, expected.len() as i64);
        assert!(page.images.len() <= 2);
        paged.extend(page.images.into_iter().map(|i| (i.findings, i.digest)));
    }
    assert_eq!(paged, expected);
}

/// `replace_policy_results` writes what differs from the stored results, deletes what is no
/// longer judged and leaves the rest: the stored state always equals the last evaluation's.
async fn an_evaluation_writes_only_the_results_that_changed(store: &Store) {
    use drydock::store::{PolicyResultRecord, PolicyScoreRecord};
    // Microseconds: what both databases keep of a time.
    let t0 = DateTime::from_timestamp_micros(1_780_000_000_123_456).unwrap();
    let result = |i: usize, passed: bool| PolicyResultRecord {
        policy: "non-root".into(),
        subject_kind: "container".into(),
        subject: format!("c/ns/pod-{i}/app"),
        team: Some(format!("team-{}", i % 3)),
        environment: None,
        passed,
        reason: if passed { "runs as 1000".into() } else { "runs as root".into() },
        failing_since: (!passed).then_some(t0),
    };
    let scores = |rs: &[PolicyResultRecord]| -> Vec<PolicyScoreRecord> {
        let mut by = std::collections::BTreeMap::<String, (i64, i64)>::new();
        for r in rs {
            let e = by.entry(r.team.clone().unwrap_or_default()).or_default();
            e.0 += 1;
            e.1 += i64::from(!r.passed);
        }
        by.into_iter()
            .map(|(team, (subjects, failing))| PolicyScoreRecord { team, policy: "non-root".into(), subjects, failing, evaluated_at: t0 })
            .collect()
    };
    let first: Vec<PolicyResultRecord> = (0..1500).map(|i| result(i, i % 4 != 0)).collect();
    assert_eq!(store.replace_policy_results(&first, &scores(&first), t0).await.unwrap(), (1500, 0));
    assert_eq!(store.replace_policy_results(&first, &scores(&first), t0).await.unwrap(), (0, 0), "nothing changed");
    // One result starts failing, one passes again, 400 subjects (a hundred of them failing) are
    // gone, one is new.
    let mut second: Vec<PolicyResultRecord> =
        first.iter().filter(|r| !(1000..1400).any(|i| r.subject == format!("c/ns/pod-{i}/app"))).cloned().collect();
    second[5] = result(5, false);
    second[4] = result(4, true);
    second.push(result(2000, false));
    assert_eq!(store.replace_policy_results(&second, &scores(&second), t0).await.unwrap(), (3, 400));
    for team in ["team-0", "team-1", "team-2"] {
        let mut stored = store.failing_results(team, None, 10_000, 0).await.unwrap();
        let mut want: Vec<PolicyResultRecord> = second.iter().filter(|r| !r.passed && r.team.as_deref() == Some(team)).cloned().collect();
        stored.sort_by(|a, b| a.subject.cmp(&b.subject));
        want.sort_by(|a, b| a.subject.cmp(&b.subject));
        assert_eq!(stored, want, "{team}");
    }
    assert_eq!(store.policy_scores().await.unwrap(), scores(&second));
    // A day later the rule cannot tell since when (no failing_since): the failing results keep
    // their stored start (nothing to write), one that passed before starts failing then.
    let t1 = t0 + chrono::Duration::days(1);
    let mut third: Vec<PolicyResultRecord> = second.iter().cloned().map(|r| PolicyResultRecord { failing_since: None, ..r }).collect();
    third[4] = PolicyResultRecord { failing_since: None, ..result(4, false) };
    assert_eq!(store.replace_policy_results(&third, &scores(&third), t1).await.unwrap(), (1, 0));
    let all_failing: Vec<PolicyResultRecord> =
        futures_util::future::try_join_all(["team-0", "team-1", "team-2"].map(|t| store.failing_results(t, None, 10_000, 0)))
            .await
            .unwrap()
            .concat();
    assert_eq!(all_failing.len(), third.iter().filter(|r| !r.passed).count());
    for r in &all_failing {
        let want = if r.subject == "c/ns/pod-4/app" { t1 } else { t0 };
        assert_eq!(r.failing_since, Some(want), "{}", r.subject);
    }
}

/// SQLite's write-ahead log is copied into the database by the store's background checkpoint,
/// not inside the commits: a connection checkpoints only past 16,384 pages, and a report's pages
/// are copied within a few seconds of its commit with no one else asking. Read from the WAL
/// index in the `-shm` file (its header: `mxFrame` at byte 16, the last frame committed; its
/// checkpoint record: `nBackfill` at byte 96, the last frame copied), written in the machine's
/// byte order.
#[tokio::test]
async fn sqlite_checkpoints_its_log_in_the_background() {
    let db = TestDb::sqlite().await;
    let Store::Sqlite(pool) = &db.store else { unreachable!("an SQLite store") };
    let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(pool).await.unwrap();
    assert_eq!(pages, 16_384, "a commit does not checkpoint a log under 64 MB");
    ingest_bytes(&db.store, &juice_shop(), Utc::now()).await;
    let shm = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://").to_string() + "-shm");
    let word = |bytes: &[u8], at: usize| u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
    let mut seen = Vec::new();
    for _ in 0..100 {
        let index = std::fs::read(&shm).unwrap();
        let (committed, copied) = (word(&index, 16), word(&index, 96));
        seen.push((committed, copied));
        if committed > 0 && copied == committed {
            db.cleanup().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the report's frames were not copied into the database within 10 s: (committed, copied) {seen:?}");
}
