//! `registry.collect` / registry name: every repository of one registry, every collection period.

use crate::jobs::kind::{Job, JobContext, JobError};
use crate::registry::CollectSummary;
use crate::store::capabilities::*;
use chrono::{DateTime, Utc};

pub struct RegistryCollect;

/// What a collection read, or that the registry is gone.
pub enum Collected {
    Gone(String),
    Read(CollectSummary),
}

impl std::fmt::Display for Collected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Collected::Gone(name) => write!(f, "the registry {name} is no longer configured"),
            Collected::Read(s) => write!(f, "{} repositories, {} tags, {} new manifests", s.repositories, s.tags, s.new_manifests),
        }
    }
}

/// Collects `registry` (or only `repository` of it); a repository that could not be read fails
/// the run, naming it (the others were collected).
pub(super) async fn collect(ctx: &JobContext, registry: &str, repository: Option<&str>, now: DateTime<Utc>) -> Result<Collected, JobError> {
    let Some(reg) = ctx.store.registry_by_name(registry).await? else {
        return Ok(Collected::Gone(registry.to_string()));
    };
    let s = crate::registry::collect_registry(&ctx.store, &reg, &ctx.collect, repository, now)
        .await
        .map_err(|e| JobError::Failed(e.to_string()))?;
    if !s.errors.is_empty() {
        return Err(JobError::Failed(s.errors.join("; ")));
    }
    Ok(Collected::Read(s))
}

impl Job for RegistryCollect {
    const KIND: &'static str = "registry.collect";
    type Payload = crate::domain::RegistryName;
    type Outcome = Collected;

    async fn run(&self, ctx: &JobContext, registry: crate::domain::RegistryName, now: DateTime<Utc>) -> Result<Collected, JobError> {
        collect(ctx, &registry, None, now).await
    }
}
