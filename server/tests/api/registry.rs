//! The registry collector against the real Debian Distribution registry, seeded with images built
//! offline and pushed with skopeo: an OCI manifest, a Docker schema2 manifest, a two-platform OCI
//! index, labels with a promotion value, and a cosign-style signature made here.

use super::helpers::{TestApp, TestDb};
use super::registry_support::*;
use drydock::registry::{collect_registry, CollectSettings, NewRegistry, RegistryError};
use drydock::store::capabilities::*;
use drydock::store::{Actor, Store};
use p256::ecdsa::SigningKey;
use reqwest::StatusCode;
use serde_json::Value;

/// What the seeded registry holds (digests as the registry reports them).
struct Seeded {
    storage: tempfile::TempDir,
    app_oci: String,
    app_config: String,
    app_docker: String,
    multi_index: String,
    multi_platforms: Vec<(String, String)>,
    signed: String,
    key: SigningKey,
}

async fn seed() -> (Registry, Seeded) {
    let storage = tempfile::tempdir().unwrap();
    let reg = Registry::start(storage.path(), Auth::Anonymous, None).await;
    let host = reg.host();
    let app = build_image(
        "team-a/app",
        "1.0",
        &[Platform {
            arch: "amd64",
            labels: vec![("promotion", "prod"), ("org.opencontainers.image.source", "https://git.example/team-a/app")],
            user: "1000",
        }],
    );
    push(&app, "1.0", &format!("{host}/team-a/app:1.0"), false, None);
    let docker = build_image("team-a/app", "1.0-docker", &[Platform { arch: "amd64", labels: vec![("promotion", "staging")], user: "" }]);
    push(&docker, "1.0-docker", &format!("{host}/team-a/app:1.0-docker"), true, None);
    let multi = build_image(
        "team-b/multi",
        "2.0",
        &[Platform { arch: "amd64", labels: vec![], user: "app" }, Platform { arch: "arm64", labels: vec![], user: "app" }],
    );
    push(&multi, "2.0", &format!("{host}/team-b/multi:2.0"), false, None);
    let signed = build_image("team-a/signed", "1.0", &[Platform { arch: "amd64", labels: vec![], user: "1000" }]);
    push(&signed, "1.0", &format!("{host}/team-a/signed:1.0"), false, None);
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let signed_digest = registry_digest(&reg.url(), "team-a/signed", "1.0").await;
    cosign_sign(&reg.url(), "team-a/signed", &signed_digest, &key).await;

    let app_oci = registry_digest(&reg.url(), "team-a/app", "1.0").await;
    assert_eq!(app_oci, app.digest, "skopeo keeps an OCI manifest byte for byte");
    let app_docker = registry_digest(&reg.url(), "team-a/app", "1.0-docker").await;
    assert_ne!(app_docker, docker.digest, "--format v2s2 converts the manifest");
    let multi_index = registry_digest(&reg.url(), "team-b/multi", "2.0").await;
    assert_eq!(multi_index, multi.digest);
    let seeded = Seeded {
        storage,
        app_oci,
        app_config: app.configs[0].clone(),
        app_docker,
        multi_index,
        multi_platforms: multi.manifests.clone(),
        signed: signed_digest,
        key,
    };
    (reg, seeded)
}

async fn add(store: &Store, name: &str, url: &str, f: impl FnOnce(&mut NewRegistry)) -> drydock::registry::RegistryRow {
    let mut new = new_registry(name, url);
    f(&mut new);
    new.validate().unwrap();
    store.add_registry(&new, &Actor::cli(), chrono::Utc::now()).await.unwrap()
}

fn find<'a>(items: &'a [Value], digest: &str) -> &'a Value {
    items.iter().find(|i| i["digest"] == digest).unwrap_or_else(|| panic!("{digest} not listed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collects_a_seeded_registry_by_command_and_lists_it_in_the_api() {
    let (reg, s) = seed().await;
    let db = TestDb::sqlite().await;
    let keys = tempfile::tempdir().unwrap();
    let good = write_public_key(keys.path(), "team.pub", &s.key);
    let stranger = write_public_key(keys.path(), "other.pub", &SigningKey::random(&mut rand::rngs::OsRng));
    let drydock = |args: &[&str], key: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
            .args(args)
            .args(["--database-url", &db.url])
            .env("DRYDOCK_COSIGN_KEYS", key)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, out, err) = drydock(&["registry", "add", "local", &reg.url(), "--approved"], &good);
    assert!(ok, "{out}{err}");

    // First with a key that did not sign: the signature is present, not verified.
    let (ok, out, err) = drydock(&["collect", "--once"], &stranger);
    assert!(ok, "{out}{err}");
    assert!(out.contains("local: 3 repositories, 4 tags, 6 new manifests, 0 verified signatures"), "{out}");
    // Then with the signer's key: verified. Nothing else is fetched again.
    let (ok, out, err) = drydock(&["collect", "--once"], &good);
    assert!(ok, "{out}{err}");
    assert!(out.contains("local: 3 repositories, 4 tags, 0 new manifests, 1 verified signatures"), "{out}");

    let app = TestApp::start(db, 1_000_000).await;
    let viewer = app.token("viewer").await;
    let list: Value = app.get_json("/api/v1/images?limit=100", &viewer).await;
    let items = list["items"].as_array().unwrap();
    // app (OCI), app (schema2), the index, its two platform manifests, signed.
    assert_eq!(list["total"], 6, "{list:#}");
    let host = reg.host();
    let oci = find(items, &s.app_oci);
    assert_eq!(oci["repositories"][0]["repository"], format!("{host}/team-a/app"));
    assert_eq!(oci["repositories"][0]["tags"], serde_json::json!(["1.0"]));
    assert_eq!(oci["platform"], "linux/amd64");
    assert_eq!(oci["promotion"], serde_json::json!({"mode": "label", "promoted": true, "value": "prod"}));
    assert_eq!(oci["labels"]["org.opencontainers.image.source"], "https://git.example/team-a/app");
    assert_eq!(oci["media_type"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(oci["user"], "1000");
    assert_eq!(oci["base_name"], "docker.io/library/alpine:3.20");
    assert_eq!(oci["signed"], "none");
    assert_eq!(oci["scan_state"], "not_scanned");
    assert!(oci["aliases"].as_array().unwrap().iter().any(|a| a["kind"] == "config" && a["digest"] == s.app_config.as_str()));

    let docker = find(items, &s.app_docker);
    assert_eq!(docker["media_type"], "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(docker["repositories"][0]["tags"], serde_json::json!(["1.0-docker"]));
    assert_eq!(docker["promotion"]["value"], "staging");

    let index = find(items, &s.multi_index);
    assert_eq!(index["is_index"], true);
    let platforms: Vec<(String, String)> = index["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["digest"].as_str().unwrap().to_string(), p["platform"].as_str().unwrap().to_string()))
        .collect();
    let mut want = s.multi_platforms.clone();
    want.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(platforms, want, "the index lists both platform manifests");
    for (d, platform) in &s.multi_platforms {
        let child = find(items, d);
        assert_eq!(&child["platform"], platform);
        assert!(child["aliases"].as_array().unwrap().iter().any(|a| a["digest"] == s.multi_index.as_str() && a["kind"] == "index"));
        assert!(index["aliases"].as_array().unwrap().iter().any(|a| a["digest"] == d.as_str()));
        assert_eq!(child["repositories"][0]["repository"], format!("{host}/team-b/multi"));
    }
    let signed = find(items, &s.signed);
    assert_eq!(signed["signed"], "verified", "{signed:#}");
    assert_eq!(signed["signature_detail"], "team.pub");

    let regs: Value = app.get_json("/api/v1/registries", &viewer).await;
    let r = &regs["items"][0];
    assert_eq!((r["name"].as_str(), r["approved"].as_bool()), (Some("local"), Some(true)));
    assert_eq!(r["status"]["repositories"], 3);
    assert_eq!(r["status"]["manifests"], 6);
    assert_eq!(r["status"]["last_error"], Value::Null);
    // The ledger has one record per repository that changed, from the collector.
    let events = app.db.store.audit_events().await.unwrap();
    let changed: Vec<_> = events.iter().filter(|e| e.kind == "registry.repository_changed").collect();
    assert!(changed.iter().all(|e| e.actor == "collector:registry:local"));
    assert!(changed
        .iter()
        .any(|e| e.subject == format!("repository:{host}/team-a/signed") && e.payload["signatures"][0]["signature"] == "verified"));

    // A pod running the index by digest resolves to the platform manifest of its node's
    // architecture; on a node Drydock knows nothing about it stays the index.
    let ingest = app.ingest_for(&["edge"], &[]).await;
    let pod = |name: &str, node: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "apps", "uid": name},
            "spec": {"nodeName": node, "containers": [{"name": "multi", "image": format!("{host}/team-b/multi:2.0")}]},
            "status": {"containerStatuses": [{"name": "multi", "image": format!("{host}/team-b/multi:2.0"),
                "imageID": format!("{host}/team-b/multi@{}", s.multi_index), "state": {"running": {}}}]}})
    };
    let nodes = serde_json::json!({"apiVersion": "v1", "kind": "NodeList", "items": [
        {"metadata": {"name": "arm-node"}, "status": {"nodeInfo": {"architecture": "arm64", "operatingSystem": "linux"}}}]});
    let post = |path: String, body: Value| app.client.post(app.url(&path)).bearer_auth(&ingest).json(&body).send();
    assert!(post("/api/v1/clusters/edge/nodes".into(), nodes).await.unwrap().status().is_success());
    assert!(post("/api/v1/clusters/edge/pods".into(), pod("on-arm", "arm-node")).await.unwrap().status().is_success());
    assert!(post("/api/v1/clusters/edge/pods".into(), pod("elsewhere", "unknown-node")).await.unwrap().status().is_success());
    let w: Value = app.get_json("/api/v1/workloads?cluster=edge", &viewer).await;
    let arm = s.multi_platforms.iter().find(|(_, p)| p == "linux/arm64").unwrap().0.clone();
    let by_pod = |name: &str| w["items"].as_array().unwrap().iter().find(|i| i["pod"] == name).unwrap()["image_digest"].clone();
    assert_eq!(by_pod("on-arm"), arm.as_str());
    let on_arm = w["items"].as_array().unwrap().iter().find(|i| i["pod"] == "on-arm").unwrap();
    assert_eq!(
        (on_arm["run_as_user"].clone(), on_arm["image_user"].as_str()),
        (Value::Null, Some("app")),
        "the image config's user applies"
    );
    assert_eq!(by_pod("elsewhere"), s.multi_index.as_str());

    // The admission webhook's read: the index, asked by digest and by tag, resolves with its two
    // platform images (whose items and results then count for it), and the platforms by digest.
    let mut asked = vec![s.multi_index.clone()];
    asked.extend(s.multi_platforms.iter().map(|(d, _)| d.clone()));
    let tag = (host.to_string(), "team-b/multi".to_string(), "2.0".to_string());
    let facts = app.db.store.admission_facts(&asked, std::slice::from_ref(&tag)).await.unwrap();
    let id_of = |reference: &str| facts.resolved.iter().find(|r| r.reference == reference).map(|r| r.image_id);
    let index_id = id_of(&s.multi_index).expect("the index resolves by digest");
    assert_eq!(id_of(&format!("{}/{}:{}", tag.0, tag.1, tag.2)), Some(index_id), "and by its tag");
    let mut children: Vec<(i64, i64)> = s.multi_platforms.iter().map(|(d, _)| (index_id, id_of(d).expect("a platform resolves"))).collect();
    children.sort();
    assert_eq!(facts.platforms, children, "the index's platforms, each once");
    assert_eq!(facts.resolved.len(), 4, "{:?}", facts.resolved);

    // What runs as the campaigns and the search read it (kept by the uploads) resolves the same
    // way: a platform image runs as itself and as its index. A node list that arrives after the
    // pods moves the pod on the node it did not know to that node's platform.
    let arm_id = id_of(&arm).expect("the arm64 platform resolves");
    let runs = || async {
        let keys = app.db.store.running_workload_keys(&[index_id, arm_id]).await.unwrap();
        keys.into_iter().map(|(image, _, _, workload)| (image, workload)).collect::<std::collections::BTreeSet<_>>()
    };
    let want = |pairs: &[(i64, &str)]| pairs.iter().map(|(i, w)| (*i, w.to_string())).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(runs().await, want(&[(arm_id, "Pod/on-arm"), (index_id, "Pod/on-arm"), (index_id, "Pod/elsewhere")]));
    let late = serde_json::json!({"apiVersion": "v1", "kind": "NodeList", "items": [
        {"metadata": {"name": "unknown-node"}, "status": {"nodeInfo": {"architecture": "arm64", "operatingSystem": "linux"}}}]});
    assert!(post("/api/v1/clusters/edge/nodes".into(), late).await.unwrap().status().is_success());
    let w: Value = app.get_json("/api/v1/workloads?cluster=edge", &viewer).await;
    let by_pod = |name: &str| w["items"].as_array().unwrap().iter().find(|i| i["pod"] == name).unwrap()["image_digest"].clone();
    assert_eq!(by_pod("elsewhere"), arm.as_str());
    assert_eq!(
        runs().await,
        want(&[(arm_id, "Pod/on-arm"), (index_id, "Pod/on-arm"), (arm_id, "Pod/elsewhere"), (index_id, "Pod/elsewhere")])
    );
    drop(s.storage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_down_or_answers_garbage_keeps_its_inventory() {
    let (reg, s) = seed().await;
    let db = TestDb::sqlite().await;
    let store = db.store.clone();
    // A scanner reported the image first, knowing only its config digest (Grype from a daemon).
    let mut grype: Value = serde_json::from_slice(&super::helpers::fixture("grype/defectdojo-busybox-epss.json")).unwrap();
    grype["source"]["target"]["imageID"] = s.app_config.as_str().into();
    grype["source"]["target"].as_object_mut().unwrap().remove("repoDigests");
    let bytes = serde_json::to_vec(&grype).unwrap();
    let report = drydock::ingest::parse(&bytes, None).unwrap();
    store.ingest_report(&report, &drydock::store::sha256_hex(&bytes), &Actor::cli(), chrono::Utc::now()).await.unwrap();
    let row = add(&store, "local", &reg.url(), |_| {}).await;
    let settings = CollectSettings::default();
    collect_registry(&store, &row, &settings, None, chrono::Utc::now()).await.unwrap();
    // One image: found by its config digest, now known by its manifest digest, findings kept.
    let img = store.image_detail(&crate::helpers::digest(&s.app_oci), None).await.unwrap().expect("collected");
    assert_eq!(img.image.digest, s.app_oci);
    assert_eq!(img.image.findings.critical, 1);
    assert_eq!(img.image.scan_state, app::types::ScanState::Scanned);
    assert_eq!(img.image.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(store.images(100, 0, None).await.unwrap().total, 6);
    let before = store.table_counts().await.unwrap();
    let port = reg.port;
    drop(reg);
    let e = collect_registry(&store, &row, &settings, None, chrono::Utc::now()).await.unwrap_err();
    assert!(matches!(e, RegistryError::Unreachable(_)), "{e}");
    let status = store.registry_by_name("local").await.unwrap().unwrap().status;
    assert_eq!(status.failures, 1);
    assert_eq!(status.repositories, 3);
    assert!(status.last_error.unwrap().contains("unreachable"));
    assert!(status.next_attempt.unwrap() > chrono::Utc::now(), "backs off");
    assert!(status.last_success.is_some());
    assert_eq!(store.table_counts().await.unwrap(), before, "nothing deleted for what could not be read");

    // Something that answers, but not as a registry.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot json!").await;
        }
    });
    let e = collect_registry(&store, &row, &settings, None, chrono::Utc::now()).await.unwrap_err();
    assert!(matches!(e, RegistryError::Garbage(_)), "{e}");
    let status = store.registry_by_name("local").await.unwrap().unwrap().status;
    assert_eq!(status.failures, 2);
    assert_eq!(store.table_counts().await.unwrap(), before);
    drop(s.storage);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_and_bearer_token_registries() {
    let (anon, s) = seed().await;
    // The catalog one repository per page: the registry links each page to the next.
    let mut paged = drydock::registry::client::RegistryClient::new(&anon.url(), Default::default(), None).unwrap();
    paged.page_size = 1;
    let repos = paged.catalog().await.unwrap().unwrap();
    assert_eq!(repos, vec!["team-a/app".to_string(), "team-a/signed".into(), "team-b/multi".into()]);
    let db = TestDb::postgres().await;
    let store = db.store.clone();
    let settings = CollectSettings::default();
    let now = chrono::Utc::now;

    // Basic: the password comes from the environment variable the registry names.
    let basic = Registry::start(s.storage.path(), Auth::Basic { user: "collector".into(), password: "s3cret-pw".into() }, None).await;
    std::env::set_var("DRYDOCK_TEST_REGISTRY_PASSWORD", "s3cret-pw");
    let row = add(&store, "basic", &basic.url(), |n| {
        n.username = Some("collector".into());
        n.password_env = Some("DRYDOCK_TEST_REGISTRY_PASSWORD".into());
    })
    .await;
    let sum = collect_registry(&store, &row, &settings, None, now()).await.unwrap();
    assert_eq!((sum.repositories, sum.tags, sum.errors.len()), (3, 4, 0), "{sum:?}");
    let anonymous = add(&store, "basic-anon", &basic.url(), |_| {}).await;
    let e = collect_registry(&store, &anonymous, &settings, None, now()).await.unwrap_err();
    assert!(matches!(&e, RegistryError::Denied(m) if m.contains("Basic")), "{e}");

    // Bearer: a token per scope from the realm the challenge names.
    let tokens = token_server(None).await;
    let bearer =
        Registry::start(s.storage.path(), Auth::Token { realm: tokens.realm.clone(), cert_pem: tokens.cert_pem.clone() }, None).await;
    let row = add(&store, "bearer", &bearer.url(), |_| {}).await;
    let sum = collect_registry(&store, &row, &settings, None, now()).await.unwrap();
    assert_eq!((sum.repositories, sum.tags, sum.errors.len()), (3, 4, 0), "{sum:?}");
    let host = bearer.host();
    let multi: Option<String> = sqlx_scalar(&store, &format!("{host}/team-b/multi")).await;
    assert_eq!(multi.as_deref(), Some(s.multi_index.as_str()));

    // A token that only covers team-a/app: the catalog is refused (the configured list is used),
    // team-b/multi answers 401 insufficient_scope — an error for that repository, not a crash.
    let narrow = token_server(Some("team-a/app")).await;
    let limited =
        Registry::start(s.storage.path(), Auth::Token { realm: narrow.realm.clone(), cert_pem: narrow.cert_pem.clone() }, None).await;
    let row = add(&store, "limited", &limited.url(), |n| n.repositories = vec!["team-a/app".into(), "team-b/multi".into()]).await;
    let sum = collect_registry(&store, &row, &settings, None, now()).await.unwrap();
    assert_eq!(sum.repositories, 1);
    assert_eq!(sum.errors.len(), 1);
    assert!(sum.errors[0].starts_with("team-b/multi") && sum.errors[0].contains("insufficient_scope"), "{:?}", sum.errors);
    let status = store.registry_by_name("limited").await.unwrap().unwrap().status;
    assert!(status.last_error.unwrap().contains("insufficient_scope"));
    let app_tag: Option<String> = sqlx_scalar(&store, &format!("{}/team-a/app", limited.host())).await;
    assert!(app_tag.is_some(), "the readable repository was collected");

    // TLS with the registry's own CA: trusted only with the CA bundle configured for it.
    let (cert_pem, key_pem) = loopback_certificate();
    let tls = Registry::start(s.storage.path(), Auth::Tls { cert_pem: cert_pem.clone(), key_pem }, None).await;
    let https = format!("https://127.0.0.1:{}", tls.port);
    let untrusted = add(&store, "tls-untrusted", &https, |_| {}).await;
    let e = collect_registry(&store, &untrusted, &settings, None, now()).await.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    let trusted = add(&store, "tls", &https, |n| n.ca_pem = Some(cert_pem)).await;
    assert!(trusted.has_ca);
    let sum = collect_registry(&store, &trusted, &settings, None, now()).await.unwrap();
    assert_eq!((sum.repositories, sum.errors.len()), (3, 0), "{sum:?}");
    drop(s.storage);
    db.cleanup().await;
}

/// The digest of the first tag of `registry/name`.
async fn sqlx_scalar(store: &Store, full: &str) -> Option<String> {
    let q = "SELECT i.digest FROM tags t JOIN repositories r ON r.id = t.repository_id JOIN images i ON i.id = t.image_id
             WHERE r.registry || '/' || r.name = $1 ORDER BY t.tag LIMIT 1";
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(q).bind(full).fetch_optional(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(q).bind(full).fetch_optional(p).await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_notifications_are_recorded_and_refresh_the_repository() {
    let app = TestApp::start(TestDb::sqlite().await, 10_000_000).await;
    let ingest = app.ingest_for(&[], &["pushes", "nope"]).await;
    let viewer = app.token("viewer").await;
    let storage = tempfile::tempdir().unwrap();
    // Drydock knows the registry (and how to read it) before the registry notifies.
    let port = super::helpers::free_port();
    std::env::set_var("DRYDOCK_TEST_ALICE_PW", "pw");
    add(&app.db.store, "pushes", &format!("http://127.0.0.1:{port}"), |n| {
        n.username = Some("alice".into());
        n.password_env = Some("DRYDOCK_TEST_ALICE_PW".into());
    })
    .await;
    let events_url = app.url("/api/v1/registries/pushes/events");
    let reg =
        Registry::start_at(port, storage.path(), Auth::Basic { user: "alice".into(), password: "pw".into() }, Some((&events_url, &ingest)))
            .await;
    let image = build_image("team-c/api", "3.1", &[Platform { arch: "amd64", labels: vec![], user: "1000" }]);
    push(&image, "3.1", &format!("{}/team-c/api:3.1", reg.host()), false, Some("alice:pw"));

    // The registry delivers the push; Drydock records who pushed what, then collects the repository.
    let mut pushed = None;
    for _ in 0..200 {
        let events = app.db.store.audit_events().await.unwrap();
        if let Some(e) = events.iter().find(|e| e.kind == "registry.push" && e.payload["tag"] == "3.1") {
            pushed = Some(e.clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pushed = pushed.expect("the registry's push notification was recorded");
    assert_eq!(pushed.payload["registry_user"], "alice");
    assert_eq!(pushed.payload["digest"], image.digest.as_str());
    assert_eq!(pushed.payload["repository"], "team-c/api");
    assert_eq!(pushed.actor, "token:ingest-pushes-nope");
    let mut listed = false;
    for _ in 0..300 {
        let r = app.client.get(app.url(&format!("/api/v1/images/{}", image.digest))).bearer_auth(&viewer).send().await.unwrap();
        if r.status() == StatusCode::OK {
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["repositories"][0]["tags"], serde_json::json!(["3.1"]));
            listed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if !listed {
        // Say what the collector saw, so a failure here can be told from a slow machine.
        let status = app.db.store.registry_by_name("pushes").await.unwrap().map(|r| r.status);
        let kinds: Vec<String> =
            app.db.store.audit_events().await.unwrap().into_iter().map(|e| format!("{} {}", e.kind, e.subject)).collect();
        panic!("the notification did not refresh team-c/api: registry status {status:?}; ledger {kinds:?}");
    }

    // A bad envelope is refused with the field named; a token without ingest rights is refused.
    let r = app.client.post(&events_url).bearer_auth(&ingest).body(r#"{"events":[{"id":"x"}]}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("events[0]"));
    let r = app.client.post(&events_url).bearer_auth(&viewer).body(r#"{"events":[]}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.client.post(app.url("/api/v1/registries/nope/events")).bearer_auth(&ingest).body(r#"{"events":[]}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    drop(reg);
}
