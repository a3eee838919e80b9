//! The estate search (`GET /api/v1/search`) and the KEV upload (`POST /api/v1/kev`), on both
//! backends: every fixture report goes in through the API, and the answers are compared with
//! sets computed here from the raw files (dpkg itself deciding the Debian version ranges).

use super::helpers::{fixture, fixture_path, TestApp, TestDb};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

on_both_databases!(
    search_matches_the_raw_reports,
    a_package_at_several_paths_is_one_match_with_its_locations,
    bad_questions_are_refused_naming_the_field
);

/// (image digest, vulnerability, package name, installed version) from every raw report that
/// names an image, with each package's purl type and namespace.
type Row = (String, String, String, String);

/// A package's name as compared here: its last segment (a Maven `group:artifact`, an npm
/// `@scope/name`), lower case, `_` as `-` (package URLs normalise names so).
fn short(name: &str) -> String {
    name.rsplit(['/', ':']).next().unwrap_or(name).to_lowercase().replace('_', "-")
}

fn digest_of(repo_digest: Option<&str>, image_id: Option<&str>) -> Option<String> {
    repo_digest.and_then(|r| r.split_once('@')).map(|(_, d)| d.to_string()).or_else(|| image_id.map(str::to_string))
}

/// Every finding of the fixture reports: (row, purl type, purl namespace).
fn raw_findings() -> Vec<(Row, String, String)> {
    let mut out = Vec::new();
    for name in std::fs::read_dir(fixture_path("trivy")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()) {
        let doc: Value = serde_json::from_slice(&fixture(&format!("trivy/{name}"))).unwrap();
        let m = &doc["Metadata"];
        let Some(image) = digest_of(m["RepoDigests"][0].as_str(), m["ImageID"].as_str()) else { continue };
        let family = m["OS"]["Family"].as_str().unwrap_or("").to_string();
        for r in doc["Results"].as_array().into_iter().flatten() {
            for v in r["Vulnerabilities"].as_array().into_iter().flatten() {
                let purl = v["PkgIdentifier"]["PURL"].as_str().unwrap_or("");
                let (ptype, ns) = match purl.strip_prefix("pkg:").and_then(|p| p.split_once('/')) {
                    Some((t, rest)) => (t.to_string(), rest.rsplit_once('/').map(|(ns, _)| ns.to_string()).unwrap_or_default()),
                    None => (r["Type"].as_str().unwrap_or("").to_string(), family.clone()),
                };
                let row = (
                    image.clone(),
                    v["VulnerabilityID"].as_str().unwrap().into(),
                    short(v["PkgName"].as_str().unwrap()),
                    v["InstalledVersion"].as_str().unwrap_or("").into(),
                );
                out.push((row, ptype, ns));
            }
        }
    }
    for name in std::fs::read_dir(fixture_path("grype")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()) {
        let doc: Value = serde_json::from_slice(&fixture(&format!("grype/{name}"))).unwrap();
        let t = &doc["source"]["target"];
        let Some(image) = digest_of(t["repoDigests"][0].as_str(), t["imageID"].as_str()) else { continue };
        for m in doc["matches"].as_array().unwrap() {
            let a = &m["artifact"];
            let purl = a["purl"].as_str().unwrap_or("");
            let (ptype, ns) = match purl.strip_prefix("pkg:").and_then(|p| p.split('?').next()).and_then(|p| p.split_once('/')) {
                Some((t, rest)) => (t.to_string(), rest.rsplit_once('/').map(|(ns, _)| ns.to_string()).unwrap_or_default()),
                None => (a["type"].as_str().unwrap_or("").to_string(), String::new()),
            };
            let row = (
                image.clone(),
                m["vulnerability"]["id"].as_str().unwrap().into(),
                short(a["name"].as_str().unwrap()),
                a["version"].as_str().unwrap_or("").into(),
            );
            out.push((row, ptype, ns));
        }
    }
    out
}

async fn load(app: &TestApp, token: &str) {
    for dir in ["trivy", "grype"] {
        for name in std::fs::read_dir(fixture_path(dir)).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()) {
            let r =
                app.client.post(app.url("/api/v1/scans")).bearer_auth(token).body(fixture(&format!("{dir}/{name}"))).send().await.unwrap();
            assert!(r.status().is_success(), "{dir}/{name}: {}", r.status());
        }
    }
}

/// The answer's (image, vulnerability, package name, installed) rows.
fn answered(v: &Value) -> BTreeSet<Row> {
    let mut out = BTreeSet::new();
    for item in v["items"].as_array().unwrap() {
        for m in item["matches"].as_array().unwrap() {
            let name = short(m["package"].as_str().unwrap());
            out.insert((
                item["image"].as_str().unwrap().into(),
                m["vulnerability"].as_str().unwrap().into(),
                name,
                m["installed"].as_str().unwrap().into(),
            ));
        }
    }
    out
}

fn dpkg_lt(a: &str, b: &str) -> bool {
    Command::new("dpkg").args(["--compare-versions", a, "lt", b]).status().unwrap().success()
}

async fn search_matches_the_raw_reports(db: TestDb) {
    let app = TestApp::start(db, 64 << 20).await;
    let security = app.token("security").await;
    load(&app, &security).await;
    let raw = raw_findings();

    // By vulnerability: ids that occur once, several times, across images.
    let mut by_vuln: BTreeMap<&str, BTreeSet<Row>> = BTreeMap::new();
    for (row, _, _) in &raw {
        by_vuln.entry(row.1.as_str()).or_default().insert(row.clone());
    }
    let mut picked: Vec<&str> =
        by_vuln.iter().filter(|(_, rows)| rows.iter().map(|r| &r.0).collect::<BTreeSet<_>>().len() > 1).map(|(k, _)| *k).take(5).collect();
    picked.extend(by_vuln.keys().step_by(97).take(10));
    picked.push("CVE-2022-22965");
    assert!(picked.len() >= 10);
    for id in picked {
        let v = app.get_json(&format!("/api/v1/search?cve={id}"), &security).await;
        let want = &by_vuln[id];
        let got = answered(&v);
        // The merge across scanners may name a package once where two reports name it twice:
        // compare as sets.
        assert_eq!(&got, want, "cve={id}");
        assert_eq!(v["total"].as_u64().unwrap() as usize, want.iter().map(|r| &r.0).collect::<BTreeSet<_>>().len(), "cve={id}");
        assert_eq!(v["unique_vulnerabilities"], 1);
        assert_eq!(v["instances"].as_u64().unwrap() as usize, want.len(), "cve={id}");
        assert_eq!(v["registry_only_images"], v["total"], "nothing runs in this estate");
    }

    // By Debian package and range: every deb package of the raw reports, cut at one of its own
    // versions, dpkg deciding which installed versions are below it.
    let mut deb: BTreeMap<(String, String), BTreeSet<Row>> = BTreeMap::new();
    for (row, ptype, ns) in &raw {
        if ptype == "deb" {
            deb.entry((ns.clone(), row.2.clone())).or_default().insert(row.clone());
        }
    }
    let mut checked = 0;
    for ((ns, name), rows) in deb.iter().filter(|(_, r)| r.iter().map(|x| &x.3).collect::<BTreeSet<_>>().len() > 1).take(12) {
        let versions: BTreeSet<&String> = rows.iter().map(|r| &r.3).collect();
        let cut = versions.iter().nth(versions.len() / 2).unwrap().to_string();
        let want: BTreeSet<Row> = rows.iter().filter(|r| dpkg_lt(&r.3, &cut)).cloned().collect();
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let path = format!("/api/v1/search?package={}&range={}", enc(&format!("pkg:deb/{ns}/{name}")), enc(&format!("vers:deb/<{cut}")));
        let v = app.get_json(&path, &security).await;
        assert_eq!(answered(&v), want, "{path}");
        let distinct = |pick: fn(&Row) -> &String| want.iter().map(pick).collect::<BTreeSet<_>>().len() as u64;
        assert_eq!(v["total"].as_u64(), Some(distinct(|r| &r.0)), "{path}: images");
        assert_eq!(v["unique_vulnerabilities"].as_u64(), Some(distinct(|r| &r.1)), "{path}: vulnerabilities");
        assert_eq!(v["instances"].as_u64(), Some(want.len() as u64), "{path}: instances");
        checked += 1;
    }
    assert!(checked >= 3, "Debian packages with several versions in the reports: {checked}");

    // Paged: pages of two images, one after the other, are the whole answer in its order (the
    // most instances first, then by digest: nothing runs yet), each image with its matches.
    let (widest, _) = by_vuln.iter().max_by_key(|(_, rows)| rows.iter().map(|r| &r.0).collect::<BTreeSet<_>>().len()).unwrap();
    let whole = app.get_json(&format!("/api/v1/search?cve={widest}&limit=5000"), &security).await;
    let all = whole["items"].as_array().unwrap();
    assert!(all.len() >= 3, "{widest} is on {} images", all.len());
    let mut paged = Vec::new();
    for offset in (0..all.len()).step_by(2) {
        let page = app.get_json(&format!("/api/v1/search?cve={widest}&limit=2&offset={offset}"), &security).await;
        assert_eq!(page["total"], whole["total"]);
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(&paged, all);
    let key = |i: &Value| {
        let n: u64 = i["matches"].as_array().unwrap().iter().map(|m| m["locations"].as_u64().unwrap()).sum();
        (std::cmp::Reverse(n), i["image"].as_str().unwrap().to_string())
    };
    assert!(all.windows(2).all(|w| key(&w[0]) < key(&w[1])), "the most instances first, then by digest");

    // The KEV upload marks CVE-2022-22965 (and nothing absent from the catalogue).
    let before = app.get_json("/api/v1/search?cve=CVE-2022-22965", &security).await;
    assert!(before["items"][0]["matches"].as_array().unwrap().iter().all(|m| m["kev"] == false));
    let r = app
        .client
        .post(app.url("/api/v1/kev"))
        .bearer_auth(&security)
        .body(fixture("kev/known_exploited_vulnerabilities.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let info: Value = r.json().await.unwrap();
    assert_eq!((info["version"].as_str(), info["entries"].as_i64()), (Some("2025.08.25"), Some(1404)));
    let after = app.get_json("/api/v1/search?cve=CVE-2022-22965", &security).await;
    assert!(after["items"][0]["matches"].as_array().unwrap().iter().all(|m| m["kev"] == true));
    let other = app.get_json("/api/v1/search?cve=CVE-2019-14697", &security).await;
    assert!(other["items"].as_array().unwrap().iter().flat_map(|i| i["matches"].as_array().unwrap()).all(|m| m["kev"] == false));
    // EPSS comes through from Grype; null where a report has none.
    let busybox = app.get_json("/api/v1/search?cve=CVE-2022-28391", &security).await;
    assert!(busybox["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["matches"].as_array().unwrap())
        .any(|m| m["epss"].as_f64() == Some(0.0719)));

    // Juice Shop runs in a pod (the real pod fixture pointed at Juice Shop's digest) and belongs
    // to team shop: the search shows where it runs; a developer of another team sees neither the
    // image nor its workload, and the same estate-wide totals.
    let admin = app.token("admin").await;
    let rule = serde_json::json!({"kind": "repository_prefix", "pattern": "docker.io/bkimminich", "team": "shop"});
    let r = app.client.post(app.url("/api/v1/ownership-rules")).bearer_auth(&admin).json(&rule).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let mut pod: Value = serde_json::from_slice(&fixture("k8s-pods/kubectl-neat-pod1-raw.json")).unwrap();
    let juice = "sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065";
    pod["spec"]["containers"][0]["image"] = "bkimminich/juice-shop:v10.2.0".into();
    pod["status"]["containerStatuses"][0]["image"] = "bkimminich/juice-shop:v10.2.0".into();
    pod["status"]["containerStatuses"][0]["imageID"] = format!("docker-pullable://bkimminich/juice-shop@{juice}").into();
    let r = app.client.post(app.url("/api/v1/clusters/prod/pods")).bearer_auth(&security).json(&pod).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (_, juice_vuln) =
        by_vuln.iter().find(|(_, rows)| rows.len() == 1 && rows.iter().all(|r| r.0 == juice)).map(|(k, v)| (*k, v)).unwrap();
    let id = &juice_vuln.iter().next().unwrap().1;
    let v = app.get_json(&format!("/api/v1/search?cve={id}"), &security).await;
    assert_eq!(v["items"][0]["image"], juice);
    assert_eq!(v["items"][0]["team"], "shop");
    assert_eq!(
        v["items"][0]["running"],
        serde_json::json!([{"cluster": "prod", "namespace": "default", "workload": "Pod/myapp", "containers": 1}])
    );
    assert_eq!((v["running_images"].as_i64(), v["registry_only_images"].as_i64()), (Some(1), Some(0)));
    assert!(v["items"][0]["repositories"].as_array().unwrap().iter().any(|r| r == "docker.io/bkimminich/juice-shop"), "{v}");
    // Running images come first, whatever their number of instances.
    let (shared, _) = by_vuln
        .iter()
        .find(|(_, rows)| rows.iter().any(|r| r.0 == juice) && rows.iter().map(|r| &r.0).collect::<BTreeSet<_>>().len() > 1)
        .expect("a vulnerability Juice Shop shares with another image");
    let s = app.get_json(&format!("/api/v1/search?cve={shared}"), &security).await;
    assert_eq!(s["items"][0]["image"], juice, "cve={shared}: the running image first");
    assert_eq!(s["running_images"], 1);
    let dev = app.token_with("dev-web", "developer", Some("web"), Default::default()).await;
    let w = app.get_json(&format!("/api/v1/search?cve={id}"), &dev).await;
    assert_eq!((w["total"].as_i64(), w["items"].as_array().unwrap().len()), (Some(0), 0), "another team's image is not listed");
    for k in ["unique_vulnerabilities", "instances", "running_images", "registry_only_images"] {
        assert_eq!(w[k], v[k], "{k} is estate-wide");
    }

    app.db.drop_database().await;
}

/// juice-shop's report lists `debug` 4.1.1 under six applications' `node_modules`, each time with
/// CVE-2017-16137: the answer lists it once, with the paths counted here from the raw report; and
/// the matches' locations add up to the answer's `instances`.
async fn a_package_at_several_paths_is_one_match_with_its_locations(db: TestDb) {
    let app = TestApp::start(db, 64 << 20).await;
    let security = app.token("security").await;
    load(&app, &security).await;
    let cve = "CVE-2017-16137";
    let doc: Value = serde_json::from_slice(&fixture("trivy/juice-shop-v10.2.0.json")).unwrap();
    let image = digest_of(doc["Metadata"]["RepoDigests"][0].as_str(), doc["Metadata"]["ImageID"].as_str()).unwrap();
    let mut paths: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in doc["Results"].as_array().into_iter().flatten() {
        for v in r["Vulnerabilities"].as_array().into_iter().flatten().filter(|v| v["VulnerabilityID"] == cve) {
            let key = (short(v["PkgName"].as_str().unwrap()), v["InstalledVersion"].as_str().unwrap().to_string());
            paths.entry(key).or_default().insert(v["PkgPath"].as_str().unwrap().to_string());
        }
    }
    assert!(paths.values().any(|p| p.len() > 1), "the report lists a package at several paths");

    let v = app.get_json(&format!("/api/v1/search?cve={cve}"), &security).await;
    let item = v["items"].as_array().unwrap().iter().find(|i| i["image"] == image.as_str()).expect("juice-shop is affected");
    let mut got: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in item["matches"].as_array().unwrap() {
        let key = (short(m["package"].as_str().unwrap()), m["installed"].as_str().unwrap().to_string());
        assert!(got.insert(key, m["locations"].as_u64().unwrap() as usize).is_none(), "listed twice: {m}");
    }
    let want: BTreeMap<(String, String), usize> = paths.into_iter().map(|(k, p)| (k, p.len())).collect();
    assert_eq!(got, want);
    let locations: u64 = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["matches"].as_array().unwrap())
        .map(|m| m["locations"].as_u64().unwrap())
        .sum();
    assert_eq!(locations, v["instances"].as_u64().unwrap());

    // A client that accepts gzip gets the same answer gzip'd (the page cache keeps it so), one
    // that refuses it gets it as it is; an answer under a kilobyte goes as it is.
    let ask = |query: String, encoding: &'static str| {
        app.client.get(app.url(&format!("/api/v1/search?{query}"))).bearer_auth(&security).header("accept-encoding", encoding).send()
    };
    let query = "package=pkg:npm/lodash".to_string();
    let plain = ask(query.clone(), "identity").await.unwrap().bytes().await.unwrap();
    assert!(plain.len() >= 2048, "a search answer of 2 KB or more: {} bytes", plain.len());
    let whole: Value = serde_json::from_slice(&plain).unwrap();
    for _ in 0..2 {
        let r = ask(query.clone(), "br;q=1.0, gzip;q=0.8").await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        assert_eq!(r.headers()["vary"], "accept-encoding");
        let gz = r.bytes().await.unwrap();
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
        assert!(gz.len() * 2 < unzipped.len(), "{} bytes for {}", gz.len(), unzipped.len());
        assert_eq!(serde_json::from_slice::<Value>(&unzipped).unwrap(), whole);
    }
    let r = ask(query.clone(), "gzip;q=0, identity").await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.json::<Value>().await.unwrap(), whole);
    let small = serde_json::json!({"items": [], "total": 0});
    let r = ask("cve=CVE-1999-0001".to_string(), "gzip").await.unwrap();
    assert!(r.headers().get("content-encoding").is_none(), "an answer under a kilobyte");
    assert_eq!(r.json::<Value>().await.unwrap()["items"], small["items"]);
}

async fn bad_questions_are_refused_naming_the_field(db: TestDb) {
    let app = TestApp::start(db, 1 << 20).await;
    let viewer = app.token("viewer").await;
    for (q, field) in [
        ("", "cve"),
        ("?range=vers:deb/<1.0", "package"),
        ("?package=openssl", "package"),
        ("?package=pkg:deb/debian/openssl&range=deb/<1.0", "range"),
        ("?package=pkg:deb/debian/openssl&range=vers:foo/<1.0", "range"),
        ("?package=pkg:deb/debian/openssl&range=vers:deb/<=>1.0", "range"),
        ("?package=pkg:deb/debian/openssl&range=vers:rpm/<1.0", "range"),
        ("?package=pkg:npm/left-pad&range=vers:npm/<1.0", "range"),
        ("?cve=CVE-2022-22965&package=pkg:deb/debian/openssl", "cve"),
        ("?cve=CVE-1&limit=0", "limit"),
    ] {
        let r = app.client.get(app.url(&format!("/api/v1/search{q}"))).bearer_auth(&viewer).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], field, "{q}: {body}");
        assert!(!body["error"].as_str().unwrap().is_empty());
    }
    // A KEV upload is for security and admin; a bad catalogue is refused, nothing stored.
    let r = app
        .client
        .post(app.url("/api/v1/kev"))
        .bearer_auth(&viewer)
        .body(fixture("kev/known_exploited_vulnerabilities.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let security = app.token("security").await;
    let r = app
        .client
        .post(app.url("/api/v1/kev"))
        .bearer_auth(&security)
        .body(
            r#"{"catalogVersion":"x","dateReleased":"2025-01-01T00:00:00Z","vulnerabilities":[{"cveID":"nope","dateAdded":"2025-01-01"}]}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.db.store.kev_upload().await.unwrap().is_none());
    app.db.drop_database().await;
}
