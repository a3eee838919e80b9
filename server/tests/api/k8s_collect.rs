//! Kubernetes state coming in without the API: pod, node and audit files through the command line,
//! and the collector reading a cluster's API server (replayed from real output: no API server runs
//! here) page by page, surviving a 500 and a wrong token.

use super::helpers::{fixture, TestDb};
use super::k8s::expected_states;
use drydock::store::capabilities::*;
use serde_json::Value;
use std::collections::BTreeMap;

#[tokio::test]
async fn nodes_and_kubernetes_files_through_the_command_line() {
    let db = TestDb::sqlite().await;
    let nodes = serde_json::json!({
        "apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": "1"},
        "items": [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "datagen-1-35"},
                   "status": {"nodeInfo": {"kubeletVersion": "v1.35.0", "containerRuntimeVersion": "containerd://2.1.3",
                                           "kernelVersion": "6.8.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                                           "architecture": "amd64", "operatingSystem": "linux"}}}]
    });
    let dir = tempfile::tempdir().unwrap();
    let nodes_file = dir.path().join("nodes.json");
    std::fs::write(&nodes_file, serde_json::to_vec(&nodes).unwrap()).unwrap();
    let pods_file = super::helpers::fixture_path("k8s-pods/nri-k8s-1.35-kubelet-pods.json");
    let run = |args: &[&std::path::Path], cluster: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"));
        cmd.arg("ingest").args(args).args(["--database-url", &db.url]).env("RUST_LOG", "warn");
        if let Some(c) = cluster {
            cmd.args(["--cluster", c]);
        }
        cmd.output().unwrap()
    };
    let out = run(&[pods_file.as_path()], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cluster"));
    let out = run(&[pods_file.as_path(), nodes_file.as_path()], Some("minikube"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("24 pods, 24 containers recorded") && stdout.contains("1 nodes recorded"), "{stdout}");
    let clusters = db.store.clusters().await.unwrap();
    assert_eq!(clusters.nodes[0].container_runtime.as_deref(), Some("containerd://2.1.3"));
    assert_eq!(clusters.clusters[0].pods, 24);
}

/// The one stand-in this project allows: no Kubernetes API server runs here, so a small HTTP
/// server replays the real pod list (`/api/v1/pods`, paginated with `limit`/`continue` as the API
/// server does) behind a bearer token, and can answer 500. The node list is built here from the
/// node the pod list names (the shared data holds no real node list).
pub mod replay {
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use serde_json::Value;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    #[derive(Clone)]
    pub struct Replay {
        pub pods: Arc<Mutex<Value>>,
        pub fail: Arc<Mutex<Option<StatusCode>>>,
        pub pod_requests: Arc<AtomicUsize>,
        pub url: String,
    }

    fn status(code: StatusCode, reason: &str) -> (StatusCode, axum::Json<Value>) {
        (
            code,
            axum::Json(serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": reason, "reason": reason, "code": code.as_u16()})),
        )
    }

    fn authorised(h: &HeaderMap) -> bool {
        h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer replay-token")
    }

    async fn pods(State(r): State<Replay>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> (StatusCode, axum::Json<Value>) {
        if !authorised(&h) {
            return status(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
        if let Some(code) = *r.fail.lock().unwrap() {
            return status(code, "InternalError");
        }
        r.pod_requests.fetch_add(1, Ordering::SeqCst);
        let all = r.pods.lock().unwrap().clone();
        let items = all["items"].as_array().cloned().unwrap_or_default();
        let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(items.len().max(1));
        let start: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
        let end = (start + limit).min(items.len());
        let mut meta = serde_json::json!({"resourceVersion": "4242"});
        if end < items.len() {
            meta["continue"] = end.to_string().into();
        }
        (
            StatusCode::OK,
            axum::Json(serde_json::json!({"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": items[start..end]})),
        )
    }

    async fn nodes(State(r): State<Replay>, h: HeaderMap) -> (StatusCode, axum::Json<Value>) {
        if !authorised(&h) {
            return status(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
        let all = r.pods.lock().unwrap().clone();
        let mut names: Vec<String> =
            all["items"].as_array().into_iter().flatten().filter_map(|p| p["spec"]["nodeName"].as_str().map(str::to_string)).collect();
        names.sort();
        names.dedup();
        let items: Vec<Value> = names
            .into_iter()
            .map(|n| {
                serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": n},
                "status": {"nodeInfo": {"kubeletVersion": "v1.35.0", "containerRuntimeVersion": "containerd://2.1.3",
                    "kernelVersion": "6.8.0-generic", "osImage": "Ubuntu 24.04 LTS", "architecture": "amd64", "operatingSystem": "linux",
                    "machineID": "", "systemUUID": "", "bootID": "", "kubeProxyVersion": ""}}})
            })
            .collect();
        (
            StatusCode::OK,
            axum::Json(
                serde_json::json!({"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "4242"}, "items": items}),
            ),
        )
    }

    pub async fn start(pods_list: Value) -> Replay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = Replay {
            pods: Arc::new(Mutex::new(pods_list)),
            fail: Arc::new(Mutex::new(None)),
            pod_requests: Arc::new(AtomicUsize::new(0)),
            url: format!("http://{}", listener.local_addr().unwrap()),
        };
        let app = axum::Router::new()
            .route("/api/v1/pods", axum::routing::get(pods))
            .route("/api/v1/nodes", axum::routing::get(nodes))
            .with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kube_collector_pages_through_pods_and_survives_401_and_500() {
    use drydock::cluster::{collect_and_record, collect_cluster, NewCluster};
    let db = TestDb::sqlite().await;
    let store = db.store.clone();
    let file: Value = serde_json::from_slice(&fixture("k8s-pods/nri-k8s-1.35-kubelet-pods.json")).unwrap();
    let api = replay::start(file.clone()).await;
    std::env::set_var("DRYDOCK_TEST_KUBE_TOKEN", "replay-token");
    std::env::set_var("DRYDOCK_TEST_KUBE_WRONG", "not-the-token");
    let mut new = NewCluster {
        name: drydock::domain::ClusterName::parse("minikube").unwrap(),
        server: api.url.clone(),
        token_env: "DRYDOCK_TEST_KUBE_TOKEN".into(),
        ca_pem: None,
        insecure: false,
    };
    new.validate().unwrap();
    store.add_cluster(&new, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
    let cluster = store.collectable_clusters().await.unwrap().pop().unwrap();

    // 24 pods, 5 per page: five requests following `continue`.
    let (pods, containers, ended, nodes) = collect_cluster(&store, &cluster, None, 5, chrono::Utc::now()).await.unwrap();
    assert_eq!((pods, containers, ended, nodes), (24, 24, 0, 1));
    assert_eq!(api.pod_requests.load(std::sync::atomic::Ordering::SeqCst), 5);
    let f = drydock::store::WorkloadFilter { cluster: Some("minikube".into()), ..Default::default() };
    let listed = store.workloads(&f, 1000, 0).await.unwrap();
    let mut by_state: BTreeMap<(String, String), i64> = BTreeMap::new();
    for w in &listed.items {
        *by_state.entry((w.namespace.clone(), w.state.clone())).or_insert(0) += 1;
    }
    assert_eq!(by_state, expected_states(&file));
    let overview = store.clusters().await.unwrap();
    assert_eq!(overview.nodes[0].kubelet_version.as_deref(), Some("v1.35.0"));
    assert!(overview.clusters[0].server.is_some(), "collected from its API server, not upload-only");

    // The API server's list is the whole cluster: four pods gone are ended.
    let mut fewer = file.clone();
    fewer["items"] = Value::Array(file["items"].as_array().unwrap()[..20].to_vec());
    *api.pods.lock().unwrap() = fewer;
    let (_, _, ended, _) = collect_and_record(&store, &cluster, chrono::Utc::now()).await.unwrap();
    assert_eq!(ended, 4);

    // 500 from the API server: an error recorded with a back-off; nothing is ended or deleted.
    *api.fail.lock().unwrap() = Some(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let before = store.workloads(&f, 1000, 0).await.unwrap().total;
    let e = collect_and_record(&store, &cluster, chrono::Utc::now()).await.unwrap_err();
    assert!(e.contains("listing pods") && (e.contains("500") || e.contains("InternalError")), "{e}");
    assert_eq!(store.workloads(&f, 1000, 0).await.unwrap().total, before);
    let c = store.clusters().await.unwrap().clusters.pop().unwrap();
    assert!(c.last_error.unwrap().contains("listing pods"));
    assert!(c.next_attempt.unwrap() > chrono::Utc::now());
    *api.fail.lock().unwrap() = None;

    // A wrong token: 401, reported, nothing changes.
    let mut wrong = cluster.clone();
    wrong.token_env = Some("DRYDOCK_TEST_KUBE_WRONG".into());
    let e = collect_and_record(&store, &wrong, chrono::Utc::now()).await.unwrap_err();
    assert!(e.contains("401") || e.contains("Unauthorized"), "{e}");
    assert_eq!(store.workloads(&f, 1000, 0).await.unwrap().total, before);
    // And the right one again: collected, the error cleared.
    collect_and_record(&store, &cluster, chrono::Utc::now()).await.unwrap();
    assert_eq!(store.clusters().await.unwrap().clusters[0].last_error, None);
}
