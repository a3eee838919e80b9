//! The audit ledger: RFC 6962 hashing and proofs against the published test vectors and a large
//! tree, the API's checkpoints, entries and proofs, Kubernetes audit facts, the command line and an
//! image's history. Tamper detection on a real store is in `ledger_verify.rs`.

use super::helpers::{fixture, TestApp, TestDb};
use super::ledger_verify::sql;
use base64::Engine as _;
use drydock::ledger::{self, merkle};
use drydock::store::capabilities::*;
use serde_json::Value;
use sha2::Digest as _;

fn unhex(s: &str) -> merkle::Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn b64(s: &str) -> merkle::Hash {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap().try_into().unwrap()
}

#[test]
fn rfc6962_vectors_roots_inclusion_and_consistency() {
    let v: Value = serde_json::from_slice(&fixture("ledger/rfc6962-vectors.json")).unwrap();
    let leaves: Vec<merkle::Hash> =
        v["leaf_inputs"].as_array().unwrap().iter().map(|x| merkle::leaf_hash(&hex::decode(x.as_str().unwrap()).unwrap())).collect();
    for (size, root) in v["roots_by_size"].as_object().unwrap() {
        let n: usize = size.parse().unwrap();
        assert_eq!(hex::encode(merkle::root(&leaves[..n])), root.as_str().unwrap(), "root of size {n}");
    }
    for p in v["inclusion_proofs"].as_array().unwrap() {
        let (i, n) = (p["index"].as_u64().unwrap(), p["size"].as_u64().unwrap());
        let want: Vec<merkle::Hash> = p["proof"].as_array().unwrap().iter().map(|h| unhex(h.as_str().unwrap())).collect();
        assert_eq!(merkle::inclusion_proof(i as usize, &leaves[..n as usize]), want, "inclusion {i} in {n}");
        let root = unhex(v["roots_by_size"][n.to_string()].as_str().unwrap());
        assert!(merkle::verify_inclusion(i, n, &leaves[i as usize], &want, &root));
    }
    for p in v["consistency_proofs"].as_array().unwrap() {
        let (m, n) = (p["from"].as_u64().unwrap(), p["to"].as_u64().unwrap());
        let want: Vec<merkle::Hash> = p["proof"].as_array().unwrap().iter().map(|h| unhex(h.as_str().unwrap())).collect();
        assert_eq!(merkle::consistency_proof(m as usize, &leaves[..n as usize]), want, "consistency {m} → {n}");
        let r1 = unhex(v["roots_by_size"][m.to_string()].as_str().unwrap());
        let r2 = unhex(v["roots_by_size"][n.to_string()].as_str().unwrap());
        assert!(merkle::verify_consistency(m, n, &r1, &r2, &want), "verify consistency {m} → {n}");
    }
}

/// RFC 6962's recursive MTH, written here independently of the library's bottom-up root.
fn mth(leaves: &[merkle::Hash]) -> merkle::Hash {
    match leaves.len() {
        0 => sha2::Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - (n - 1).leading_zeros() - 1);
            let mut h = sha2::Sha256::new();
            h.update([1u8]);
            h.update(mth(&leaves[..k]));
            h.update(mth(&leaves[k..]));
            h.finalize().into()
        }
    }
}

#[test]
fn a_large_tree() {
    let leaves: Vec<merkle::Hash> = (0..100_003u32).map(|i| merkle::leaf_hash(&i.to_le_bytes())).collect();
    let root = merkle::root(&leaves);
    assert_eq!(root, mth(&leaves));
    for i in [0usize, 1, 4095, 65_536, 99_999, 100_002] {
        let p = merkle::inclusion_proof(i, &leaves);
        assert!(merkle::verify_inclusion(i as u64, leaves.len() as u64, &leaves[i], &p, &root), "inclusion {i}");
    }
    for m in [1usize, 2, 1000, 65_536, 65_537, 100_002] {
        let p = merkle::consistency_proof(m, &leaves);
        assert!(merkle::verify_consistency(m as u64, leaves.len() as u64, &mth(&leaves[..m]), &root, &p), "consistency {m}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_serves_checkpoints_entries_and_proofs_that_verify() {
    let app = TestApp::start_quiet(TestDb::sqlite().await, 1_000_000).await;
    drydock::demo::load_if_empty(&app.db.store, &drydock::config::Config::default().promotion().unwrap()).await.unwrap();
    let viewer = app.token("viewer").await;
    let ingest = app.token("ingest").await;
    let get = |path: &str, token: &str| app.client.get(app.url(path)).bearer_auth(token).send();
    assert_eq!(get("/api/v1/ledger/checkpoint", &ingest).await.unwrap().status(), reqwest::StatusCode::FORBIDDEN);
    let r = get("/api/v1/ledger/checkpoint", &viewer).await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let note = r.text().await.unwrap();
    // The key Drydock made beside the SQLite file verifies it.
    let key_file = format!("{}.ledger.pem", app.db.url.trim_start_matches("sqlite://"));
    let key = ledger::LedgerKey::load(std::path::Path::new(&key_file)).unwrap();
    let (size, root) = ledger::verify_checkpoint(&note, &key.public()).unwrap();
    assert_eq!(size as i64, app.db.store.ledger_size().await.unwrap());
    // Entry 0 and its inclusion proof reproduce the signed root.
    let entries: Value = get(&format!("/api/v1/ledger/entries?start=0&end={size}"), &viewer).await.unwrap().json().await.unwrap();
    assert_eq!(entries.as_array().unwrap().len() as u64, size);
    let e0 = &entries[0];
    let bytes = base64::engine::general_purpose::STANDARD.decode(e0["leaf"].as_str().unwrap()).unwrap();
    let parsed: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!((parsed["index"].clone(), parsed["kind"].clone()), (Value::from(0), e0["kind"].clone()));
    let proof: Value = get(&format!("/api/v1/ledger/proof/inclusion?index=0&size={size}"), &viewer).await.unwrap().json().await.unwrap();
    let hashes: Vec<merkle::Hash> = proof["hashes"].as_array().unwrap().iter().map(|h| b64(h.as_str().unwrap())).collect();
    assert!(merkle::verify_inclusion(0, size, &merkle::leaf_hash(&bytes), &hashes, &root));
    // A consistency proof from an earlier size to the checkpoint's.
    let leaves: Vec<merkle::Hash> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| merkle::leaf_hash(&base64::engine::general_purpose::STANDARD.decode(e["leaf"].as_str().unwrap()).unwrap()))
        .collect();
    let from = size / 2;
    let c: Value = get(&format!("/api/v1/ledger/proof/consistency?from={from}&to={size}"), &viewer).await.unwrap().json().await.unwrap();
    let hashes: Vec<merkle::Hash> = c["hashes"].as_array().unwrap().iter().map(|h| b64(h.as_str().unwrap())).collect();
    assert!(merkle::verify_consistency(from, size, &merkle::root(&leaves[..from as usize]), &root, &hashes));
    // The command line checks a running server through the same API, signature included.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["ledger", "verify", "--server", &app.base, "--token", &viewer, "--public-key", &key.verifier_key()])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("checkpoint signature verified"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("inclusion proof of entry 0 in") && stdout.contains("consistency proof") && !stdout.contains("FAILED"),
        "{stdout}"
    );
    // Bad requests name the problem.
    let r = get(&format!("/api/v1/ledger/proof/inclusion?index={size}&size={size}"), &viewer).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let r = get("/api/v1/ledger/entries?start=0&end=20000", &viewer).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK, "end is capped at the log's size");
    let r = get("/api/v1/ledger/proof/consistency?from=0&to=1", &viewer).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn kubernetes_audit_events_are_kept_as_facts_never_as_objects() {
    let app = TestApp::start_quiet(TestDb::sqlite().await, 10_000_000).await;
    let ingest = app.ingest_for(&["minikube", "default", "prod"], &[]).await;
    let post = |q: &str, body: Vec<u8>| app.client.post(app.url(&format!("/api/v1/audit/k8s{q}"))).bearer_auth(&ingest).body(body).send();
    let before = app.db.store.ledger_size().await.unwrap();
    let mut total = 0;
    for name in ["audit2rbac-demo.log.jsonl", "falco-create_configmap_sensitive_values.jsonl"] {
        let bytes = fixture(&format!("k8s-audit/{name}"));
        // Counted here: one event per non-empty line, unique by (auditID, stage).
        let lines: Vec<Value> = std::str::from_utf8(&bytes)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let unique: std::collections::HashSet<(String, String)> = lines
            .iter()
            .map(|v| (v["auditID"].as_str().unwrap().to_string(), v["stage"].as_str().unwrap_or("ResponseComplete").to_string()))
            .collect();
        let r = post("?cluster=minikube", bytes.clone()).await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{name}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["events"], lines.len(), "{name}");
        assert_eq!(b["recorded"], unique.len(), "{name}");
        total += unique.len() as i64;
        // Again: nothing new.
        let r = post("?cluster=minikube", bytes).await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
    }
    // (The background jobs append entries of their own meanwhile, a day's snapshot among them.)
    let rows = app.db.store.ledger_rows(0, i64::MAX).await.unwrap();
    let audits = rows.iter().filter(|r| r.index.is_some_and(|i| i >= before) && r.kind == "k8s.audit").count();
    assert_eq!(audits as i64, total);
    // The ConfigMaps' data (placeholder cloud credentials) is in no entry, stored or served.
    for r in &rows {
        let e = r.entry.as_deref().unwrap_or_default();
        for secret in ["MY-KEY", "aws_secret_access_key", "color.good", "requestObject", "responseObject"] {
            assert!(!e.contains(secret) && !r.payload.contains(secret), "{secret} leaked into entry {:?}", r.index);
        }
    }
    let audit: Vec<_> = app.db.store.audit_events().await.unwrap().into_iter().filter(|e| e.kind == "k8s.audit").collect();
    let falco = audit.iter().find(|e| e.payload["audit_id"] == "9a2bb12c-b9f7-4d34-809c-671e8c7e1e06").expect("the first falco event");
    assert_eq!(falco.payload["api_version"], "audit.k8s.io/v1", "items without apiVersion take the default");
    assert_eq!(falco.payload["username"], "minikube-user");
    assert_eq!(falco.payload["decision"], "allow");
    assert_eq!(falco.payload["code"], 201);
    let bob = audit.iter().find(|e| e.payload["impersonated"] == "bob").expect("impersonation kept");
    assert_eq!(bob.payload["code"], 403);

    // An EventList; an item naming its own version keeps it; a pod create keeps only its images.
    let list = serde_json::json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1beta1", "items": [
        {"auditID": "a1", "stage": "ResponseComplete", "verb": "create", "timestamp": "2026-11-27T10:00:00Z",
         "user": {"username": "alice", "groups": ["dev"]}, "sourceIPs": ["10.1.2.3"], "userAgent": "kubectl/v1.35",
         "objectRef": {"resource": "pods", "namespace": "shop", "name": "api-1"},
         "requestObject": {"kind": "Pod", "spec": {"containers": [{"name": "api", "image": "registry.example/shop/api:1.2",
             "env": [{"name": "DB_PASSWORD", "value": "hunter2"}]}]}},
         "responseStatus": {"code": 201}},
        {"apiVersion": "audit.k8s.io/v1", "kind": "Event", "auditID": "a2", "stage": "ResponseComplete", "verb": "create",
         "stageTimestamp": "2026-11-27T10:05:00.123456Z", "user": {"username": "bob"},
         "objectRef": {"resource": "pods", "namespace": "shop", "name": "api-1", "subresource": "exec"}, "responseStatus": {"code": 101}}
    ]});
    let r = post("?cluster=prod", serde_json::to_vec(&list).unwrap()).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let audit: Vec<_> = app.db.store.audit_events().await.unwrap().into_iter().filter(|e| e.subject.starts_with("cluster:prod/")).collect();
    let create = audit.iter().find(|e| e.payload["audit_id"] == "a1").unwrap();
    assert_eq!(create.payload["api_version"], "audit.k8s.io/v1beta1");
    assert_eq!(create.payload["images"], serde_json::json!(["registry.example/shop/api:1.2"]));
    assert_eq!(create.payload["source_ips"], serde_json::json!(["10.1.2.3"]));
    assert!(!create.payload.to_string().contains("hunter2"));
    let exec = audit.iter().find(|e| e.payload["audit_id"] == "a2").unwrap();
    assert_eq!((exec.payload["api_version"].as_str(), exec.payload["subresource"].as_str()), (Some("audit.k8s.io/v1"), Some("exec")));

    // Bad input names the problem; nothing is written.
    let size = app.db.store.ledger_size().await.unwrap();
    let r = post("", b"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v2\",\"auditID\":\"x\",\"verb\":\"get\"}".to_vec()).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("audit.k8s.io/v2"));
    let r = post("", b"{\"auditID\":\"ok\",\"verb\":\"get\",\"timestamp\":\"2026-01-01T00:00:00Z\"}\nnot json\n".to_vec()).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("line 2"));
    assert_eq!(app.db.store.ledger_size().await.unwrap(), size);
    assert!(ledger::verify_store(&app.db.store, None).await.unwrap().error.is_none());
}

#[tokio::test]
async fn the_command_line_checkpoints_exports_and_verifies_offline() {
    let db = TestDb::sqlite().await;
    drydock::demo::load_if_empty(&db.store, &drydock::config::Config::default().promotion().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let witness = dir.path().join("witness.log");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
            .args(args)
            .env("DRYDOCK_LEDGER_WITNESS", &witness)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let url = db.url.as_str();
    // The key is created beside the SQLite file by the first command that needs it.
    let (ok, note, err) = run(&["ledger", "checkpoint", "--database-url", url]);
    assert!(ok, "{err}");
    assert!(note.starts_with("drydock.audit.ledger/v1\n"), "{note}");
    assert!(std::fs::read_to_string(&witness).unwrap().contains(&note), "the witness got the checkpoint");
    let (ok, out, _) = run(&["ledger", "verify", "--database-url", url]);
    assert!(ok && out.starts_with("ledger intact"), "{out}");

    let export = dir.path().join("ledger.json");
    let (ok, out, err) = run(&["ledger", "export", export.to_str().unwrap(), "--database-url", url]);
    assert!(ok, "{out}{err}");
    let mut e: Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let vkey = e["verifier_key"].as_str().unwrap().to_string();
    let (ok, printed, _) = run(&["ledger", "public-key", "--database-url", url]);
    assert!(ok && printed.trim() == vkey, "{printed}");
    let (ok, out, _) = run(&["ledger", "verify", "--file", export.to_str().unwrap(), "--public-key", &vkey]);
    assert!(ok && out.starts_with("ledger export intact"), "{out}");

    // A tampered copy: entry 4 edited.
    let bytes = base64::engine::general_purpose::STANDARD.decode(e["entries"][4].as_str().unwrap()).unwrap();
    let mut entry: Value = serde_json::from_slice(&bytes).unwrap();
    entry["actor"] = "someone-else".into();
    e["entries"][4] = base64::engine::general_purpose::STANDARD.encode(ledger::canonical_json(&entry)).into();
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&e).unwrap()).unwrap();
    let (ok, out, _) = run(&["ledger", "verify", "--file", tampered.to_str().unwrap(), "--public-key", &vkey]);
    assert!(!ok && out.contains("no longer match the signed checkpoint"), "{out}");
    // An entry removed: the next one carries the wrong index.
    let mut e2: Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    e2["entries"].as_array_mut().unwrap().remove(2);
    std::fs::write(&tampered, serde_json::to_vec(&e2).unwrap()).unwrap();
    let (ok, out, _) = run(&["ledger", "verify", "--file", tampered.to_str().unwrap(), "--public-key", &vkey]);
    assert!(!ok && out.contains("entry 2: carries index 3"), "{out}");
    // The database itself, tampered: the command names the first bad index.
    sql(&db.store, "UPDATE audit_events SET subject = 'x' WHERE ledger_index = 9").await;
    let (ok, out, _) = run(&["ledger", "verify", "--database-url", url]);
    assert!(!ok && out.contains("entry 9:"), "{out}");
}

#[tokio::test]
async fn a_workloads_images_over_time_and_the_people_who_touched_it() {
    let db = TestDb::sqlite().await;
    let store = db.store.clone();
    let actor = drydock::store::Actor::cli();
    let now = chrono::Utc::now();
    let pod = |uid: &str, image: &str, digest: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("api-{uid}"), "namespace": "shop", "uid": uid, "labels": {"pod-template-hash": "5d9f"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "api-5d9f", "controller": true}]},
            "spec": {"containers": [{"name": "api", "image": image}]},
            "status": {"containerStatuses": [{"name": "api", "imageID": format!("{image}@{digest}"), "state": {"running": {}}}]}})
    };
    let d1 = format!("sha256:{}", "1".repeat(64));
    let d2 = format!("sha256:{}", "2".repeat(64));
    for p in [pod("u1", "reg/shop/api", &d1), pod("u2", "reg/shop/api", &d2)] {
        match drydock::k8s::parse_value(&p).unwrap() {
            drydock::k8s::Upload::Pods(u) => {
                store.store_pods(&drydock::domain::ClusterName::parse("prod").unwrap(), &u, &actor, now).await.unwrap()
            }
            _ => unreachable!(),
        };
    }
    let exec = serde_json::json!({"auditID": "e1", "stage": "ResponseComplete", "verb": "create", "timestamp": "2026-11-27T12:00:00Z",
        "user": {"username": "mallory"}, "sourceIPs": ["10.9.9.9"], "objectRef": {"resource": "pods", "namespace": "shop", "name": "api-u2", "subresource": "exec"},
        "responseStatus": {"code": 101}});
    let scale = serde_json::json!({"auditID": "e2", "stage": "ResponseComplete", "verb": "patch", "timestamp": "2026-11-27T12:05:00Z",
        "user": {"username": "alice"}, "objectRef": {"resource": "deployments", "namespace": "shop", "name": "api"}, "responseStatus": {"code": 200}});
    let other = serde_json::json!({"auditID": "e3", "stage": "ResponseComplete", "verb": "delete", "timestamp": "2026-11-27T12:06:00Z",
        "user": {"username": "bob"}, "objectRef": {"resource": "pods", "namespace": "shop", "name": "not-ours"}, "responseStatus": {"code": 200}});
    let facts = drydock::k8s::audit::parse(format!("{exec}\n{scale}\n{other}\n").as_bytes()).unwrap();
    store.record_k8s_audit(&drydock::domain::ClusterName::parse("prod").unwrap(), &facts, &actor, now).await.unwrap();

    let f = store.workload_forensics("prod", "shop", "Deployment/api").await.unwrap().expect("known workload");
    let mut ran: Vec<String> = f.runs.iter().map(|r| r.digest.clone().unwrap()).collect();
    ran.dedup();
    assert_eq!(ran, vec![d1, d2], "its images in the order first seen");
    let who: Vec<(String, String)> =
        f.access.iter().map(|a| (a.username.clone().unwrap(), a.subresource.clone().unwrap_or(a.verb.clone()))).collect();
    assert_eq!(who, vec![("mallory".to_string(), "exec".to_string()), ("alice".to_string(), "patch".to_string())]);
    assert!(store.workload_forensics("prod", "shop", "Deployment/none").await.unwrap().is_none());
}
