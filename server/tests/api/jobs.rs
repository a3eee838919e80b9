//! Durable jobs: two real `drydock serve` processes on one PostgreSQL database run each due job
//! once (counted at the real registry and at the replayed API server), a worker killed with
//! `kill -9` mid-job leaves it to the other after its lease, and a failing registry backs off as
//! documented, measured by moving a clock.

use super::helpers::{fixture, free_port, TestDb};
use super::k8s_collect::replay;
use super::registry_support::*;
use chrono::{DateTime, Duration, Utc};
use drydock::jobs::{JobSettings, Jobs};
use drydock::store::capabilities::*;
use drydock::store::{Actor, JobRunRow, Store};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A registry holding one image.
async fn seeded_registry(repo: &str) -> (Registry, tempfile::TempDir) {
    let storage = tempfile::tempdir().unwrap();
    let reg = Registry::start(storage.path(), Auth::Anonymous, None).await;
    let image = build_image(repo, "1.0", &[Platform { arch: "amd64", labels: vec![], user: "1000" }]);
    push(&image, "1.0", &format!("{}/{repo}:1.0", reg.host()), false, None);
    (reg, storage)
}

/// `drydock serve` on `db_url` with the job settings of these tests (its output discarded).
fn serve(db_url: &str, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drydock"));
    // Port 0: the replicas serve on ports the kernel picks (no test reaches them over HTTP), so
    // they never race other tests for a "free" port.
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--database-url", db_url])
        .env_remove("DRYDOCK_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn runs_of<'a>(runs: &'a [JobRunRow], kind: &str, key: &str) -> Vec<&'a JobRunRow> {
    let mut r: Vec<&JobRunRow> = runs.iter().filter(|r| r.kind == kind && r.key == key).collect();
    r.sort_by_key(|r| (r.due_at, r.id));
    r
}

/// The worker's process id, from its name (`host:pid:suffix`).
fn pid_of(worker: &str) -> u32 {
    worker.split(':').nth(1).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("worker name {worker:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_postgres_run_each_due_job_once() {
    two_replicas_run_each_due_job_once(TestDb::postgres().await).await;
}

/// The same on one SQLite file (claims serialised by `BEGIN IMMEDIATE` across the processes).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_sqlite_file_run_each_due_job_once() {
    two_replicas_run_each_due_job_once(TestDb::sqlite().await).await;
}

async fn two_replicas_run_each_due_job_once(db: TestDb) {
    let (reg_a, _sa) = seeded_registry("team-a/app").await;
    let (reg_b, _sb) = seeded_registry("team-b/api").await;
    let pods: serde_json::Value = serde_json::from_slice(&fixture("k8s-pods/nri-k8s-1.35-kubelet-pods.json")).unwrap();
    let api = replay::start(pods).await;
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("ledger.pem");
    drydock::ledger::LedgerKey::generate(&key_file).unwrap();
    let now = Utc::now();
    db.store.add_registry(&new_registry("alpha", &reg_a.url()), &Actor::cli(), now).await.unwrap();
    db.store.add_registry(&new_registry("beta", &reg_b.url()), &Actor::cli(), now).await.unwrap();
    let mut cluster = drydock::cluster::NewCluster {
        name: drydock::domain::ClusterName::parse("edge").unwrap(),
        server: api.url.clone(),
        token_env: "DRYDOCK_TEST_JOBS_KUBE_TOKEN".into(),
        ca_pem: None,
        insecure: false,
    };
    cluster.validate().unwrap();
    db.store.add_cluster(&cluster, &Actor::cli(), now).await.unwrap();

    // Two replicas, collecting every 3 seconds, looking for due jobs every 200 ms.
    let env = [
        ("DRYDOCK_COLLECT_INTERVAL_SECONDS", "3"),
        ("DRYDOCK_JOB_POLL_SECONDS", "0.2"),
        ("DRYDOCK_JOB_LEASE_SECONDS", "30"),
        ("DRYDOCK_LEDGER_KEY", key_file.to_str().unwrap()),
        ("DRYDOCK_TEST_JOBS_KUBE_TOKEN", "replay-token"),
    ];
    let mut replicas = [serve(&db.url, &env), serve(&db.url, &env)];
    let pids: Vec<u32> = replicas.iter().map(|c| c.id()).collect();
    tokio::time::sleep(std::time::Duration::from_secs(14)).await;
    for r in &mut replicas {
        let _ = r.kill();
        let _ = r.wait();
    }

    let runs = db.store.job_runs(10_000).await.unwrap();
    let mut by_worker: BTreeMap<u32, usize> = BTreeMap::new();
    for r in &runs {
        *by_worker.entry(pid_of(&r.worker)).or_default() += 1;
    }
    println!("runs per replica (pid → runs): {by_worker:?}");
    assert!(by_worker.keys().all(|p| pids.contains(p)), "every run was made by one of the two replicas");
    assert_eq!(by_worker.len(), 2, "both replicas took jobs: {by_worker:?}");

    type Requests<'a> = Box<dyn Fn() -> usize + 'a>;
    let checks: [(&str, &str, Requests); 3] = [
        ("registry.collect", "alpha", Box::new(|| reg_a.requests("GET /v2/_catalog"))),
        ("registry.collect", "beta", Box::new(|| reg_b.requests("GET /v2/_catalog"))),
        ("cluster.collect", "edge", Box::new(|| api.pod_requests.load(Ordering::SeqCst))),
    ];
    for (kind, key, requests) in &checks {
        let mine = runs_of(&runs, kind, key);
        let ok = mine.iter().filter(|r| r.outcome == "ok").count();
        let unfinished = mine.iter().filter(|r| r.outcome == "running").count();
        let seen = requests();
        println!("{kind} {key}: {} runs ({ok} ok, {unfinished} cut short by the kill), {seen} collector requests received", mine.len());
        for r in &mine {
            println!(
                "    due {}  started {}  {}  by {}",
                r.due_at.format("%H:%M:%S%.3f"),
                r.started_at.format("%H:%M:%S%.3f"),
                r.outcome,
                r.worker
            );
        }
        assert!(ok >= 3, "{kind} {key} ran on its schedule: {ok} runs");
        assert!(mine.iter().all(|r| r.outcome == "ok" || r.outcome == "running"), "no run failed or was abandoned");
        assert!(unfinished <= 1, "at most the run cut short by the kill is unfinished");
        // Each due time was run once: due times strictly increase, a period or more apart.
        for w in mine.windows(2) {
            assert!(w[1].due_at - w[0].due_at >= Duration::seconds(3), "{kind} {key}: due {} ran twice or early", w[1].due_at);
        }
        // The collector's requests: one per finished run (and perhaps one for the run cut short).
        assert!(seen >= ok && seen <= ok + unfinished, "{kind} {key}: {seen} requests for {ok} finished runs");
    }
    db.cleanup().await;
}

/// A TCP front of a registry that holds every connection open without answering while `stall`
/// is set (a collection hangs there), and passes connections through once it is cleared.
async fn stalling_proxy(target: u16, stall: Arc<AtomicBool>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { return };
            let stall = stall.clone();
            tokio::spawn(async move {
                if stall.load(Ordering::SeqCst) {
                    let mut sink = vec![0u8; 4096];
                    use tokio::io::AsyncReadExt as _;
                    while matches!(inbound.read(&mut sink).await, Ok(n) if n > 0) {}
                    return;
                }
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_mid_job_leaves_it_to_the_other_after_its_lease() {
    let db = TestDb::postgres().await;
    let (reg, _storage) = seeded_registry("team-a/app").await;
    let stall = Arc::new(AtomicBool::new(true));
    let front = stalling_proxy(reg.port, stall.clone()).await;
    db.store.add_registry(&new_registry("slow", &format!("http://127.0.0.1:{front}")), &Actor::cli(), Utc::now()).await.unwrap();
    let env = [("DRYDOCK_JOB_POLL_SECONDS", "0.2"), ("DRYDOCK_JOB_LEASE_SECONDS", "3"), ("DRYDOCK_COLLECT_INTERVAL_MINUTES", "60")];
    let mut replicas = vec![serve(&db.url, &env), serve(&db.url, &env)];

    // Whichever replica claims the collection hangs in it; that one is killed.
    let mut holder = None;
    for _ in 0..150 {
        let jobs = db.store.jobs().await.unwrap();
        if let Some(w) = jobs.iter().find(|j| j.kind == "registry.collect" && j.key == "slow").and_then(|j| j.locked_by.clone()) {
            holder = Some(w);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let holder = holder.expect("a replica claimed the collection");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await; // past a heartbeat: the lease is being kept
    let killed_pid = pid_of(&holder);
    let victim = replicas.iter().position(|c| c.id() == killed_pid).expect("the holder is one of the replicas");
    let t_kill = Utc::now();
    replicas[victim].kill().unwrap(); // SIGKILL
    replicas[victim].wait().unwrap();
    stall.store(false, Ordering::SeqCst);

    let mut done = None;
    for _ in 0..300 {
        let runs = db.store.job_runs(100).await.unwrap();
        if runs_of(&runs, "registry.collect", "slow").iter().any(|r| r.outcome == "ok") {
            done = Some(runs);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let runs = done.expect("the surviving replica collected the registry");
    let mine = runs_of(&runs, "registry.collect", "slow");
    for r in &mine {
        println!("due {}  started {}  {}  by {}  {}", r.due_at, r.started_at, r.outcome, r.worker, r.error.as_deref().unwrap_or(""));
    }
    assert_eq!(mine.len(), 2, "one run cut short, one retry");
    let (first, retry) = (mine[0], mine[1]);
    assert_eq!((first.worker.as_str(), first.outcome.as_str()), (holder.as_str(), "abandoned"));
    assert_ne!(pid_of(&retry.worker), killed_pid, "the other replica retried");
    assert_eq!(retry.outcome, "ok");
    assert_eq!(first.due_at, retry.due_at, "the same due time was retried, not skipped");
    assert!(
        retry.started_at >= t_kill + Duration::milliseconds(1500),
        "the retry waited for the lease to run out: killed {t_kill}, retried {}",
        retry.started_at
    );
    let status = db.store.registries().await.unwrap().pop().unwrap().status;
    assert_eq!((status.repositories, status.last_error.as_deref()), (1, None));
    for r in &mut replicas {
        let _ = r.kill();
        let _ = r.wait();
    }
    db.cleanup().await;
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Runs what is due at `t` and answers the registry collections that ran (Ok or the error).
async fn collections_at(jobs: &Jobs, t: DateTime<Utc>) -> Vec<Result<String, String>> {
    jobs.run_pending(t).await.unwrap().into_iter().filter(|r| r.kind == "registry.collect").map(|r| r.outcome).collect()
}

async fn registry_job(store: &Store) -> drydock::store::JobRow {
    store.jobs().await.unwrap().into_iter().find(|j| j.kind == "registry.collect").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_registry_backs_off_five_ten_twenty_minutes_then_recovers() {
    let db = TestDb::sqlite().await;
    let port = free_port();
    let t0 = at("2026-03-02T09:00:00Z");
    let clock = drydock::clock::ManualClock::new(t0);
    db.store.add_registry(&new_registry("flaky", &format!("http://127.0.0.1:{port}")), &Actor::cli(), t0).await.unwrap();
    let config = drydock::config::Config { database_url: db.url.clone(), ..Default::default() };
    let jobs = Jobs::new(
        db.store.clone(),
        JobSettings::from_config(&config).unwrap(),
        Default::default(),
        Err("no key in this test".into()),
        clock.clone(),
    );

    // Nothing listens: each run fails, and the next waits 5, then 10, then 20 minutes.
    let mut expected_next = t0;
    for (failures, wait) in [(1, 5), (2, 10), (3, 20)] {
        let ran = collections_at(&jobs, expected_next).await;
        assert_eq!(ran.len(), 1, "due at {expected_next}");
        assert!(ran[0].as_ref().unwrap_err().contains("unreachable"), "{:?}", ran[0]);
        let job = registry_job(&db.store).await;
        assert_eq!(job.attempts, failures);
        let next = expected_next + Duration::minutes(wait);
        assert_eq!(job.run_at, next, "after {failures} failures the next try waits {wait} minutes");
        // The registry page says the same.
        let reg = db.store.registries().await.unwrap().pop().unwrap();
        assert_eq!((reg.status.failures, reg.status.next_attempt), (failures, Some(next)));
        // A second before it is due, nothing runs.
        assert!(collections_at(&jobs, next - Duration::seconds(1)).await.is_empty());
        expected_next = next;
    }

    // The registry comes up on that address: the next due run succeeds and the back-off ends.
    let (reg, _storage) = {
        let storage = tempfile::tempdir().unwrap();
        let reg = Registry::start_at(port, storage.path(), Auth::Anonymous, None).await;
        let image = build_image("team-a/app", "1.0", &[Platform { arch: "amd64", labels: vec![], user: "1000" }]);
        push(&image, "1.0", &format!("{}/team-a/app:1.0", reg.host()), false, None);
        (reg, storage)
    };
    let ran = collections_at(&jobs, expected_next).await;
    assert_eq!(ran.len(), 1);
    assert!(ran[0].as_ref().unwrap().starts_with("1 repositories"), "{:?}", ran[0]);
    let job = registry_job(&db.store).await;
    assert_eq!((job.attempts, job.last_failure), (0, Some(expected_next - Duration::minutes(20))));
    assert!(job.last_error.unwrap().contains("unreachable"), "the last failure's error is kept beside its time");
    assert_eq!(job.run_at, expected_next + Duration::minutes(15), "back on the 15-minute schedule");
    assert_eq!(job.last_success, Some(expected_next));
    assert_eq!(reg.requests("GET /v2/_catalog"), 1);
    let runs = db.store.job_runs(100).await.unwrap();
    let outcomes: Vec<&str> = runs_of(&runs, "registry.collect", "flaky").iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failed", "failed", "failed", "ok"]);

    // `drydock jobs` says the same: next run 09:50, last success 09:35, last failure 09:15 and why.
    // (every run of the 35 minutes listed: the estate-wide jobs ran beside the registry's)
    let out = Command::new(env!("CARGO_BIN_EXE_drydock")).args(["jobs", "--limit", "100", "--database-url", &db.url]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    println!("{text}");
    let line = text.lines().find(|l| l.starts_with("registry.collect flaky\t")).expect("the registry's job is listed");
    let cols: Vec<&str> = line.split('\t').collect();
    assert_eq!(&cols[1..3], ["2026-03-02 09:50:00", "2026-03-02 09:35:00"]);
    assert!(cols[3].starts_with("2026-03-02 09:15:00 (unreachable"), "{line}");
    assert_eq!(cols[4], "0");
    let failed_runs = text.lines().filter(|l| l.contains("\tregistry.collect flaky\t") && l.contains("\tfailed\t")).count();
    assert_eq!(failed_runs, 3);

    // And the admin's Jobs page (the server's own worker off: the page shows what happened above).
    let app = super::helpers::TestApp::process(db, &["--demo"], &[("DRYDOCK_JOBS_WORKER", "false")]).await;
    super::signin::demo_sign_in(&app, "admin").await;
    let page = app.client.get(app.url("/admin/jobs")).send().await.unwrap().text().await.unwrap();
    let row = page.split("<tr>").find(|r| r.contains("flaky") && r.contains("registry.collect")).expect("the job's row");
    for want in ["every 15 min", ">ok<", "2026-03-02 09:50 UTC", "2026-03-02 09:35 UTC", "2026-03-02 09:15 UTC", "unreachable"] {
        assert!(row.contains(want), "{want} in {row}");
    }
    let failed = page.split("<tr>").filter(|r| r.contains(">flaky<") && r.contains(">failed<")).count();
    assert_eq!(failed, 3, "the three failed runs are listed");
}

/// Shutdown (issue 22): `Jobs::stop` lets a job that can finish before the deadline finish, stops
/// the one that cannot, records its run as interrupted and hands it back — due at once, so
/// another worker claims it without waiting for the lease. Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_hands_back_what_it_could_not_finish() {
    for db in [TestDb::sqlite().await, TestDb::postgres().await] {
        let config = drydock::config::Config { database_url: db.url.clone(), job_poll_seconds: 0.05, ..Default::default() };
        let jobs = Jobs::new(
            db.store.clone(),
            JobSettings::from_config(&config).unwrap(),
            Default::default(),
            Err("no key in this test".into()),
            Arc::new(drydock::clock::SystemClock),
        );
        jobs.add_kind(
            "test.endless",
            Arc::new(|_, _| {
                Box::pin(async {
                    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                    Ok("finished".into())
                })
            }),
        );
        jobs.add_kind(
            "test.short",
            Arc::new(|_, _| {
                Box::pin(async {
                    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
                    Ok("finished".into())
                })
            }),
        );
        // Due before the periodic jobs the worker schedules as it starts: claimed first.
        let before = Utc::now() - Duration::seconds(5);
        jobs.enqueue("test.endless", "", before).await.unwrap();
        jobs.enqueue("test.short", "", before).await.unwrap();
        jobs.start();
        let running = |runs: &[JobRunRow], kind: &str| runs.iter().any(|r| r.kind == kind && r.outcome == "running");
        let mut both = false;
        for _ in 0..100 {
            let runs = db.store.job_runs(50).await.unwrap();
            if running(&runs, "test.endless") && running(&runs, "test.short") {
                both = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(both, "the worker claimed both jobs");

        let asked = std::time::Instant::now();
        jobs.stop(tokio::time::Instant::now() + std::time::Duration::from_secs(1)).await;
        let took = asked.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(900) && took < std::time::Duration::from_secs(5),
            "stopped at the deadline: {took:?}"
        );

        let runs = db.store.job_runs(50).await.unwrap();
        let outcome = |kind: &str| runs.iter().find(|r| r.kind == kind).map(|r| (r.outcome.clone(), r.error.clone())).unwrap();
        assert_eq!(outcome("test.short").0, "ok", "the job that could finish did");
        let (o, e) = outcome("test.endless");
        assert_eq!(o, "interrupted");
        assert!(e.unwrap().contains("shut down"));
        let endless = db.store.jobs().await.unwrap().into_iter().find(|j| j.kind == "test.endless").expect("still queued");
        assert_eq!((endless.locked_by, endless.locked_until, endless.attempts), (None, None, 0), "handed back, not failed");
        assert!(!db.store.jobs().await.unwrap().iter().any(|j| j.kind == "test.short"), "the finished one-off job is gone");
        // Another worker takes it at once (no lease to wait out).
        let now = Utc::now();
        let mut taken = None;
        while let Some(job) = db.store.claim_job("another", "claim-2", now, now + Duration::minutes(5)).await.unwrap() {
            if job.row.kind == "test.endless" {
                taken = Some(job);
                break;
            }
        }
        assert!(taken.is_some(), "another worker claims the handed-back job");
        db.cleanup().await;
    }
}
