//! The checklist on the demo estate: every question has a stable id, a status, an answer; every
//! evidence link is followed and its list's `total` equals the count the checklist gives; the
//! shellshock and outdated-SSL answers count what the estate search finds for the denylist's
//! ranges; a team-scoped role's checklist counts only what it may see.

use super::helpers::{fixture, TestApp, TestDb};
use super::policies::{dpkg_lt, live_containers, trivy_images};
use super::signin::demo_app;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::collections::BTreeSet;

on_both_databases!(answers_equal_sets_computed_from_the_raw_files);

#[tokio::test]
async fn every_evidence_link_is_a_list_whose_total_is_the_count() {
    let app = demo_app().await;
    drydock::risk::rank(&app.db.store, chrono::Utc::now()).await.unwrap();
    for token in [app.token("security").await, app.token_with("mgr", "manager", Some("payments"), Default::default()).await] {
        let c = app.get_json("/api/v1/checklist", &token).await;
        let items = c["items"].as_array().unwrap();
        assert_eq!(c["total"].as_u64().unwrap() as usize, items.len());
        let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        for id in [
            "shellshock",
            "outdated-ssl",
            "secrets",
            "root",
            "signing",
            "promotion",
            "base-image",
            "runtime-versions",
            "whats-running",
            "unaccounted",
            "after-gone",
            "patch-identify",
            "registry-rbac",
            "registry-auth",
            "dev-libraries",
            "vendor-owner",
            "patch-tell",
            "patch-force",
            "who-built",
            "who-ran",
        ] {
            assert!(ids.contains(&id), "{id} is answered: {ids:?}");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "ids are unique");
        for i in items {
            let status = i["status"].as_str().unwrap();
            assert!(["ok", "attention", "unknown"].contains(&status), "{i}");
            assert!(!i["answer"].as_str().unwrap().is_empty() && !i["answer"].as_str().unwrap().contains("(s)"), "{i}");
            let evidence = i["evidence"].as_array().unwrap();
            if status != "unknown" {
                assert!(!evidence.is_empty(), "an answered question links its evidence: {i}");
            }
            for e in evidence {
                let href = e["href"].as_str().unwrap();
                assert!(href.starts_with("/api/v1/"), "{href}");
                let list = app.get_json(href, &token).await;
                assert_eq!(list["total"], e["count"], "{}: {href}", i["id"]);
                assert!(list["items"].is_array(), "{href}");
            }
        }
        // Attention exactly when something was found.
        for i in items.iter().filter(|i| ["shellshock", "outdated-ssl", "secrets", "unaccounted"].contains(&i["id"].as_str().unwrap())) {
            let found: i64 = i["evidence"].as_array().unwrap().iter().map(|e| e["count"].as_i64().unwrap()).sum();
            assert_eq!(i["status"] == "attention", found > 0, "{i}");
        }
    }
    // The demo's storefront image carries the juice-shop report's real private key.
    let c = app.get_json("/api/v1/checklist", &app.token("security").await).await;
    let secrets = c["items"].as_array().unwrap().iter().find(|i| i["id"] == "secrets").unwrap().clone();
    assert_eq!(secrets["status"], "attention", "{secrets}");

    // The page lists every question with its status; the CSV holds a row per question.
    super::signin::demo_sign_in(&app, "security").await;
    let html = app.client.get(app.url("/checklist")).send().await.unwrap().text().await.unwrap();
    for i in c["items"].as_array().unwrap() {
        let row = format!("id=\"check-{}\" data-status=\"{}\"", i["id"].as_str().unwrap(), i["status"].as_str().unwrap());
        assert!(html.contains(&row), "{row}");
    }
    let r = app.client.get(app.url("/checklist.csv")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,section,question,status,answer,figures,evidence");
    assert_eq!(lines.len(), c["items"].as_array().unwrap().len() + 1);
    assert!(lines.iter().any(|l| l.starts_with("secrets,secrets,") && l.contains(",attention,")), "{csv}");
}

/// Every row of a list the checklist links to (one page of up to 1,000 rows; checked complete).
async fn rows(app: &TestApp, href: &str, token: &str) -> Vec<Value> {
    let sep = if href.contains('?') { '&' } else { '?' };
    let list = app.get_json(&format!("{href}{sep}limit=1000"), token).await;
    let items = list["items"].as_array().unwrap().clone();
    assert_eq!(list["total"].as_u64().unwrap() as usize, items.len(), "{href}: one page holds the list");
    items
}

fn answer<'a>(c: &'a Value, id: &str) -> &'a Value {
    c["items"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap_or_else(|| panic!("{id} is answered: {c}"))
}

/// The values of `field` in every row of every evidence list of `item`.
async fn evidence_values(app: &TestApp, item: &Value, field: &str, token: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in item["evidence"].as_array().unwrap() {
        for row in rows(app, e["href"].as_str().unwrap(), token).await {
            out.insert(row[field].as_str().unwrap().to_string());
        }
    }
    out
}

/// Whether rpm's own labelCompare orders `a` before `b`.
fn rpm_lt(a: &str, b: &str) -> bool {
    super::versions::reference("rpm", &[(a.to_string(), b.to_string())])[0].clone().unwrap() == Ordering::Less
}

/// Each raw report's (OS family, package, installed version) from its findings and package lists.
fn raw_packages(doc: &Value) -> Vec<(String, String, String)> {
    let family = doc["Metadata"]["OS"]["Family"].as_str().unwrap_or("").to_string();
    let mut out = Vec::new();
    for r in doc["Results"].as_array().into_iter().flatten() {
        for p in r["Vulnerabilities"].as_array().into_iter().flatten().chain(r["Packages"].as_array().into_iter().flatten()) {
            let name = p["PkgName"].as_str().or(p["Name"].as_str()).unwrap_or("");
            let version = p["InstalledVersion"].as_str().or(p["Version"].as_str()).unwrap_or("");
            out.push((family.clone(), name.to_string(), version.to_string()));
        }
    }
    out
}

/// The fixture reports and pod lists loaded through the API, with a registry read anonymously
/// notifying a push, and a cluster's audit log: an exec into a pod, a pod created, a list of pods
/// (a read, left out). The shellshock, outdated-SSL, root, application-library and unowned-image
/// answers equal the sets computed here from the raw files (dpkg and rpm's labelCompare deciding
/// versions); the registry, push and pod-access answers equal what was sent.
async fn answers_equal_sets_computed_from_the_raw_files(db: TestDb) {
    let config = drydock::config::Config { jobs_worker: false, ..Default::default() };
    let app = TestApp::start_with(db, config).await;
    let security = app.token("security").await;
    let admin = app.token("admin").await;
    for (name, _, _) in trivy_images() {
        let r =
            app.client.post(app.url("/api/v1/scans")).bearer_auth(&security).body(fixture(&format!("trivy/{name}"))).send().await.unwrap();
        assert!(r.status().is_success());
    }
    let lists = [("minikube", "nri-k8s-1.35-kubelet-pods.json"), ("crash", "troubleshoot-crashloop-podlist.json")];
    for (cluster, file) in lists {
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
    let registry = json!({"name": "corp", "url": "http://127.0.0.1:9"});
    let r = app.client.post(app.url("/api/v1/registries")).bearer_auth(&admin).json(&registry).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // juice-shop's manifest digest pushed by ci-bot, as the Distribution registry notifies it.
    let (_, pushed, _) = trivy_images().into_iter().find(|(f, _, _)| f.starts_with("juice-shop")).unwrap();
    let envelope = json!({"events": [{
        "id": "evt-1", "timestamp": "2026-11-27T10:00:00Z", "action": "push",
        "target": {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "repository": "shop/juice-shop", "digest": pushed, "tag": "10.2.0"},
        "actor": {"name": "ci-bot"}, "request": {"addr": "10.1.2.3:5000", "useragent": "buildkit"}
    }]});
    let r = app.client.post(app.url("/api/v1/registries/corp/events")).bearer_auth(&security).json(&envelope).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let pod = live_containers(&lists[1..]).into_iter().next().expect("the crash list has a live container");
    let pod_name = pod.key.split('/').nth(2).unwrap().to_string();
    let event = |id: &str, verb: &str, name: Option<&str>, sub: Option<&str>| {
        json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": id, "stage": "ResponseComplete",
            "verb": verb, "user": {"username": "erin@example.com", "groups": ["sre"]}, "sourceIPs": ["198.51.100.7"],
            "objectRef": {"resource": "pods", "namespace": pod.namespace, "name": name, "apiVersion": "v1", "subresource": sub},
            "responseStatus": {"code": 200}, "requestReceivedTimestamp": "2026-11-02T10:00:00.000000Z", "stageTimestamp": "2026-11-02T10:00:00.100000Z"})
        .to_string()
    };
    let log = [
        event("a-exec", "create", Some(&pod_name), Some("exec")),
        event("a-create", "create", Some(&pod_name), None),
        event("a-list", "list", None, None),
    ]
    .join("\n");
    let r = app.client.post(app.url("/api/v1/audit/k8s?cluster=crash")).bearer_auth(&security).body(log).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    drydock::policy::run(&app.db.store, &drydock::config::Config::default().promotion().unwrap(), chrono::Utc::now()).await.unwrap();
    let c = app.get_json("/api/v1/checklist", &security).await;

    // Image scanning: computed from each raw report's packages.
    let (mut shellshock, mut ssl) = (BTreeSet::new(), BTreeSet::new());
    for (_, digest, doc) in trivy_images() {
        for (family, name, version) in raw_packages(&doc) {
            match (family.as_str(), name.as_str()) {
                ("debian", "bash") if dpkg_lt(&version, "4.3-9.1") => shellshock.insert(digest.clone()),
                ("centos", "bash") if rpm_lt(&version, "4.2.46-12.el7") => shellshock.insert(digest.clone()),
                ("debian", "openssl") if dpkg_lt(&version, "1.1.1") => ssl.insert(digest.clone()),
                ("debian", "libssl1.0.2") => ssl.insert(digest.clone()),
                ("alpine", "openssl") => panic!("an alpine openssl needs apk ordering here"),
                _ => false,
            };
        }
    }
    for (id, expected) in [("shellshock", &shellshock), ("outdated-ssl", &ssl)] {
        let item = answer(&c, id);
        assert_eq!(&evidence_values(&app, item, "image", &security).await, expected, "{id}");
        assert_eq!(item["figures"]["images"].as_u64().unwrap() as usize, expected.len(), "{item}");
        assert_eq!(item["status"] == "attention", !expected.is_empty(), "{item}");
    }
    assert_eq!(ssl.len(), 1, "distroless-base's openssl 1.1.0k");

    // Root: the live containers with no uid or uid 0 (their images are unknown: no image user).
    let root: BTreeSet<String> = live_containers(&lists).into_iter().filter(|c| c.uid.is_none_or(|u| u == 0)).map(|c| c.key).collect();
    let item = answer(&c, "root");
    assert_eq!(evidence_values(&app, item, "subject", &security).await, root);
    assert_eq!(item["figures"]["failing"].as_u64().unwrap() as usize, root.len());
    assert_eq!(item["figures"]["judged"].as_u64().unwrap() as usize, live_containers(&lists).len());
    assert!(!root.is_empty());

    // Application libraries: language findings naming a fix, by package URL (without version) and version.
    let mut libraries = BTreeSet::new();
    for (_, _, doc) in trivy_images() {
        for v in doc["Results"].as_array().into_iter().flatten().flat_map(|r| r["Vulnerabilities"].as_array().into_iter().flatten()) {
            let purl = v["PkgIdentifier"]["PURL"].as_str().unwrap_or("");
            let os = ["pkg:deb/", "pkg:rpm/", "pkg:apk/"].iter().any(|p| purl.starts_with(p));
            if purl.is_empty() || os || v["FixedVersion"].as_str().unwrap_or("").is_empty() {
                continue;
            }
            let package = purl.split(['@', '?']).next().unwrap().replace("%40", "@");
            assert!(!package.contains('%'), "{package}");
            libraries.insert((package, v["InstalledVersion"].as_str().unwrap().to_string()));
        }
    }
    let item = answer(&c, "dev-libraries");
    let listed: BTreeSet<(String, String)> = rows(&app, "/api/v1/outdated-libraries", &security)
        .await
        .iter()
        .map(|r| (r["package"].as_str().unwrap().to_string(), r["version"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(listed, libraries);
    assert_eq!(item["figures"]["outdated_library_versions"].as_u64().unwrap() as usize, libraries.len());
    assert!(libraries.len() > 10, "juice-shop's npm packages and spring4shell's jar");

    // No ownership rule: every image is nobody's.
    let all: BTreeSet<String> = trivy_images().into_iter().map(|(_, d, _)| d).collect();
    let item = answer(&c, "vendor-owner");
    assert_eq!(
        rows(&app, "/api/v1/images?owner=none", &security)
            .await
            .iter()
            .map(|r| r["digest"].as_str().unwrap().to_string())
            .collect::<BTreeSet<_>>(),
        all
    );
    assert_eq!(item["figures"]["unowned_images"].as_u64().unwrap() as usize, all.len());
    assert_eq!(item["status"], "attention");

    // The registry is read without credentials; one push names who pushed one image.
    let item = answer(&c, "registry-auth");
    assert_eq!((item["status"].as_str(), item["figures"]["anonymous"].as_i64()), (Some("attention"), Some(1)), "{item}");
    let item = answer(&c, "who-built");
    assert_eq!(item["figures"]["pushed"], 1, "{item}");
    assert_eq!(item["figures"]["images"].as_u64().unwrap() as usize, all.len());
    let pushes = rows(&app, "/api/v1/pushes", &security).await;
    assert_eq!((pushes.len(), pushes[0]["actor"].as_str(), pushes[0]["digest"].as_str()), (1, Some("ci-bot"), Some(pushed.as_str())));

    // The exec and the creation count; the list of pods (a read) does not.
    let item = answer(&c, "who-ran");
    assert_eq!(
        (item["figures"]["pod_actions"].as_i64(), item["figures"]["exec"].as_i64(), item["status"].as_str()),
        (Some(2), Some(1), Some("attention"))
    );
    let exec = rows(&app, "/api/v1/pod-access?exec=true", &security).await;
    assert_eq!(
        (exec[0]["pod"].as_str(), exec[0]["subresource"].as_str(), exec[0]["username"].as_str()),
        (Some(pod_name.as_str()), Some("exec"), Some("erin@example.com"))
    );

    // Every evidence link's total is its count here too.
    for i in c["items"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            let list = app.get_json(e["href"].as_str().unwrap(), &security).await;
            assert_eq!(list["total"], e["count"], "{}", i["id"]);
        }
    }
    // Bad parameters are refused naming them.
    for (path, field) in [
        ("/api/v1/pod-access?exec=maybe", "exec"),
        ("/api/v1/registries?anonymous=1", "anonymous"),
        ("/api/v1/images?owner=me", "owner"),
        ("/api/v1/outdated-libraries?limit=0", "limit"),
    ] {
        let r = app.client.get(app.url(path)).bearer_auth(&security).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], field, "{path}: {body}");
    }
}
