//! `ledger.checkpoint`: a signed checkpoint of the ledger's head, handed to the witness.

use crate::jobs::kind::{Job, JobContext, JobError};
use chrono::{DateTime, Utc};

pub struct LedgerCheckpoint;

pub enum Checkpointed {
    Kept(i64),
    Signed(i64),
}

impl std::fmt::Display for Checkpointed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Checkpointed::Kept(size) => write!(f, "the checkpoint of {size} entries was signed before"),
            Checkpointed::Signed(size) => write!(f, "checkpoint of {size} entries signed"),
        }
    }
}

impl Job for LedgerCheckpoint {
    const KIND: &'static str = "ledger.checkpoint";
    type Payload = ();
    type Outcome = Checkpointed;

    async fn run(&self, ctx: &JobContext, _: (), now: DateTime<Utc>) -> Result<Checkpointed, JobError> {
        let key = ctx.ledger_key.as_ref().map_err(|e| JobError::Failed(format!("the ledger cannot sign checkpoints: {e}")))?;
        let (size, note, new) = crate::ledger::current_checkpoint(&ctx.store, key, now).await?;
        if !new {
            return Ok(Checkpointed::Kept(size));
        }
        if let Some(w) = &ctx.settings.witness {
            if !crate::ledger::push_with_retries(w, &note, 3, crate::ledger::WITNESS_TIMEOUT).await {
                return Err(JobError::Failed(format!("the checkpoint of {size} entries was signed but the witness did not take it")));
            }
        }
        Ok(Checkpointed::Signed(size))
    }
}
