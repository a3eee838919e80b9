//! The store's rows for durable jobs (`backend/jobs.rs` holds their SQL).

use super::{backend_postgres, backend_sqlite, Result, Store};
use chrono::{DateTime, Utc};

/// A periodic job that should exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodicJob {
    pub kind: String,
    pub key: String,
    pub period_seconds: i64,
}

/// A job row as claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobClaimRow {
    pub id: i64,
    pub kind: String,
    pub key: String,
    /// The due time this run serves.
    pub run_at: DateTime<Utc>,
    pub period_seconds: Option<i64>,
    pub repeat: i64,
    /// Failures in a row before this run.
    pub attempts: i64,
}

/// A job this worker holds: the row, its run's id and the claim token.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub row: JobClaimRow,
    pub run_id: i64,
    pub claim: String,
}

/// A job and its state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub kind: String,
    pub key: String,
    pub run_at: DateTime<Utc>,
    pub period_seconds: Option<i64>,
    pub attempts: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_started: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    /// Why the last failure failed (kept after a later success, beside its time).
    pub last_error: Option<String>,
}

/// One run of a job.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct JobRunRow {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub worker: String,
    pub due_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: String,
    pub error: Option<String>,
}

store_capability! {
    /// Durable jobs: periodic rows, claims with leases, heartbeats, run history (`backend/jobs.rs`).
    pub trait JobQueue {
        /// Inserts the missing periodic jobs (due `now`) and updates changed periods.
        fn ensure_periodic_jobs(&self, jobs: &[PeriodicJob], now: DateTime<Utc>) -> Result<()>;
        /// Deletes the periodic jobs of `kind` whose key is not in `keep`.
        fn retire_periodic_jobs(&self, kind: &str, keep: &[String]) -> Result<u64>;
        /// Makes a job due at `run_at` (creating a one-off job when missing).
        fn enqueue_job(&self, kind: &str, key: &str, run_at: DateTime<Utc>, repeat: i64) -> Result<()>;
        /// Claims the first due job for `worker` with a lease until `until`.
        fn claim_job(&self, worker: &str, claim: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<Option<ClaimedJob>>;
        /// Extends a held lease; false when the claim was taken over.
        fn extend_job_lease(&self, id: i64, claim: &str, until: DateTime<Utc>) -> Result<bool>;
        /// Records a run's end and the job's next due time (None deletes a one-off job).
        fn finish_job(&self, job: &ClaimedJob, outcome: std::result::Result<(), &str>, next: Option<(DateTime<Utc>, i64)>, now: DateTime<Utc>) -> Result<bool>;
        /// Hands a claimed job back unfinished (shutdown): due again at once for any worker.
        fn release_job(&self, job: &ClaimedJob, now: DateTime<Utc>) -> Result<bool>;
        /// Jobs due at `now` that no live lease holds, and the earliest due time among them.
        fn job_backlog(&self, now: DateTime<Utc>) -> Result<(i64, Option<DateTime<Utc>>)>;
        /// Every job.
        fn jobs(&self) -> Result<Vec<JobRow>>;
        /// The most recent runs, newest first.
        fn job_runs(&self, limit: i64) -> Result<Vec<JobRunRow>>;
        /// Deletes finished runs that started before `before`.
        fn prune_job_runs(&self, before: DateTime<Utc>) -> Result<u64>;
    }
}
