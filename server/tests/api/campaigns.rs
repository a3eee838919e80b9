//! Patch campaigns: items equal the estate search's answer, items closed only when the fix runs,
//! and the pages each role lands on (the escalation's tests are in `escalation.rs`).

use super::helpers::{fixture, TestApp, TestDb};
use chrono::{DateTime, Duration, Utc};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

on_both_databases!(campaign_items_equal_the_search, fixed_only_when_the_fix_runs);

/// The SLA's default days per severity (the vulnerability-sla policy's defaults).
fn sla_days(severity: &str) -> i64 {
    match severity {
        "critical" => 7,
        "high" => 30,
        "medium" => 90,
        _ => 180,
    }
}

pub(super) async fn post_report(app: &TestApp, token: &str, path: &str) {
    let r = app.client.post(app.url("/api/v1/scans")).bearer_auth(token).body(fixture(path)).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

pub(super) async fn own(app: &TestApp, admin: &str, prefix: &str, team: &str) {
    let r = app
        .client
        .post(app.url("/api/v1/ownership-rules"))
        .bearer_auth(admin)
        .json(&json!({"kind": "repository_prefix", "pattern": prefix, "team": team}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

pub(super) fn clock_at(t: &str) -> (Arc<drydock::clock::ManualClock>, drydock::clock::SharedClock) {
    let manual = drydock::clock::ManualClock::new(t.parse().unwrap());
    let shared: drydock::clock::SharedClock = manual.clone();
    (manual, shared)
}

pub(super) fn images(items: &Value) -> BTreeSet<(String, Option<String>)> {
    items.as_array().unwrap().iter().map(|i| (i["image"].as_str().unwrap().to_string(), i["team"].as_str().map(str::to_string))).collect()
}

async fn campaign_items_equal_the_search(db: TestDb) {
    let t0 = "2026-12-01T09:00:00Z";
    let (_, clock) = clock_at(t0);
    let app = TestApp::start_on(0, db, drydock::config::Config { jobs_worker: false, ..Default::default() }, clock).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    own(&app, &admin, "ghcr.io/aquasecurity/trivy-test-images", "web").await;
    for dir in ["trivy", "grype"] {
        for name in std::fs::read_dir(super::helpers::fixture_path(dir)).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()) {
            post_report(&app, &security, &format!("{dir}/{name}")).await;
        }
    }
    // By CVE, with a deadline: the items are the search's images and teams, every one open.
    let search = app.get_json("/api/v1/search?cve=CVE-2019-18276&limit=5000", &security).await;
    assert!(search["total"].as_i64().unwrap() >= 3, "{search}");
    let r = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(&security)
        .json(&json!({"title": "bash CVE-2019-18276", "cves": ["CVE-2019-18276"], "deadline": "2026-12-31"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(images(&created["items"]), images(&search["items"]));
    for i in created["items"].as_array().unwrap() {
        assert_eq!(i["state"], "open");
        assert_eq!(i["deadline"], "2026-12-31");
        assert!(i["id"].is_i64() && i["workloads"] == 0 && i["running"] == false, "{i}");
    }
    let id = created["id"].as_i64().unwrap();
    let again = app.get_json(&format!("/api/v1/campaigns/{id}"), &security).await;
    assert_eq!(again["items"], created["items"]);
    // Moving the deadline moves every open item's.
    let r = app
        .client
        .put(app.url(&format!("/api/v1/campaigns/{id}/deadline")))
        .bearer_auth(&security)
        .json(&json!({"deadline": "2027-01-15"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let moved: Value = r.json().await.unwrap();
    assert_eq!(moved["deadline"], "2027-01-15");
    assert!(moved["items"].as_array().unwrap().iter().all(|i| i["deadline"] == "2027-01-15"), "{moved}");
    let r = app
        .client
        .put(app.url("/api/v1/campaigns/999/deadline"))
        .bearer_auth(&security)
        .json(&json!({"deadline": "2027-01-15"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // By package and range, no deadline: each item's from the SLA (first sighting is now: t0).
    let q = "package=pkg:deb/debian/openssl&range=vers:deb/%3C1.1.1n-0%2Bdeb10u1";
    let search = app.get_json(&format!("/api/v1/search?{q}&limit=5000"), &security).await;
    assert!(search["total"].as_i64().unwrap() >= 1, "{search}");
    let r = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(&security)
        .json(&json!({"title": "old openssl", "package": "pkg:deb/debian/openssl", "range": "vers:deb/<1.1.1n-0+deb10u1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(images(&created["items"]), images(&search["items"]));
    let start: DateTime<Utc> = t0.parse().unwrap();
    for i in created["items"].as_array().unwrap() {
        let expected = (start + Duration::days(sla_days(i["severity"].as_str().unwrap()))).date_naive().to_string();
        assert_eq!(i["deadline"], expected.as_str(), "{i}");
    }

    // A developer of another team sees the campaign but none of web's items; may not create.
    let dev = app.token_with("dev-payments", "developer", Some("payments"), Default::default()).await;
    let seen = app.get_json(&format!("/api/v1/campaigns/{id}"), &dev).await;
    assert!(seen["items"].as_array().unwrap().iter().all(|i| i["team"] != "web"), "{seen}");
    let list = app.get_json("/api/v1/campaigns", &security).await;
    assert_eq!(list["total"], 2);
    let r = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(&dev)
        .json(&json!({"title": "x", "cves": ["CVE-1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Bad selectors name their field; unknown ids are 404.
    for (body, field) in [
        (json!({"title": "x"}), "cves"),
        (json!({"title": "x", "package": "pkg:deb/debian/openssl", "range": "vers:deb/<1.0-"}), "range"),
        (json!({"title": "x", "package": "pkg:deb/debian/openssl", "range": "1.0"}), "range"),
        (json!({"title": "x", "range": "vers:deb/<1.0"}), "package"),
        (json!({"title": "", "cves": ["CVE-1"]}), "title"),
        (json!({"title": "x", "cves": ["CVE-1"], "deadline": "2026-02-30"}), "deadline"),
        (json!({"title": "x", "cves": ["CVE-1"], "deadline": "1999-12-31"}), "deadline"),
        (json!({"title": "x", "cves": ["CVE-1"], "deadline": "+262142-12-31"}), "deadline"),
    ] {
        let r = app.client.post(app.url("/api/v1/campaigns")).bearer_auth(&security).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    assert_eq!(
        app.client.get(app.url("/api/v1/campaigns/999")).bearer_auth(&security).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.client.get(app.url("/api/v1/campaigns/abc")).bearer_auth(&security).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let ack = json!({"planned": "2026-12-10", "note": "x"});
    let r =
        app.client.post(app.url(&format!("/api/v1/campaigns/{id}/items/99999/ack"))).bearer_auth(&admin).json(&ack).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The creation is in the ledger with its actor.
    let entries = app.get_json("/api/v1/ledger/entries", &security).await;
    for kind in ["campaign.created", "campaign.deadline_changed"] {
        assert!(entries.as_array().unwrap().iter().any(|e| e["kind"] == kind && e["actor"] == "token:test-security"), "no {kind} entry");
    }
    app.db.drop_database().await;
}

/// A pod list running each (namespace, deployment, image digest) as a Deployment's rollout
/// does: a ReplicaSet per pod template (its hash in the name and the `pod-template-hash` label),
/// a new pod for a new image.
fn pods(workloads: &[(&str, &str, &str)]) -> Value {
    let items: Vec<Value> = workloads
        .iter()
        .map(|(ns, app, digest)| {
            let image = format!("registry.example.com/{app}@{digest}");
            let hash = &digest[7..17];
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{app}-{hash}-x7k2p"), "namespace": ns, "uid": format!("{ns}-{app}-{hash}"),
                             "labels": {"app": app, "pod-template-hash": hash},
                             "ownerReferences": [{"kind": "ReplicaSet", "name": format!("{app}-{hash}"), "controller": true}]},
                "spec": {"nodeName": "node-1", "containers": [{"name": app, "image": image}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": app, "image": image, "imageID": format!("docker-pullable://{image}"),
                           "ready": true, "state": {"running": {"startedAt": "2026-11-01T00:00:00Z"}}}]}
            })
        })
        .collect();
    // With a resourceVersion: the API server's answer, the whole cluster's state.
    json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": items})
}

async fn upload_pods(app: &TestApp, token: &str, cluster: &str, list: &Value) {
    let r = app.client.post(app.url(&format!("/api/v1/clusters/{cluster}/pods"))).bearer_auth(token).json(list).send().await.unwrap();

    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn item_state(app: &TestApp, token: &str, campaign: i64, image: &str) -> Value {
    let c = app.get_json(&format!("/api/v1/campaigns/{campaign}"), token).await;
    c["items"].as_array().unwrap().iter().find(|i| i["image"] == image).cloned().unwrap_or_else(|| panic!("no item of {image}: {c}"))
}

async fn fixed_only_when_the_fix_runs(db: TestDb) {
    let (manual, clock) = clock_at("2026-12-01T09:00:00Z");
    let app = TestApp::start_on(0, db, drydock::config::Config { jobs_worker: false, ..Default::default() }, clock.clone()).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    own(&app, &admin, "ghcr.io/aquasecurity/trivy-test-images", "web").await;
    for f in ["spring4shell-jre11.json", "distroless-base.json", "juice-shop-v10.2.0.json"] {
        post_report(&app, &security, &format!("trivy/{f}")).await;
    }
    let digest = |f: &str| -> String {
        let d: Value = serde_json::from_slice(&fixture(&format!("trivy/{f}"))).unwrap();
        let m = &d["Metadata"];
        m["RepoDigests"][0]
            .as_str()
            .and_then(|r| r.split_once('@'))
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| m["ImageID"].as_str().unwrap().into())
    };
    let (vulnerable, fixed) = (digest("spring4shell-jre11.json"), digest("distroless-base.json"));
    upload_pods(&app, &security, "prod", &pods(&[("shop", "fraud", &vulnerable), ("shop", "batch", &vulnerable)])).await;

    let r = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(&security)
        .json(&json!({"title": "Spring4Shell", "cves": ["CVE-2022-22965"], "deadline": "2026-12-20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_i64().unwrap();
    let item = item_state(&app, &security, id, &vulnerable).await;
    assert_eq!((item["running"].clone(), item["workloads"].clone(), item["team"].clone()), (json!(true), json!(2), json!("web")));

    let notifier = drydock::campaigns::Notifier::from_config(&Default::default()).unwrap();
    let pass = |at: DateTime<Utc>| {
        let (store, notifier) = (app.db.store.clone(), notifier.clone());
        async move { drydock::campaigns::pass(&store, &notifier, "test", at).await.unwrap() }
    };
    // A rescan of the affected image and a new registry tag change nothing.
    manual.advance(Duration::hours(1));
    post_report(&app, &security, "trivy/spring4shell-jre11.json").await;
    let tag = drydock::domain::ImageRef::parse("registry.example.com/fraud:2.0").unwrap();
    app.db.store.place_tag(&tag, &fixed, &drydock::store::Actor::cli(), clock.now()).await.unwrap();
    pass(clock.now()).await;
    assert_eq!(item_state(&app, &security, id, &vulnerable).await["state"], "open");

    // One workload moves to a digest never scanned: pending verification, not fixed.
    let unscanned = format!("sha256:{}", "ab".repeat(32));
    manual.advance(Duration::minutes(5));
    upload_pods(&app, &security, "prod", &pods(&[("shop", "fraud", &unscanned), ("shop", "batch", &unscanned)])).await;
    pass(clock.now()).await;
    assert_eq!(item_state(&app, &security, id, &vulnerable).await["state"], "pending_verification");
    // One runs the affected image again: not fixed (open).
    manual.advance(Duration::minutes(5));
    upload_pods(&app, &security, "prod", &pods(&[("shop", "fraud", &fixed), ("shop", "batch", &vulnerable)])).await;
    pass(clock.now()).await;
    assert_eq!(item_state(&app, &security, id, &vulnerable).await["state"], "open");
    // Both run a scanned image the CVE is not in: fixed, and the closure is in the ledger.
    manual.advance(Duration::minutes(5));
    upload_pods(&app, &security, "prod", &pods(&[("shop", "fraud", &fixed), ("shop", "batch", &fixed)])).await;
    let report = pass(clock.now()).await;
    assert!(report.changed >= 1, "{report:?}");
    let item = item_state(&app, &security, id, &vulnerable).await;
    assert_eq!(item["state"], "fixed", "{item}");
    assert!(item["closed_at"].is_string());
    let entries = app.get_json("/api/v1/ledger/entries", &security).await;
    assert!(entries.as_array().unwrap().iter().any(|e| e["kind"] == "campaign.refreshed" && e["actor"] == "system:escalation"));

    // An image that runs nowhere stays open however often the pass runs (and escalates).
    let juice = digest("juice-shop-v10.2.0.json");
    let r = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(&security)
        .json(&json!({"title": "juice", "package": "pkg:npm/jsonwebtoken", "deadline": "2026-12-05"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let c: Value = r.json().await.unwrap();
    let juice_campaign = c["id"].as_i64().unwrap();
    for days in [1, 10, 30] {
        pass(clock.now() + Duration::days(days)).await;
    }
    let item = item_state(&app, &security, juice_campaign, &juice).await;
    assert_eq!((item["state"].clone(), item["running"].clone()), (json!("open"), json!(false)), "{item}");
    // Once every workload behind an item is gone, it is retired.
    manual.advance(Duration::minutes(5));
    upload_pods(&app, &security, "prod", &pods(&[("shop", "fraud", &vulnerable)])).await;
    let r = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(&security)
        .json(&json!({"title": "again", "cves": ["CVE-2022-22965"], "deadline": "2026-12-20"}))
        .send()
        .await
        .unwrap();
    let again = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    manual.advance(Duration::minutes(5));
    upload_pods(&app, &security, "prod", &pods(&[])).await;
    pass(clock.now()).await;
    assert_eq!(item_state(&app, &security, again, &vulnerable).await["state"], "retired");
    app.db.drop_database().await;
}

/// The pages without JavaScript: each role lands on its home and sees only the links it may use;
/// a developer acknowledges with the plain form; security sees the campaign's burndown.
#[tokio::test]
async fn pages_land_each_role_home_and_the_forms_work() {
    use super::signin::{demo_app, demo_sign_in};
    let app = demo_app().await;
    let r = demo_sign_in(&app, "developer").await;
    assert_eq!(r.headers()["location"], "/updates", "a developer lands on the required updates");
    let html = app.client.get(app.url("/updates")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Spring4Shell"), "the demo's Spring4Shell campaign has a payments item");
    for hidden in ["href=\"/admin/tokens\"", "href=\"/admin/roles\"", "href=\"/exceptions\"", "href=\"/deliveries\""] {
        assert!(!html.contains(hidden), "a developer's navigation shows {hidden}");
    }
    assert!(html.contains("href=\"/updates\""));
    // The item's acknowledge form, posted as a browser without JavaScript would.
    let planned = (chrono::Utc::now() + Duration::days(40)).date_naive().to_string();
    let at = html.find("Spring4Shell").unwrap();
    let form = &html[at..];
    let action = form.split("action=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(action.ends_with("/ack"), "{action}");
    let r = app
        .client
        .post(app.url(&action))
        .header("Origin", &app.base)
        .form(&[("planned", planned.as_str()), ("note", "rebuild on jre17"), ("return_to", "/updates")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/updates");
    let html = app.client.get(app.url("/updates")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("planned {planned}: rebuild on jre17")), "the plan is shown");
    // From another site, the same form is refused (CSRF).
    let r = app
        .client
        .post(app.url(&action))
        .header("Origin", "http://evil.example")
        .form(&[("planned", planned.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The developer may not decide exceptions, nor read the delivery log.
    assert_eq!(app.client.get(app.url("/exceptions")).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    app.client.post(app.url("/auth/logout")).header("Origin", &app.base).send().await.unwrap();
    let r = demo_sign_in(&app, "manager").await;
    assert_eq!(r.headers()["location"], "/my-teams");
    app.client.post(app.url("/auth/logout")).header("Origin", &app.base).send().await.unwrap();
    let r = demo_sign_in(&app, "security").await;
    assert_eq!(r.headers()["location"], "/campaigns");
    let html = app.client.get(app.url("/campaigns")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Start a campaign") && html.contains("href=\"/exceptions\""));
    // The list's progress (counted in SQL) is the campaign's own: Spring4Shell has one item, not done.
    let api = app.get_json("/api/v1/campaigns", &app.token("security").await).await;
    let spring = api["items"].as_array().unwrap().iter().find(|c| c["title"] == "Spring4Shell (CVE-2022-22965)").unwrap().clone();
    let p = &spring["progress"];
    let done = p["fixed"].as_i64().unwrap() + p["retired"].as_i64().unwrap();
    assert!(html.contains(&format!("{done}/{} done", p["total"])), "the list shows the API's progress {p}");
    let link = html.split("href=\"/campaigns/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let html = app.client.get(app.url(&format!("/campaigns/{link}"))).send().await.unwrap().text().await.unwrap();
    let chart = html.split("id=\"burndown\"").nth(1).expect("a burndown figure");
    assert!(chart.contains("<svg") && chart.contains("<figcaption>Items not yet fixed"), "{chart}");
    assert!(html.contains("id=\"team-progress\""));
}
