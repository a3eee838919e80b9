//! Ingest and page-query throughput on both backends.
//! Run: `cargo bench -p server --bench ingest` (PostgreSQL from DRYDOCK_TEST_POSTGRES or
//! postgres://postgres@127.0.0.1:5432/postgres; skipped with a message when it does not answer).

use drydock::ingest;
use drydock::store::{sha256_hex, Actor, Store};
use std::time::{Duration, Instant};

const REPORTS: usize = 40;

fn juice_shop_variants(n: usize) -> Vec<Vec<u8>> {
    let base: serde_json::Value =
        serde_json::from_slice(include_bytes!("../fixtures/trivy/juice-shop-v10.2.0.json")).unwrap();
    (0..n)
        .map(|i| {
            let mut v = base.clone();
            // A distinct image per report (distinct digests) so every ingest does the full work.
            let digest = format!("sha256:{:064x}", i + 1);
            v["Metadata"]["RepoDigests"] = serde_json::json!([format!("acme/app-{i}@{digest}")]);
            v["Metadata"]["ImageID"] = serde_json::json!(format!("sha256:{:064x}", 1_000_000 + i));
            v["Metadata"]["RepoTags"] = serde_json::json!([format!("acme/app-{i}:1.0")]);
            serde_json::to_vec(&v).unwrap()
        })
        .collect()
}

fn per(d: Duration, n: usize) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0 / n as f64)
}

async fn bench(label: &str, store: Store, reports: &[Vec<u8>]) {
    let t = Instant::now();
    let parsed: Vec<_> = reports.iter().map(|b| ingest::parse(b, None).unwrap()).collect();
    let parse = t.elapsed();
    let t = Instant::now();
    for (bytes, r) in reports.iter().zip(&parsed) {
        store.ingest_report(r, &sha256_hex(bytes), &Actor("bench".into()), chrono::Utc::now()).await.unwrap();
    }
    let ingest = t.elapsed();
    let t = Instant::now();
    for _ in 0..20 {
        store.images(100, 0, None).await.unwrap();
    }
    let list = t.elapsed();
    let t = Instant::now();
    for _ in 0..20 {
        store.overview().await.unwrap();
    }
    let overview = t.elapsed();
    println!(
        "{label:<9} parse {} /report · ingest {} /report (236 findings, one transaction) · images page (100) {} · overview {}",
        per(parse, reports.len()),
        per(ingest, reports.len()),
        per(list, 20),
        per(overview, 20)
    );
}

#[tokio::main]
async fn main() {
    let reports = juice_shop_variants(REPORTS);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.unwrap();
    bench("sqlite", sqlite, &reports).await;

    let admin = std::env::var("DRYDOCK_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    use sqlx::Connection as _;
    match sqlx::PgConnection::connect(&admin).await {
        Ok(mut conn) => {
            let name = format!("drydock_bench_{}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&name);
            let pg = Store::connect(url.as_str()).await.unwrap();
            bench("postgres", pg.clone(), &reports).await;
            if let Store::Postgres(p) = pg {
                p.close().await;
            }
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
        }
        Err(e) => println!("postgres  skipped: {e}"),
    }
}
