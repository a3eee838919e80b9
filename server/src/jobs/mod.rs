//! Durable jobs: every piece of background work is a row of the `jobs` table, claimed by one
//! worker at a time with a lease (any number of `drydock serve` replicas on one PostgreSQL run
//! each due job once), retried after the lease when its worker dies, backed off when it fails,
//! and recorded run by run in `job_runs` (`drydock jobs`, the admin jobs page).
//!
//! Kinds (a job is a kind and a key, the key its typed payload) are in `kinds/`, one file each:
//! `registry.collect`, `registry.refresh`, `cluster.collect`, `ledger.verify`,
//! `ledger.checkpoint`, `session.purge`, `policy.evaluate`, `scorecard.snapshot`, `risk.rank`,
//! `campaign.escalate`, `database.statistics`. Each implements [`Job`]; the runner knows them
//! only by it.
//!
//! `run_pending(now)` runs everything due at `now` in the calling task: tests move a clock
//! instead of sleeping. The background worker (`start`) runs up to `jobs_concurrency` jobs at
//! once, so one registry or cluster that never answers holds one slot, not the evaluation, the
//! escalation or the checkpoints. A job that fails, even by panicking, is one failed run: its
//! lease is released, its next run follows the backoff, and the worker goes on.

mod kind;
pub mod kinds;
pub mod settings;

use crate::clock::SharedClock;
use crate::panics::panic_message;
use crate::store::capabilities::*;
use crate::store::{ClaimedJob, PeriodicJob, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use kind::Runnable;
pub use kind::{Job, JobContext, JobError, JobHandler, JobPayload, RepositoryOf};
use kinds::*;
pub use settings::JobSettings;
use std::sync::Arc;

/// A one-off job that fails this many times in a row is dropped (the periodic job covers it).
const ONE_OFF_ATTEMPTS: i64 = 3;
/// The pause before a repeated one-off run (a notified push read again).
const REPEAT_AFTER: Duration = Duration::seconds(3);

/// How long a job waits after `failures` failed runs in a row: 5 minutes, doubling, at most 6 hours.
pub fn backoff(failures: i64) -> Duration {
    crate::store::backoff(failures)
}

/// What one run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub kind: String,
    pub key: String,
    pub due_at: DateTime<Utc>,
    /// What it did, or why it failed.
    pub outcome: Result<String, String>,
}

/// Aborts the lease's heartbeat when the run ends, however it ends.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The job runner of one process. Its queue (claims, leases, run history) is any [`JobQueue`]:
/// the store in Drydock, a small fake in the runner's unit tests. The periodic schedule reads
/// the registries and clusters, so `sync`, `run_pending` and `start` are the store's.
pub struct Jobs<Q = Store> {
    queue: Q,
    ctx: JobContext,
    clock: SharedClock,
    wake: tokio::sync::Notify,
    /// Set (with the deadline for running jobs) when the process shuts down.
    stop: tokio::sync::watch::Sender<Option<tokio::time::Instant>>,
    /// The background worker, once started.
    worker_task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    kinds: std::sync::RwLock<std::collections::HashMap<String, Arc<dyn Runnable>>>,
}

impl Jobs<Store> {
    pub fn new(
        store: Store,
        settings: JobSettings,
        collect: crate::registry::CollectSettings,
        ledger_key: Result<Arc<crate::ledger::LedgerKey>, String>,
        clock: SharedClock,
    ) -> Arc<Jobs> {
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into());
        let worker = format!("{host}:{}:{}", std::process::id(), crate::domain::random_hex(4));
        let ctx = JobContext { store: store.clone(), settings, collect, ledger_key, worker };
        Jobs::over(store, ctx, clock)
    }

    /// Collects `registry` as soon as a worker is free (a new registry, or an admin's request).
    pub async fn collect_registry_soon(&self, registry: &crate::domain::RegistryName) -> Result<(), StoreError> {
        let now = self.clock.now();
        let job = Self::periodic::<RegistryCollect>(registry, self.ctx.settings.collect_every);
        self.queue.ensure_periodic_jobs(&[job], now).await?;
        self.enqueue_typed::<RegistryCollect>(registry, now, 0).await
    }

    /// Collects `cluster` (one with an API server) as soon as a worker is free.
    pub async fn collect_cluster_soon(&self, cluster: &crate::domain::ClusterName) -> Result<(), StoreError> {
        let now = self.clock.now();
        let job = Self::periodic::<ClusterCollect>(cluster, self.ctx.settings.collect_every);
        self.queue.ensure_periodic_jobs(&[job], now).await?;
        self.enqueue_typed::<ClusterCollect>(cluster, now, 0).await
    }

    /// Makes the table hold every periodic job the configuration asks for: one collection per
    /// registry and per cluster with an API server, the ledger's verification and checkpoint,
    /// the purge. Jobs of registries or clusters that are gone are deleted.
    ///
    /// A registry or cluster added while this runs (after its lists were read) may have its job
    /// deleted as gone; the lists are read again after the deletion and such a job is made again.
    pub async fn sync(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let (s, store) = (&self.ctx.settings, &self.ctx.store);
        let (registries, clusters) = self.collected().await?;
        let mut wanted = Vec::with_capacity(registries.len() + clusters.len() + 8);
        wanted.extend(registries.iter().map(|r| Self::periodic::<RegistryCollect>(r, s.collect_every)));
        wanted.extend(clusters.iter().map(|c| Self::periodic::<ClusterCollect>(c, s.collect_every)));
        wanted.extend([
            Self::periodic::<LedgerVerify>(&(), s.ledger_verify_every),
            Self::periodic::<LedgerCheckpoint>(&(), s.checkpoint_every),
            Self::periodic::<SessionPurge>(&(), s.purge_every),
            Self::periodic::<DatabaseStatistics>(&(), s.statistics_every),
            Self::periodic::<PolicyEvaluate>(&(), s.evaluate_every),
            Self::periodic::<ScorecardSnapshot>(&(), s.snapshot_every),
            Self::periodic::<RiskRank>(&(), s.rank_every),
            Self::periodic::<CampaignEscalate>(&(), s.escalate_every),
        ]);
        store.ensure_periodic_jobs(&wanted, now).await?;
        store.retire_periodic_jobs(RegistryCollect::KIND, &keys(&registries)).await?;
        store.retire_periodic_jobs(ClusterCollect::KIND, &keys(&clusters)).await?;
        let (registries_now, clusters_now) = self.collected().await?;
        let mut added: Vec<PeriodicJob> = registries_now
            .iter()
            .filter(|r| !registries.contains(r))
            .map(|r| Self::periodic::<RegistryCollect>(r, s.collect_every))
            .collect();
        added.extend(clusters_now.iter().filter(|c| !clusters.contains(c)).map(|c| Self::periodic::<ClusterCollect>(c, s.collect_every)));
        if !added.is_empty() {
            store.ensure_periodic_jobs(&added, now).await?;
        }
        Ok(())
    }

    /// The registries and the clusters with an API server, whose collections are periodic jobs.
    async fn collected(&self) -> Result<(Vec<crate::domain::RegistryName>, Vec<crate::domain::ClusterName>), StoreError> {
        // Registry rows are shared with the pages (app::types), so their names arrive as text.
        let registries = self
            .ctx
            .store
            .registries()
            .await?
            .into_iter()
            .filter_map(|r| {
                // One name a newer grammar refuses must not stop every other job's schedule.
                crate::domain::RegistryName::parse(&r.name)
                    .map_err(|e| tracing::warn!(registry = %r.name, error = %e, "a configured registry's name is not collectable"))
                    .ok()
            })
            .collect();
        let clusters = self.ctx.store.collectable_clusters().await?.into_iter().map(|c| c.name).collect();
        Ok((registries, clusters))
    }

    /// Runs every job due at `now`, one after another, in the calling task; returns what ran.
    pub async fn run_pending(&self, now: DateTime<Utc>) -> Result<Vec<RunReport>, StoreError> {
        self.sync(now).await?;
        let mut ran = Vec::new();
        while let Some(r) = self.run_next(now).await? {
            ran.push(r);
        }
        Ok(ran)
    }

    /// Runs jobs in the background until `stop`: up to `concurrency` at once, each in its own
    /// task; then waits for the poll interval, a job this process enqueued, a running job's end
    /// or the stop. The periodic jobs are synced first and every half minute.
    pub fn start(self: &Arc<Self>) {
        let jobs = self.clone();
        let mut stop = self.stop.subscribe();
        let worker = tokio::spawn(async move {
            let mut synced: Option<std::time::Instant> = None;
            let mut running = Running::default();
            while stop.borrow().is_none() {
                if synced.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(30)) {
                    match jobs.sync(jobs.clock.now()).await {
                        Ok(()) => synced = Some(std::time::Instant::now()),
                        Err(e) => tracing::warn!(error = %e, "the periodic jobs could not be scheduled"),
                    }
                }
                jobs.claim_up_to_concurrency(&mut running).await;
                tokio::select! {
                    Some(done) = running.tasks.join_next_with_id(), if !running.tasks.is_empty() => running.ended(done),
                    _ = tokio::time::sleep(jobs.ctx.settings.poll) => {}
                    _ = jobs.wake.notified() => {}
                    _ = stop.changed() => {}
                }
            }
            let deadline = (*stop.borrow()).unwrap_or_else(tokio::time::Instant::now);
            jobs.wind_down(running, deadline).await;
        });
        *self.worker_task.lock().unwrap_or_else(|e| e.into_inner()) = Some(worker);
    }

    /// Claims due jobs while this process runs fewer than `concurrency`.
    async fn claim_up_to_concurrency(self: &Arc<Self>, running: &mut Running) {
        while running.tasks.len() < self.ctx.settings.concurrency {
            let now = self.clock.now();
            match self.claim(now).await {
                Ok(Some(job)) => {
                    let j = self.clone();
                    let held = job.clone();
                    let handle = running.tasks.spawn(async move { j.run_claimed(job, now).await });
                    running.held.insert(handle.id(), held);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "no job could be claimed");
                    break;
                }
            }
        }
    }

    /// Lets the running jobs finish until `deadline`, then stops the rest and hands their jobs
    /// back (due again at once for another worker).
    async fn wind_down(&self, mut running: Running, deadline: tokio::time::Instant) {
        while !running.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, running.tasks.join_next_with_id()).await {
                Ok(Some(done)) => running.ended(done),
                Ok(None) => break,
                Err(_) => {
                    running.tasks.abort_all();
                    while let Some(done) = running.tasks.join_next_with_id().await {
                        running.ended(done);
                    }
                }
            }
        }
        let now = self.clock.now();
        for (_, job) in running.held.drain() {
            match self.queue.release_job(&job, now).await {
                Ok(_) => tracing::info!(kind = %job.row.kind, key = %job.row.key, "job stopped by the shutdown: handed back"),
                Err(e) => tracing::warn!(kind = %job.row.kind, error = %e, "a stopped job could not be handed back; its lease runs out"),
            }
        }
    }

    /// Stops claiming, lets running jobs finish until `deadline`, hands back the rest; returns
    /// when the worker has stopped (at once when it never started).
    pub async fn stop(&self, deadline: tokio::time::Instant) {
        let _ = self.stop.send(Some(deadline));
        let worker = self.worker_task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
    }
}

/// The jobs this process's worker runs now, and which claimed job each task holds.
#[derive(Default)]
struct Running {
    tasks: tokio::task::JoinSet<Result<RunReport, StoreError>>,
    held: std::collections::HashMap<tokio::task::Id, ClaimedJob>,
}

impl Running {
    /// A task ended: its job is no longer held unless it was stopped before it finished.
    fn ended(&mut self, done: Result<(tokio::task::Id, Result<RunReport, StoreError>), tokio::task::JoinError>) {
        match done {
            Ok((id, outcome)) => {
                self.held.remove(&id);
                if let Err(e) = outcome {
                    tracing::warn!(error = %e, "a job's outcome could not be recorded; its lease runs out");
                }
            }
            // Stopped by the shutdown: the job stays held, to be handed back.
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                self.held.remove(&e.id());
                tracing::error!(error = %e, "a job's task ended abnormally");
            }
        }
    }
}

impl<Q: JobQueue + Clone + 'static> Jobs<Q> {
    /// A runner over `queue` (kinds run with `ctx`); the built-in kinds are registered.
    pub fn over(queue: Q, ctx: JobContext, clock: SharedClock) -> Arc<Jobs<Q>> {
        let kinds = kinds::builtin().into_iter().map(|(k, j)| (k.to_string(), j)).collect();
        Arc::new(Jobs {
            queue,
            ctx,
            clock,
            wake: tokio::sync::Notify::new(),
            stop: tokio::sync::watch::Sender::new(None),
            worker_task: std::sync::Mutex::new(None),
            kinds: std::sync::RwLock::new(kinds),
        })
    }

    /// Adds a kind of job this process runs (a job of a kind no process knows fails its runs).
    pub fn add_kind(&self, kind: &str, handler: JobHandler) {
        self.kinds.write().unwrap_or_else(|e| e.into_inner()).insert(kind.to_string(), Arc::new(kind::Handler(handler)));
    }

    /// Queues a job of kind `J` with its payload, due at `at`, repeated `repeat` more times.
    async fn enqueue_typed<J: Job>(&self, payload: &J::Payload, at: DateTime<Utc>, repeat: i64) -> Result<(), StoreError> {
        self.queue.enqueue_job(J::KIND, &payload.to_key(), at, repeat).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// The periodic job of kind `J` for `payload`, every `period`.
    fn periodic<J: Job>(payload: &J::Payload, period: Duration) -> PeriodicJob {
        PeriodicJob { kind: J::KIND.into(), key: payload.to_key(), period_seconds: period.num_seconds().max(1) }
    }

    /// Queues a one-off job of `kind` and `key` due at `at`, and wakes this process's worker.
    pub async fn enqueue(&self, kind: &str, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.queue.enqueue_job(kind, key, at, 0).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Where this process's escalation messages go out.
    pub fn notifier(&self) -> &crate::campaigns::Notifier {
        &self.ctx.settings.notifier
    }

    /// This worker's name (host, process id, a random suffix).
    pub fn worker(&self) -> &str {
        &self.ctx.worker
    }

    /// Wakes this process's worker: a change made the policy evaluation due (the writer marked it
    /// in its transaction; other replicas see it at their next poll).
    pub fn evaluate_soon(&self) {
        self.wake.notify_one();
    }

    /// Reads one repository a push notification named: now, and once more a few seconds later.
    pub async fn refresh_repository(&self, registry: &str, repository: &str) -> Result<(), StoreError> {
        let r = RepositoryOf { registry: registry.to_string(), repository: repository.to_string() };
        self.enqueue_typed::<RegistryRefresh>(&r, self.clock.now(), 1).await
    }

    /// Claims the job due first at `now` (if any), runs it and records the outcome.
    pub async fn run_next(&self, now: DateTime<Utc>) -> Result<Option<RunReport>, StoreError> {
        let Some(job) = self.claim(now).await? else {
            return Ok(None);
        };
        self.run_claimed(job, now).await.map(Some)
    }

    /// Claims the job due first at `now`, if any.
    async fn claim(&self, now: DateTime<Utc>) -> Result<Option<ClaimedJob>, StoreError> {
        let claim = crate::domain::random_hex(16);
        self.queue.claim_job(&self.ctx.worker, &claim, now, now + self.ctx.settings.lease).await
    }

    /// Runs a claimed job and records its outcome (a panic is a failed run).
    async fn run_claimed(&self, job: ClaimedJob, now: DateTime<Utc>) -> Result<RunReport, StoreError> {
        use tracing::Instrument as _;
        let span = tracing::info_span!("job", kind = %job.row.kind, key = %job.row.key, due = %job.row.run_at);
        self.run_and_record(job, now).instrument(span).await
    }

    async fn run_and_record(&self, job: ClaimedJob, now: DateTime<Utc>) -> Result<RunReport, StoreError> {
        let started = std::time::Instant::now();
        let outcome = self.execute_with_lease(&job, now).await;
        crate::metrics::get().observe_job(&job.row.kind, outcome.is_ok(), started.elapsed().as_secs_f64());
        // A job's own time: its start for the next due time, the clock for when it ended.
        let next = next_due(&job, &outcome, now);
        let held =
            self.queue.finish_job(&job, outcome.as_ref().map(|_| ()).map_err(String::as_str), next, self.clock.now().max(now)).await?;
        match (&outcome, held) {
            (_, false) => tracing::warn!("the job's lease ran out while it ran: another worker took it over"),
            (Ok(what), _) => tracing::info!(result = %what, "job done"),
            (Err(e), _) => tracing::warn!(error = %e, "job failed"),
        }
        Ok(RunReport { kind: job.row.kind.clone(), key: job.row.key.clone(), due_at: job.row.run_at, outcome })
    }

    /// Runs a claimed job while a heartbeat keeps its lease.
    async fn execute_with_lease(&self, job: &ClaimedJob, now: DateTime<Utc>) -> Result<String, String> {
        let (queue, clock, lease) = (self.queue.clone(), self.clock.clone(), self.ctx.settings.lease);
        let (id, claim) = (job.row.id, job.claim.clone());
        let beat = (lease / 3).to_std().unwrap_or(std::time::Duration::from_secs(1)).max(std::time::Duration::from_millis(200));
        let _heartbeat = Heartbeat(tokio::spawn(async move {
            loop {
                tokio::time::sleep(beat).await;
                match queue.extend_job_lease(id, &claim, clock.now() + lease).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(error = %e, "the job's lease could not be extended"),
                }
            }
        }));
        use futures_util::FutureExt as _;
        let run = std::panic::AssertUnwindSafe(self.execute(&job.row.kind, &job.row.key, now)).catch_unwind().await;
        run.unwrap_or_else(|panic| Err(format!("panicked: {}", panic_message(&*panic))))
    }

    /// Runs the kind's job (a kind no process here knows fails the run, naming it).
    async fn execute(&self, kind: &str, key: &str, now: DateTime<Utc>) -> Result<String, String> {
        let job = self.kinds.read().unwrap_or_else(|e| e.into_inner()).get(kind).cloned();
        match job {
            Some(job) => job.run(&self.ctx, key, now).await,
            None => Err(format!("no such kind of job: {kind}")),
        }
    }
}

/// The stored keys of these payloads.
fn keys<P: JobPayload>(payloads: &[P]) -> Vec<String> {
    payloads.iter().map(JobPayload::to_key).collect()
}

/// When a run's job is due again (None: a finished one-off job is deleted). A periodic job's next
/// due time follows its schedule (the due time plus the period; from now when that is past); a
/// failure backs off with the failures in a row.
fn next_due(job: &ClaimedJob, outcome: &Result<String, String>, now: DateTime<Utc>) -> Option<(DateTime<Utc>, i64)> {
    let row = &job.row;
    match (row.period_seconds, outcome) {
        (Some(p), Ok(_)) => {
            let next = row.run_at + Duration::seconds(p);
            Some((if next > now { next } else { now + Duration::seconds(p) }, 0))
        }
        (Some(_), Err(_)) => Some((now + backoff(row.attempts), 0)),
        (None, Ok(_)) if row.repeat > 0 => Some((now + REPEAT_AFTER, row.repeat - 1)),
        (None, Ok(_)) => None,
        (None, Err(_)) if row.attempts + 1 < ONE_OFF_ATTEMPTS => Some((now + backoff(row.attempts), row.repeat)),
        (None, Err(_)) => None,
    }
}

#[cfg(test)]
mod runner_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::JobClaimRow;

    fn claimed(period: Option<i64>, repeat: i64, attempts: i64, due: DateTime<Utc>) -> ClaimedJob {
        let row = JobClaimRow { id: 1, kind: "k".into(), key: String::new(), run_at: due, period_seconds: period, repeat, attempts };
        ClaimedJob { row, run_id: 1, claim: "c".into() }
    }

    #[test]
    fn next_due_follows_the_schedule_and_backs_off() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let ok: Result<String, String> = Ok(String::new());
        let failed: Result<String, String> = Err("x".into());
        // On time: the next due time is on the schedule, whatever the run took.
        assert_eq!(next_due(&claimed(Some(900), 0, 0, t), &ok, t + Duration::seconds(40)), Some((t + Duration::seconds(900), 0)));
        // Late by more than a period (the estate was down): from now.
        assert_eq!(
            next_due(&claimed(Some(900), 0, 0, t), &ok, t + Duration::hours(2)),
            Some((t + Duration::hours(2) + Duration::seconds(900), 0))
        );
        // Failures: 5, 10, 20 minutes... at most six hours.
        assert_eq!(next_due(&claimed(Some(900), 0, 0, t), &failed, t), Some((t + Duration::minutes(5), 0)));
        assert_eq!(next_due(&claimed(Some(900), 0, 2, t), &failed, t), Some((t + Duration::minutes(20), 0)));
        assert_eq!(next_due(&claimed(Some(900), 0, 30, t), &failed, t), Some((t + Duration::hours(6), 0)));
        // One-off: repeated once, then deleted; dropped after three failures.
        assert_eq!(next_due(&claimed(None, 1, 0, t), &ok, t), Some((t + REPEAT_AFTER, 0)));
        assert_eq!(next_due(&claimed(None, 0, 0, t), &ok, t), None);
        assert_eq!(next_due(&claimed(None, 0, 1, t), &failed, t), Some((t + Duration::minutes(10), 0)));
        assert_eq!(next_due(&claimed(None, 0, 2, t), &failed, t), None);
    }
}
