//! The ledger at scale: what a reader's request costs with tens of thousands of entries and
//! hundreds of checkpoints, now (stored subtree hashes, indexed mentions, a scheduled
//! verification) beside what the same request did before (every leaf loaded, the whole log
//! verified on each ledger page view).
//! Run: `cargo bench -p server --bench ledger` (PostgreSQL as in the ingest bench; skipped when
//! it does not answer). `DRYDOCK_BENCH_LEDGER_ENTRIES` sets the size (default 50,000).

use drydock::k8s::audit::AuditFact;
use drydock::ledger::{self, merkle};
use drydock::store::capabilities::*;
use drydock::store::{Actor, Store};
use std::time::{Duration, Instant};

/// `n` Kubernetes audit facts (each becomes one ledger entry), every 100th naming an image.
fn facts(start: usize, n: usize) -> Vec<AuditFact> {
    (start..start + n)
        .map(|i| AuditFact {
            api_version: "audit.k8s.io/v1".into(),
            audit_id: format!("bench-{i}"),
            stage: "ResponseComplete".into(),
            verb: "create".into(),
            username: Some(format!("user-{}", i % 97)),
            groups: vec!["system:authenticated".into()],
            impersonated: None,
            resource: Some("pods".into()),
            subresource: None,
            namespace: Some(format!("ns-{}", i % 13)),
            name: Some(format!("pod-{i}")),
            images: if i % 100 == 0 { vec![format!("registry.example/app@sha256:{:064x}", i)] } else { vec![] },
            source_ips: vec!["10.0.0.1".into()],
            user_agent: Some("kubectl".into()),
            code: Some(201),
            decision: Some("allow".into()),
            time: chrono::Utc::now(),
        })
        .collect()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The median of `runs` timings of `f`.
async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let s = Instant::now();
        f().await;
        t.push(s.elapsed());
    }
    t.sort();
    t[runs / 2]
}

async fn bench(label: &str, store: Store, entries: usize) {
    let key_dir = tempfile::tempdir().unwrap();
    let key = ledger::LedgerKey::generate(&key_dir.path().join("ledger.pem")).unwrap();
    let t = Instant::now();
    // 300 checkpoints over the fill, as the review measured (one per batch of appends).
    let checkpoints_every = (entries / 300).max(1);
    let batch = checkpoints_every.min(1000);
    let mut next_checkpoint = checkpoints_every;
    for start in (0..entries).step_by(batch) {
        store
            .record_k8s_audit(
                &drydock::domain::ClusterName::parse("bench").unwrap(),
                &facts(start, batch.min(entries - start)),
                &Actor("bench".into()),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        while store.ledger_size().await.unwrap() as usize >= next_checkpoint {
            ledger::current_checkpoint(&store, &key, chrono::Utc::now()).await.unwrap();
            next_checkpoint += checkpoints_every;
        }
    }
    let fill = t.elapsed();
    let size = store.ledger_size().await.unwrap();
    let kept = store.ledger_checkpoints().await.unwrap().len();
    println!(
        "{label:<9} {size} entries, {kept} signed checkpoints (filled in {:.1} s, {batch} entries per transaction)",
        fill.as_secs_f64()
    );

    // A reader's checkpoint request after one new entry: sign over the root of the new size
    // (the append itself is the writer's cost, not timed).
    let mut alone = Vec::new();
    for k in 0..9 {
        store
            .record_k8s_audit(
                &drydock::domain::ClusterName::parse("bench").unwrap(),
                &facts(entries + k, 1),
                &Actor("bench".into()),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let s = Instant::now();
        ledger::current_checkpoint(&store, &key, chrono::Utc::now()).await.unwrap();
        alone.push(s.elapsed());
    }
    alone.sort();
    let size = store.ledger_size().await.unwrap();
    let before_sign = median(5, || {
        let store = store.clone();
        async move {
            let leaves = store.ledger_leaves(size).await.unwrap();
            std::hint::black_box(merkle::root(&leaves));
        }
    })
    .await;
    let proof_now = median(9, || {
        let store = store.clone();
        async move {
            std::hint::black_box(ledger::inclusion_proof(&store, size / 3, size).await.unwrap());
            std::hint::black_box(ledger::consistency_proof(&store, size / 2, size).await.unwrap());
        }
    })
    .await;
    let proof_before = median(5, || {
        let store = store.clone();
        async move {
            let leaves = store.ledger_leaves(size).await.unwrap();
            std::hint::black_box(merkle::inclusion_proof((size / 3) as usize, &leaves));
            let leaves = store.ledger_leaves(size).await.unwrap();
            std::hint::black_box(merkle::consistency_proof((size / 2) as usize, &leaves));
        }
    })
    .await;
    // The ledger page: before, a full verification per view; now the stored result.
    let page_before = median(3, || {
        let store = store.clone();
        let public = key.public();
        async move {
            std::hint::black_box(ledger::verify_store(&store, Some(&public)).await.unwrap());
        }
    })
    .await;
    ledger::verify_and_record(&store, Some(&key.public()), chrono::Utc::now()).await.unwrap();
    let page_now = median(9, || {
        let store = store.clone();
        async move {
            std::hint::black_box(store.last_verification().await.unwrap());
            std::hint::black_box(store.ledger_recent(50).await.unwrap());
        }
    })
    .await;
    println!(
        "{label:<9} checkpoint for a new size: {} (before: every leaf loaded and hashed, {})",
        ms(alone[alone.len() / 2]),
        ms(before_sign)
    );
    println!("{label:<9} inclusion + consistency proof: {} (before: {})", ms(proof_now), ms(proof_before));
    println!("{label:<9} ledger page's ledger reads: {} (before: verification on every view, {})", ms(page_now), ms(page_before));
}

#[tokio::main]
async fn main() {
    let entries: usize = std::env::var("DRYDOCK_BENCH_LEDGER_ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("ledger.db").display())).await.unwrap();
    bench("sqlite", sqlite, entries).await;
    let admin = std::env::var("DRYDOCK_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    use sqlx::Connection as _;
    match sqlx::PgConnection::connect(&admin).await {
        Ok(mut conn) => {
            let name = format!("drydock_bench_ledger_{}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&name);
            let pg = Store::connect(url.as_str()).await.unwrap();
            bench("postgres", pg.clone(), entries).await;
            if let Store::Postgres(p) = pg {
                p.close().await;
            }
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
        }
        Err(e) => println!("postgres  skipped: {e}"),
    }
}
