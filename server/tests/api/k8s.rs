//! What runs: pod and node uploads from real cluster output, the imageID shapes resolved to
//! images ingested from real reports, ended pods, per-node kubelet uploads, workloads and the
//! unaccounted list. Expected values are counted here from the files themselves.

use super::helpers::{fixture, TestApp, TestDb};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;

async fn app() -> TestApp {
    TestApp::start(TestDb::sqlite().await, 10_000_000).await
}

async fn upload(app: &TestApp, token: &str, cluster: &str, what: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let path = format!("/api/v1/clusters/{cluster}/{what}");
    super::openapi::checked_json("POST", &path, app.client.post(app.url(&path)).bearer_auth(token).body(body)).await
}

async fn workloads(app: &TestApp, token: &str, query: &str) -> Value {
    let path = format!("/api/v1/workloads?limit=1000&{query}");
    let (status, body) = super::openapi::checked_json("GET", &path, app.client.get(app.url(&path)).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// (namespace, state) → containers, counted from the file.
pub(super) fn expected_states(file: &Value) -> BTreeMap<(String, String), i64> {
    let mut out = BTreeMap::new();
    for p in file["items"].as_array().unwrap() {
        let ns = p["metadata"]["namespace"].as_str().unwrap().to_string();
        for key in ["initContainers", "containers", "ephemeralContainers"] {
            let statuses = match key {
                "initContainers" => &p["status"]["initContainerStatuses"],
                "containers" => &p["status"]["containerStatuses"],
                _ => &p["status"]["ephemeralContainerStatuses"],
            };
            for c in p["spec"][key].as_array().into_iter().flatten() {
                let st = statuses.as_array().into_iter().flatten().find(|s| s["name"] == c["name"]);
                let state = st.and_then(|s| s["state"].as_object()).and_then(|o| o.keys().next().cloned()).unwrap_or("unknown".into());
                *out.entry((ns.clone(), state)).or_insert(0) += 1;
            }
        }
    }
    out
}

/// What runs as the campaigns and the search read it — the read model every pod, node and rule
/// write keeps (`running_workloads`) — equals what the workloads join answers now over every
/// container: each live, not terminated container's (cluster, namespace, workload, digest) once,
/// with the pod's owner; and, for the images Drydock knows, (image, cluster, namespace, workload)
/// and (image, team) as the store's readers answer them. (No image index runs in these tests: an
/// image row stands for itself only.)
pub(super) async fn what_runs_is_current(store: &drydock::store::Store) {
    use drydock::store::Store;
    use std::collections::BTreeSet;
    type Row = (String, String, String, String, Option<String>);
    const SQL: &str = "SELECT k.name, rw.namespace, rw.workload, rw.digest, t.name FROM running_workloads rw
        JOIN clusters k ON k.id = rw.cluster_id LEFT JOIN teams t ON t.id = rw.team_id";
    let rows: Vec<Row> = match store {
        Store::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    };
    let kept: BTreeSet<Row> = rows.iter().cloned().collect();
    assert_eq!(kept.len(), rows.len(), "each once");
    let every = store.workloads(&drydock::store::WorkloadFilter { ended: true, ..Default::default() }, 1_000_000, 0).await.unwrap().items;
    let live: Vec<_> = every.iter().filter(|w| w.ended_at.is_none() && w.state != "terminated" && w.digest.is_some()).collect();
    let workload = |w: &drydock::store::WorkloadRecord| w.workload.clone().unwrap_or_else(|| format!("Pod/{}", w.pod));
    let place = |w: &drydock::store::WorkloadRecord| (w.cluster.clone(), w.namespace.clone(), workload(w), w.digest.clone().unwrap());
    let want: BTreeSet<_> = live.iter().map(|w| place(w)).collect();
    assert_eq!(kept.iter().map(|r| (r.0.clone(), r.1.clone(), r.2.clone(), r.3.clone())).collect::<BTreeSet<_>>(), want);
    // Where no image answers to the digest, the team the join answers is the pod's own.
    for w in live.iter().filter(|w| w.image_row.is_none()) {
        let (c, n, wl, d) = place(w);
        assert!(kept.contains(&(c, n, wl, d, w.team.clone())), "{}/{} owned by {:?}", w.namespace, w.pod, w.team);
    }
    let ids: Vec<i64> = every.iter().filter_map(|w| w.image_row).collect::<BTreeSet<_>>().into_iter().collect();
    let running = live.iter().filter(|w| w.image_row.is_some());
    let keys: BTreeSet<_> = running.clone().map(|w| (w.image_row.unwrap(), w.cluster.clone(), w.namespace.clone(), workload(w))).collect();
    assert_eq!(store.running_workload_keys(&ids).await.unwrap().into_iter().collect::<BTreeSet<_>>(), keys);
    let teams: BTreeSet<_> = running.map(|w| (w.image_row.unwrap(), w.team.clone())).collect();
    assert_eq!(store.running_teams(&ids).await.unwrap().into_iter().collect::<BTreeSet<_>>(), teams);
}

fn counted(items: &Value) -> BTreeMap<(String, String), i64> {
    let mut out = BTreeMap::new();
    for w in items.as_array().unwrap() {
        *out.entry((w["namespace"].as_str().unwrap().to_string(), w["state"].as_str().unwrap().to_string())).or_insert(0) += 1;
    }
    out
}

#[tokio::test]
async fn every_shared_pod_list_uploads_with_its_counts_per_namespace_and_state() {
    let app = app().await;
    let ingest = app.ingest_for(&["c0", "c1", "c2", "c3", "c9"], &[]).await;
    let viewer = app.token("viewer").await;
    for (i, name) in [
        "nri-k8s-1.35-kubelet-pods.json",
        "troubleshoot-crashloop-podlist.json",
        "troubleshoot-imagepull-fail-podlist.json",
        "troubleshoot-oomkill-podlist.json",
    ]
    .iter()
    .enumerate()
    {
        let bytes = fixture(&format!("k8s-pods/{name}"));
        let file: Value = serde_json::from_slice(&bytes).unwrap();
        let cluster = format!("c{i}");
        let (s, b) = upload(&app, &ingest, &cluster, "pods", bytes).await;
        assert_eq!(s, StatusCode::CREATED, "{name}: {b}");
        assert_eq!(b["pods"], file["items"].as_array().unwrap().len(), "{name}");
        let got = workloads(&app, &viewer, &format!("cluster={cluster}")).await;
        assert_eq!(counted(&got["items"]), expected_states(&file), "{name}");
        assert_eq!(got["total"], got["items"].as_array().unwrap().len());
        let running = workloads(&app, &viewer, &format!("cluster={cluster}&state=running")).await;
        let want_running: i64 = expected_states(&file).iter().filter(|((_, s), _)| s == "running").map(|(_, n)| n).sum();
        assert_eq!(running["total"], want_running, "{name}: state=running");
    }
    // The same file again: 200, nothing doubles.
    let (s, _) = upload(&app, &ingest, "c0", "pods", fixture("k8s-pods/nri-k8s-1.35-kubelet-pods.json")).await;
    assert_eq!(s, StatusCode::OK);
    let again = workloads(&app, &viewer, "cluster=c0").await;
    assert_eq!(again["total"], 24);

    // One workload by name; the unaccounted list groups c0's live containers without losing one.
    let hpa = workloads(&app, &viewer, "cluster=c0&workload=Deployment%2Fe2e-hpa").await;
    assert_eq!(hpa["total"], 1);
    let file0: Value = serde_json::from_slice(&fixture("k8s-pods/nri-k8s-1.35-kubelet-pods.json")).unwrap();
    let live: i64 = expected_states(&file0).iter().filter(|((_, st), _)| st != "terminated").map(|(_, n)| n).sum();
    let un: Value = app.get_json("/api/v1/unaccounted", &viewer).await;
    let grouped: i64 =
        un["items"].as_array().unwrap().iter().filter(|e| e["cluster"] == "c0").map(|e| e["containers"].as_i64().unwrap()).sum();
    assert_eq!(grouped, live);
    assert!(
        un["items"].as_array().unwrap().iter().any(|e| e["cluster"] == "c0" && e["containers"].as_i64().unwrap() > 1),
        "replicas grouped"
    );
    // Fields of one container, from the file: workload through the ReplicaSet to its Deployment,
    // the digest of a containerd imageID, runtime uid, the reason of a terminated container.
    let all = workloads(&app, &viewer, "cluster=c0&namespace=scraper").await;
    let items = all["items"].as_array().unwrap();
    let php = items.iter().find(|w| w["container"] == "php-apache").expect("php-apache");
    assert_eq!(php["workload"], "Deployment/e2e-hpa");
    assert_eq!(php["image"], "docker.io/library/nginx:alpine");
    assert_eq!(php["image_id"], "docker.io/library/nginx@sha256:54f2a904c251d5a34adf545a72d32515a15e08418dae0266e23be2e18c66fefa");
    assert_eq!(php["digest"], "sha256:54f2a904c251d5a34adf545a72d32515a15e08418dae0266e23be2e18c66fefa");
    assert_eq!(php["image_digest"], Value::Null, "no such image known yet");
    assert_eq!(php["run_as_user"], 0);
    let oom = workloads(&app, &viewer, "cluster=c3").await;
    assert_eq!(oom["items"][0]["reason"], "OOMKilled");
    assert_eq!(oom["items"][0]["workload"], "Job/oom-kill-job3");
    let pull = workloads(&app, &viewer, "cluster=c2").await;
    assert_eq!(pull["items"][0]["digest"], Value::Null, "an empty imageID (pull failed) has no digest");
    assert_eq!(pull["items"][0]["reason"], "ErrImagePull");

    // Bad input: not JSON 400, not a pod list 422, a node list sent as pods 422, ingest-only reads.
    assert_eq!(upload(&app, &ingest, "c9", "pods", b"{".to_vec()).await.0, StatusCode::BAD_REQUEST);
    let (s, b) = upload(&app, &ingest, "c9", "pods", br#"{"kind":"Service","apiVersion":"v1"}"#.to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, b) = upload(&app, &ingest, "c9", "pods", br#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{}}]}"#.to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["error"].as_str().unwrap().contains("items[0].metadata.name"), "{b}");
    let r = app.client.get(app.url("/api/v1/workloads")).bearer_auth(&ingest).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.client.get(app.url("/api/v1/workloads?state=sleeping")).bearer_auth(&viewer).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let clusters: Value = app.get_json("/api/v1/clusters", &viewer).await;
    assert_eq!(clusters["total"], 4, "c9 was never created: nothing half-written");
    assert_eq!(clusters["items"][0]["upload_only"], true);
}

/// A PodList with `keep` of the file's pods (`metadata.resourceVersion` makes it an API list).
fn subset(file: &Value, keep: usize, api_list: bool) -> Vec<u8> {
    let mut v = file.clone();
    let items: Vec<Value> = v["items"].as_array().unwrap()[..keep].to_vec();
    v["items"] = Value::Array(items);
    if api_list {
        v["metadata"] = serde_json::json!({"resourceVersion": "1"});
    }
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn ended_pods_and_per_node_kubelet_uploads_sqlite() {
    ended_pods_and_per_node_kubelet_uploads(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn ended_pods_and_per_node_kubelet_uploads_postgres() {
    ended_pods_and_per_node_kubelet_uploads(TestDb::postgres().await).await;
}

async fn ended_pods_and_per_node_kubelet_uploads(db: TestDb) {
    let app = TestApp::start(db, 10_000_000).await;
    let ingest = app.ingest_for(&["k"], &[]).await;
    let viewer = app.token("viewer").await;
    let file: Value = serde_json::from_slice(&fixture("k8s-pods/nri-k8s-1.35-kubelet-pods.json")).unwrap();
    // A second node's kubelet: the same pods moved to node "other" with other uids.
    let mut other = file.clone();
    for p in other["items"].as_array_mut().unwrap().iter_mut().take(5) {
        p["spec"]["nodeName"] = "other".into();
        let uid = format!("{}-other", p["metadata"]["uid"].as_str().unwrap());
        p["metadata"]["uid"] = uid.into();
    }
    other["items"] = Value::Array(other["items"].as_array().unwrap()[..5].to_vec());
    upload(&app, &ingest, "k", "pods", serde_json::to_vec(&file).unwrap()).await;
    what_runs_is_current(&app.db.store).await;
    upload(&app, &ingest, "k", "pods", serde_json::to_vec(&other).unwrap()).await;
    what_runs_is_current(&app.db.store).await;
    assert_eq!(workloads(&app, &viewer, "cluster=k").await["total"], 29);

    // The first node's kubelet now lists 20 of its 24 pods: 4 end there, node "other" is untouched.
    let (s, b) = upload(&app, &ingest, "k", "pods", subset(&file, 20, false)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((b["scope"].as_str(), b["ended"].as_i64()), (Some("node datagen-1-35"), Some(4)), "{b}");
    assert_eq!(workloads(&app, &viewer, "cluster=k").await["total"], 25);
    what_runs_is_current(&app.db.store).await;
    // Ended pods are kept as history.
    let history = workloads(&app, &viewer, "cluster=k&ended=true").await;
    assert_eq!(history["total"], 29);
    let ended = history["items"].as_array().unwrap().iter().filter(|w| !w["ended_at"].is_null()).count();
    assert_eq!(ended, 4);

    // An API server list is the whole cluster: the other node's pods end too.
    let (_, b) = upload(&app, &ingest, "k", "pods", subset(&file, 10, true)).await;
    assert_eq!((b["scope"].as_str(), b["ended"].as_i64()), (Some("cluster"), Some(15)), "{b}");
    assert_eq!(workloads(&app, &viewer, "cluster=k").await["total"], 10);
    what_runs_is_current(&app.db.store).await;
    // A pod that comes back runs again.
    let (_, b) = upload(&app, &ingest, "k", "pods", subset(&file, 12, true)).await;
    assert_eq!(b["ended"], 0);
    assert_eq!(workloads(&app, &viewer, "cluster=k").await["total"], 12);
    what_runs_is_current(&app.db.store).await;
    // A uid listed in another namespace leaves its old one (a pod-scoped upload of that pod alone).
    let mut moved = file["items"][0].clone();
    moved["metadata"]["namespace"] = "moved-here".into();
    (moved["kind"], moved["apiVersion"]) = ("Pod".into(), "v1".into());
    upload(&app, &ingest, "k", "pods", serde_json::to_vec(&moved).unwrap()).await;
    let containers: i64 = expected_states(&serde_json::json!({"items": [moved]})).values().sum();
    assert_eq!(workloads(&app, &viewer, "cluster=k&namespace=moved-here").await["total"].as_i64().unwrap(), containers);
    what_runs_is_current(&app.db.store).await;
    let kinds: Vec<String> = app.db.store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"cluster.created".to_string()) && kinds.iter().filter(|k| *k == "cluster.pods_recorded").count() == 6);
    app.db.drop_database().await;
}

#[tokio::test]
async fn image_ids_resolve_and_unaccounted_says_why_sqlite() {
    image_ids_resolve_to_images_from_real_reports_and_unaccounted_says_why(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn image_ids_resolve_and_unaccounted_says_why_postgres() {
    image_ids_resolve_to_images_from_real_reports_and_unaccounted_says_why(TestDb::postgres().await).await;
}

async fn image_ids_resolve_to_images_from_real_reports_and_unaccounted_says_why(db: TestDb) {
    let app = TestApp::start(db, 10_000_000).await;
    let ingest = app.ingest_for(&["prod"], &[]).await;
    let viewer = app.token("viewer").await;
    // A real report: juice-shop, with its manifest digest (RepoDigests) and config digest (ImageID).
    let juice = fixture("trivy/juice-shop-v10.2.0.json");
    let r = app.client.post(app.url("/api/v1/scans")).bearer_auth(&ingest).body(juice.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let report: Value = serde_json::from_slice(&juice).unwrap();
    let manifest = report["Metadata"]["RepoDigests"][0].as_str().unwrap().split('@').nth(1).unwrap().to_string();
    let config = report["Metadata"]["ImageID"].as_str().unwrap().to_string();

    // The kubectl-neat pod, once per imageID shape.
    let base: Value = serde_json::from_slice(&fixture("k8s-pods/kubectl-neat-pod1-raw.json")).unwrap();
    let shapes = [
        ("docker-io", format!("docker.io/bkimminich/juice-shop@{manifest}"), Some(manifest.clone())),
        ("pullable", format!("docker-pullable://bkimminich/juice-shop@{manifest}"), Some(manifest.clone())),
        ("bare-config", config.clone(), Some(config.clone())),
        ("empty", String::new(), None),
    ];
    let mut pods = Vec::new();
    for (suffix, image_id, _) in &shapes {
        let mut p = base.clone();
        p["metadata"]["name"] = format!("myapp-{suffix}").into();
        p["metadata"]["uid"] = format!("uid-{suffix}").into();
        p["spec"]["containers"][0]["image"] = "bkimminich/juice-shop:v10.2.0".into();
        p["status"]["containerStatuses"][0]["imageID"] = image_id.clone().into();
        pods.push(p);
    }
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": pods});
    let (s, b) = upload(&app, &ingest, "prod", "pods", serde_json::to_vec(&list).unwrap()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    what_runs_is_current(&app.db.store).await;
    let got = workloads(&app, &viewer, "cluster=prod").await;
    for (suffix, _, digest) in &shapes {
        let w = got["items"].as_array().unwrap().iter().find(|w| w["pod"] == format!("myapp-{suffix}")).unwrap();
        assert_eq!(w["digest"].as_str(), digest.as_deref(), "{suffix}");
        let want = digest.as_ref().map(|_| manifest.as_str());
        assert_eq!(w["image_digest"].as_str(), want, "{suffix}: resolved to the report's image by any alias");
    }
    // The image page's API shows where it runs.
    let img: Value = app.get_json(&format!("/api/v1/images/{config}"), &viewer).await;
    let runs = img["runs_in"].as_array().unwrap();
    assert!(runs.iter().all(|r| r["cluster"] == "prod" && r["namespace"] == "default"));
    assert_eq!(runs.iter().map(|r| r["pods"].as_i64().unwrap()).sum::<i64>(), 3, "three bare pods run it: {runs:?}");

    // Unaccounted: no registry is configured, so nothing is in one or from an approved one; the
    // scanned image is not "never scanned", the failed pull is.
    let un: Value = app.get_json("/api/v1/unaccounted", &viewer).await;
    let items = un["items"].as_array().unwrap();
    let known = items.iter().find(|e| e["digest"] == manifest.as_str()).expect("the scanned image is listed");
    assert_eq!(known["reasons"], serde_json::json!(["not_in_registry", "unapproved_registry", "stale_scan"]), "{known}");
    let failed = items.iter().find(|e| e["digest"].is_null()).expect("the failed pull is listed");
    assert_eq!(failed["image_id"], "");
    assert!(failed["reasons"].as_array().unwrap().contains(&Value::from("never_scanned")));
    for field in ["digest", "image", "reasons", "cluster", "namespace", "workload", "team"] {
        assert!(known.get(field).is_some(), "{field}");
    }
    app.db.drop_database().await;
}

#[tokio::test]
async fn what_runs_is_owned_by_label_then_namespace_then_image_rules() {
    let app = app().await;
    let admin = app.token("admin").await;
    let ingest = app.ingest_for(&["m"], &[]).await;
    let viewer = app.token("viewer").await;
    // nginx:alpine by the repository-prefix rule; kube-system by namespace; one pod by its label.
    let file: Value = serde_json::from_slice(&fixture("k8s-pods/nri-k8s-1.35-kubelet-pods.json")).unwrap();
    let labelled = file["items"].as_array().unwrap().iter().find(|p| p["metadata"]["namespace"] == "kube-system").unwrap();
    let (label_key, label_value) = labelled["metadata"]["labels"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .unwrap();
    let rule = |kind: &str, pattern: &str, team: &str| {
        app.client
            .post(app.url("/api/v1/ownership-rules"))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"kind": kind, "pattern": pattern, "team": team}))
    };
    assert_eq!(rule("namespace", "kube-system", "platform").send().await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(rule("label", &format!("{label_key}={label_value}"), "sre").send().await.unwrap().status(), StatusCode::CREATED);
    let bad = rule("namespace", "Not_A_Namespace", "x").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = rule("label", "no-equals-sign", "x").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    upload(&app, &ingest, "m", "pods", fixture("k8s-pods/nri-k8s-1.35-kubelet-pods.json")).await;
    what_runs_is_current(&app.db.store).await;
    let all = workloads(&app, &viewer, "cluster=m").await;
    for w in all["items"].as_array().unwrap() {
        let pod = file["items"].as_array().unwrap().iter().find(|p| p["metadata"]["name"] == w["pod"]).unwrap();
        let has_label = pod["metadata"]["labels"][&label_key] == label_value.as_str();
        let want = if has_label {
            Some("sre")
        } else if w["namespace"] == "kube-system" {
            Some("platform")
        } else {
            None
        };
        assert_eq!(w["team"].as_str(), want, "{}", w["pod"]);
    }
    // The team filter uses the same rule.
    let sre = workloads(&app, &viewer, "team=sre").await;
    assert!(sre["total"].as_i64().unwrap() >= 1);
    let rules: Value = app.get_json("/api/v1/ownership-rules", &viewer).await;
    let ns = rules["items"].as_array().unwrap().iter().find(|r| r["kind"] == "namespace").unwrap();
    let want_ns = all["items"].as_array().unwrap().iter().filter(|w| w["namespace"] == "kube-system").count();
    assert_eq!(ns["images"], want_ns, "containers in kube-system");
    // A rule added after the pods were stored applies to them at once (the owner is kept with
    // each pod and recomputed when a rule is added).
    let other = all["items"].as_array().unwrap().iter().find(|w| w["team"].is_null()).unwrap()["namespace"].as_str().unwrap().to_string();
    assert_eq!(rule("namespace", &other, "late-team").send().await.unwrap().status(), StatusCode::CREATED);
    what_runs_is_current(&app.db.store).await;
    let now = workloads(&app, &viewer, "cluster=m").await;
    let late: Vec<&Value> = now["items"].as_array().unwrap().iter().filter(|w| w["team"] == "late-team").collect();
    let want_late = all["items"].as_array().unwrap().iter().filter(|w| w["namespace"] == other.as_str() && w["team"].is_null()).count();
    assert!(want_late >= 1);
    assert_eq!(late.len(), want_late, "containers of {other} owned by the rule added after them");
    assert!(late.iter().all(|w| w["namespace"] == other.as_str()));
    // A label rule added later wins over that namespace rule for the pods carrying the label,
    // and only for them.
    let carries = |pod: &str| {
        file["items"].as_array().unwrap().iter().any(|p| p["metadata"]["name"] == pod && p["metadata"]["labels"]["app"] == "statefulset")
    };
    assert_eq!(rule("label", "app=statefulset", "late-label").send().await.unwrap().status(), StatusCode::CREATED);
    what_runs_is_current(&app.db.store).await;
    let after = workloads(&app, &viewer, "cluster=m").await;
    let mut labelled = 0;
    for (w, before) in after["items"].as_array().unwrap().iter().zip(now["items"].as_array().unwrap()) {
        assert_eq!(w["pod"], before["pod"]);
        let pod = w["pod"].as_str().unwrap();
        if carries(pod) {
            labelled += 1;
            assert_eq!(w["team"], "late-label", "{pod}");
        } else {
            assert_eq!(w["team"], before["team"], "{pod} keeps its owner");
        }
    }
    assert!(labelled >= 2, "the fixture's statefulset pods");
}
