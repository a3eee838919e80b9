//! `registry.refresh` / `registry/repository`: one repository a push notification named, now and
//! once more a few seconds later (the push event can outrun the tag).

use super::registry_collect::{collect, Collected};
use crate::jobs::kind::{Job, JobContext, JobError, RepositoryOf};
use chrono::{DateTime, Utc};

pub struct RegistryRefresh;

impl Job for RegistryRefresh {
    const KIND: &'static str = "registry.refresh";
    type Payload = RepositoryOf;
    type Outcome = Collected;

    async fn run(&self, ctx: &JobContext, r: RepositoryOf, now: DateTime<Utc>) -> Result<Collected, JobError> {
        collect(ctx, &r.registry, Some(&r.repository), now).await
    }
}
