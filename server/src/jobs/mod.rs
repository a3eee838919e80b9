//! Durable jobs: every piece of background work is a row of the `jobs` table, claimed by one
//! worker at a time with a lease (any number of `drydock serve` replicas on one PostgreSQL run
//! each due job once), retried after the lease when its worker dies, backed off when it fails,
//! and recorded run by run in `job_runs` (`drydock jobs`, the admin jobs page).
//!
//! Kinds (a job is a kind and a key):
//! - `registry.collect` / registry name: every repository of one registry, every collection period;
//! - `registry.refresh` / `registry/repository`: one repository a push notification named, now and
//!   once more a few seconds later (the push event can outrun the tag);
//! - `cluster.collect` / cluster name: pods and nodes of a cluster with an API server;
//! - `ledger.verify`: the whole ledger recomputed and its checkpoints checked;
//! - `ledger.checkpoint`: a signed checkpoint of the ledger's head, handed to the witness;
//! - `session.purge`: expired sessions and old job runs deleted;
//! - `policy.evaluate`: every subject judged by the policies (also due at once after a change);
//! - `scorecard.snapshot`: the day's scores recorded for the trends;
//! - `campaign.escalate`: campaigns brought up to date with the estate, their due ladder levels
//!   decided once and their messages delivered.
//!
//! `run_pending(now)` runs everything due at `now` in the calling task: tests move a clock
//! instead of sleeping. The background worker (`start`) runs up to `jobs_concurrency` jobs at
//! once, so one registry or cluster that never answers holds one slot, not the evaluation, the
//! escalation or the checkpoints. A job that fails, even by panicking, is one failed run: its
//! lease is released, its next run follows the backoff, and the worker goes on.

pub mod settings;

use crate::clock::SharedClock;
use crate::store::{ClaimedJob, PeriodicJob, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
pub use settings::JobSettings;
use std::sync::Arc;

pub const REGISTRY_COLLECT: &str = "registry.collect";
pub const REGISTRY_REFRESH: &str = "registry.refresh";
pub const CLUSTER_COLLECT: &str = "cluster.collect";
pub const LEDGER_VERIFY: &str = "ledger.verify";
pub const LEDGER_CHECKPOINT: &str = "ledger.checkpoint";
pub const SESSION_PURGE: &str = "session.purge";
pub const POLICY_EVALUATE: &str = "policy.evaluate";
pub const SCORECARD_SNAPSHOT: &str = "scorecard.snapshot";
pub const CAMPAIGN_ESCALATE: &str = "campaign.escalate";

/// A one-off job that fails this many times in a row is dropped (the periodic job covers it).
const ONE_OFF_ATTEMPTS: i64 = 3;
/// The pause before a repeated one-off run (a notified push read again).
const REPEAT_AFTER: Duration = Duration::seconds(3);
/// Job runs are kept this long.
const KEEP_RUNS: Duration = Duration::days(14);

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

/// A kind of job an embedder adds (`Jobs::add_kind`): given the key and the time, its outcome.
pub type JobHandler = Arc<dyn Fn(String, DateTime<Utc>) -> futures_util::future::BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// What a panic's payload says (`panic!` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Aborts the lease's heartbeat when the run ends, however it ends.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The job runner of one process.
pub struct Jobs {
    store: Store,
    settings: JobSettings,
    collect: crate::registry::CollectSettings,
    ledger_key: Result<Arc<crate::ledger::LedgerKey>, String>,
    clock: SharedClock,
    worker: String,
    wake: tokio::sync::Notify,
    added: std::sync::RwLock<std::collections::HashMap<String, JobHandler>>,
}

impl Jobs {
    pub fn new(
        store: Store,
        settings: JobSettings,
        collect: crate::registry::CollectSettings,
        ledger_key: Result<Arc<crate::ledger::LedgerKey>, String>,
        clock: SharedClock,
    ) -> Arc<Jobs> {
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into());
        let worker = format!("{host}:{}:{}", std::process::id(), crate::domain::random_hex(4));
        let (wake, added) = (tokio::sync::Notify::new(), Default::default());
        Arc::new(Jobs { store, settings, collect, ledger_key, clock, worker, wake, added })
    }

    /// Adds a kind of job this process runs (a job of a kind no process knows fails its runs).
    pub fn add_kind(&self, kind: &str, handler: JobHandler) {
        self.added.write().unwrap_or_else(|e| e.into_inner()).insert(kind.to_string(), handler);
    }

    /// Queues a one-off job of `kind` and `key` due at `at`, and wakes this process's worker.
    pub async fn enqueue(&self, kind: &str, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.store.enqueue_job(kind, key, at, 0).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// This worker's name (host, process id, a random suffix).
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Collects `registry` as soon as a worker is free (a new registry, or an admin's request).
    pub async fn collect_registry_soon(&self, registry: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        let job =
            PeriodicJob { kind: REGISTRY_COLLECT.into(), key: registry.into(), period_seconds: self.settings.collect_every.num_seconds() };
        self.store.ensure_periodic_jobs(&[job], now).await?;
        self.store.enqueue_job(REGISTRY_COLLECT, registry, now, 0).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Wakes this process's worker: a change made the policy evaluation due (the writer marked it
    /// in its transaction; other replicas see it at their next poll).
    pub fn evaluate_soon(&self) {
        self.wake.notify_one();
    }

    /// Reads one repository a push notification named: now, and once more a few seconds later.
    pub async fn refresh_repository(&self, registry: &str, repository: &str) -> Result<(), StoreError> {
        self.store.enqueue_job(REGISTRY_REFRESH, &format!("{registry}/{repository}"), self.clock.now(), 1).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Collects `cluster` (one with an API server) as soon as a worker is free.
    pub async fn collect_cluster_soon(&self, cluster: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        let job =
            PeriodicJob { kind: CLUSTER_COLLECT.into(), key: cluster.into(), period_seconds: self.settings.collect_every.num_seconds() };
        self.store.ensure_periodic_jobs(&[job], now).await?;
        self.store.enqueue_job(CLUSTER_COLLECT, cluster, now, 0).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Makes the table hold every periodic job the configuration asks for: one collection per
    /// registry and per cluster with an API server, the ledger's verification and checkpoint,
    /// the purge. Jobs of registries or clusters that are gone are deleted.
    pub async fn sync(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let s = &self.settings;
        let registries: Vec<String> = self.store.registries().await?.into_iter().map(|r| r.name).collect();
        let clusters: Vec<String> = self.store.collectable_clusters().await?.into_iter().map(|c| c.name).collect();
        let mut wanted = Vec::with_capacity(registries.len() + clusters.len() + 5);
        let every = |d: Duration| d.num_seconds().max(1);
        wanted.extend(registries.iter().map(|r| PeriodicJob {
            kind: REGISTRY_COLLECT.into(),
            key: r.clone(),
            period_seconds: every(s.collect_every),
        }));
        wanted.extend(clusters.iter().map(|c| PeriodicJob {
            kind: CLUSTER_COLLECT.into(),
            key: c.clone(),
            period_seconds: every(s.collect_every),
        }));
        for (kind, period) in [
            (LEDGER_VERIFY, s.ledger_verify_every),
            (LEDGER_CHECKPOINT, s.checkpoint_every),
            (SESSION_PURGE, s.purge_every),
            (POLICY_EVALUATE, s.evaluate_every),
            (SCORECARD_SNAPSHOT, s.snapshot_every),
            (CAMPAIGN_ESCALATE, s.escalate_every),
        ] {
            wanted.push(PeriodicJob { kind: kind.into(), key: String::new(), period_seconds: every(period) });
        }
        self.store.ensure_periodic_jobs(&wanted, now).await?;
        self.store.retire_periodic_jobs(REGISTRY_COLLECT, &registries).await?;
        self.store.retire_periodic_jobs(CLUSTER_COLLECT, &clusters).await?;
        Ok(())
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
        self.store.claim_job(&self.worker, &claim, now, now + self.settings.lease).await
    }

    /// Runs a claimed job and records its outcome (a panic is a failed run).
    async fn run_claimed(&self, job: ClaimedJob, now: DateTime<Utc>) -> Result<RunReport, StoreError> {
        use tracing::Instrument as _;
        let span = tracing::info_span!("job", kind = %job.row.kind, key = %job.row.key, due = %job.row.run_at);
        self.run_and_record(job, now).instrument(span).await
    }

    async fn run_and_record(&self, job: ClaimedJob, now: DateTime<Utc>) -> Result<RunReport, StoreError> {
        let outcome = self.execute_with_lease(&job, now).await;
        // A job's own time: its start for the next due time, the clock for when it ended.
        let next = next_due(&job, &outcome, now);
        let held =
            self.store.finish_job(&job, outcome.as_ref().map(|_| ()).map_err(String::as_str), next, self.clock.now().max(now)).await?;
        match (&outcome, held) {
            (_, false) => tracing::warn!("the job's lease ran out while it ran: another worker took it over"),
            (Ok(what), _) => tracing::info!(result = %what, "job done"),
            (Err(e), _) => tracing::warn!(error = %e, "job failed"),
        }
        Ok(RunReport { kind: job.row.kind.clone(), key: job.row.key.clone(), due_at: job.row.run_at, outcome })
    }

    /// Runs a claimed job while a heartbeat keeps its lease.
    async fn execute_with_lease(&self, job: &ClaimedJob, now: DateTime<Utc>) -> Result<String, String> {
        let (store, clock, lease, id, claim) = (self.store.clone(), self.clock.clone(), self.settings.lease, job.row.id, job.claim.clone());
        let beat = (lease / 3).to_std().unwrap_or(std::time::Duration::from_secs(1)).max(std::time::Duration::from_millis(200));
        let _heartbeat = Heartbeat(tokio::spawn(async move {
            loop {
                tokio::time::sleep(beat).await;
                match store.extend_job_lease(id, &claim, clock.now() + lease).await {
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

    /// What each kind does.
    async fn execute(&self, kind: &str, key: &str, now: DateTime<Utc>) -> Result<String, String> {
        let db = |e: StoreError| e.to_string();
        match kind {
            REGISTRY_COLLECT | REGISTRY_REFRESH => {
                let (name, repository) = match kind {
                    REGISTRY_REFRESH => {
                        key.split_once('/').map(|(n, r)| (n, Some(r))).ok_or_else(|| format!("{key:?} names no repository"))?
                    }
                    _ => (key, None),
                };
                let Some(reg) = self.store.registry_by_name(name).await.map_err(db)? else {
                    return Ok(format!("the registry {name} is no longer configured"));
                };
                let s = crate::registry::collect_registry(&self.store, &reg, &self.collect, repository, now)
                    .await
                    .map_err(|e| e.to_string())?;
                if !s.errors.is_empty() {
                    return Err(s.errors.join("; "));
                }
                Ok(format!("{} repositories, {} tags, {} new manifests", s.repositories, s.tags, s.new_manifests))
            }
            CLUSTER_COLLECT => {
                let clusters = self.store.collectable_clusters().await.map_err(db)?;
                let Some(c) = clusters.into_iter().find(|c| c.name == key) else {
                    return Ok(format!("the cluster {key} is no longer collected"));
                };
                let (pods, containers, ended, nodes) = crate::collect::cluster::collect_and_record(&self.store, &c, now).await?;
                Ok(format!("{pods} pods, {containers} containers ({ended} ended), {nodes} nodes"))
            }
            POLICY_EVALUATE => {
                let (results, failing) = crate::policy::run(&self.store, &self.settings.promotion, now).await.map_err(db)?;
                Ok(format!("{results} results, {failing} failing"))
            }
            CAMPAIGN_ESCALATE => {
                let r = crate::campaigns::pass(&self.store, &self.settings.notifier, &self.worker, now).await.map_err(db)?;
                let mut what = format!(
                    "{} joined, {} changed, {} escalations, {} messages, {} sent, {} failed attempts",
                    r.joined, r.changed, r.escalations, r.messages, r.sent, r.failed
                );
                if !r.errors.is_empty() {
                    what.push_str(&format!("; {} campaign(s) not refreshed: {}", r.errors.len(), r.errors.join("; ")));
                }
                // Failed deliveries are retried on their own schedule (the delivery log shows them).
                Ok(what)
            }
            SCORECARD_SNAPSHOT => {
                let n = self.store.take_snapshot(now.date_naive()).await.map_err(db)?;
                Ok(format!("{n} scores recorded for {}", now.date_naive()))
            }
            LEDGER_VERIFY => {
                let public = self.ledger_key.as_ref().ok().map(|k| k.public());
                let report = crate::ledger::verify_and_record(&self.store, public.as_ref(), now).await.map_err(db)?;
                match report.error {
                    Some(e) => Err(format!("the ledger does not verify: {e}")),
                    None => Ok(format!("{} entries and {} checkpoints verified", report.size, report.checkpoints_checked)),
                }
            }
            LEDGER_CHECKPOINT => {
                let key = self.ledger_key.as_ref().map_err(|e| format!("the ledger cannot sign checkpoints: {e}"))?;
                let (size, note, new) = crate::ledger::current_checkpoint(&self.store, key, now).await.map_err(db)?;
                if !new {
                    return Ok(format!("the checkpoint of {size} entries was signed before"));
                }
                if let Some(w) = &self.settings.witness {
                    let w = w.clone();
                    if !crate::ledger::push_with_retries(&w, &note, 3, crate::ledger::WITNESS_TIMEOUT).await {
                        return Err(format!("the checkpoint of {size} entries was signed but the witness did not take it"));
                    }
                }
                Ok(format!("checkpoint of {size} entries signed"))
            }
            SESSION_PURGE => {
                let sessions = self.store.session_delete_expired(now.timestamp()).await.map_err(db)?;
                let runs = self.store.prune_job_runs(now - KEEP_RUNS).await.map_err(db)?;
                Ok(format!("{sessions} expired sessions and {runs} old job runs deleted"))
            }
            other => {
                let added = self.added.read().unwrap_or_else(|e| e.into_inner()).get(other).cloned();
                match added {
                    Some(handler) => handler(key.to_string(), now).await,
                    None => Err(format!("no such kind of job: {other}")),
                }
            }
        }
    }

    /// Runs jobs in the background until the process ends: up to `concurrency` at once, each
    /// in its own task; then waits for the poll interval, a job this process enqueued, or a
    /// running job's end. The periodic jobs are synced first and every half minute.
    pub fn start(self: &Arc<Self>) {
        let jobs = self.clone();
        tokio::spawn(async move {
            let mut synced: Option<std::time::Instant> = None;
            let mut running = tokio::task::JoinSet::new();
            loop {
                if synced.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(30)) {
                    match jobs.sync(jobs.clock.now()).await {
                        Ok(()) => synced = Some(std::time::Instant::now()),
                        Err(e) => tracing::warn!(error = %e, "the periodic jobs could not be scheduled"),
                    }
                }
                while running.len() < jobs.settings.concurrency {
                    let now = jobs.clock.now();
                    match jobs.claim(now).await {
                        Ok(Some(job)) => {
                            let j = jobs.clone();
                            running.spawn(async move { j.run_claimed(job, now).await });
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "no job could be claimed");
                            break;
                        }
                    }
                }
                tokio::select! {
                    Some(done) = running.join_next(), if !running.is_empty() => match done {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "a job's outcome could not be recorded; its lease runs out"),
                        Err(e) => tracing::error!(error = %e, "a job's task ended abnormally"),
                    },
                    _ = tokio::time::sleep(jobs.settings.poll) => {}
                    _ = jobs.wake.notified() => {}
                }
            }
        });
    }
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
