//! What runs: Kubernetes pod and node lists, as uploaded (`kubectl get pods -A -o json`, the
//! kubelet's `/pods`, a single `Pod`, `kubectl get nodes -o json`) or collected from an API
//! server. Pure parsing: JSON in, containers and nodes out.
//!
//! Scope decides what an upload ends: a `PodList` from the API server (or `kubectl`, which
//! answers a `List`) is the cluster's complete state; the kubelet's `/pods` (a `PodList` without
//! `metadata.resourceVersion`, every pod on one node) is the complete state of that node only;
//! a single `Pod` ends nothing.

pub mod audit;

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// What an upload covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every pod of the cluster: pods not listed have ended.
    Cluster,
    /// Every pod of this node: its pods not listed have ended; other nodes are untouched.
    Node(String),
    /// Only these pods; nothing ends.
    Pods,
}

impl Scope {
    /// `cluster`, `node NAME` or `pods`, as answers and the ledger say it.
    pub fn label(&self) -> String {
        match self {
            Scope::Cluster => "cluster".into(),
            Scope::Node(n) => format!("node {n}"),
            Scope::Pods => "pods".into(),
        }
    }
}

/// One container of a pod (containers, init containers, ephemeral containers).
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRecord {
    /// `container`, `init` or `ephemeral`.
    pub kind: &'static str,
    pub name: String,
    /// The image reference as the pod spec names it.
    pub image: String,
    /// `status.*ContainerStatuses[].imageID`, raw ("" when the pull failed or no status yet).
    pub image_id: String,
    /// The digest in `image_id`, if any.
    pub digest: Option<String>,
    /// Whether that digest came from a repository reference (`repo@sha256:`) or stood bare
    /// (`sha256:...`, often the config digest of a preloaded image).
    pub digest_is_bare: bool,
    /// Runtime user: `status.user.linux.uid`, else the security context's `runAsUser`.
    pub run_as_user: Option<i64>,
    /// `runAsNonRoot` from the container or pod security context.
    pub run_as_non_root: Option<bool>,
    /// `running`, `waiting`, `terminated` or `unknown`.
    pub state: &'static str,
    /// The waiting or terminated reason.
    pub reason: Option<String>,
}

/// One pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRecord {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub node: Option<String>,
    /// The owning workload, following ownerReferences: (kind, name).
    pub workload: Option<(String, String)>,
    pub labels: BTreeMap<String, String>,
    pub phase: Option<String>,
    pub containers: Vec<ContainerRecord>,
}

/// A parsed pod upload.
#[derive(Debug, Clone)]
pub struct PodsUpload {
    pub scope: Scope,
    pub pods: Vec<PodRecord>,
}

/// One node: the "is your standard OS capable, which runtime is in use" facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub name: String,
    pub kubelet_version: Option<String>,
    pub container_runtime: Option<String>,
    pub kernel: Option<String>,
    pub os_image: Option<String>,
    pub architecture: Option<String>,
    pub operating_system: Option<String>,
}

/// What a Kubernetes file or body is.
#[derive(Debug, Clone)]
pub enum Upload {
    Pods(PodsUpload),
    Nodes(Vec<NodeRecord>),
}

fn s(v: &Value) -> Option<String> {
    v.as_str().filter(|x| !x.is_empty()).map(str::to_string)
}

/// True when the JSON looks like Kubernetes pods or nodes (for `drydock ingest` detection).
pub fn is_kubernetes(v: &Value) -> bool {
    matches!(v["kind"].as_str(), Some("PodList" | "Pod" | "NodeList" | "List")) && v.get("apiVersion").is_some()
}

/// Parses a `PodList`, `List` (of pods or nodes), kubelet `/pods`, single `Pod` or `NodeList`.
pub fn parse(body: &[u8]) -> Result<Upload, UploadError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| UploadError::NotJson(format!("the body is not valid JSON: {e}")))?;
    if let Some(at) = crate::domain::find_nul(&v) {
        return Err(UploadError::Invalid(format!("{at}: contains a NUL character")));
    }
    let upload = parse_value(&v).map_err(UploadError::Invalid)?;
    if let Upload::Pods(p) = &upload {
        p.check().map_err(UploadError::Invalid)?;
    }
    Ok(upload)
}

/// Why an upload was refused: not JSON at all, or JSON that is not a pod or node list (the
/// message names the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("{0}")]
    NotJson(String),
    #[error("{0}")]
    Invalid(String),
}

/// Longest names, references and label texts an upload may carry (bytes; README).
pub const MAX_FIELD: usize = 1024;

impl PodsUpload {
    /// One upload is one state: a pod uid twice, or a container name twice in one pod, is an
    /// error naming it (refused the same way on both databases), as is a field over its limit.
    pub fn check(&self) -> Result<(), String> {
        use crate::domain::check_len;
        let mut uids = std::collections::HashSet::new();
        for (i, p) in self.pods.iter().enumerate() {
            if !uids.insert(p.uid.as_str()) {
                return Err(format!("items[{i}]: pod uid {:?} ({}/{}) appears more than once", p.uid, p.namespace, p.name));
            }
            for (f, v) in [("metadata.uid", &p.uid), ("metadata.namespace", &p.namespace), ("metadata.name", &p.name)] {
                check_len(&format!("items[{i}].{f}"), v, MAX_FIELD)?;
            }
            check_len(&format!("items[{i}].spec.nodeName"), p.node.as_deref().unwrap_or(""), MAX_FIELD)?;
            for (k, v) in &p.labels {
                check_len(&format!("items[{i}].metadata.labels"), k, MAX_FIELD)?;
                check_len(&format!("items[{i}].metadata.labels.{k}"), v, MAX_FIELD)?;
            }
            let mut names = std::collections::HashSet::new();
            for c in &p.containers {
                if !names.insert((c.kind, c.name.as_str())) {
                    return Err(format!(
                        "items[{i}]: {} container {:?} appears more than once in pod {}/{}",
                        c.kind, c.name, p.namespace, p.name
                    ));
                }
                check_len(&format!("items[{i}] container {:?} name", c.name), &c.name, MAX_FIELD)?;
                check_len(&format!("items[{i}] container {:?} image", c.name), &c.image, MAX_FIELD)?;
                check_len(&format!("items[{i}] container {:?} imageID", c.name), &c.image_id, MAX_FIELD)?;
            }
        }
        Ok(())
    }
}

pub fn parse_value(v: &Value) -> Result<Upload, String> {
    let kind = v["kind"].as_str().ok_or("not a Kubernetes object: no kind")?;
    match kind {
        "Pod" => Ok(Upload::Pods(PodsUpload { scope: Scope::Pods, pods: vec![pod(v, "the Pod")?] })),
        "PodList" | "List" => {
            let items = v["items"].as_array().ok_or_else(|| format!("{kind}: items is missing or not a list"))?;
            if items.iter().any(|i| i["kind"].as_str() == Some("Node"))
                || (kind == "List" && !items.is_empty() && items.iter().all(|i| i["status"]["nodeInfo"].is_object()))
            {
                return nodes(items).map(Upload::Nodes);
            }
            let pods = items.iter().enumerate().map(|(i, p)| pod(p, &format!("items[{i}]"))).collect::<Result<Vec<_>, _>>()?;
            let from_kubelet = kind == "PodList" && v["metadata"].get("resourceVersion").is_none();
            let mut node_names: Vec<&str> = pods.iter().filter_map(|p| p.node.as_deref()).collect();
            node_names.sort();
            node_names.dedup();
            let scope = match (from_kubelet, node_names.as_slice()) {
                (true, [one]) if pods.iter().all(|p| p.node.is_some()) => Scope::Node(one.to_string()),
                // A kubelet list that is empty or spans nodes cannot say what ended: end nothing.
                (true, _) => Scope::Pods,
                (false, _) => Scope::Cluster,
            };
            Ok(Upload::Pods(PodsUpload { scope, pods }))
        }
        "NodeList" => {
            let items = v["items"].as_array().ok_or("NodeList: items is missing or not a list")?;
            nodes(items).map(Upload::Nodes)
        }
        other => Err(format!("kind {other:?} is not a Pod, PodList or NodeList")),
    }
}

fn nodes(items: &[Value]) -> Result<Vec<NodeRecord>, String> {
    items
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let name = s(&n["metadata"]["name"]).ok_or_else(|| format!("items[{i}].metadata.name is missing"))?;
            let info = &n["status"]["nodeInfo"];
            Ok(NodeRecord {
                name,
                kubelet_version: s(&info["kubeletVersion"]),
                container_runtime: s(&info["containerRuntimeVersion"]),
                kernel: s(&info["kernelVersion"]),
                os_image: s(&info["osImage"]),
                architecture: s(&info["architecture"]),
                operating_system: s(&info["operatingSystem"]),
            })
        })
        .collect()
}

fn pod(p: &Value, at: &str) -> Result<PodRecord, String> {
    let meta = &p["metadata"];
    let name = s(&meta["name"]).ok_or_else(|| format!("{at}.metadata.name is missing"))?;
    let namespace = s(&meta["namespace"]).unwrap_or_else(|| "default".into());
    // Pods always carry a uid; an exported manifest may not: namespace/name stands in.
    let uid = s(&meta["uid"]).unwrap_or_else(|| format!("{namespace}/{name}"));
    let labels: BTreeMap<String, String> = meta["labels"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
        .unwrap_or_default();
    let spec = &p["spec"];
    if !spec.is_object() {
        return Err(format!("{at}.spec is missing"));
    }
    let status = &p["status"];
    let pod_ctx = &spec["securityContext"];
    let mut containers = Vec::new();
    for (kind, spec_key, status_key) in [
        ("init", "initContainers", "initContainerStatuses"),
        ("container", "containers", "containerStatuses"),
        ("ephemeral", "ephemeralContainers", "ephemeralContainerStatuses"),
    ] {
        let statuses = status[status_key].as_array();
        for (ci, c) in spec[spec_key].as_array().into_iter().flatten().enumerate() {
            let cname = s(&c["name"]).ok_or_else(|| format!("{at}.spec.{spec_key}[{ci}].name is missing"))?;
            let st = statuses.and_then(|l| l.iter().find(|x| x["name"].as_str() == Some(cname.as_str())));
            let empty = Value::Null;
            let st = st.unwrap_or(&empty);
            let image = s(&c["image"]).or_else(|| s(&st["image"])).unwrap_or_default();
            let image_id = st["imageID"].as_str().unwrap_or_default().to_string();
            let (digest, digest_is_bare) = match digest_of(&image_id) {
                Some((d, bare)) => (Some(d), bare),
                None => (None, false),
            };
            let (state, reason) = match st["state"].as_object().and_then(|o| o.iter().next()) {
                Some((k, detail)) => (
                    match k.as_str() {
                        "running" => "running",
                        "waiting" => "waiting",
                        "terminated" => "terminated",
                        _ => "unknown",
                    },
                    s(&detail["reason"]),
                ),
                None => ("unknown", None),
            };
            let ctx = &c["securityContext"];
            let run_as_user = st["user"]["linux"]["uid"].as_i64().or(ctx["runAsUser"].as_i64()).or(pod_ctx["runAsUser"].as_i64());
            let run_as_non_root = ctx["runAsNonRoot"].as_bool().or(pod_ctx["runAsNonRoot"].as_bool());
            containers.push(ContainerRecord {
                kind,
                name: cname,
                image,
                image_id,
                digest,
                digest_is_bare,
                run_as_user,
                run_as_non_root,
                state,
                reason,
            });
        }
    }
    Ok(PodRecord {
        uid,
        namespace,
        name,
        node: s(&spec["nodeName"]),
        workload: workload(meta, &labels),
        labels,
        phase: s(&status["phase"]),
        containers,
    })
}

/// The owning workload from `ownerReferences`: a ReplicaSet made by a Deployment (the pod's
/// `pod-template-hash` label is the ReplicaSet name's suffix) is the Deployment; a Job made by a
/// CronJob (named `<cronjob>-<scheduled minute>`) is the CronJob; StatefulSet, DaemonSet, Job and
/// bare ReplicaSets are themselves. A pod without an owner is its own workload (kind `Pod`).
pub fn workload(meta: &Value, labels: &BTreeMap<String, String>) -> Option<(String, String)> {
    let owners = meta["ownerReferences"].as_array();
    let owner = owners
        .and_then(|o| o.iter().find(|r| r["controller"].as_bool() == Some(true)).or_else(|| o.first()))
        .and_then(|r| Some((r["kind"].as_str()?.to_string(), r["name"].as_str()?.to_string())));
    match owner {
        Some((kind, name)) if kind == "ReplicaSet" => match labels.get("pod-template-hash") {
            Some(hash) if name.ends_with(&format!("-{hash}")) => {
                Some(("Deployment".into(), name[..name.len() - hash.len() - 1].to_string()))
            }
            _ => Some((kind, name)),
        },
        Some((kind, name)) if kind == "Job" => match name.rsplit_once('-') {
            Some((base, minute)) if minute.len() >= 8 && minute.chars().all(|c| c.is_ascii_digit()) => {
                Some(("CronJob".into(), base.to_string()))
            }
            _ => Some((kind, name)),
        },
        Some(o) => Some(o),
        None => s(&meta["name"]).map(|n| ("Pod".into(), n)),
    }
}

/// The digest in an `imageID`, and whether it stood bare. Every shape seen in practice:
/// `docker.io/library/nginx@sha256:…`, `docker-pullable://nginx@sha256:…`, `docker://sha256:…`,
/// a bare `sha256:…`, and `""` (the pull failed).
pub fn digest_of(image_id: &str) -> Option<(String, bool)> {
    let rest = image_id.trim();
    let rest = rest.split_once("://").map(|(_, r)| r).unwrap_or(rest);
    let (bare, d) = match rest.rsplit_once('@') {
        Some((_, d)) => (false, d),
        None => (true, rest),
    };
    let hex = d.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| (format!("sha256:{}", hex.to_ascii_lowercase()), bare))
}

/// When the upload was made, for `first_seen`/`last_seen`.
pub type Seen = DateTime<Utc>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_image_id_shape() {
        let h = "54f2a904c251d5a34adf545a72d32515a15e08418dae0266e23be2e18c66fefa";
        let d = format!("sha256:{h}");
        assert_eq!(digest_of(&format!("docker.io/library/nginx@{d}")), Some((d.clone(), false)));
        assert_eq!(digest_of(&format!("docker-pullable://nginx@{d}")), Some((d.clone(), false)));
        assert_eq!(digest_of(&format!("docker://{d}")), Some((d.clone(), true)));
        assert_eq!(digest_of(&d), Some((d.clone(), true)));
        assert_eq!(digest_of(""), None);
        assert_eq!(digest_of("sha256:abc"), None);
    }

    #[test]
    fn workloads_from_owner_references() {
        let labels: BTreeMap<String, String> = [("pod-template-hash".to_string(), "6cd8d99884".to_string())].into();
        let meta =
            serde_json::json!({"name": "p", "ownerReferences": [{"kind": "ReplicaSet", "name": "e2e-hpa-6cd8d99884", "controller": true}]});
        assert_eq!(workload(&meta, &labels), Some(("Deployment".into(), "e2e-hpa".into())));
        let meta = serde_json::json!({"name": "p", "ownerReferences": [{"kind": "Job", "name": "backup-29012345", "controller": true}]});
        assert_eq!(workload(&meta, &BTreeMap::new()), Some(("CronJob".into(), "backup".into())));
        let meta = serde_json::json!({"name": "p", "ownerReferences": [{"kind": "Job", "name": "oom-kill-job3", "controller": true}]});
        assert_eq!(workload(&meta, &BTreeMap::new()), Some(("Job".into(), "oom-kill-job3".into())));
        let meta = serde_json::json!({"name": "myapp"});
        assert_eq!(workload(&meta, &BTreeMap::new()), Some(("Pod".into(), "myapp".into())));
    }
}
