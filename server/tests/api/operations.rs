//! Running it in production (issue 22): the real `drydock serve` process's connection discipline
//! (header-read timeout, the connection cap, shutdown with a deadline), readiness, and `/metrics`
//! read by prometheus-client's own parser after known traffic.

use super::helpers::{fixture, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn sqlite(store: &drydock::store::Store) -> &sqlx::SqlitePool {
    match store {
        drydock::store::Store::Sqlite(p) => p,
        drydock::store::Store::Postgres(_) => unreachable!("these tests run on SQLite"),
    }
}

const ORACLE_PYTHON: &str = "/var/tmp/drydock-oracles/bin/python";

/// The exposition parsed by PyPI prometheus-client (`tests/oracles/prometheus_text.py`).
fn parse_exposition(text: &str) -> Value {
    use std::process::{Command, Stdio};
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/prometheus_text.py");
    let python = std::env::var("DRYDOCK_ORACLE_PYTHON").unwrap_or_else(|_| ORACLE_PYTHON.into());
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the oracle Python (.ci/setup.sh --tests installs it)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "prometheus-client refused the exposition: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the sample `name` whose labels include every pair in `labels` (0 when absent).
fn sample(parsed: &Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    parsed["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s[0] == name && labels.iter().all(|(k, v)| s[1][*k] == *v))
        .map(|s| s[2].as_f64().unwrap())
        .sum()
}

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut r = app.client.get(app.url("/metrics"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

/// After known traffic, `/metrics` (behind its token) holds every family, the route histogram
/// counts the requests by route template, the ingest counters count each outcome and the bytes,
/// and the job runner's runs are counted by kind.
#[tokio::test]
async fn metrics_after_traffic_hold_what_happened() {
    let app = TestApp::process(TestDb::sqlite().await, &[], &[("DRYDOCK_METRICS_TOKEN", "scrape-secret")]).await;
    assert_eq!(scrape(&app, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, Some("wrong")).await.status(), StatusCode::UNAUTHORIZED);
    let ingest = app.token("ingest").await;
    let viewer = app.token("viewer").await;
    let report = fixture("trivy/juice-shop-v10.2.0.json");
    let junk = b"{\"not\": \"a report\"}".to_vec();
    let mut bytes = 0;
    for (body, want) in [(&report, StatusCode::CREATED), (&report, StatusCode::OK), (&junk, StatusCode::UNSUPPORTED_MEDIA_TYPE)] {
        let r = app.client.post(app.url("/api/v1/scans")).bearer_auth(&ingest).body(body.clone()).send().await.unwrap();
        assert_eq!(r.status(), want);
        bytes += body.len();
    }
    let image = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    for _ in 0..3 {
        let r = app.client.get(app.url(&format!("/api/v1/images/{image}"))).bearer_auth(&viewer).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    for _ in 0..2 {
        assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);
    }
    // The worker runs every periodic job once at start: wait for the ledger's verification.
    let deadline = Instant::now() + Duration::from_secs(30);
    let parsed = loop {
        let r = scrape(&app, Some("scrape-secret")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        let parsed = parse_exposition(&r.text().await.unwrap());
        if sample(&parsed, "drydock_job_runs_total", &[("kind", "ledger.verify"), ("outcome", "success")]) >= 1.0 {
            break parsed;
        }
        assert!(Instant::now() < deadline, "no ledger.verify run counted: {parsed}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let families = &parsed["families"];
    for (family, kind) in [
        ("drydock_http_request_duration_seconds", "histogram"),
        ("drydock_ingest_reports", "counter"),
        ("drydock_ingest_bytes", "counter"),
        ("drydock_job_runs", "counter"),
        ("drydock_job_duration_seconds", "histogram"),
        ("drydock_jobs_due", "gauge"),
        ("drydock_job_oldest_due_seconds", "gauge"),
        ("drydock_escalation_messages", "counter"),
        ("drydock_db_pool_connections", "gauge"),
        ("drydock_ledger_entries", "gauge"),
        ("drydock_ledger_last_verify_ok", "gauge"),
        ("drydock_build_info", "gauge"),
    ] {
        assert_eq!(families[family], kind, "{family} in {families}");
    }
    let route = |r: &str, m: &str, s: &str| {
        sample(&parsed, "drydock_http_request_duration_seconds_count", &[("route", r), ("method", m), ("status", s)])
    };
    assert_eq!(route("/api/v1/images/{digest}", "GET", "404"), 3.0, "by route template, not path");
    assert_eq!(route("/readyz", "GET", "200"), 2.0);
    assert_eq!(route("/api/v1/scans", "POST", "201"), 1.0);
    assert_eq!(route("/api/v1/scans", "POST", "200"), 1.0);
    assert_eq!(route("/metrics", "GET", "401"), 2.0);
    // A histogram: cumulative buckets ending in +Inf equal to the count.
    let inf = sample(&parsed, "drydock_http_request_duration_seconds_bucket", &[("route", "/readyz"), ("status", "200"), ("le", "+Inf")]);
    assert_eq!(inf, 2.0);
    let ingested = |f: &str, o: &str| sample(&parsed, "drydock_ingest_reports_total", &[("format", f), ("outcome", o)]);
    assert_eq!(ingested("trivy", "created"), 1.0);
    assert_eq!(ingested("trivy", "duplicate"), 1.0);
    assert_eq!(ingested("unknown", "rejected"), 1.0);
    assert_eq!(sample(&parsed, "drydock_ingest_bytes_total", &[]), bytes as f64);
    assert!(sample(&parsed, "drydock_job_duration_seconds_count", &[("kind", "ledger.verify")]) >= 1.0);
    assert_eq!(sample(&parsed, "drydock_ledger_last_verify_ok", &[]), 1.0);
    // The ledger only grows: its size read at the scrape is at most its size now, and not zero.
    let entries: i64 = sqlx::query_scalar("SELECT size FROM ledger_head").fetch_one(sqlite(&app.db.store)).await.unwrap();
    let scraped = sample(&parsed, "drydock_ledger_entries", &[]);
    assert!(scraped > 0.0 && scraped <= entries as f64, "the ledger's size at the scrape {scraped}, now {entries}");
    assert_eq!(sample(&parsed, "drydock_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
}

/// `/healthz` is liveness (no database); `/readyz` is 200 only while the database answers and
/// its schema is current.
#[tokio::test]
async fn readiness_follows_the_database_and_its_schema() {
    let db = TestDb::sqlite().await;
    let app = TestApp::start(db, 1 << 20).await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A schema older than the build: the newest migration's record removed.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .execute(sqlite(&app.db.store))
        .await
        .unwrap();
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("drydock migrate"), "{e}");
    // The database gone: not ready, but alive.
    sqlite(&app.db.store).close().await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("does not answer"));
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
}

fn connect(app: &TestApp) -> TcpStream {
    let s = TcpStream::connect(app.base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// Reads until the server closes the connection (or the read timeout): what it sent, and when.
fn read_until_closed(mut s: TcpStream) -> (String, Instant) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("the server held a half-sent request past the read timeout: {e}"),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), Instant::now())
}

/// A connection that sends half a header is closed after `header_read_timeout_seconds`; while
/// half-sent connections fill every slot of `max_connections`, a normal request waits for a slot
/// (it is not refused) and is answered once the timeout frees one.
#[tokio::test]
async fn half_sent_headers_are_closed_and_the_cap_holds() {
    let env = [("DRYDOCK_HEADER_READ_TIMEOUT_SECONDS", "2"), ("DRYDOCK_MAX_CONNECTIONS", "3")];
    let app = TestApp::process(TestDb::sqlite().await, &[], &env).await;
    // The startup probe's kept-alive connection is closed by the same timeout: let it go first.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let started = Instant::now();
    let slow: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = connect(&app);
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: drydock\r\nX-Half: ").unwrap();
            s
        })
        .collect();
    let base = app.base.clone();
    let normal = tokio::spawn(async move {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let r = client.get(format!("{base}/healthz")).send().await.unwrap();
        (r.status(), Instant::now())
    });
    let closed: Vec<(String, Instant)> =
        tokio::task::spawn_blocking(move || slow.into_iter().map(read_until_closed).collect()).await.unwrap();
    for (answer, at) in &closed {
        let after = at.duration_since(started);
        assert!(after >= Duration::from_millis(1500), "closed before the timeout: {after:?}");
        assert!(after < Duration::from_secs(8), "closed long after the 2 s timeout: {after:?}");
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    }
    let (status, answered) = normal.await.unwrap();
    assert_eq!(status, StatusCode::OK, "the waiting request is answered, not refused");
    assert!(answered.duration_since(started) >= Duration::from_millis(1500), "it waited for a slot: the cap held");
}

/// SIGTERM while an upload trickles in slower than it could ever finish: the process exits within
/// the grace period. An upload that can finish within it does, and is stored.
#[tokio::test]
async fn sigterm_waits_for_uploads_only_until_the_deadline() {
    let db = TestDb::sqlite().await;
    let url = db.url.clone();
    let mut app = TestApp::process(db, &[], &[("DRYDOCK_SHUTDOWN_GRACE_SECONDS", "3")]).await;
    let ingest = app.token("ingest").await;
    let report = fixture("trivy/juice-shop-v10.2.0.json");

    // The finishing upload: its body in ten pieces over about a second.
    let mut finishing = connect(&app);
    let head = format!(
        "POST /api/v1/scans HTTP/1.1\r\nHost: drydock\r\nAuthorization: Bearer {ingest}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        report.len()
    );
    finishing.write_all(head.as_bytes()).unwrap();
    // The trickling upload: a megabyte promised, a byte every half second.
    let mut trickling = connect(&app);
    let head = format!(
        "POST /api/v1/scans HTTP/1.1\r\nHost: drydock\r\nAuthorization: Bearer {ingest}\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{{"
    );
    trickling.write_all(head.as_bytes()).unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(500));
            if trickling.write_all(b" ").is_err() {
                return true;
            }
        }
        false
    });
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    let pid = app.pid().unwrap();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    let pieces: Vec<&[u8]> = report.chunks(report.len().div_ceil(10)).collect();
    for piece in pieces {
        std::thread::sleep(Duration::from_millis(100));
        finishing.write_all(piece).unwrap();
    }
    let (answer, _) = read_until_closed(finishing);
    assert!(answer.starts_with("HTTP/1.1 201"), "the upload that could finish was answered: {answer:.200}");
    let status = app.wait_exit(Duration::from_secs(10)).expect("the process exits");
    let took = signalled.elapsed();
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(took >= Duration::from_millis(2500), "the deadline waited for the trickling upload: {took:?}");
    assert!(took < Duration::from_secs(6), "exited within the 3 s grace (and a second to stop): {took:?}");
    assert!(trickle.join().unwrap(), "the trickling connection was closed by the server");
    let store = drydock::store::Store::connect(&url).await.unwrap();
    let reports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scans").fetch_one(sqlite(&store)).await.unwrap();
    assert_eq!(reports, 1, "the finished upload is stored, the cut one is not");
}
