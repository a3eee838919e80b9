//! The admission webhook as the Kubernetes API server meets it: a five-container Pod (the images
//! of the campaign's first items, by digest, so each has stored items to judge) asked one request
//! at a time while 1,000-finding reports are uploaded beside it.

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

fn review(digests: &[String]) -> Value {
    let containers: Vec<Value> =
        digests.iter().enumerate().map(|(i, d)| json!({"name": format!("c{i}"), "image": format!("registry.bench/app{i}@{d}")})).collect();
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
    let body = serde_json::to_vec(&review(&digests))?;
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
    for _ in 0..20 {
        ask(body.clone()).await?;
    }
    // Reports uploaded beside, one after another, until the requests are done.
    let (stop, uploaded) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let reports: Vec<Vec<u8>> = (0..40).map(|k| estate.large_report(500 + k, 1000)).collect();
    let uploader = {
        let (stop, uploaded, api, url) = (stop.clone(), uploaded.clone(), bench.api.clone(), bench.url("/api/v1/scans"));
        tokio::spawn(async move {
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                if api.post(&url).body(reports[k % reports.len()].clone()).send().await.is_ok_and(|r| r.status().is_success()) {
                    uploaded.fetch_add(1, Ordering::Relaxed);
                }
                k += 1;
                if k == reports.len() {
                    break;
                }
            }
        })
    };
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        times.push(ask(body.clone()).await?);
    }
    stop.store(true, Ordering::Relaxed);
    uploader.await?;
    times.sort();
    f.insert("admission_pod5_ms_p50".into(), json!(ms(quantile(&times, 0.5))));
    f.insert("admission_pod5_ms_p99".into(), json!(ms(quantile(&times, 0.99))));
    f.insert("admission_uploads_during".into(), json!(uploaded.load(Ordering::Relaxed)));
    eprintln!(
        "  admission  5 containers: p50 {:.1} ms, p99 {:.1} ms, {} reports uploaded meanwhile",
        ms(quantile(&times, 0.5)),
        ms(quantile(&times, 0.99)),
        uploaded.load(Ordering::Relaxed)
    );
    Ok(())
}
