//! Bad input refused the same way on both databases (the same status for each malformed report,
//! pod list or notification, nothing half-written), and concurrent reports of one new image landing
//! on that one image on both.

use super::hardening::add_registry;
use super::helpers::{fixture, TestApp, TestDb};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A Trivy report of juice-shop, made distinct by `seed`, with `edit` applied to its first finding.
fn juice_with(seed: usize, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture("trivy/juice-shop-v10.2.0.json")).unwrap();
    v["CreatedAt"] = json!(format!("2026-01-01T00:00:{:02}Z", seed % 60));
    v["Results"][0]["Vulnerabilities"].as_array_mut().unwrap().truncate(10 + seed);
    edit(&mut v["Results"][0]["Vulnerabilities"][0]);
    serde_json::to_vec(&v).unwrap()
}

/// The juice-shop Trivy report with its image pulled from `n` repositories, each with a tag.
fn juice_naming_repositories(n: usize) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture("trivy/juice-shop-v10.2.0.json")).unwrap();
    let digest = v["Metadata"]["RepoDigests"][0].as_str().unwrap().split_once('@').unwrap().1.to_string();
    v["Metadata"]["RepoDigests"] = json!((0..n).map(|i| format!("registry.example.com/team/app{i}@{digest}")).collect::<Vec<_>>());
    v["Metadata"]["RepoTags"] = json!((0..n).map(|i| format!("registry.example.com/team/app{i}:v1")).collect::<Vec<_>>());
    serde_json::to_vec(&v).unwrap()
}

fn pod_list(pods: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "7"}, "items": pods})).unwrap()
}

fn pod(uid: &str, name: &str, containers: &[&str]) -> Value {
    json!({"metadata": {"name": name, "namespace": "default", "uid": uid},
           "spec": {"containers": containers.iter().map(|c| json!({"name": c, "image": "nginx:1.27"})).collect::<Vec<_>>()},
           "status": {"phase": "Running"}})
}

/// Each malformed input, to each backend: (what, method, path, body, the status both must give).
fn malformed() -> Vec<(&'static str, &'static str, Vec<u8>, StatusCode)> {
    let audit_event = |user: &str| {
        serde_json::to_vec(&json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a-1", "stage": "ResponseComplete",
            "verb": "get", "user": {"username": user}, "sourceIPs": ["10.0.0.1"], "stageTimestamp": "2026-11-01T00:00:00Z"}))
        .unwrap()
    };
    vec![
        ("NUL in a package name", "/api/v1/scans", juice_with(1, |f| f["PkgName"] = json!("lib\u{0}x")), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "12 KB vulnerability id",
            "/api/v1/scans",
            juice_with(2, |f| f["VulnerabilityID"] = json!("CVE-".repeat(3072))),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("12,000 repositories named", "/api/v1/scans", juice_naming_repositories(12_000), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "2 KB package path",
            "/api/v1/scans",
            juice_with(3, |f| f["PkgPath"] = json!("p/".repeat(1024))),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a pod uid twice",
            "/api/v1/clusters/dup/pods",
            pod_list(json!([pod("u1", "a", &["c"]), pod("u1", "b", &["c"])])),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a container name twice",
            "/api/v1/clusters/dup/pods",
            pod_list(json!([pod("u2", "a", &["c", "c"])])),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "NUL in a pod name",
            "/api/v1/clusters/dup/pods",
            pod_list(json!([pod("u3", "a\u{0}b", &["c"])])),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "2 KB pod name",
            "/api/v1/clusters/dup/pods",
            pod_list(json!([pod("u4", &"n".repeat(2048), &["c"])])),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("NUL in an audit user", "/api/v1/audit/k8s?cluster=dup", audit_event("mallory\u{0}"), StatusCode::UNPROCESSABLE_ENTITY),
        ("2 KB audit user", "/api/v1/audit/k8s?cluster=dup", audit_event(&"u".repeat(2048)), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "NUL in an ownership rule",
            "/api/v1/ownership-rules",
            br#"{"kind":"repository_prefix","pattern":"docker.io/a\u0000b","team":"web"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "NUL in a notification actor",
            "/api/v1/registries/dup/events",
            br#"{"events":[{"id":"e","action":"push","target":{"repository":"a","tag":"v1"},"actor":{"name":"ci\u0000"}}]}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a 12 KB registry name",
            "/api/v1/registries",
            serde_json::to_vec(&json!({"name": "r".repeat(12288), "url": "https://r.example"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("a cluster name with NUL", "/api/v1/clusters/a%00b/pods", pod_list(json!([])), StatusCode::BAD_REQUEST),
        // The bound's edge is stored, on both.
        ("1,000 repositories named (the most)", "/api/v1/scans", juice_naming_repositories(1_000), StatusCode::CREATED),
    ]
}

async fn statuses_on(db: TestDb) -> Vec<(String, StatusCode)> {
    let app = TestApp::start_quiet(db, 10_000_000).await;
    add_registry(&app.db.store, "dup", "http://127.0.0.1:9", None).await;
    let admin = app.token("admin").await;
    let mut out = Vec::new();
    for (what, path, body, _) in malformed() {
        let before = app.db.store.table_counts().await.unwrap();
        let r = app.client.post(app.url(path)).bearer_auth(&admin).body(body).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(!status.is_server_error(), "{what}: {status} {text}");
        if status.is_client_error() {
            assert_eq!(app.db.store.table_counts().await.unwrap(), before, "{what}: refused, yet something was written");
        }
        out.push((format!("{what}: {text}"), status));
    }
    app.db.drop_database().await;
    out
}

#[tokio::test]
async fn malformed_input_gets_the_same_status_on_both_backends() {
    let sqlite = statuses_on(TestDb::sqlite().await).await;
    let postgres = statuses_on(TestDb::postgres().await).await;
    let mut table = String::from("\ninput                                   SQLite  PostgreSQL\n");
    for (((what, s), (_, p)), (_, _, _, want)) in sqlite.iter().zip(&postgres).zip(malformed()) {
        table.push_str(&format!("{:<40} {}     {}\n", what.split(':').next().unwrap(), s.as_u16(), p.as_u16()));
        assert_eq!(s, p, "{what}: SQLite {s}, PostgreSQL {p}");
        assert_eq!(*s, want, "{what}");
    }
    println!("{table}");
}

async fn concurrent_reports_land_on_one_image(db: TestDb) {
    let app = TestApp::start_quiet(db, 10_000_000).await;
    let token = app.token("ingest").await;
    let mut tasks = Vec::new();
    for seed in 0..8 {
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/scans"), token.clone());
        tasks.push(tokio::spawn(async move {
            let r = client.post(url).bearer_auth(token).body(juice_with(seed, |_| {})).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }));
    }
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let images = app.db.store.images(10, 0, None).await.unwrap();
    assert_eq!(images.total, 1, "all eight reports land on one image");
    let detail = app.db.store.image_detail(&crate::helpers::digest(&images.items[0].digest), None).await.unwrap().unwrap();
    assert_eq!(detail.scans.len(), 8);
    app.db.drop_database().await;
}

#[tokio::test]
async fn concurrent_reports_of_a_new_image_land_on_one_image_on_postgres() {
    concurrent_reports_land_on_one_image(TestDb::postgres().await).await;
}

#[tokio::test]
async fn concurrent_reports_of_a_new_image_land_on_one_image_on_sqlite() {
    concurrent_reports_land_on_one_image(TestDb::sqlite().await).await;
}
