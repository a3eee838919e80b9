//! The job runner's settings, read from the configuration.

use chrono::Duration;

/// Periods, the lease and the poll interval.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Each registry and each cluster with an API server is collected this often.
    pub collect_every: Duration,
    pub ledger_verify_every: Duration,
    pub checkpoint_every: Duration,
    pub purge_every: Duration,
    /// The database's planner statistics are looked at (and gathered where stale) this often.
    pub statistics_every: Duration,
    /// A claimed job is this worker's for this long; a heartbeat extends it while the job runs,
    /// so only a dead worker's job is taken over.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (jobs this process enqueues wake it at once).
    pub poll: std::time::Duration,
    /// Where new checkpoints are handed.
    pub witness: Option<String>,
    /// Every subject is judged again this often (and as soon as a change marks it due).
    pub evaluate_every: Duration,
    /// The day's scorecard snapshot is taken (again) this often.
    pub snapshot_every: Duration,
    /// The risk ranking is made again this often when the data changed.
    pub rank_every: Duration,
    /// How promotion is decided (the promoted-before-production policy).
    pub promotion: crate::registry::Promotion,
    /// Campaigns are refreshed and their ladders escalated this often.
    pub escalate_every: Duration,
    /// Where escalation messages go out.
    pub notifier: crate::campaigns::Notifier,
    /// How many jobs this process runs at once (one slow collector cannot hold the others).
    pub concurrency: usize,
}

impl JobSettings {
    pub fn from_config(c: &crate::config::Config) -> anyhow::Result<JobSettings> {
        let minutes = |m: u64| Duration::minutes(m.max(1) as i64);
        Ok(JobSettings {
            collect_every: match c.collect_interval_seconds {
                Some(s) => Duration::seconds(s.max(1) as i64),
                None => minutes(c.collect_interval_minutes),
            },
            ledger_verify_every: minutes(c.ledger_verify_minutes),
            checkpoint_every: minutes(c.ledger_checkpoint_minutes),
            purge_every: Duration::minutes(5),
            statistics_every: Duration::minutes(5),
            lease: Duration::seconds(c.job_lease_seconds.max(1) as i64),
            poll: std::time::Duration::from_millis((c.job_poll_seconds * 1000.0).clamp(100.0, 3_600_000.0) as u64),
            witness: c.ledger_witness.clone(),
            evaluate_every: minutes(c.policy_evaluate_minutes),
            snapshot_every: Duration::hours(1),
            rank_every: Duration::minutes(1),
            promotion: c.promotion()?,
            escalate_every: minutes(c.escalate_minutes),
            notifier: crate::campaigns::Notifier::from_config(c)?,
            concurrency: c.jobs_concurrency.clamp(1, 64),
        })
    }
}
