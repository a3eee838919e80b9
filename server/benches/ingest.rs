//! Ingest and page-query throughput on both backends.
//! Run: `cargo bench -p server --bench ingest` (PostgreSQL from DRYDOCK_TEST_POSTGRES or
//! postgres://postgres@127.0.0.1:5432/postgres; skipped with a message when it does not answer).

use drydock::ingest;
use drydock::store::capabilities::*;
use drydock::store::{sha256_hex, Actor, Store};
use std::time::{Duration, Instant};

const REPORTS: usize = 40;

fn juice_shop_variants(n: usize) -> Vec<Vec<u8>> {
    let base: serde_json::Value = serde_json::from_slice(include_bytes!("../fixtures/trivy/juice-shop-v10.2.0.json")).unwrap();
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

/// Grype 0.7's python:3.6 report (1509 findings), as distinct images.
fn grype_variants(n: usize) -> Vec<Vec<u8>> {
    let base: serde_json::Value = serde_json::from_slice(include_bytes!("../fixtures/grype/defectdojo-many_vulns-python36.json")).unwrap();
    (0..n)
        .map(|i| {
            let mut v = base.clone();
            v["source"]["target"]["imageID"] = serde_json::json!(format!("sha256:{:064x}", 2_000_000 + i));
            serde_json::to_vec(&v).unwrap()
        })
        .collect()
}

/// A repository of `n` tags, each its own image with a config, as the collector reads it.
fn inventory(n: usize) -> drydock::registry::RepositoryInventory {
    use drydock::registry::{ImageConfig, Manifest, RepositoryInventory};
    let manifests: Vec<Manifest> = (0..n)
        .map(|i| Manifest::Image {
            digest: format!("sha256:{:064x}", 3_000_000 + i),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            config: ImageConfig {
                config_digest: format!("sha256:{:064x}", 4_000_000 + i),
                os: Some("linux".into()),
                architecture: Some("amd64".into()),
                labels: [("promotion".to_string(), "prod".to_string())].into(),
                user: Some("1000".into()),
                diff_ids: vec![format!("sha256:{:064x}", 5_000_000 + i)],
                ..Default::default()
            },
        })
        .collect();
    let tags = manifests.iter().enumerate().map(|(i, m)| (format!("1.{i}"), m.digest().to_string())).collect();
    RepositoryInventory { repository: "bench/app".into(), tags, manifests, signatures: vec![] }
}

async fn bench_collector_store(label: &str, store: &Store) {
    let mut new = drydock::registry::NewRegistry {
        name: drydock::domain::RegistryName::parse("bench").unwrap(),
        url: "http://127.0.0.1:5000".into(),
        username: None,
        password_env: None,
        ca_pem: None,
        insecure: false,
        auth_hosts: vec![],
        approved: true,
        repositories: vec![],
    };
    new.validate().unwrap();
    let reg = store.add_registry(&new, &Actor("bench".into()), chrono::Utc::now()).await.unwrap();
    let inv = inventory(1000);
    let t = Instant::now();
    store.store_repository_inventory(reg.id, "127.0.0.1:5000", &inv, &Actor("bench".into()), chrono::Utc::now()).await.unwrap();
    let first = t.elapsed();
    // The next run: every digest known, nothing fetched, only tags confirmed.
    let unchanged = drydock::registry::RepositoryInventory { manifests: vec![], ..inv };
    let t = Instant::now();
    store.store_repository_inventory(reg.id, "127.0.0.1:5000", &unchanged, &Actor("bench".into()), chrono::Utc::now()).await.unwrap();
    let again = t.elapsed();
    println!(
        "{label:<9} collector: store a repository of 1000 new tags/images {:.1} ms (one transaction) · the same 1000 tags unchanged {:.1} ms",
        first.as_secs_f64() * 1000.0,
        again.as_secs_f64() * 1000.0
    );
}

async fn bench_grype(label: &str, store: &Store, reports: &[Vec<u8>]) {
    let t = Instant::now();
    let parsed: Vec<_> = reports.iter().map(|b| ingest::parse(b, None).unwrap()).collect();
    let parse = t.elapsed();
    let t = Instant::now();
    for (bytes, r) in reports.iter().zip(&parsed) {
        store.ingest_report(r, &sha256_hex(bytes), &Actor("bench".into()), chrono::Utc::now()).await.unwrap();
    }
    let ingest = t.elapsed();
    println!(
        "{label:<9} grype 0.7 python:3.6 (3.8 MB, 1509 findings): parse {} /report · ingest {} /report",
        per(parse, reports.len()),
        per(ingest, reports.len())
    );
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
    let grype = grype_variants(10);
    bench("sqlite", sqlite.clone(), &reports).await;
    bench_grype("sqlite", &sqlite, &grype).await;
    bench_collector_store("sqlite", &sqlite).await;

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
            bench_grype("postgres", &pg, &grype).await;
            bench_collector_store("postgres", &pg).await;
            if let Store::Postgres(p) = pg {
                p.close().await;
            }
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
        }
        Err(e) => println!("postgres  skipped: {e}"),
    }
}
