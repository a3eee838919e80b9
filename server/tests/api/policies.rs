//! Policies judged on the fixture reports and pod lists, with the expected results computed here
//! from the raw files (dpkg deciding Debian versions); stored results, scorecards, CSV, snapshots
//! and time travel with a manual clock.

use super::helpers::{fixture, fixture_path, run_due_jobs, TestApp, TestDb};
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

on_both_databases!(policies_judge_the_fixtures);

pub(crate) fn dpkg_lt(a: &str, b: &str) -> bool {
    Command::new("dpkg").args(["--compare-versions", a, "lt", b]).status().unwrap().success()
}

/// Trivy fixtures that name an image: (file, digest, raw document).
pub(crate) fn trivy_images() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for name in std::fs::read_dir(fixture_path("trivy")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()) {
        let doc: Value = serde_json::from_slice(&fixture(&format!("trivy/{name}"))).unwrap();
        let m = &doc["Metadata"];
        let digest = m["RepoDigests"][0]
            .as_str()
            .and_then(|r| r.split_once('@'))
            .map(|(_, d)| d.to_string())
            .or_else(|| m["ImageID"].as_str().map(str::to_string));
        if let Some(d) = digest {
            out.push((name, d, doc));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A live, not terminated container of a raw pod list, as the policies judge it.
pub(crate) struct RawContainer {
    /// `cluster/namespace/pod/container`.
    pub key: String,
    pub cluster: String,
    pub namespace: String,
    /// The uid it runs as: its status, else its security context, else the pod's.
    pub uid: Option<i64>,
}

/// The live containers of raw pod lists uploaded as (cluster, file in `k8s-pods/`).
pub(crate) fn live_containers(lists: &[(&str, &str)]) -> Vec<RawContainer> {
    let mut out = Vec::new();
    for (cluster, file) in lists {
        let doc: Value = serde_json::from_slice(&fixture(&format!("k8s-pods/{file}"))).unwrap();
        for pod in doc["items"].as_array().unwrap() {
            let ns = pod["metadata"]["namespace"].as_str().unwrap();
            let name = pod["metadata"]["name"].as_str().unwrap();
            let ended = matches!(pod["status"]["phase"].as_str(), Some("Succeeded" | "Failed"));
            for c in pod["spec"]["containers"].as_array().unwrap() {
                let cname = c["name"].as_str().unwrap();
                let st = pod["status"]["containerStatuses"].as_array().into_iter().flatten().find(|s| s["name"] == cname);
                let terminated = st.is_some_and(|s| s["state"]["terminated"].is_object());
                if ended || terminated {
                    continue;
                }
                let uid = st
                    .and_then(|s| s["user"]["linux"]["uid"].as_i64())
                    .or(c["securityContext"]["runAsUser"].as_i64())
                    .or(pod["spec"]["securityContext"]["runAsUser"].as_i64());
                out.push(RawContainer {
                    key: format!("{cluster}/{ns}/{name}/{cname}"),
                    cluster: cluster.to_string(),
                    namespace: ns.to_string(),
                    uid,
                });
            }
        }
    }
    out
}

/// The images whose raw report has a fixable finding past the default SLA at `at` (first seen at
/// `t0`; KEV CVEs get 3 days when `kev` holds them).
fn expected_sla_failures(at: DateTime<Utc>, t0: DateTime<Utc>, kev: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, digest, doc) in trivy_images() {
        for r in doc["Results"].as_array().into_iter().flatten() {
            for v in r["Vulnerabilities"].as_array().into_iter().flatten() {
                if v["FixedVersion"].as_str().unwrap_or("").is_empty() {
                    continue;
                }
                let days = match v["Severity"].as_str().unwrap_or("") {
                    "CRITICAL" => 7,
                    "HIGH" => 30,
                    "MEDIUM" => 90,
                    "LOW" => 180,
                    _ => continue,
                };
                let days = if kev.contains(v["VulnerabilityID"].as_str().unwrap()) { days.min(3) } else { days };
                if t0 + Duration::days(days) < at {
                    out.insert(digest.clone());
                }
            }
        }
    }
    out
}

async fn results(app: &TestApp, token: &str, team: &str) -> Value {
    app.get_json(&format!("/api/v1/teams/{team}/scorecard"), token).await
}

/// Failing image digests of a policy, from the unowned team's card (no ownership rules here).
fn failing(card: &Value, policy: &str) -> BTreeSet<String> {
    card["failing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["policy"] == policy)
        .map(|f| f["subject"].as_str().unwrap().to_string())
        .collect()
}

async fn policies_judge_the_fixtures(db: TestDb) {
    let t0: DateTime<Utc> = "2026-06-01T12:00:00Z".parse().unwrap();
    let manual = drydock::clock::ManualClock::new(t0);
    let clock: drydock::clock::SharedClock = manual.clone();
    let config = drydock::config::Config { jobs_worker: false, ..Default::default() };
    let app = TestApp::start_on(0, db, config, clock.clone()).await;
    let security = app.token("security").await;
    for (name, _, _) in trivy_images() {
        let r =
            app.client.post(app.url("/api/v1/scans")).bearer_auth(&security).body(fixture(&format!("trivy/{name}"))).send().await.unwrap();
        assert!(r.status().is_success());
    }
    // Real pod lists (no image of them is known to Drydock) in a cluster whose kube-system is production.
    for (cluster, file) in [("minikube", "nri-k8s-1.35-kubelet-pods.json"), ("crash", "troubleshoot-crashloop-podlist.json")] {
        let r = app
            .client
            .post(app.url(&format!("/api/v1/clusters/{cluster}/pods")))
            .bearer_auth(&security)
            .body(fixture(&format!("k8s-pods/{file}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{file}: {}", r.status());
    }
    let admin = app.token("admin").await;
    let env = serde_json::json!({"cluster": "minikube", "namespace": "kube-*", "environment": "prod", "production": true});
    let r = app.client.post(app.url("/api/v1/environment-rules")).bearer_auth(&admin).json(&env).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    run_due_jobs(&app.db.store, &clock).await;
    let all: BTreeSet<String> = trivy_images().into_iter().map(|(_, d, _)| d).collect();

    // Day 0: nothing overdue; every image unsigned and in no approved registry.
    let card = results(&app, &security, "-").await;
    assert_eq!(failing(&card, "vulnerability-sla"), BTreeSet::new());
    assert_eq!(failing(&card, "signed"), all);
    assert_eq!(failing(&card, "approved-registry"), all);
    // Freshness counts from the earlier of the report's own date and its receipt.
    let stale = |at: DateTime<Utc>| -> BTreeSet<String> {
        trivy_images()
            .into_iter()
            .filter(|(_, _, d)| {
                let dated = d["CreatedAt"].as_str().and_then(|c| c.parse::<DateTime<Utc>>().ok()).unwrap_or(t0).min(t0);
                dated + Duration::days(7) < at
            })
            .map(|(_, d, _)| d)
            .collect()
    };
    assert_eq!(failing(&card, "scan-freshness"), stale(t0));
    // OS end of life: the reports stating EOSL true.
    let eol: BTreeSet<String> =
        trivy_images().into_iter().filter(|(_, _, d)| d["Metadata"]["OS"]["EOSL"] == true).map(|(_, d, _)| d).collect();
    assert_eq!(failing(&card, "os-end-of-life"), eol);
    assert!(!eol.is_empty());
    // Denylisted packages (the defaults): dpkg decides the Debian ones on the raw packages.
    let mut deny = BTreeSet::new();
    for (_, digest, doc) in trivy_images() {
        if doc["Metadata"]["OS"]["Family"] != "debian" {
            continue;
        }
        for r in doc["Results"].as_array().into_iter().flatten() {
            for p in r["Vulnerabilities"].as_array().into_iter().flatten().chain(r["Packages"].as_array().into_iter().flatten()) {
                let name = p["PkgName"].as_str().or(p["Name"].as_str()).unwrap_or("");
                let version = p["InstalledVersion"].as_str().or(p["Version"].as_str()).unwrap_or("");
                if (name == "openssl" && dpkg_lt(version, "1.1.1"))
                    || (name == "bash" && dpkg_lt(version, "4.3-9.1"))
                    || name == "libssl1.0.2"
                {
                    deny.insert(digest.clone());
                }
            }
        }
    }
    assert_eq!(failing(&card, "denylisted-packages"), deny);
    assert_eq!(deny.len(), 1, "distroless-base's openssl 1.1.0k");
    // Containers: not root unless a uid says so (their images are unknown, so no image user).
    let mut root = BTreeSet::new();
    let mut prod = BTreeSet::new();
    for c in live_containers(&[("minikube", "nri-k8s-1.35-kubelet-pods.json"), ("crash", "troubleshoot-crashloop-podlist.json")]) {
        if c.uid.is_none_or(|u| u == 0) {
            root.insert(c.key.clone());
        }
        if c.cluster == "minikube" && c.namespace.starts_with("kube-") {
            prod.insert(c.key);
        }
    }
    assert_eq!(failing(&card, "non-root"), root);
    assert_eq!(failing(&card, "promoted-before-production"), prod, "unknown images are not promoted");
    assert!(!prod.is_empty());

    // Time travel with the KEV catalogue uploaded: the SLA deadlines pass (KEV CVEs after 3 days).
    let r = app
        .client
        .post(app.url("/api/v1/kev"))
        .bearer_auth(&security)
        .body(fixture("kev/known_exploited_vulnerabilities.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let kev: BTreeSet<String> = serde_json::from_slice::<Value>(&fixture("kev/known_exploited_vulnerabilities.json")).unwrap()
        ["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["cveID"].as_str().unwrap().to_string())
        .collect();
    let spring = trivy_images().into_iter().find(|(f, _, _)| f == "spring4shell-jre11.json").unwrap().1;
    let mut card = Value::Null;
    for days in [2, 4, 8, 31, 91] {
        manual.set(t0 + Duration::days(days));
        run_due_jobs(&app.db.store, &clock).await;
        card = results(&app, &security, "-").await;
        let want = expected_sla_failures(clock.now(), t0, &kev);
        assert_eq!(failing(&card, "vulnerability-sla"), want, "day {days}");
        assert_eq!(want.contains(&spring), days >= 4, "CVE-2022-22965 is due under the KEV deadline (3 days), not critical's 7");
        if days == 4 {
            let f = card["failing"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["policy"] == "vulnerability-sla" && f["subject"] == spring.as_str())
                .unwrap();
            assert!(f["reason"].as_str().unwrap().contains("CVE-2022-22965") && f["reason"].as_str().unwrap().contains("KEV"), "{f}");
            assert_eq!(
                f["failing_since"].as_str().map(|s| s.parse::<DateTime<Utc>>().unwrap()),
                Some(t0 + Duration::days(3)),
                "failing since the deadline"
            );
        }
    }
    assert_eq!(failing(&card, "scan-freshness"), all, "scanned more than 7 days ago");
    assert_eq!(stale(clock.now()), all);

    // The scorecard's numbers are the stored results summed; the CSV says the same.
    let scores: BTreeMap<String, (i64, i64)> = card["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["policy"].as_str().unwrap().to_string(), (p["subjects"].as_i64().unwrap(), p["failing"].as_i64().unwrap())))
        .collect();
    assert_eq!(scores["signed"], (all.len() as i64, all.len() as i64));
    let mean = card["policies"].as_array().unwrap().iter().map(|p| p["score"].as_f64().unwrap()).sum::<f64>() / scores.len() as f64;
    assert!((card["score"].as_f64().unwrap() - mean).abs() < 1e-9);
    let csv = app.client.get(app.url("/api/v1/teams/-/scorecard.csv")).bearer_auth(&security).send().await.unwrap().text().await.unwrap();
    let signed_line = csv.lines().find(|l| l.starts_with("signed,")).unwrap();
    assert!(signed_line.contains(&format!(",{},{},0.0,F", all.len(), all.len())), "{signed_line}");

    // A policy switched off or scoped to a team judges nothing here; bad settings are refused.
    let body = serde_json::json!([{"id": "signed", "enabled": true, "scope": "team:payments"}, {"id": "os-end-of-life", "enabled": false}]);
    let r = app.client.put(app.url("/api/v1/policies")).bearer_auth(&security).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    run_due_jobs(&app.db.store, &clock).await;
    let card = results(&app, &security, "-").await;
    assert!(failing(&card, "signed").is_empty() && failing(&card, "os-end-of-life").is_empty());
    let listed = app.get_json("/api/v1/policies", &security).await;
    let signed = listed.as_array().unwrap().iter().find(|p| p["id"] == "signed").unwrap();
    assert_eq!((signed["scope"].as_str(), signed["updated_by"].as_str()), (Some("team:payments"), Some("token:test-security")));
    for (bad, field) in [
        (serde_json::json!([{"id": "nope", "enabled": true}]), "id"),
        (serde_json::json!([{"id": "vulnerability-sla", "enabled": true, "params": {"critical_days": -3}}]), "params"),
        (serde_json::json!([{"id": "signed", "enabled": true, "scope": "planet:mars"}]), "scope"),
    ] {
        let r = app.client.put(app.url("/api/v1/policies")).bearer_auth(&security).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(r.json::<Value>().await.unwrap()["field"], field, "{bad}");
    }
    let viewer = app.token("viewer").await;
    let r = app.client.put(app.url("/api/v1/policies")).bearer_auth(&viewer).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.client.get(app.url("/api/v1/teams/nosuch/scorecard")).bearer_auth(&viewer).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a team that does not exist");
    let bad = serde_json::json!({"cluster": "Not A Cluster", "namespace": "x", "environment": "prod", "production": true});
    let r = app.client.post(app.url("/api/v1/environment-rules")).bearer_auth(&admin).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "cluster");
    app.db.drop_database().await;
}

/// The subjects behind a policy's counts: `failing=true` totals the policy's failing count, rows
/// failing first; team-scoped roles see their teams' and no team's; a wrong question is a 422.
#[tokio::test]
async fn policy_results_list_the_subjects_behind_the_counts() {
    use super::signin::demo_app;
    let app = demo_app().await;
    let security = app.token("security").await;
    let policies = app.get_json("/api/v1/policies", &security).await;
    for p in policies.as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let failing = app.get_json(&format!("/api/v1/policy-results?policy={id}&failing=true&limit=5000"), &security).await;
        assert_eq!(failing["total"], p["failing"], "{id}: the list's total is the policy's failing count");
        assert_eq!(failing["items"].as_array().unwrap().len() as i64, p["failing"].as_i64().unwrap());
        assert!(failing["items"].as_array().unwrap().iter().all(|r| r["passed"] == false && r["policy"] == id));
        let all = app.get_json(&format!("/api/v1/policy-results?policy={id}&limit=5000"), &security).await;
        assert_eq!(all["total"], p["subjects"], "{id}: every judged subject");
        let passed: Vec<bool> = all["items"].as_array().unwrap().iter().map(|r| r["passed"].as_bool().unwrap()).collect();
        assert!(passed.windows(2).all(|w| w[0] <= w[1]), "{id}: failing first");
    }
    let manager = app.token_with("mgr", "manager", Some("payments"), Default::default()).await;
    let mine = app.get_json("/api/v1/policy-results?policy=non-root&limit=5000", &manager).await;
    assert!(mine["items"].as_array().unwrap().iter().all(|r| r["team"] == "payments" || r["team"].is_null()), "{mine}");
    assert!(mine["total"].as_i64().unwrap() > 0);
    for bad in [
        "/api/v1/policy-results?policy=no-such",
        "/api/v1/policy-results?policy=non-root&failing=maybe",
        "/api/v1/policy-results?policy=non-root&limit=0",
    ] {
        let r = app.client.get(app.url(bad)).bearer_auth(&security).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}
