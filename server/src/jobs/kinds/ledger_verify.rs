//! `ledger.verify`: the whole ledger recomputed and its checkpoints checked; a ledger that does
//! not verify fails the run, naming the first problem.

use crate::jobs::kind::{Job, JobContext, JobError};
use chrono::{DateTime, Utc};

pub struct LedgerVerify;

pub struct Verified {
    pub size: i64,
    pub checkpoints: usize,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} entries and {} checkpoints verified", self.size, self.checkpoints)
    }
}

impl Job for LedgerVerify {
    const KIND: &'static str = "ledger.verify";
    type Payload = ();
    type Outcome = Verified;

    async fn run(&self, ctx: &JobContext, _: (), now: DateTime<Utc>) -> Result<Verified, JobError> {
        let public = ctx.ledger_key.as_ref().ok().map(|k| k.public());
        let report = crate::ledger::verify_and_record(&ctx.store, public.as_ref(), now).await?;
        match report.error {
            Some(e) => Err(JobError::Failed(format!("the ledger does not verify: {e}"))),
            None => Ok(Verified { size: report.size, checkpoints: report.checkpoints_checked }),
        }
    }
}
