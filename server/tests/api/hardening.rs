//! The security review's findings (issue 10), each reproduced and shown fixed: credentials kept
//! to their registry, names checked before they reach a URL, least-privilege ingest tokens, one
//! behaviour on both databases for bad input, and a ledger whose reads do not grow with it.
//!
//! The hostile registry here is the attacker: a small axum server that behaves as no honest
//! registry would (foreign links, redirects, oversized manifests). Everything an honest registry
//! does is tested against the real Debian Distribution registry (registry.rs).

use super::helpers::{fixture, TestApp, TestDb};
use super::registry_support::{sha256, token_server, Auth, Registry};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use drydock::registry::{collect_registry, CollectSettings, NewRegistry};
use drydock::store::capabilities::*;
use drydock::store::{Actor, Store, TokenBindings};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// Every request a server saw: (method, path and query, Authorization header).
type Hits = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

fn record(hits: &Hits, method: &Method, uri: &Uri, headers: &HeaderMap) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    hits.lock().unwrap().push((method.to_string(), uri.to_string(), auth));
}

/// A server on 127.0.0.1 that records every request and answers `body` (the config blob a storage
/// back end would hold). Reached as `localhost`, so it is another host than the registry's
/// `127.0.0.1`.
async fn sink(body: Vec<u8>) -> (String, Hits) {
    let hits: Hits = Arc::default();
    let h = hits.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let (h, body) = (h.clone(), body.clone());
        async move {
            record(&h, &method, &uri, &headers);
            Response::new(Body::from(body))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://localhost:{port}"), hits)
}

/// How the hostile registry misbehaves.
#[derive(Clone)]
enum Hostile {
    /// `_catalog` answers with a `Link` to another host.
    ForeignLink(String),
    /// The config blob redirects to another host (as S3-backed registries do).
    BlobRedirect(String),
    /// The manifest redirects to another host.
    ManifestRedirect(String),
    /// The manifest is 5 MiB; `true`: streamed without a Content-Length.
    HugeManifest(bool),
}

const USER: &str = "collector";
const PASSWORD: &str = "hostile-test-password";

/// An image: (config blob, manifest bytes, manifest digest).
fn image() -> (Vec<u8>, Vec<u8>, String) {
    let config = br#"{"architecture":"arm64","os":"linux","config":{"User":"1000"},"rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": []
    }))
    .unwrap();
    let digest = sha256(&manifest);
    (config, manifest, digest)
}

/// A registry on 127.0.0.1 with Basic auth holding `app:1.0`, misbehaving as `how`.
async fn hostile_registry(how: Hostile) -> (String, Hits) {
    use base64::Engine as _;
    let hits: Hits = Arc::default();
    let h = hits.clone();
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}")));
    let (config, manifest, digest) = image();
    let handler = move |method: Method, uri: Uri, headers: HeaderMap| {
        let (h, how, basic, config, manifest, digest) =
            (h.clone(), how.clone(), basic.clone(), config.clone(), manifest.clone(), digest.clone());
        async move {
            record(&h, &method, &uri, &headers);
            let status = |s: u16| Response::builder().status(s);
            if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
                return status(401).header("www-authenticate", "Basic realm=\"hostile\"").body(Body::empty()).unwrap();
            }
            let path = uri.path();
            let manifest_answer = || match &how {
                Hostile::ManifestRedirect(to) => {
                    status(307).header("location", format!("{to}/elsewhere/manifest")).body(Body::empty()).unwrap()
                }
                Hostile::HugeManifest(false) => status(200)
                    .header("content-type", "application/vnd.oci.image.manifest.v1+json")
                    .body(Body::from(vec![b' '; 5 << 20]))
                    .unwrap(),
                Hostile::HugeManifest(true) => {
                    let chunks = (0..80).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 64 << 10])));
                    status(200)
                        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
                        .body(Body::from_stream(futures_util::stream::iter(chunks)))
                        .unwrap()
                }
                _ => status(200)
                    .header("content-type", "application/vnd.oci.image.manifest.v1+json")
                    .header("docker-content-digest", digest.clone())
                    .body(Body::from(manifest.clone()))
                    .unwrap(),
            };
            match path {
                "/v2/" => status(200).body(Body::from("{}")).unwrap(),
                "/v2/_catalog" => {
                    let mut r = status(200);
                    if let Hostile::ForeignLink(to) = &how {
                        r = r.header("link", format!("<{to}/v2/_catalog?n=1&last=app>; rel=\"next\""));
                    }
                    r.body(Body::from(r#"{"repositories":["app"]}"#)).unwrap()
                }
                "/v2/app/tags/list" => status(200).body(Body::from(r#"{"name":"app","tags":["1.0"]}"#)).unwrap(),
                p if p == "/v2/app/manifests/1.0" && method == Method::HEAD => {
                    status(200).header("docker-content-digest", digest.clone()).body(Body::empty()).unwrap()
                }
                p if p.starts_with("/v2/app/manifests/") => manifest_answer(),
                p if p.starts_with("/v2/app/blobs/") => match &how {
                    Hostile::BlobRedirect(to) => {
                        status(307).header("location", format!("{to}/storage/config-blob")).body(Body::empty()).unwrap()
                    }
                    _ => status(200).body(Body::from(config.clone())).unwrap(),
                },
                _ => status(404).body(Body::from(r#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#)).unwrap(),
            }
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://127.0.0.1:{port}"), hits)
}

pub(super) async fn add_registry(store: &Store, name: &str, url: &str, password_env: Option<&str>) -> drydock::registry::RegistryRow {
    let mut new = NewRegistry {
        name: drydock::domain::RegistryName::parse(name).unwrap(),
        url: url.into(),
        username: password_env.map(|_| USER.to_string()),
        password_env: password_env.map(str::to_string),
        ca_pem: None,
        insecure: false,
        auth_hosts: vec![],
        approved: true,
        repositories: vec![],
    };
    new.validate().unwrap();
    store.add_registry(&new, &Actor::cli(), chrono::Utc::now()).await.unwrap()
}

/// Collects `url` with the Basic credentials; answers the error text, if any.
async fn collect_hostile(store: &Store, url: &str) -> Result<drydock::registry::CollectSummary, String> {
    std::env::set_var("DRYDOCK_TEST_HOSTILE_PW", PASSWORD);
    let reg = add_registry(store, &format!("hostile-{}", url.rsplit(':').next().unwrap()), url, Some("DRYDOCK_TEST_HOSTILE_PW")).await;
    match collect_registry(store, &reg, &CollectSettings::default(), None, chrono::Utc::now()).await {
        Ok(s) if s.errors.is_empty() => Ok(s),
        Ok(s) => Err(s.errors.join("; ")),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn a_token_realm_over_http_on_another_host_gets_no_credentials() {
    // The real registry, with token auth whose realm is plain http on another host (localhost is
    // not the registry's 127.0.0.1): the password must not go there.
    let db = TestDb::sqlite().await;
    let (realm_base, realm_hits) = sink(b"{}".to_vec()).await;
    let certs = token_server(None).await;
    let storage = tempfile::tempdir().unwrap();
    let reg = Registry::start(storage.path(), Auth::Token { realm: format!("{realm_base}/token"), cert_pem: certs.cert_pem }, None).await;
    let err = collect_hostile(&db.store, &reg.url()).await.unwrap_err();
    assert!(err.contains(&format!("{realm_base}/token")) && err.contains("plain http on another host"), "{err}");
    assert!(realm_hits.lock().unwrap().is_empty(), "the realm received a request: {:?}", realm_hits.lock().unwrap());
    let row = db.store.registry_by_name(&format!("hostile-{}", reg.port)).await.unwrap().unwrap();
    assert!(row.status.last_error.unwrap_or_default().contains("token realm"), "the collection error names the realm");
}

#[tokio::test]
async fn links_and_redirects_to_other_hosts_carry_no_credentials() {
    let db = TestDb::sqlite().await;
    // A catalog Link to another host is not followed.
    let (elsewhere, foreign) = sink(b"{}".to_vec()).await;
    let (url, _) = hostile_registry(Hostile::ForeignLink(elsewhere.clone())).await;
    let err = collect_hostile(&db.store, &url).await.unwrap_err();
    assert!(err.contains("another origin"), "{err}");
    assert!(foreign.lock().unwrap().is_empty(), "the Link target was requested: {:?}", foreign.lock().unwrap());

    // A manifest redirected to another host is refused.
    let (elsewhere, foreign) = sink(b"{}".to_vec()).await;
    let (url, _) = hostile_registry(Hostile::ManifestRedirect(elsewhere)).await;
    let err = collect_hostile(&db.store, &url).await.unwrap_err();
    assert!(err.contains("redirects to another origin"), "{err}");
    assert!(foreign.lock().unwrap().is_empty());

    // A blob redirected to a storage back end is fetched there, without credentials, and used.
    let (config, _, digest) = image();
    let (storage, stored) = sink(config).await;
    let (url, seen) = hostile_registry(Hostile::BlobRedirect(storage)).await;
    let summary = collect_hostile(&db.store, &url).await.expect("collects through the redirect");
    assert_eq!(summary.new_manifests, 1);
    let stored = stored.lock().unwrap().clone();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].1, "/storage/config-blob");
    assert_eq!(stored[0].2, None, "credentials went to the storage back end");
    assert!(seen.lock().unwrap().iter().any(|(_, p, a)| p.starts_with("/v2/app/blobs/") && a.is_some()), "the registry itself got them");
    let image = db.store.image_detail(&crate::helpers::digest(&digest), None).await.unwrap().expect("stored");
    assert_eq!(image.image.platform.as_deref(), Some("linux/arm64"), "the config from the storage back end was read");
}

#[tokio::test]
async fn oversized_manifests_are_refused_not_buffered() {
    for streamed in [false, true] {
        let db = TestDb::sqlite().await;
        let (url, _) = hostile_registry(Hostile::HugeManifest(streamed)).await;
        let err = collect_hostile(&db.store, &url).await.unwrap_err();
        assert!(err.contains("larger than the cap of 4194304 bytes"), "streamed={streamed}: {err}");
        assert!(db.store.images(10, 0, None).await.unwrap().items.is_empty(), "nothing stored");
    }
}

#[tokio::test]
async fn a_notification_naming_a_path_is_refused_and_nothing_is_fetched() {
    let app = TestApp::start(TestDb::sqlite().await, 1_000_000).await;
    let (registry, hits) = sink(br#"{"name":"x","tags":[]}"#.to_vec()).await;
    let registry = registry.replace("localhost", "127.0.0.1");
    add_registry(&app.db.store, "hub", &registry, None).await;
    let token = app.token_with("hub-notifier", "ingest", None, TokenBindings { clusters: vec![], registries: vec!["hub".into()] }).await;
    let before = app.db.store.ledger_size().await.unwrap();
    let event = |repo: &str| {
        json!({"events": [{"id": format!("ev-{repo}"), "action": "push", "timestamp": "2026-11-30T10:00:00Z",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": repo, "tag": "v1",
                   "digest": format!("sha256:{}", "a".repeat(64))}, "actor": {"name": "ci"}}]})
    };
    let post = |body: Value| app.client.post(app.url("/api/v1/registries/hub/events")).bearer_auth(&token).json(&body).send();
    let r = post(event("../../../../internal/admin?x=")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("events[0].target.repository"), "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // (The registry's scheduled collection reads its catalog: that is not the notification's doing.)
    let fetched: Vec<_> = hits.lock().unwrap().iter().filter(|(_, p, _)| !p.starts_with("/v2/_catalog")).cloned().collect();
    assert!(fetched.is_empty(), "the collector fetched: {fetched:?}");
    // (The day's scorecard snapshot, a background job's, may be appended meanwhile.)
    let rows = app.db.store.ledger_rows(before, i64::MAX).await.unwrap();
    assert!(
        rows.iter().all(|r| r.kind == "scorecard.snapshot"),
        "nothing recorded: {:?}",
        rows.iter().map(|r| &r.kind).collect::<Vec<_>>()
    );
    // The same event with a proper name is recorded and refreshed: the sink would have seen it.
    let r = post(event("team-a/app")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let refreshed = || hits.lock().unwrap().iter().filter(|(_, p, _)| !p.starts_with("/v2/_catalog")).cloned().collect::<Vec<_>>();
    for _ in 0..100 {
        if !refreshed().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refreshed().iter().all(|(_, p, _)| p.starts_with("/v2/team-a/app/") || p == "/v2/"), "{:?}", refreshed());
    assert!(!refreshed().is_empty(), "a proper notification refreshes the repository");
}

#[tokio::test]
async fn ingest_tokens_post_only_for_their_clusters_and_registries() {
    let app = TestApp::start(TestDb::sqlite().await, 10_000_000).await;
    let store = &app.db.store;
    add_registry(store, "hub", "http://127.0.0.1:9", None).await;
    add_registry(store, "other-reg", "http://127.0.0.1:9", None).await;
    let bound =
        app.token_with("edge-agent", "ingest", None, TokenBindings { clusters: vec!["edge".into()], registries: vec!["hub".into()] }).await;
    let unbound = app.token("ingest").await;
    let security = app.token("security").await;
    let admin = app.token("admin").await;
    let pod = fixture("k8s-pods/kubectl-neat-pod1-raw.json");
    let post = |path: &str, token: &str, body: Vec<u8>| app.client.post(app.url(path)).bearer_auth(token).body(body).send();
    let events = br#"{"events":[]}"#.to_vec();
    let audit = fixture("k8s-audit/audit2rbac-demo.log.jsonl");
    // The bound token: its cluster (new: created upload-only) and registry only.
    assert_eq!(post("/api/v1/clusters/edge/pods", &bound, pod.clone()).await.unwrap().status(), StatusCode::CREATED);
    let r = post("/api/v1/clusters/core/pods", &bound, pod.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("not bound to cluster \\\"core\\\""));
    assert_eq!(post("/api/v1/audit/k8s?cluster=edge", &bound, audit.clone()).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(post("/api/v1/audit/k8s?cluster=core", &bound, audit.clone()).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(post("/api/v1/registries/hub/events", &bound, events.clone()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(post("/api/v1/registries/other-reg/events", &bound, events.clone()).await.unwrap().status(), StatusCode::FORBIDDEN);
    // An unbound ingest token sends scans only.
    assert_eq!(post("/api/v1/scans", &unbound, fixture("trivy/alpine-310.json")).await.unwrap().status(), StatusCode::CREATED);
    for path in ["/api/v1/clusters/edge/pods", "/api/v1/clusters/edge/nodes"] {
        assert_eq!(post(path, &unbound, pod.clone()).await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(post("/api/v1/registries/hub/events", &unbound, events.clone()).await.unwrap().status(), StatusCode::FORBIDDEN);
    // A collected cluster's state belongs to the collector: an empty PodList from a bound ingest
    // token ends nothing; security may still upload.
    let cluster = json!({"name": "prod", "server": "https://10.0.0.1:6443", "token_env": "PROD_TOKEN"});
    let r = app.client.post(app.url("/api/v1/clusters")).bearer_auth(&admin).json(&cluster).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let prod_agent =
        app.token_with("prod-agent", "ingest", None, TokenBindings { clusters: vec!["prod".into()], registries: vec![] }).await;
    let empty = br#"{"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"1"},"items":[]}"#.to_vec();
    let r = post("/api/v1/clusters/prod/pods", &prod_agent, empty.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("collected from its API server"));
    assert_eq!(post("/api/v1/clusters/prod/pods", &security, pod.clone()).await.unwrap().status(), StatusCode::OK);

    // GET /api/v1/tokens: security lists ingest tokens, admin every token, each with its bindings.
    let list = |token: &str| app.client.get(app.url("/api/v1/tokens")).bearer_auth(token).send();
    let r = list(&security).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(!text.contains(&bound) && !text.contains("ddk_"), "no secret is listed");
    let body: Value = serde_json::from_str(&text).unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(body["total"], items.len());
    assert!(items.iter().all(|t| t["role"] == "ingest"), "security sees ingest tokens only: {body}");
    let edge = items.iter().find(|t| t["name"] == "edge-agent").unwrap();
    assert_eq!(edge["clusters"], json!(["edge"]));
    assert_eq!(edge["registries"], json!(["hub"]));
    for field in ["id", "name", "role", "team", "clusters", "registries", "created_at", "last_used_at"] {
        assert!(edge.get(field).is_some(), "{field} missing: {edge}");
    }
    let all: Value = list(&admin).await.unwrap().json().await.unwrap();
    let roles: Vec<&str> = all["items"].as_array().unwrap().iter().map(|t| t["role"].as_str().unwrap()).collect();
    assert!(roles.contains(&"admin") && roles.contains(&"security") && roles.contains(&"ingest"), "{roles:?}");
    let viewer = app.token("viewer").await;
    assert_eq!(list(&viewer).await.unwrap().status(), StatusCode::FORBIDDEN);
    // Bindings are for ingest tokens only.
    let err = app
        .db
        .store
        .create_token(
            "v",
            "viewer".parse().unwrap(),
            None,
            &TokenBindings { clusters: vec!["edge".into()], registries: vec![] },
            &Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only ingest tokens"));
}

#[tokio::test]
async fn cluster_api_servers_need_https_unless_loopback_or_insecure() {
    let app = TestApp::start(TestDb::sqlite().await, 1_000_000).await;
    let admin = app.token("admin").await;
    let add = |body: Value| app.client.post(app.url("/api/v1/clusters")).bearer_auth(&admin).json(&body).send();
    let r = add(json!({"name": "clear", "server": "http://10.0.0.1:6443", "token_env": "T"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("server: plain http"));
    let r = add(json!({"name": "clear", "server": "http://10.0.0.1:6443", "token_env": "T", "insecure": true})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = add(json!({"name": "local", "server": "http://127.0.0.1:8001", "token_env": "T"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}
