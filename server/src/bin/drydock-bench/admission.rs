//! The admission webhook as the Kubernetes API server meets it: a five-container Pod (the images
//! of the campaign's first items, by digest, so each has stored items to judge) asked one request
//! at a time while 1,000-finding reports are uploaded beside it — the same Pod again and again (a
//! rollout: answered from the decision cache until an upload moves the data version), then a
//! Pod of new container names each time (never in the cache: every request reads its facts).

use crate::measures::{ms, quantile};
use crate::server::Bench;
use drydock::generator::Estate;
use drydock::store::capabilities::*;
use drydock::store::{Actor, Store};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const REQUESTS: usize = 500;

async fn item_digests(store: &Store, n: i64) -> anyhow::Result<Vec<String>> {
    let sql = "SELECT i.digest FROM images i WHERE i.id IN (SELECT image_id FROM campaign_items) ORDER BY i.id LIMIT $1";
    Ok(match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).bind(n).fetch_all(p).await?,
        Store::Postgres(p) => sqlx::query_scalar(sql).bind(n).fetch_all(p).await?,
    })
}

/// A Pod of the images `digests`; its containers' names carry `n`.
fn review(digests: &[String], n: usize) -> Value {
    let containers: Vec<Value> = digests
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"name": format!("c{i}-{n}"), "image": format!("registry.bench/app{i}@{d}")}))
        .collect();
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "bench", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": "bench", "operation": "CREATE",
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench"}, "spec": {"containers": containers}}}})
}

pub async fn admission(bench: &Bench, estate: &Estate, f: &mut Map<String, Value>) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let token = bench
        .store
        .create_token("bench-admission", drydock::domain::Role::Admission, None, &Default::default(), &Actor::cli(), now)
        .await?;
    let digests = item_digests(&bench.store, 5).await?;
    anyhow::ensure!(digests.len() == 5, "the campaign has fewer than five images");
    let client = reqwest::Client::new();
    let ask = |body: Vec<u8>| {
        let (client, url, token) = (client.clone(), bench.url("/api/v1/admission/validate"), token.clone());
        async move {
            let t = Instant::now();
            let r = client.post(url).bearer_auth(token).header("content-type", "application/json").body(body).send().await?;
            anyhow::ensure!(r.status() == reqwest::StatusCode::OK, "admission: {}", r.status());
            let v: Value = r.json().await?;
            anyhow::ensure!(v["response"]["uid"] == "bench", "admission answered {v}");
            Ok::<_, anyhow::Error>(t.elapsed())
        }
    };
    for n in 0..20 {
        ask(serde_json::to_vec(&review(&digests, n))?).await?;
    }
    for (name, rollout) in [("admission_pod5", true), ("admission_pod5_uncached", false)] {
        let (stop, uploaded) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let uploader = upload_beside(bench, estate, stop.clone(), uploaded.clone());
        let mut times = Vec::with_capacity(REQUESTS);
        for n in 0..REQUESTS {
            times.push(ask(serde_json::to_vec(&review(&digests, if rollout { 0 } else { 1000 + n }))?).await?);
        }
        stop.store(true, Ordering::Relaxed);
        uploader.await?;
        times.sort();
        let (p50, p99, during) = (ms(quantile(&times, 0.5)), ms(quantile(&times, 0.99)), uploaded.load(Ordering::Relaxed));
        f.insert(format!("{name}_ms_p50"), json!(p50));
        f.insert(format!("{name}_ms_p99"), json!(p99));
        f.insert(format!("{name}_uploads_during"), json!(during));
        eprintln!("  {name} (5 containers): p50 {p50:.1} ms, p99 {p99:.1} ms, {during} reports uploaded meanwhile");
    }
    Ok(())
}

/// Uploads 1,000-finding reports one after another until `stop` (at most 40), counting them.
fn upload_beside(bench: &Bench, estate: &Estate, stop: Arc<AtomicBool>, uploaded: Arc<AtomicUsize>) -> tokio::task::JoinHandle<()> {
    let reports: Vec<Vec<u8>> = (0..40).map(|k| estate.large_report(500 + k, 1000)).collect();
    let (api, url) = (bench.api.clone(), bench.url("/api/v1/scans"));
    tokio::spawn(async move {
        for report in reports {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if api.post(&url).body(report).send().await.is_ok_and(|r| r.status().is_success()) {
                uploaded.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
}
