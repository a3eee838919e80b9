//! PostgreSQL stopped under load (issue 22): the test starts its own PostgreSQL instance on a free
//! port, runs `drydock serve` on it under a steady mix of reads and uploads, stops the database
//! and starts it again. Every answer comes within 3 s; none is 500; during the outage the answers
//! are 503 with `Retry-After`; the same process answers 200 again once the database is back; and
//! every upload that was acknowledged (201) is in the database afterwards.

use super::helpers::{fixture, free_port, TestApp, TestDb};
use reqwest::StatusCode;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A PostgreSQL server of the test's own: initdb'd into a temporary directory, on a free port.
struct OwnPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

/// PostgreSQL refuses to run as root: as root, its tools run as the `postgres` user.
fn as_postgres(program: &std::path::Path) -> Command {
    let root = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Debian's PostgreSQL (.ci/setup.sh --tests installs it)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("an initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::Builder::new().prefix("drydock-pg-").tempdir().unwrap();
        let data = dir.path().join("data");
        let _ = Command::new("chown").args(["postgres:", dir.path().to_str().unwrap()]).status();
        let out = as_postgres(&bin.join("initdb"))
            .args(["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let pg = OwnPostgres { bin, data, port: free_port(), _dir: dir };
        pg.pg_ctl_start();
        pg
    }

    fn pg_ctl_start(&self) {
        let opts = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off", self.port, self.data.display());
        let log = self.data.join("server.log");
        let out = as_postgres(&self.bin.join("pg_ctl"))
            .args(["-D", self.data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &opts, "-w", "start"])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn stop(&self) {
        let out =
            as_postgres(&self.bin.join("pg_ctl")).args(["-D", self.data.to_str().unwrap(), "-m", "fast", "-w", "stop"]).output().unwrap();
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl")).args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"]).output();
    }
}

/// One answer: when it was asked (since the load began), how long it took, what it was.
#[derive(Debug, Clone)]
struct Answer {
    at: Duration,
    took: Duration,
    status: Option<StatusCode>,
    retry_after: bool,
    upload: bool,
}

/// Readers and uploaders asking in a loop until `stop`; each answer recorded.
fn load(
    app: &TestApp,
    token: &str,
    began: Instant,
    stop: Arc<std::sync::atomic::AtomicBool>,
    log: Arc<Mutex<Vec<Answer>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let report: serde_json::Value = serde_json::from_slice(&fixture("trivy/debian-buster.json")).unwrap();
    (0..4)
        .map(|worker| {
            let (base, token, stop, log, report) = (app.base.clone(), token.to_string(), stop.clone(), log.clone(), report.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    n += 1;
                    let upload = worker % 2 == 1;
                    let asked = Instant::now();
                    let r = if upload {
                        // A new report each time (the same bytes again would be a duplicate).
                        let mut body = report.clone();
                        body["ArtifactName"] = format!("debian:buster-w{worker}-{n}").into();
                        client.post(format!("{base}/api/v1/scans")).bearer_auth(&token).json(&body).send().await
                    } else {
                        client.get(format!("{base}/api/v1/images?limit=5")).bearer_auth(&token).send().await
                    };
                    let (status, retry_after) = match &r {
                        Ok(r) => (Some(r.status()), r.headers().contains_key("retry-after")),
                        Err(_) => (None, false),
                    };
                    log.lock().unwrap().push(Answer { at: asked - began, took: asked.elapsed(), status, retry_after, upload });
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        })
        .collect()
}

/// The status codes per half second (for the note): `t=1.5s 200:6 201:3 503:2`.
fn timeline(answers: &[Answer]) -> String {
    let mut out = String::new();
    let end = answers.iter().map(|a| a.at).max().unwrap_or_default();
    let mut t = Duration::ZERO;
    while t <= end {
        let mut counts = std::collections::BTreeMap::new();
        for a in answers.iter().filter(|a| a.at >= t && a.at < t + Duration::from_millis(500)) {
            *counts.entry(a.status.map(|s| s.as_u16().to_string()).unwrap_or_else(|| "none".into())).or_insert(0) += 1;
        }
        let row: Vec<String> = counts.iter().map(|(s, n)| format!("{s}:{n}")).collect();
        out.push_str(&format!("t={:>4.1}s {}\n", t.as_secs_f64(), row.join(" ")));
        t += Duration::from_millis(500);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_is_503_then_recovers() {
    let pg = OwnPostgres::start();
    let db = TestDb::at(&pg.url()).await;
    let app = TestApp::process(db, &[], &[("DRYDOCK_JOBS_WORKER", "false")]).await;
    let token = app.token("security").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let began = Instant::now();
    let workers = load(&app, &token, began, stop.clone(), log.clone());

    tokio::time::sleep(Duration::from_secs(2)).await;
    tokio::task::block_in_place(|| pg.stop());
    let down_at = began.elapsed();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let up_at = began.elapsed();
    tokio::task::block_in_place(|| pg.pg_ctl_start());
    // Recovery: wait for answers of 200 asked after the restart, at most 20 s.
    let recovered = async {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let ok_after = log.lock().unwrap().iter().filter(|a| a.at > up_at && a.status == Some(StatusCode::OK) && !a.upload).count();
            if ok_after >= 5 {
                break;
            }
        }
    };
    let came_back = tokio::time::timeout(Duration::from_secs(20), recovered).await.is_ok();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    let answers = log.lock().unwrap().clone();
    eprintln!("PostgreSQL stopped at {down_at:.1?}, started at {up_at:.1?}; status codes by half second:\n{}", timeline(&answers));

    assert!(came_back, "the same process answers 200 again once the database is back");
    assert!(answers.iter().all(|a| a.status.is_some()), "every request was answered");
    assert!(answers.iter().all(|a| a.status != Some(StatusCode::INTERNAL_SERVER_ERROR)), "no 500");
    let slow: Vec<&Answer> = answers.iter().filter(|a| a.took >= Duration::from_secs(3)).collect();
    assert!(slow.is_empty(), "answered within 3 s: {slow:?}");
    // Asked once the database had stopped and answered before it started again.
    let outage: Vec<&Answer> = answers.iter().filter(|a| a.at >= down_at && a.at + a.took < up_at).collect();
    assert!(outage.len() >= 4, "requests were made during the outage: {}", outage.len());
    for a in &outage {
        assert_eq!(a.status, Some(StatusCode::SERVICE_UNAVAILABLE), "during the outage: {a:?}");
        assert!(a.retry_after, "503 with Retry-After: {a:?}");
    }
    // Every acknowledged upload is there.
    let acknowledged = answers.iter().filter(|a| a.upload && a.status == Some(StatusCode::CREATED)).count() as i64;
    assert!(acknowledged > 0);
    let pool = match &app.db.store {
        drydock::store::Store::Postgres(p) => p.clone(),
        drydock::store::Store::Sqlite(_) => unreachable!(),
    };
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scans").fetch_one(&pool).await.unwrap();
    assert!(stored >= acknowledged, "{acknowledged} uploads acknowledged, {stored} stored");
}
