//! The job queue under load: how fast workers drain many due jobs (each claimed once, with its
//! run recorded and the job finished), with one worker and with several competing for the same
//! rows — the path every collection and, next, every escalation delivery takes.
//! Run: `cargo bench -p server --bench jobs` (PostgreSQL as in the other benches; skipped when
//! it does not answer). `DRYDOCK_BENCH_JOBS` sets the number of jobs (default 5,000).

use chrono::{Duration, Utc};
use drydock::store::capabilities::*;
use drydock::store::Store;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Enqueues `n` one-off jobs due now, then lets `workers` tasks claim and finish them until none
/// is due; answers (seconds, claims) and checks that no job ran twice.
async fn drain(store: &Store, n: usize, workers: usize, round: usize) -> (f64, usize) {
    let now = Utc::now();
    for i in 0..n {
        store.enqueue_job("bench.deliver", &format!("r{round}-item-{i}"), now, 0).await.unwrap();
    }
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (store, seen) = (store.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            let mut claimed = 0usize;
            loop {
                let t = Utc::now();
                let Some(job) =
                    store.claim_job(&format!("bench-{w}"), &format!("c{w}-{claimed}"), t, t + Duration::seconds(60)).await.unwrap()
                else {
                    break;
                };
                assert!(seen.lock().unwrap().insert(job.row.key.clone()), "{} was claimed twice", job.row.key);
                store.finish_job(&job, Ok(()), None, t).await.unwrap();
                claimed += 1;
            }
            claimed
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    (start.elapsed().as_secs_f64(), total)
}

async fn bench(label: &str, store: Store, n: usize) {
    for (round, workers) in [1usize, 4].into_iter().enumerate() {
        let (secs, claimed) = drain(&store, n, workers, round).await;
        assert_eq!(claimed, n, "every job ran once");
        println!(
            "{label:<9} {n} jobs, {workers} worker(s): drained in {secs:.2} s = {:.0} jobs/s (claim + run record + finish)",
            n as f64 / secs
        );
    }
    // The queue's cost with many jobs waiting but few due: a claim reads the due index only.
    let later = Utc::now() + Duration::days(1);
    for i in 0..n {
        store.enqueue_job("bench.later", &format!("later-{i}"), later, 0).await.unwrap();
    }
    let t = Instant::now();
    for i in 0..200 {
        let now = Utc::now();
        assert!(store.claim_job("bench", &format!("idle-{i}"), now, now + Duration::seconds(60)).await.unwrap().is_none());
    }
    println!("{label:<9} an idle claim with {n} jobs not yet due: {:.2} ms", t.elapsed().as_secs_f64() * 1000.0 / 200.0);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let n: usize = std::env::var("DRYDOCK_BENCH_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("jobs.db").display())).await.unwrap();
    bench("sqlite", sqlite, n).await;
    let admin = std::env::var("DRYDOCK_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    use sqlx::Connection as _;
    match sqlx::PgConnection::connect(&admin).await {
        Ok(mut conn) => {
            let name = format!("drydock_bench_jobs_{}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&name);
            let pg = Store::connect(url.as_str()).await.unwrap();
            bench("postgres", pg.clone(), n).await;
            if let Store::Postgres(p) = pg {
                p.close().await;
            }
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
        }
        Err(e) => println!("postgres  skipped: {e}"),
    }
}
