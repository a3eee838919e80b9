//! What a kind of job is: a name, a typed payload (the stored key, parsed once when a run is
//! claimed), and what a run does with the context, answering a typed outcome. The runner keeps
//! the rest (claims, leases, heartbeats, the run history) and knows kinds only by this trait.

use super::settings::JobSettings;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;

/// What every run may use: the store (each kind calls the capabilities its engine takes), the
/// settings, the ledger's key and this worker's name.
pub struct JobContext {
    pub store: Store,
    pub settings: JobSettings,
    pub collect: crate::registry::CollectSettings,
    pub ledger_key: Result<Arc<crate::ledger::LedgerKey>, String>,
    pub worker: String,
}

/// Why a run failed (recorded as the run's error, the job backed off).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Failed(String),
}

/// A job's payload as its stored key (`jobs.key`): written by `to_key`, parsed once by
/// `from_key` when the run is claimed. A key that does not parse fails the run, naming it.
pub trait JobPayload: Sized + Send + 'static {
    fn to_key(&self) -> String;
    fn from_key(key: &str) -> Result<Self, String>;
}

/// The estate-wide jobs: no payload, the empty key.
impl JobPayload for () {
    fn to_key(&self) -> String {
        String::new()
    }
    fn from_key(key: &str) -> Result<(), String> {
        if key.is_empty() {
            Ok(())
        } else {
            Err(format!("this kind of job takes no key, got {key:?}"))
        }
    }
}

/// A cluster by its name, parsed once from the key.
impl JobPayload for crate::domain::ClusterName {
    fn to_key(&self) -> String {
        self.as_str().to_string()
    }
    fn from_key(key: &str) -> Result<Self, String> {
        Self::parse(key)
    }
}

/// A registry by its name, parsed once from the key.
impl JobPayload for crate::domain::RegistryName {
    fn to_key(&self) -> String {
        self.as_str().to_string()
    }
    fn from_key(key: &str) -> Result<Self, String> {
        Self::parse(key)
    }
}

/// One repository of one registry (`registry/repository`), as a push notification names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryOf {
    pub registry: String,
    pub repository: String,
}

impl JobPayload for RepositoryOf {
    fn to_key(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
    fn from_key(key: &str) -> Result<RepositoryOf, String> {
        match key.split_once('/') {
            Some((r, repo)) if !r.is_empty() && !repo.is_empty() => {
                Ok(RepositoryOf { registry: r.to_string(), repository: repo.to_string() })
            }
            _ => Err(format!("{key:?} names no repository")),
        }
    }
}

/// A kind of job (one file each in `kinds/`).
pub trait Job: Send + Sync + 'static {
    /// The kind's name in the `jobs` table.
    const KIND: &'static str;
    type Payload: JobPayload;
    /// What a run did, as the run history shows it.
    type Outcome: std::fmt::Display + Send;
    fn run(
        &self,
        ctx: &JobContext,
        payload: Self::Payload,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Self::Outcome, JobError>> + Send;
}

/// A kind as the runner holds it: the key in, the recorded outcome out.
pub(super) trait Runnable: Send + Sync {
    fn run<'a>(&'a self, ctx: &'a JobContext, key: &'a str, now: DateTime<Utc>) -> BoxFuture<'a, Result<String, String>>;
}

impl<J: Job> Runnable for J {
    fn run<'a>(&'a self, ctx: &'a JobContext, key: &'a str, now: DateTime<Utc>) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let payload = J::Payload::from_key(key)?;
            Job::run(self, ctx, payload, now).await.map(|o| o.to_string()).map_err(|e| e.to_string())
        })
    }
}

/// A kind an embedder adds (`Jobs::add_kind`): given the key and the time, its outcome.
pub type JobHandler = Arc<dyn Fn(String, DateTime<Utc>) -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

pub(super) struct Handler(pub JobHandler);

impl Runnable for Handler {
    fn run<'a>(&'a self, _: &'a JobContext, key: &'a str, now: DateTime<Utc>) -> BoxFuture<'a, Result<String, String>> {
        (self.0)(key.to_string(), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_through_their_keys() {
        let r = RepositoryOf { registry: "local".into(), repository: "acme/app".into() };
        assert_eq!(r.to_key(), "local/acme/app");
        assert_eq!(RepositoryOf::from_key("local/acme/app").unwrap(), r);
        assert!(RepositoryOf::from_key("local").unwrap_err().contains("names no repository"));
        assert!(RepositoryOf::from_key("/x").is_err());
        assert_eq!(<()>::from_key(""), Ok(()));
        assert!(<()>::from_key("x").is_err());
        assert!(crate::domain::ClusterName::from_key("").is_err());
        assert!(crate::domain::ClusterName::from_key("Prod!").is_err());
        assert_eq!(crate::domain::RegistryName::from_key("local").unwrap().to_key(), "local");
    }
}
