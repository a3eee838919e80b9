//! `scorecard.snapshot`: the day's scores recorded for the trends.

use crate::jobs::kind::{Job, JobContext, JobError};
use crate::store::capabilities::*;
use chrono::{DateTime, NaiveDate, Utc};

pub struct ScorecardSnapshot;

pub struct Recorded {
    pub scores: u64,
    pub day: NaiveDate,
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} scores recorded for {}", self.scores, self.day)
    }
}

impl Job for ScorecardSnapshot {
    const KIND: &'static str = "scorecard.snapshot";
    type Payload = ();
    type Outcome = Recorded;

    async fn run(&self, ctx: &JobContext, _: (), now: DateTime<Utc>) -> Result<Recorded, JobError> {
        let day = now.date_naive();
        Ok(Recorded { scores: ctx.store.take_snapshot(day).await?, day })
    }
}
