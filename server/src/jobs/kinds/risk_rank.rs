//! `risk.rank`: the "fix these first" ranking made again when the data changed since the last.

use crate::jobs::kind::{Job, JobContext, JobError};
use chrono::{DateTime, Utc};

pub struct RiskRank;

pub struct Ranked(Option<usize>);

impl std::fmt::Display for Ranked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n} ranked vulnerabilities stored"),
            None => f.write_str("nothing changed since the last ranking"),
        }
    }
}

impl Job for RiskRank {
    const KIND: &'static str = "risk.rank";
    type Payload = ();
    type Outcome = Ranked;

    async fn run(&self, ctx: &JobContext, _: (), now: DateTime<Utc>) -> Result<Ranked, JobError> {
        Ok(Ranked(crate::risk::rank(&ctx.store, now).await?))
    }
}
