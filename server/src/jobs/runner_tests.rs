//! The runner over a small in-memory queue: what is tested here is the runner's own work
//! (claiming, the heartbeat, a panic as one failed run, the next due time handed back, a lease
//! taken over), not the SQL of claims and leases, which the store suite runs on both databases.
//! The kinds' context holds a store that cannot open: a run that touched it would fail.

use super::*;
use crate::store::{JobClaimRow, JobRow, JobRunRow};
use std::sync::Mutex;

/// What a run handed back to the queue: kind, outcome, next due time.
type Finished = (String, Result<(), String>, Option<(DateTime<Utc>, i64)>);

#[derive(Default)]
struct State {
    due: Vec<JobClaimRow>,
    finished: Vec<Finished>,
    extended: u32,
    taken_over: bool,
    next_id: i64,
}

#[derive(Clone, Default)]
struct Queue(Arc<Mutex<State>>);

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

impl JobQueue for Queue {
    async fn ensure_periodic_jobs(&self, _: &[PeriodicJob], _: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(())
    }
    async fn retire_periodic_jobs(&self, _: &str, _: &[String]) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn enqueue_job(&self, kind: &str, key: &str, run_at: DateTime<Utc>, repeat: i64) -> Result<(), StoreError> {
        let mut s = self.state();
        s.next_id += 1;
        let row = JobClaimRow { id: s.next_id, kind: kind.into(), key: key.into(), run_at, period_seconds: None, repeat, attempts: 0 };
        s.due.push(row);
        Ok(())
    }
    async fn claim_job(&self, _: &str, claim: &str, now: DateTime<Utc>, _: DateTime<Utc>) -> Result<Option<ClaimedJob>, StoreError> {
        let mut s = self.state();
        let Some(i) = s.due.iter().position(|r| r.run_at <= now) else { return Ok(None) };
        let row = s.due.remove(i);
        Ok(Some(ClaimedJob { run_id: row.id, row, claim: claim.into() }))
    }
    async fn extend_job_lease(&self, _: i64, _: &str, _: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut s = self.state();
        s.extended += 1;
        Ok(!s.taken_over)
    }
    async fn finish_job(
        &self,
        job: &ClaimedJob,
        outcome: Result<(), &str>,
        next: Option<(DateTime<Utc>, i64)>,
        _: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut s = self.state();
        s.finished.push((job.row.kind.clone(), outcome.map_err(str::to_string), next));
        if let Some((run_at, repeat)) = next {
            let attempts = if outcome.is_err() { job.row.attempts + 1 } else { 0 };
            s.due.push(JobClaimRow { run_at, repeat, attempts, ..job.row.clone() });
        }
        Ok(!s.taken_over)
    }
    async fn release_job(&self, _: &ClaimedJob, _: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn job_backlog(&self, _: DateTime<Utc>) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        Ok((0, None))
    }
    async fn jobs(&self) -> Result<Vec<JobRow>, StoreError> {
        Ok(vec![])
    }
    async fn job_runs(&self, _: i64) -> Result<Vec<JobRunRow>, StoreError> {
        Ok(vec![])
    }
    async fn prune_job_runs(&self, _: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(0)
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-30T12:00:00Z").unwrap().with_timezone(&Utc)
}

/// A runner over `queue` whose lease is `lease`, with the kinds `boom` (panics), `fine`, and
/// `slow` (sleeps 700 ms).
fn runner(queue: &Queue, lease: Duration) -> Arc<Jobs<Queue>> {
    let mut settings = JobSettings::from_config(&crate::config::Config::default()).unwrap();
    settings.lease = lease;
    let unopenable = sqlx::SqlitePool::connect_lazy("sqlite:///nonexistent-drydock-dir/never.db?mode=ro").unwrap();
    let ctx = JobContext {
        store: Store::Sqlite(unopenable),
        settings,
        collect: Default::default(),
        ledger_key: Err("no key in this test".into()),
        worker: "test-worker".into(),
    };
    let jobs = Jobs::over(queue.clone(), ctx, crate::clock::ManualClock::new(t0()) as SharedClock);
    jobs.add_kind("boom", Arc::new(|_, _| Box::pin(async { panic!("kaboom") })));
    jobs.add_kind("fine", Arc::new(|key, _| Box::pin(async move { Ok(format!("did {key}")) })));
    jobs.add_kind(
        "slow",
        Arc::new(|_, _| {
            Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_millis(700)).await;
                Ok("slept".to_string())
            })
        }),
    );
    jobs
}

#[tokio::test]
async fn a_panicking_run_is_one_failed_run_and_the_next_job_runs() {
    let queue = Queue::default();
    let jobs = runner(&queue, Duration::minutes(5));
    jobs.enqueue("boom", "", t0()).await.unwrap();
    jobs.enqueue("fine", "k", t0()).await.unwrap();
    jobs.enqueue("nobody-knows", "", t0()).await.unwrap();
    let first = jobs.run_next(t0()).await.unwrap().expect("a due job");
    assert_eq!(first.kind, "boom");
    assert_eq!(first.outcome, Err("panicked: kaboom".to_string()));
    let second = jobs.run_next(t0()).await.unwrap().expect("the worker goes on");
    assert_eq!((second.kind.as_str(), second.outcome), ("fine", Ok("did k".to_string())));
    let third = jobs.run_next(t0()).await.unwrap().unwrap();
    assert_eq!(third.outcome, Err("no such kind of job: nobody-knows".to_string()));
    assert!(jobs.run_next(t0()).await.unwrap().is_none(), "the failed one-offs wait for their backoff");
    let s = queue.state();
    // The failed one-off is handed back due after the first backoff; the done one is deleted.
    assert_eq!(s.finished[0], ("boom".into(), Err("panicked: kaboom".into()), Some((t0() + backoff(0), 0))));
    assert_eq!(s.finished[1], ("fine".into(), Ok(()), None));
    assert_eq!(s.due.iter().map(|r| (r.kind.as_str(), r.attempts)).collect::<Vec<_>>(), [("boom", 1), ("nobody-knows", 1)]);
}

#[tokio::test]
async fn a_long_run_keeps_its_lease_by_heartbeat_and_the_heartbeat_stops_with_it() {
    let queue = Queue::default();
    // A 600 ms lease: a beat every 200 ms while the 700 ms run lasts.
    let jobs = runner(&queue, Duration::milliseconds(600));
    jobs.enqueue("slow", "", t0()).await.unwrap();
    let r = jobs.run_next(t0()).await.unwrap().unwrap();
    assert_eq!(r.outcome, Ok("slept".to_string()));
    let beats = queue.state().extended;
    assert!(beats >= 1, "the lease was extended while the run lasted");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(queue.state().extended, beats, "no heartbeat after the run ended");
}

#[tokio::test]
async fn a_run_whose_lease_was_taken_over_still_reports_its_outcome() {
    let queue = Queue::default();
    let jobs = runner(&queue, Duration::minutes(5));
    queue.state().taken_over = true;
    jobs.enqueue("fine", "x", t0()).await.unwrap();
    let r = jobs.run_next(t0()).await.unwrap().unwrap();
    assert_eq!(r.outcome, Ok("did x".to_string()));
    assert_eq!(queue.state().finished.len(), 1);
}
