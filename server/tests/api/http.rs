//! The HTTP API on the real app (port 0, SQLite file): statuses, bodies, and that a rejected
//! request writes nothing.

use super::helpers::{fixture, TestApp, TestDb};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::Value;

pub(super) async fn app() -> TestApp {
    TestApp::start_quiet(TestDb::sqlite().await, 1_000_000).await
}

pub(super) async fn post_scan(app: &TestApp, token: Option<&str>, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let mut req = app.client.post(app.url(&format!("/api/v1/scans{query}"))).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    super::openapi::checked_json("POST", "/api/v1/scans", req).await
}

#[tokio::test]
async fn a_report_is_created_then_recognised() {
    let app = app().await;
    let token = app.token("ingest").await;
    let body = fixture("trivy/juice-shop-v10.2.0.json");
    let (s1, b1) = post_scan(&app, Some(&token), "", body.clone()).await;
    assert_eq!(s1, StatusCode::CREATED, "{b1}");
    assert_eq!(b1["image"], "sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065");
    assert_eq!(b1["scanner"], "trivy");
    assert_eq!(b1["artifact"], "bkimminich/juice-shop:v10.2.0");
    let total: i64 = b1["findings"].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum();
    assert_eq!(total, 236);
    assert_eq!(b1["findings"]["critical"], 25);
    let counts = app.db.store.table_counts().await.unwrap();
    let (s2, b2) = post_scan(&app, Some(&token), "?format=trivy", body).await;
    assert_eq!(s2, StatusCode::OK);
    assert_eq!(b1, b2);
    assert_eq!(app.db.store.table_counts().await.unwrap(), counts);

    // The report without an image: 201, then 200, image null.
    let dojo = fixture("trivy/defectdojo-scheme_2_many_vulns.json");
    let (s3, b3) = post_scan(&app, Some(&token), "", dojo.clone()).await;
    assert_eq!(s3, StatusCode::CREATED);
    assert_eq!(b3["image"], Value::Null);
    assert_eq!(b3["findings"]["critical"], 1);
    let counts = app.db.store.table_counts().await.unwrap();
    let (s4, b4) = post_scan(&app, Some(&token), "", dojo).await;
    assert_eq!((s4, &b4), (StatusCode::OK, &b3));
    assert_eq!(app.db.store.table_counts().await.unwrap(), counts);
}

#[tokio::test]
async fn rejected_requests_name_the_problem_and_write_nothing() {
    let app = app().await;
    let ingest = app.token("ingest").await;
    let viewer = app.token("viewer").await;
    let good = fixture("trivy/alpine-310.json");
    let truncated = fixture("trivy/juice-shop-v10.2.0.json")[..5000].to_vec();
    let big = fixture("trivy/juice-shop-v10.2.0.json"); // 863 kB > 100 kB limit below
    let schema1 = br#"{"SchemaVersion": 1, "ArtifactName": "x", "Results": []}"#.to_vec();
    let missing = br#"{"SchemaVersion": 2, "Results": []}"#.to_vec();
    let wrong_type = br#"{"SchemaVersion": 2, "ArtifactName": "x", "Results": {"a": 1}}"#.to_vec();
    let small = TestApp::start_quiet(TestDb::sqlite().await, 100_000).await;
    let small_token = small.token("ingest").await;

    let before = app.db.store.table_counts().await.unwrap();
    type Case<'a> = (Option<&'a str>, &'a str, Vec<u8>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (None, "", good.clone(), StatusCode::UNAUTHORIZED, "Authorization"),
        (Some("ddk_not-a-token"), "", good.clone(), StatusCode::UNAUTHORIZED, "unknown or revoked"),
        (Some(&viewer), "", good.clone(), StatusCode::FORBIDDEN, "may not send reports"),
        (Some(&ingest), "", truncated, StatusCode::BAD_REQUEST, "not valid JSON"),
        (Some(&ingest), "", b"".to_vec(), StatusCode::BAD_REQUEST, "empty"),
        (Some(&ingest), "", br#"{"matches": []}"#.to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "not a report format"),
        (Some(&ingest), "?format=nessus", good.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "nessus"),
        (Some(&ingest), "", schema1, StatusCode::UNPROCESSABLE_ENTITY, "SchemaVersion 1"),
        (Some(&ingest), "", missing, StatusCode::UNPROCESSABLE_ENTITY, "ArtifactName"),
        (Some(&ingest), "", wrong_type, StatusCode::UNPROCESSABLE_ENTITY, "Results"),
    ];
    for (token, query, body, status, needle) in cases {
        let (s, b) = post_scan(&app, token, query, body).await;
        assert_eq!(s, status, "{needle}: {b}");
        let msg = b["error"].as_str().unwrap_or_else(|| panic!("JSON error body for {needle}: {b}"));
        assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
        assert_eq!(app.db.store.table_counts().await.unwrap(), before, "{needle}: nothing written");
    }

    let before = small.db.store.table_counts().await.unwrap();
    let (s, b) = post_scan(&small, Some(&small_token), "", big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
    assert!(b["error"].as_str().unwrap().contains("limit"));
    assert_eq!(small.db.store.table_counts().await.unwrap(), before);
}

#[tokio::test]
async fn images_list_detail_and_roles() {
    let app = app().await;
    let admin = app.token("admin").await;
    let ingest = app.token("ingest").await;
    for name in ["juice-shop-v10.2.0.json", "alpine-310.json", "debian-buster.json"] {
        let (s, _) = post_scan(&app, Some(&ingest), "", fixture(&format!("trivy/{name}"))).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let get = |path: String, token: String| {
        let c = app.client.clone();
        let url = app.url(&path);
        async move {
            let r = c.get(url).bearer_auth(token).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, list) = get("/api/v1/images".into(), admin.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 3);
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let first = &list["items"][0];
    for key in ["digest", "repositories", "team", "findings", "aliases"] {
        assert!(first.get(key).is_some(), "image entries carry {key}: {first}");
    }
    for bucket in ["critical", "high", "medium", "low", "negligible", "unknown"] {
        assert!(first["findings"][bucket].is_i64(), "{bucket}");
    }
    let (_, page) = get("/api/v1/images?limit=1&offset=1".into(), admin.clone()).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0], list["items"][1]);
    assert_eq!(page["total"], 3);
    let (_, clamped) = get("/api/v1/images?limit=100000".into(), admin.clone()).await;
    assert_eq!(clamped["items"].as_array().unwrap().len(), 3);
    let (s, bad) = get("/api/v1/images?limit=ten".into(), admin.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(bad["error"].as_str().unwrap().contains("limit"));

    // One image by its config digest: the list entry plus scans.
    let cfg = "sha256:21ef0dc04325e8ee21e385dc672460ed6b5c058cef1fedb84086ed5fca3f91cd";
    let (s, one) = get(format!("/api/v1/images/{cfg}"), admin.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["digest"], "sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065");
    assert_eq!(one["scans"].as_array().unwrap().len(), 1);
    let entry = list["items"].as_array().unwrap().iter().find(|i| i["digest"] == one["digest"]).unwrap();
    for (k, v) in entry.as_object().unwrap() {
        assert_eq!(&one[k], v, "detail field {k} equals the list entry");
    }
    let (s, _) = get(format!("/api/v1/images/sha256:{}", "0".repeat(64)), admin.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get("/api/v1/images/not-a-digest".into(), admin.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Ingest tokens read nothing.
    let (s, b) = get("/api/v1/images".into(), ingest.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
}

#[tokio::test]
async fn ownership_rules_are_admin_managed() {
    let app = app().await;
    let admin = app.token("admin").await;
    let viewer = app.token("viewer").await;
    let ingest = app.token("ingest").await;
    post_scan(&app, Some(&ingest), "", fixture("trivy/juice-shop-v10.2.0.json")).await;
    let rule = serde_json::json!({"kind": "repository_prefix", "pattern": "docker.io/bkimminich", "team": "storefront"});
    let r = app.client.post(app.url("/api/v1/ownership-rules")).bearer_auth(&viewer).json(&rule).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.client.post(app.url("/api/v1/ownership-rules")).bearer_auth(&admin).json(&rule).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["images"], 1);
    let r = app.client.post(app.url("/api/v1/ownership-rules")).bearer_auth(&admin).json(&rule).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "duplicate pattern");
    let r = app
        .client
        .post(app.url("/api/v1/ownership-rules"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"kind": "repository_prefix", "pattern": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("team"));
    let list: Value = app.get_json("/api/v1/ownership-rules", &viewer).await;
    assert_eq!(list["total"], 1);
    let img: Value = app.get_json("/api/v1/images", &viewer).await;
    assert_eq!(img["items"][0]["team"], "storefront");
}

#[tokio::test]
async fn health_and_pages_without_sign_in_configured() {
    let app = TestApp::process(TestDb::sqlite().await, &[], &[]).await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({"status": "ok"}));
    let ingest = app.token("ingest").await;
    post_scan(&app, Some(&ingest), "", fixture("trivy/juice-shop-v10.2.0.json")).await;
    // No OIDC, no --demo: Drydock starts, pages say what to set and show no estate data.
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("Sign-in is not configured"), "{html}");
    assert!(!html.contains("Storefront") && !html.contains("236"));
    let r = app.client.get(app.url("/auth/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().await.unwrap().contains("DRYDOCK_OIDC_ISSUER"));
    let r = app.client.get(app.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test]
async fn grype_and_cyclonedx_reports_go_through_the_same_endpoint() {
    let app = TestApp::start_quiet(TestDb::sqlite().await, 10_000_000).await;
    let token = app.token("ingest").await;
    let viewer = app.token("viewer").await;
    let (s, b) = post_scan(&app, Some(&token), "", fixture("grype/defectdojo-many_vulns-python36.json")).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["scanner"], "grype");
    let total: i64 = b["findings"].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum();
    assert_eq!(total, 1509);
    assert_eq!(b["findings"]["negligible"], 681);
    let python = b["image"].as_str().unwrap().to_string();

    // An SBOM without vulnerability data: packages known, the image is "SBOM only".
    let mut sbom: Value = serde_json::from_slice(&fixture("cyclonedx/trivy-operator-alpine-3.18-cdx15.json")).unwrap();
    sbom.as_object_mut().unwrap().remove("vulnerabilities");
    let (s, b) = post_scan(&app, Some(&token), "", serde_json::to_vec(&sbom).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let alpine = b["image"].as_str().unwrap().to_string();
    let get = |d: String| {
        let req = app.client.get(app.url(&format!("/api/v1/images/{d}"))).bearer_auth(&viewer);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let img = get(alpine.clone()).await;
    assert_eq!(img["scan_state"], "sbom_only", "{img}");
    assert_eq!(img["last_scanned"], Value::Null);
    // The same image's BOM with (empty) vulnerability data: now scanned, by trivy, no findings.
    let (s, _) = post_scan(&app, Some(&token), "?format=cyclonedx", fixture("cyclonedx/trivy-operator-alpine-3.18-cdx15.json")).await;
    assert_eq!(s, StatusCode::CREATED);
    let img = get(alpine.clone()).await;
    assert_eq!(img["scan_state"], "scanned");
    assert_eq!(img["findings"]["critical"], 0);
    let scanners: Vec<&str> = img["scanners"].as_array().unwrap().iter().map(|s| s["scanner"].as_str().unwrap()).collect();
    assert_eq!(scanners, vec!["trivy", "trivy"], "one SBOM and one vulnerability report: {img}");

    // The same image (by its config digest) scanned by Grype too is still one image.
    let mut grype: Value = serde_json::from_slice(&fixture("grype/defectdojo-busybox-epss.json")).unwrap();
    let config = "sha256:8ca4688f4f356596b5ae539337c9941abc78eda10021d35cbc52659c74d9b443";
    grype["source"]["target"]["imageID"] = config.into();
    grype["source"]["target"].as_object_mut().unwrap().remove("repoDigests");
    let (s, b) = post_scan(&app, Some(&token), "", serde_json::to_vec(&grype).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["image"].as_str(), Some(alpine.as_str()), "matched by the config digest alias");
    let img = get(alpine).await;
    assert_eq!(img["findings"]["critical"], 1, "grype's findings count for the image: {img}");
    let list: Value = app.get_json("/api/v1/images", &viewer).await;
    assert_eq!(list["total"], 2, "python and alpine: {list}");
    assert!(list["items"].as_array().unwrap().iter().any(|i| i["digest"] == python.as_str()));
}

#[tokio::test]
async fn a_future_dated_report_is_flagged_and_cannot_freeze_the_image() {
    let app = app().await;
    let token = app.token("ingest").await;
    let mut v: Value = serde_json::from_slice(&fixture("trivy/juice-shop-v10.2.0.json")).unwrap();
    v["CreatedAt"] = Value::String("2999-01-01T00:00:00Z".into());
    for r in v["Results"].as_array_mut().unwrap() {
        r["Vulnerabilities"] = Value::Array(vec![]);
    }
    let (s, b) = post_scan(&app, Some(&token), "", serde_json::to_vec(&v).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["future_dated"], true);
    // The genuine, later rescan with four findings is current.
    let mut genuine: Value = serde_json::from_slice(&fixture("trivy/juice-shop-v10.2.0.json")).unwrap();
    genuine["CreatedAt"] = Value::String(chrono::Utc::now().to_rfc3339());
    for (i, r) in genuine["Results"].as_array_mut().unwrap().iter_mut().enumerate() {
        let keep = if i == 0 { 4 } else { 0 };
        if let Some(vs) = r["Vulnerabilities"].as_array_mut() {
            vs.truncate(keep);
        }
    }
    let (s, b) = post_scan(&app, Some(&token), "", serde_json::to_vec(&genuine).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["future_dated"], false);
    let viewer = app.token("viewer").await;
    let d = b["image"].as_str().unwrap();
    let image: Value = app.get_json(&format!("/api/v1/images/{d}"), &viewer).await;
    let open: i64 = image["findings"].as_object().unwrap().values().map(|n| n.as_i64().unwrap()).sum();
    assert_eq!(open, 4, "the report received last is current");
    let flags: Vec<bool> = image["scans"].as_array().unwrap().iter().map(|s| s["future_dated"].as_bool().unwrap()).collect();
    assert_eq!(flags, vec![false, true], "newest received first; the 2999 report is flagged");
    let last: chrono::DateTime<chrono::Utc> = image["last_scanned"].as_str().unwrap().parse().unwrap();
    assert!(last <= chrono::Utc::now(), "freshness never trusts a date in the future: {last}");
}
