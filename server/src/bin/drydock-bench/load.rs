//! Loading the estate through the API, and the floor it is compared with: the same finding rows
//! Drydock writes (a report's listed findings as one document, its findings and image findings) inserted as plain
//! multi-row statements of the same batch sizes (on SQLite `drydock::store::batches`: 256 rows,
//! then powers of two down to 16, then the rest; on PostgreSQL, which takes a report's findings as
//! arrays in one statement, 1,000), one transaction per report, into
//! tables of the same keys and indexes, in the same database, during the same run.

use crate::measures::round3;
use crate::server::Bench;
use drydock::generator::Estate;
use drydock::store::{batches, Store, SQLITE_BATCH};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// Every tenth report is also written to the floor tables, right after its real upload.
const FLOOR_EVERY: usize = 10;
const CHUNK: usize = 1000;

pub async fn load_estate(bench: &Bench, estate: &Estate) -> anyhow::Result<Map<String, Value>> {
    let mut f = Map::new();
    f.insert("backend".into(), json!(bench.backend));
    f.insert("preset".into(), json!(estate.preset.name));
    let (pods, containers) = load_pods(bench, estate).await?;
    create_floor_tables(&bench.store).await?;
    let (mut ingest_time, mut ingested) = (Duration::ZERO, 0usize);
    let (mut floor_time, mut floored) = (Duration::ZERO, 0usize);
    for i in 0..estate.preset.images {
        let body = estate.report(i);
        let t = Instant::now();
        let r = bench.api.post(bench.url("/api/v1/scans")).body(body.clone()).send().await?;
        let status = r.status();
        let answer: Value = r.json().await?;
        ingest_time += t.elapsed();
        anyhow::ensure!(status.as_u16() == 201, "report {i}: {status} {answer}");
        let n = drydock::ingest::parse(&body, None)?.findings.len();
        ingested += n;
        if i % FLOOR_EVERY == 0 {
            floor_time += floor_insert(&bench.store, i as i64, &body).await?;
            floored += n;
        }
        if i % 1000 == 999 {
            eprintln!("  {} reports, {ingested} findings, {:.0} findings/s", i + 1, ingested as f64 / ingest_time.as_secs_f64());
        }
    }
    let ingest_rate = ingested as f64 / ingest_time.as_secs_f64();
    let floor_rate = floored as f64 / floor_time.as_secs_f64();
    f.insert("teams".into(), json!(estate.teams.len()));
    f.insert("images".into(), json!(estate.preset.images));
    f.insert("findings".into(), json!(ingested));
    f.insert("pods".into(), json!(pods));
    f.insert("containers".into(), json!(containers));
    f.insert("clusters".into(), json!(estate.preset.clusters));
    f.insert("ingest_findings_per_s".into(), json!(ingest_rate.round()));
    f.insert("raw_insert_findings_per_s".into(), json!(floor_rate.round()));
    f.insert("ingest_ratio_to_raw_insert".into(), json!(round3(ingest_rate / floor_rate)));
    check_counts(bench, estate, ingested).await?;
    Ok(f)
}

/// Every cluster's pod list, as the collector or `kubectl` would post it.
async fn load_pods(bench: &Bench, estate: &Estate) -> anyhow::Result<(usize, usize)> {
    let (mut pods, mut containers) = (0, 0);
    for c in 0..estate.preset.clusters {
        let (name, body, summary) = estate.pod_list(c);
        let r = bench.api.post(bench.url(&format!("/api/v1/clusters/{name}/pods"))).body(body).send().await?;
        let status = r.status();
        anyhow::ensure!(status.is_success(), "pods of {name}: {status} {}", r.text().await?);
        pods += summary.pods;
        containers += summary.containers;
    }
    Ok((pods, containers))
}

/// What the store holds equals what the generator made (images, open findings, containers).
async fn check_counts(bench: &Bench, estate: &Estate, findings: usize) -> anyhow::Result<()> {
    let (images, open, containers): (i64, i64, i64) = crate::measures::scalar3(
        &bench.store,
        "SELECT (SELECT COUNT(*) FROM images), (SELECT COUNT(*) FROM findings WHERE resolved_at IS NULL),
                (SELECT COUNT(*) FROM containers c JOIN pods p ON p.id = c.pod_id WHERE p.ended_at IS NULL)",
    )
    .await?;
    let expected = (estate.preset.images as i64, findings as i64, estate.preset.containers as i64);
    anyhow::ensure!(
        (images, open, containers) == expected,
        "stored (images, open findings, containers) {:?} != generated {expected:?}",
        (images, open, containers)
    );
    Ok(())
}

/// The floor's tables: the two a report writes per finding, with their keys and indexes as
/// the migrations leave them (`findings` without its surrogate key, which only SQLite keeps, as its rowid),
/// and the scan's document of the findings as listed.
const FLOOR_DDL: [&str; 6] = [
    "CREATE TABLE floor_scans (id BIGINT PRIMARY KEY, listed_findings TEXT NOT NULL)",
    "CREATE TABLE floor_findings (image_id BIGINT NOT NULL, scanner TEXT NOT NULL, vulnerability_id TEXT NOT NULL,
        package_name TEXT NOT NULL, installed_version TEXT NOT NULL, package_path TEXT NOT NULL, package_type TEXT NOT NULL,
        purl TEXT, severity TEXT NOT NULL, fixed_version TEXT, first_seen {TS} NOT NULL, last_seen {TS} NOT NULL, resolved_at {TS},
        last_scan_id BIGINT NOT NULL, purl_type TEXT NOT NULL, purl_namespace TEXT NOT NULL, purl_name TEXT NOT NULL, epss REAL,
        first_reported {TS}, UNIQUE (image_id, scanner, vulnerability_id, package_name, installed_version, package_path))",
    "CREATE TABLE floor_image_vulnerabilities (image_id BIGINT NOT NULL, vulnerability_id TEXT NOT NULL, purl_type TEXT NOT NULL,
        purl_namespace TEXT NOT NULL, purl_name TEXT NOT NULL, package_name TEXT NOT NULL, installed_version TEXT NOT NULL,
        path_key TEXT NOT NULL, severity TEXT NOT NULL, fixed_version TEXT, epss REAL, scanners TEXT NOT NULL,
        first_seen {TS} NOT NULL, resolved_at {TS},
        PRIMARY KEY (image_id, vulnerability_id, purl_type, purl_namespace, purl_name, installed_version, path_key))",
    "CREATE INDEX floor_iv_open ON floor_image_vulnerabilities (image_id, severity, first_seen) WHERE resolved_at IS NULL",
    "CREATE INDEX floor_iv_vulnerability ON floor_image_vulnerabilities (vulnerability_id) WHERE resolved_at IS NULL",
    "CREATE INDEX floor_iv_package ON floor_image_vulnerabilities (purl_type, purl_namespace, purl_name) WHERE resolved_at IS NULL",
];

async fn create_floor_tables(store: &Store) -> anyhow::Result<()> {
    for ddl in FLOOR_DDL {
        match store {
            Store::Sqlite(p) => sqlx::query(&ddl.replace("{TS}", "TEXT")).execute(p).await.map(|_| ())?,
            Store::Postgres(p) => sqlx::query(&ddl.replace("{TS}", "TIMESTAMPTZ")).execute(p).await.map(|_| ())?,
        }
    }
    Ok(())
}

/// The floor for one report: its listed findings as one document, its finding rows in two
/// tables by multi-row statements of Drydock's batch sizes, one transaction; parsing and serialising are not timed.
async fn floor_insert(store: &Store, image: i64, body: &[u8]) -> anyhow::Result<Duration> {
    let report = drydock::ingest::parse(body, None)?;
    let now = chrono::Utc::now();
    let listed = report.listed_findings_json();
    let parts: Vec<&[drydock::ingest::Finding]> = match store {
        Store::Sqlite(_) => batches(&report.findings, SQLITE_BATCH).collect(),
        Store::Postgres(_) => report.findings.chunks(CHUNK).collect(),
    };
    macro_rules! insert_all {
        ($pool:expr, $db:ty) => {{
            let t = Instant::now();
            let mut tx = $pool.begin().await?;
            sqlx::query("INSERT INTO floor_scans (id, listed_findings) VALUES ($1, $2)").bind(image).bind(&listed).execute(&mut *tx).await?;
            for chunk in parts.iter().copied() {
                let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO floor_findings (image_id, scanner, vulnerability_id, package_name, installed_version, package_path, package_type, purl, severity, fixed_version, first_seen, last_seen, resolved_at, last_scan_id, purl_type, purl_namespace, purl_name, epss, first_reported) ");
                qb.push_values(chunk, |mut b, f| {
                    b.push_bind(image).push_bind(report.scanner).push_bind(&f.vulnerability_id).push_bind(&f.package_name)
                        .push_bind(&f.installed_version).push_bind(&f.package_path).push_bind(&f.package_type).push_bind(&f.purl)
                        .push_bind(f.severity.as_str()).push_bind(&f.fixed_version).push_bind(now).push_bind(now)
                        .push_bind(None::<chrono::DateTime<chrono::Utc>>).push_bind(image).push_bind(f.coordinates.ptype())
                        .push_bind(f.coordinates.namespace()).push_bind(f.coordinates.name()).push_bind(f.epss).push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO floor_image_vulnerabilities (image_id, vulnerability_id, purl_type, purl_namespace, purl_name, package_name, installed_version, path_key, severity, fixed_version, epss, scanners, first_seen, resolved_at) ");
                qb.push_values(chunk, |mut b, f| {
                    b.push_bind(image).push_bind(&f.vulnerability_id).push_bind(f.coordinates.ptype()).push_bind(f.coordinates.namespace())
                        .push_bind(f.coordinates.name()).push_bind(&f.package_name).push_bind(&f.installed_version)
                        .push_bind(&f.package_path).push_bind(f.severity.as_str()).push_bind(&f.fixed_version).push_bind(f.epss)
                        .push_bind(report.scanner).push_bind(now).push_bind(None::<chrono::DateTime<chrono::Utc>>);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            t.elapsed()
        }};
    }
    Ok(match store {
        Store::Sqlite(p) => insert_all!(p, sqlx::Sqlite),
        Store::Postgres(p) => insert_all!(p, sqlx::Postgres),
    })
}
