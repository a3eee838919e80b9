//! Collecting a cluster through its API server with the `kube` client: every pod in all
//! namespaces (paginated lists, following `continue`) and every node. The result is the
//! cluster's complete state, stored through the same path as an uploaded `PodList`.

use crate::store::capabilities::*;
use crate::store::Actor;
use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};

pub use crate::domain::cluster::{pem_certificates, ClusterRow, NewCluster};

/// What one collection read: (pods, containers, pods ended, nodes).
pub type Collected = (usize, usize, u64, usize);

/// Lists pods (all namespaces, `page` per request) and nodes from the cluster's API server and
/// stores them as its complete state. An error names what failed (401, 500, unreachable...).
pub async fn collect_cluster(
    store: &(impl RuntimeStore + InventoryStore),
    c: &ClusterRow,
    ca_pem: Option<&str>,
    page: u32,
    now: DateTime<Utc>,
) -> Result<Collected, String> {
    let server = c.server.as_deref().ok_or("the cluster has no API server configured (upload-only)")?;
    let var = c.token_env.as_deref().ok_or("the cluster has no token_env configured")?;
    let token = std::env::var(var).map_err(|_| format!("the environment variable {var} (the token) is not set"))?;
    let uri: http::Uri = server.parse().map_err(|e| format!("server URL {server:?}: {e}"))?;
    let mut config = kube::Config::new(uri);
    config.auth_info.token = Some(token.into());
    if let Some(pem) = ca_pem {
        config.root_cert = Some(pem_certificates(pem));
    }
    config.connect_timeout = Some(std::time::Duration::from_secs(5));
    config.read_timeout = Some(LIST_TIMEOUT);
    let client = kube::Client::try_from(config).map_err(|e| format!("client: {e}"))?;
    let pods: Api<Pod> = Api::all(client.clone());
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(page);
    let mut resource_version = String::new();
    loop {
        let list = within(server, "a page of pods", pods.list(&params)).await?.map_err(|e| format!("listing pods: {e}"))?;
        resource_version = list.metadata.resource_version.clone().unwrap_or(resource_version);
        items.extend(list.items);
        match list.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(token) => params = ListParams::default().limit(page).continue_token(&token),
            None => break,
        }
    }
    let nodes: Api<Node> = Api::all(client);
    let node_list = within(server, "the nodes", nodes.list(&ListParams::default())).await?.map_err(|e| format!("listing nodes: {e}"))?;
    // One path for collected and uploaded lists: the same JSON the API server sent.
    let pod_list = serde_json::json!({
        "apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": resource_version}, "items": items,
    });
    let node_json = serde_json::json!({"apiVersion": "v1", "kind": "NodeList", "items": node_list.items});
    let actor = Actor(format!("collector:cluster:{}", c.name));
    let nodes = match crate::k8s::parse_value(&node_json)? {
        crate::k8s::Upload::Nodes(n) => n,
        crate::k8s::Upload::Pods(_) => return Err("the node list parsed as pods".into()),
    };
    let n_nodes = store.store_nodes(&c.name, &nodes, &actor, now).await.map_err(|e| e.to_string())?;
    let upload = match crate::k8s::parse_value(&pod_list)? {
        crate::k8s::Upload::Pods(p) => p,
        crate::k8s::Upload::Nodes(_) => return Err("the pod list parsed as nodes".into()),
    };
    let (p, cs, ended) = store.store_pods(&c.name, &upload, &actor, now).await.map_err(|e| e.to_string())?;
    Ok((p, cs, ended, n_nodes))
}

/// How long one list call to an API server may take.
const LIST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// `call` within `LIST_TIMEOUT`; past it, an error saying it timed out and what it waited for.
async fn within<T>(server: &str, what: &str, call: impl std::future::Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(LIST_TIMEOUT, call)
        .await
        .map_err(|_| format!("timed out after {} s waiting for the API server {server} to list {what}", LIST_TIMEOUT.as_secs()))
}

/// Collects a cluster and records the outcome (last success, or the error and a back-off).
pub async fn collect_and_record(
    store: &(impl RuntimeStore + InventoryStore),
    c: &ClusterRow,
    now: DateTime<Utc>,
) -> Result<Collected, String> {
    let ca = store.cluster_ca(c.id).await.map_err(|e| e.to_string())?;
    let result = collect_cluster(store, c, ca.as_deref(), 500, now).await;
    store
        .record_cluster_run(c.id, result.as_ref().map(|_| ()).map_err(|e| e.clone()), now)
        .await
        .map_err(|e| format!("the cluster status could not be saved: {e}"))?;
    result
}
