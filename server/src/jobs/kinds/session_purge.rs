//! `session.purge`: expired sessions and old job runs deleted.

use crate::jobs::kind::{Job, JobContext, JobError};
use crate::store::capabilities::*;
use chrono::{DateTime, Duration, Utc};

/// Job runs are kept this long.
const KEEP_RUNS: Duration = Duration::days(14);

pub struct SessionPurge;

pub struct Purged {
    pub sessions: u64,
    pub runs: u64,
}

impl std::fmt::Display for Purged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} expired sessions and {} old job runs deleted", self.sessions, self.runs)
    }
}

impl Job for SessionPurge {
    const KIND: &'static str = "session.purge";
    type Payload = ();
    type Outcome = Purged;

    async fn run(&self, ctx: &JobContext, _: (), now: DateTime<Utc>) -> Result<Purged, JobError> {
        let sessions = ctx.store.session_delete_expired(now.timestamp()).await?;
        let runs = ctx.store.prune_job_runs(now - KEEP_RUNS).await?;
        Ok(Purged { sessions, runs })
    }
}
