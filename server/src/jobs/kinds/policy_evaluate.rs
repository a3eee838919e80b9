//! `policy.evaluate`: every subject judged by the policies (also due at once after a change).

use crate::jobs::kind::{Job, JobContext, JobError};
use chrono::{DateTime, Utc};

pub struct PolicyEvaluate;

pub struct Evaluated {
    pub results: usize,
    pub failing: usize,
}

impl std::fmt::Display for Evaluated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} results, {} failing", self.results, self.failing)
    }
}

impl Job for PolicyEvaluate {
    const KIND: &'static str = "policy.evaluate";
    type Payload = ();
    type Outcome = Evaluated;

    async fn run(&self, ctx: &JobContext, _: (), now: DateTime<Utc>) -> Result<Evaluated, JobError> {
        let (results, failing) = crate::policy::run(&ctx.store, &ctx.settings.promotion, now).await?;
        Ok(Evaluated { results, failing })
    }
}
