//! One request at a time: the day's jobs, uploads of chosen sizes, estate searches, the ledger.

use crate::server::Bench;
use drydock::generator::Estate;
use drydock::store::capabilities::*;
use drydock::store::Store;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

type Figures = Map<String, Value>;

/// Three numbers from one row of `sql`.
pub async fn scalar3(store: &Store, sql: &str) -> anyhow::Result<(i64, i64, i64)> {
    Ok(match store {
        Store::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await?,
        Store::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await?,
    })
}

/// Text columns of `sql`'s first row.
async fn texts(store: &Store, sql: &str) -> anyhow::Result<Vec<String>> {
    use sqlx::Row as _;
    let n_cols = |cols: usize, get: &dyn Fn(usize) -> Option<String>| (0..cols).filter_map(get).collect::<Vec<_>>();
    Ok(match store {
        Store::Sqlite(p) => {
            let r = sqlx::query(sql).fetch_one(p).await?;
            n_cols(r.len(), &|i| r.try_get::<String, _>(i).ok())
        }
        Store::Postgres(p) => {
            let r = sqlx::query(sql).fetch_one(p).await?;
            n_cols(r.len(), &|i| r.try_get::<String, _>(i).ok())
        }
    })
}

/// Rounded to three decimals (the figures' precision).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn ms(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1000.0)
}

/// The `q`-quantile (0..1) of sorted durations.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Evaluation of every policy over the whole estate, a snapshot with 30 days of history behind
/// it, and a campaign over every image the most widespread vulnerability affects.
pub async fn jobs(bench: &Bench, f: &mut Figures) -> anyhow::Result<()> {
    let promotion = drydock::config::Config::default().promotion()?;
    // The first evaluation writes every result; every later one (the evaluation job's usual run)
    // judges the whole estate again and writes what changed.
    let t = Instant::now();
    drydock::policy::run(&bench.store, &promotion, chrono::Utc::now()).await?;
    f.insert("first_evaluation_s".into(), json!(round3(t.elapsed().as_secs_f64())));
    let t = Instant::now();
    drydock::policy::run(&bench.store, &promotion, chrono::Utc::now()).await?;
    f.insert("reevaluate_s".into(), json!(round3(t.elapsed().as_secs_f64())));
    // The "fix these first" ranking over the whole estate (the risk.rank job's run after a change).
    let t = Instant::now();
    drydock::risk::rank(&bench.store, chrono::Utc::now()).await?;
    f.insert("risk_rank_s".into(), json!(round3(t.elapsed().as_secs_f64())));
    let today = chrono::Utc::now().date_naive();
    drydock::policy::record_snapshot(&bench.store, today, &drydock::store::Actor::cli(), chrono::Utc::now()).await?;
    bench.store.backfill_demo_snapshots(today, 30).await?;
    let cve = widest_cve(&bench.store).await?;
    let (elapsed, items) = campaign(bench, &cve).await?;
    f.insert("campaign_10k_ms".into(), json!(ms(elapsed)));
    f.insert("campaign_images".into(), json!(items));
    f.insert("search_cve".into(), json!(cve));
    // The widest vulnerability affects nearly every image at `enterprise` (twice the goal's 10,000):
    // a campaign over the one nearest 10,000 images as well.
    let near = cve_nearest(&bench.store, 10_000).await?;
    let (elapsed, items) = campaign(bench, &near).await?;
    f.insert("campaign_near_10k_ms".into(), json!(ms(elapsed)));
    f.insert("campaign_near_10k_images".into(), json!(items));
    Ok(())
}

/// A campaign over every image `cve` affects, created through the API: (time to the answer's
/// headers, items answered).
async fn campaign(bench: &Bench, cve: &str) -> anyhow::Result<(Duration, usize)> {
    let t = Instant::now();
    let r = bench
        .api
        .post(bench.url("/api/v1/campaigns"))
        .json(&json!({"title": format!("Patch {cve} everywhere"), "cves": [cve]}))
        .send()
        .await?;
    let elapsed = t.elapsed();
    let status = r.status();
    let created: Value = r.json().await?;
    anyhow::ensure!(status.as_u16() == 201, "campaign: {status} {created}");
    Ok((elapsed, created["items"].as_array().map(|a| a.len()).unwrap_or(0)))
}

/// The `database.statistics` job's run after the day's writes, as its next periodic run would
/// find them (PostgreSQL's change counts of the last writes arrive within seconds): the webhook's
/// and the pages' reads measured after it are planned on what it gathers.
pub async fn statistics(bench: &Bench, f: &mut Figures) -> anyhow::Result<()> {
    let t = Instant::now();
    let analysed = bench.store.refresh_statistics().await?;
    f.insert("statistics_s".into(), json!(round3(t.elapsed().as_secs_f64())));
    f.insert("statistics_tables".into(), json!(analysed.len()));
    Ok(())
}

/// The vulnerability open in the most images.
async fn widest_cve(store: &Store) -> anyhow::Result<String> {
    let row = texts(
        store,
        "SELECT vulnerability_id FROM image_vulnerabilities WHERE resolved_at IS NULL
         GROUP BY vulnerability_id ORDER BY COUNT(DISTINCT image_id) DESC, vulnerability_id LIMIT 1",
    )
    .await?;
    row.into_iter().next().ok_or_else(|| anyhow::anyhow!("the estate has no open finding"))
}

/// The vulnerability whose open findings are on the number of images nearest `images`.
async fn cve_nearest(store: &Store, images: i64) -> anyhow::Result<String> {
    let sql = format!(
        "SELECT vulnerability_id FROM image_vulnerabilities WHERE resolved_at IS NULL
         GROUP BY vulnerability_id ORDER BY ABS(COUNT(DISTINCT image_id) - {images}), vulnerability_id LIMIT 1"
    );
    let row = texts(store, &sql).await?;
    row.into_iter().next().ok_or_else(|| anyhow::anyhow!("the estate has no open finding"))
}

/// Uploads of a 1,000-finding Trivy report and of Grype's 1,509-finding report, upload to commit.
pub async fn uploads(bench: &Bench, estate: &Estate, f: &mut Figures) -> anyhow::Result<()> {
    let mut times = Vec::new();
    for k in 0..40 {
        times.push(upload(bench, estate.large_report(k, 1000)).await?);
    }
    times.sort();
    f.insert("report_1000_ms_p50".into(), json!(ms(quantile(&times, 0.5))));
    f.insert("report_1000_ms_p99".into(), json!(ms(quantile(&times, 0.99))));
    let grype: Value = serde_json::from_slice(include_bytes!("../../../fixtures/grype/defectdojo-many_vulns-python36.json"))?;
    let mut times = Vec::new();
    for k in 0..15u64 {
        let mut g = grype.clone();
        g["source"]["target"]["imageID"] = json!(drydock::generator::Rng::derive(estate.seed, 11, k).digest());
        times.push(upload(bench, serde_json::to_vec(&g)?).await?);
    }
    times.sort();
    f.insert("grype_1509_ms_p50".into(), json!(ms(quantile(&times, 0.5))));
    Ok(())
}

async fn upload(bench: &Bench, body: Vec<u8>) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let r = bench.api.post(bench.url("/api/v1/scans")).body(body).send().await?;
    let status = r.status();
    let text = r.text().await?;
    anyhow::ensure!(status.as_u16() == 201, "upload: {status} {text}");
    Ok(t.elapsed())
}

/// The estate search by the widest vulnerability and by a package range, one request at a time
/// (the first after the campaign's change is rendered; the others may be kept answers).
pub async fn searches(bench: &Bench, f: &mut Figures) -> anyhow::Result<()> {
    let cve = f["search_cve"].as_str().unwrap_or_default().to_string();
    let (cve_times, total) = timed_search(bench, &format!("/api/v1/search?cve={cve}")).await?;
    f.insert("search_cve_cold_ms".into(), json!(ms(cve_times[0])));
    let mut cve_times = cve_times;
    cve_times.sort();
    f.insert("search_cve_ms_p50".into(), json!(ms(quantile(&cve_times, 0.5))));
    f.insert("search_cve_ms_p99".into(), json!(ms(quantile(&cve_times, 0.99))));
    f.insert("search_cve_images".into(), json!(total));
    let (package, range) = widest_package_range(&bench.store).await?;
    let path = format!("/api/v1/search?package={}&range={}", urlencode(&package), urlencode(&range));
    let (mut range_times, total) = timed_search(bench, &path).await?;
    range_times.sort();
    f.insert("search_range_ms_p50".into(), json!(ms(quantile(&range_times, 0.5))));
    f.insert("search_range".into(), json!(format!("{package} {range}")));
    f.insert("search_range_images".into(), json!(total));
    Ok(())
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// 50 requests of `path` in order, and the total it answered.
async fn timed_search(bench: &Bench, path: &str) -> anyhow::Result<(Vec<Duration>, i64)> {
    let (mut times, mut total) = (Vec::new(), 0);
    for _ in 0..50 {
        let t = Instant::now();
        let r = bench.api.get(bench.url(path)).send().await?;
        let status = r.status();
        let v: Value = r.json().await?;
        times.push(t.elapsed());
        anyhow::ensure!(status.is_success(), "{path}: {status} {v}");
        total = v["total"].as_i64().unwrap_or(0);
    }
    Ok((times, total))
}

/// The npm package open in the most images, with a range below its highest fixed version.
async fn widest_package_range(store: &Store) -> anyhow::Result<(String, String)> {
    let row = texts(
        store,
        "SELECT purl_name, MAX(fixed_version) FROM image_vulnerabilities
         WHERE resolved_at IS NULL AND purl_type = 'npm' AND purl_namespace = '' AND fixed_version IS NOT NULL
           AND fixed_version NOT LIKE '%,%' AND fixed_version NOT LIKE '%<%' AND fixed_version NOT LIKE '%>%'
         GROUP BY purl_name ORDER BY COUNT(DISTINCT image_id) DESC, purl_name LIMIT 1",
    )
    .await?;
    anyhow::ensure!(row.len() == 2, "the estate has no npm finding with a fixed version");
    Ok((format!("pkg:npm/{}", row[0]), format!("vers:npm/<{}", row[1])))
}

/// Appends (audit facts, 100 per transaction), full verification (the median of three), inclusion proofs.
pub async fn ledger(bench: &Bench, f: &mut Figures) -> anyhow::Result<()> {
    let cluster = drydock::domain::ClusterName::parse("bench-audit").map_err(anyhow::Error::msg)?;
    let n = 10_000;
    let t = Instant::now();
    for start in (0..n).step_by(100) {
        let facts: Vec<_> = (start..start + 100).map(audit_fact).collect();
        bench.store.record_k8s_audit(&cluster, &facts, &drydock::store::Actor("bench".into()), chrono::Utc::now()).await?;
    }
    f.insert("ledger_appends_per_s".into(), json!((n as f64 / t.elapsed().as_secs_f64()).round()));
    drydock::ledger::current_checkpoint(&bench.store, &bench.ledger_key, chrono::Utc::now()).await?;
    let size = bench.store.ledger_size().await?;
    // The median of three: the first read of rows just written also pays PostgreSQL's hint bits.
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let report = drydock::ledger::verify_store(&bench.store, Some(&bench.ledger_key.public())).await?;
        runs.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(report.error.is_none(), "the ledger does not verify: {:?}", report.error);
    }
    runs.sort_by(f64::total_cmp);
    let verify = runs[1];
    f.insert("ledger_entries".into(), json!(size));
    f.insert("ledger_verify_s_per_million".into(), json!(round3(verify * 1_000_000.0 / size as f64)));
    let mut times = Vec::new();
    for k in 0..101 {
        let t = Instant::now();
        std::hint::black_box(drydock::ledger::inclusion_proof(&bench.store, size * k / 101, size).await?);
        times.push(t.elapsed());
    }
    times.sort();
    f.insert("proof_ms_p50".into(), json!(ms(quantile(&times, 0.5))));
    Ok(())
}

fn audit_fact(i: usize) -> drydock::k8s::audit::AuditFact {
    drydock::k8s::audit::AuditFact {
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
        images: vec![],
        source_ips: vec!["10.0.0.1".into()],
        user_agent: Some("kubectl".into()),
        code: Some(201),
        decision: Some("allow".into()),
        time: chrono::Utc::now(),
    }
}

/// The process's peak resident memory (the server and this bench together), in MB.
/// Resets this process's peak resident set to its current size (Linux: `5` written to
/// `/proc/self/clear_refs`); false where that is refused.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    round3(kb / 1024.0)
}
