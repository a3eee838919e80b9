//! `campaign.escalate`: campaigns brought up to date with the estate, their due ladder levels
//! decided once and their messages delivered. Failed deliveries are retried on their own
//! schedule (the delivery log shows them); a campaign that could not be refreshed is named.

use crate::jobs::kind::{Job, JobContext, JobError};
use app::types::EscalationReport;
use chrono::{DateTime, Utc};

pub struct CampaignEscalate;

pub struct Escalated(pub EscalationReport);

impl std::fmt::Display for Escalated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.0;
        write!(
            f,
            "{} joined, {} changed, {} escalations, {} messages, {} sent, {} failed attempts",
            r.joined, r.changed, r.escalations, r.messages, r.sent, r.failed
        )?;
        if !r.errors.is_empty() {
            write!(f, "; {} campaign(s) not refreshed: {}", r.errors.len(), r.errors.join("; "))?;
        }
        Ok(())
    }
}

impl Job for CampaignEscalate {
    const KIND: &'static str = "campaign.escalate";
    type Payload = ();
    type Outcome = Escalated;

    async fn run(&self, ctx: &JobContext, _: (), now: DateTime<Utc>) -> Result<Escalated, JobError> {
        Ok(Escalated(crate::campaigns::pass(&ctx.store, &ctx.settings.notifier, &ctx.worker, now).await?))
    }
}
