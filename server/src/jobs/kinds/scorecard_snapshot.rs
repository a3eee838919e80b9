//! `scorecard.snapshot`: the day's scores recorded for the trends, their content hashed into the
//! ledger for evidence.

use crate::jobs::kind::{Job, JobContext, JobError};
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
        let scores = crate::policy::record_snapshot(&ctx.store, day, &crate::store::Actor(format!("system:{}", Self::KIND)), now).await?;
        Ok(Recorded { scores, day })
    }
}
