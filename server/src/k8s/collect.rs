//! Collecting a cluster through its API server with the `kube` client: every pod in all
//! namespaces (paginated lists, following `continue`) and every node. The result is the
//! cluster's complete state, stored through the same path as an uploaded `PodList`.

use crate::store::{Actor, Store};
use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use serde::Deserialize;

/// A configured cluster, as stored (the token is named by its environment variable).
#[derive(Debug, Clone, serde::Serialize, Deserialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ClusterRow {
    pub id: i64,
    pub name: String,
    pub server: Option<String>,
    pub token_env: Option<String>,
    pub has_ca: bool,
}

/// What an admin sends to configure a cluster.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewCluster {
    pub name: String,
    pub server: String,
    pub token_env: String,
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Allow plain http:// to a non-loopback API server.
    #[serde(default)]
    pub insecure: bool,
}

impl NewCluster {
    /// Checks the fields; the message names the wrong one.
    pub fn validate(&mut self) -> Result<(), String> {
        self.name = self.name.trim().to_string();
        crate::domain::validate_team_name(&self.name).map_err(|e| format!("name: {}", e.replace("team", "cluster")))?;
        let url = url::Url::parse(self.server.trim()).map_err(|e| format!("server: {e}"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
            return Err("server: the API server's https:// URL".into());
        }
        crate::domain::check_secret_url(&url, self.insecure, "server")?;
        self.server = url.as_str().trim_end_matches('/').to_string();
        if self.token_env.is_empty() || !self.token_env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("token_env: the NAME of the environment variable holding the bearer token".into());
        }
        if let Some(pem) = &self.ca_pem {
            if pem_certificates(pem).is_empty() {
                return Err("ca_pem: no PEM certificate in it".into());
            }
        }
        Ok(())
    }
}

/// The DER bytes of each `CERTIFICATE` block of a PEM bundle.
fn pem_certificates(pem: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        match line {
            "-----BEGIN CERTIFICATE-----" => cur = Some(String::new()),
            "-----END CERTIFICATE-----" => {
                if let Some(b) = cur.take().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()) {
                    out.push(b);
                }
            }
            l => {
                if let Some(b) = cur.as_mut() {
                    b.push_str(l);
                }
            }
        }
    }
    out
}

/// What one collection read: (pods, containers, pods ended, nodes).
pub type Collected = (usize, usize, u64, usize);

/// Lists pods (all namespaces, `page` per request) and nodes from the cluster's API server and
/// stores them as its complete state. An error names what failed (401, 500, unreachable...).
pub async fn collect_cluster(
    store: &Store,
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
    config.read_timeout = Some(std::time::Duration::from_secs(60));
    let client = kube::Client::try_from(config).map_err(|e| format!("client: {e}"))?;
    let pods: Api<Pod> = Api::all(client.clone());
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(page);
    let mut resource_version = String::new();
    loop {
        let list = pods.list(&params).await.map_err(|e| format!("listing pods: {e}"))?;
        resource_version = list.metadata.resource_version.clone().unwrap_or(resource_version);
        items.extend(list.items);
        match list.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(token) => params = ListParams::default().limit(page).continue_token(&token),
            None => break,
        }
    }
    let nodes: Api<Node> = Api::all(client);
    let node_list = nodes.list(&ListParams::default()).await.map_err(|e| format!("listing nodes: {e}"))?;
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

/// Collects a cluster and records the outcome (last success, or the error and a back-off).
pub async fn collect_and_record(store: &Store, c: &ClusterRow, now: DateTime<Utc>) -> Result<Collected, String> {
    let ca = store.cluster_ca(c.id).await.map_err(|e| e.to_string())?;
    let result = collect_cluster(store, c, ca.as_deref(), 500, now).await;
    store
        .record_cluster_run(c.id, result.as_ref().map(|_| ()).map_err(|e| e.clone()), now)
        .await
        .map_err(|e| format!("the cluster status could not be saved: {e}"))?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_validation_names_the_field() {
        let mut ok = NewCluster {
            name: "prod".into(),
            server: "https://10.0.0.1:6443/".into(),
            token_env: "PROD_TOKEN".into(),
            ca_pem: None,
            insecure: false,
        };
        ok.validate().unwrap();
        assert_eq!(ok.server, "https://10.0.0.1:6443");
        let mut bad = NewCluster { token_env: "a b".into(), ..ok.clone() };
        assert!(bad.validate().unwrap_err().starts_with("token_env"));
        let mut bad = NewCluster { server: "ftp://x".into(), ..ok.clone() };
        assert!(bad.validate().unwrap_err().starts_with("server"));
        let mut bad = NewCluster { ca_pem: Some("junk".into()), ..ok.clone() };
        assert!(bad.validate().unwrap_err().starts_with("ca_pem"));
        // The bearer token never travels in clear to another host unless the operator says so.
        let mut clear = NewCluster { server: "http://10.0.0.1:6443".into(), ..ok.clone() };
        assert!(clear.validate().unwrap_err().contains("plain http"), "http to another host is refused");
        clear.insecure = true;
        clear.validate().unwrap();
        let mut local = NewCluster { server: "http://127.0.0.1:8001".into(), ..ok };
        local.validate().unwrap();
    }
}
