//! Pod lists shaped like the fixtures' (`kubectl get pods -A -o json`): workloads of one
//! repository each, a few replicas, some with a platform sidecar, running images by digest;
//! popular services run in several clusters.

use super::{names, Estate, Rng};
use serde_json::{json, Value};

/// What one cluster's pod list holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PodListSummary {
    pub pods: usize,
    pub containers: usize,
}

/// One pod: its workload, replica number, the images of its containers (image indexes).
struct PodPlan {
    workload: usize,
    replica: usize,
    images: Vec<usize>,
}

/// Cluster `c`'s share of the estate's containers.
fn containers_in(estate: &Estate, c: usize) -> usize {
    let (total, n) = (estate.preset.containers, estate.preset.clusters);
    total / n + usize::from(c < total % n)
}

/// Cluster `c`'s pods, in order, with exactly its share of containers.
fn pods_of(estate: &Estate, c: usize) -> Vec<PodPlan> {
    let target = containers_in(estate, c);
    let repos = estate.preset.images.div_ceil(names::VERSIONS_PER_REPOSITORY).max(1);
    let mut left = target;
    let mut plans = Vec::new();
    let mut w = 0;
    while left > 0 {
        let mut r = Rng::derive(estate.seed, 7, (c as u64) << 32 | w as u64);
        let repo = r.below(repos);
        let versions = names::VERSIONS_PER_REPOSITORY.min(estate.preset.images - repo * names::VERSIONS_PER_REPOSITORY);
        // Mostly the newest version; now and then one behind.
        let back = if r.chance(20) && versions > 1 { 1 } else { 0 };
        let image = repo * names::VERSIONS_PER_REPOSITORY + versions - 1 - back;
        let sidecar = r.chance(25).then(|| r.below(versions.min(3)));
        for replica in 0..1 + r.below(4) {
            if left == 0 {
                break;
            }
            let mut images = vec![image];
            if let Some(s) = sidecar.filter(|_| left > 1) {
                images.push(s);
            }
            left -= images.len();
            plans.push(PodPlan { workload: w, replica, images });
        }
        w += 1;
    }
    plans
}

/// How many pods and containers cluster `c` runs.
pub fn plan(estate: &Estate, c: usize) -> PodListSummary {
    let pods = pods_of(estate, c);
    PodListSummary { pods: pods.len(), containers: pods.iter().map(|p| p.images.len()).sum() }
}

/// Cluster `c`'s name, its pod list as JSON bytes, and what it holds.
pub fn pod_list(estate: &Estate, c: usize) -> (String, Vec<u8>, PodListSummary) {
    let cluster = estate.cluster_name(c);
    let env = if names::is_production(c) { "prod" } else { cluster.split('-').next().unwrap_or("dev") };
    let plans = pods_of(estate, c);
    let summary = PodListSummary { pods: plans.len(), containers: plans.iter().map(|p| p.images.len()).sum() };
    let items: Vec<Value> = plans.iter().map(|p| pod(estate, &cluster, env, p)).collect();
    let list = json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "981491"}, "items": items});
    (cluster, serde_json::to_vec(&list).expect("JSON values serialise"), summary)
}

/// One pod as the API server lists it.
fn pod(estate: &Estate, cluster: &str, env: &str, p: &PodPlan) -> Value {
    let main = p.images[0];
    let (repository, _) = estate.repository_of(main);
    let service = repository.rsplit('/').next().unwrap_or(&repository).to_string();
    let namespace = format!("{}-{env}", estate.team_of(main));
    let rs = format!("{service}-{:08x}", Rng::derive(estate.seed, 8, p.workload as u64).next_u64() as u32);
    let name = format!("{rs}-{:05x}", p.replica);
    let mut r = Rng::derive(estate.seed, 9, main as u64);
    let uid = if r.chance(75) { json!({"runAsUser": 1000, "runAsNonRoot": true}) } else { json!({}) };
    let mut containers = Vec::new();
    let mut statuses = Vec::new();
    for (k, &i) in p.images.iter().enumerate() {
        let (repo, tag) = estate.repository_of(i);
        let image = format!("{}/{repo}:{tag}", Estate::REGISTRY);
        let by_digest = format!("{}/{repo}@{}", Estate::REGISTRY, estate.digest_of(i));
        let cname = if k == 0 { service.clone() } else { "proxy".into() };
        containers.push(json!({"name": cname, "image": image, "imagePullPolicy": "IfNotPresent", "securityContext": uid}));
        statuses.push(json!({"name": cname, "image": image, "imageID": format!("docker-pullable://{by_digest}"), "ready": true,
                             "restartCount": 0, "started": true, "state": {"running": {"startedAt": "2026-11-20T08:00:00Z"}}}));
    }
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("{cluster}-{namespace}-{name}"),
                     "creationTimestamp": "2026-11-20T07:59:00Z", "labels": {"app": service, "pod-template-hash": rs},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"nodeName": format!("node-{:03}", p.workload % 97), "containers": containers, "restartPolicy": "Always"},
        "status": {"phase": "Running", "containerStatuses": statuses, "startTime": "2026-11-20T07:59:00Z"}
    })
}
