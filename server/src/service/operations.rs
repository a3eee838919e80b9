//! What an operator watches: readiness and the metrics read from the database when scraped.
//! Open to anyone who can reach the endpoints (no estate data is in them): the HTTP layer decides
//! whether `/metrics` needs its token.

use super::{require, Result, Service};
use crate::auth::{Action, Principal};
use crate::store::capabilities::*;

/// Why this process is not ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// The database does not answer.
    Database,
    /// The database answers but lacks migrations this build needs.
    Schema,
}

impl Service {
    /// Ready when the database answers and holds every migration this build knows.
    pub async fn readiness(&self) -> std::result::Result<(), NotReady> {
        match self.store.schema_is_current().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(NotReady::Schema),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: the database does not answer");
                Err(NotReady::Database)
            }
        }
    }

    /// Brings the gauges read from the database up to date (called per scrape): jobs due and the
    /// longest wait, the ledger's size and last verification, the pool. A database that does not
    /// answer leaves the last values and is the error.
    pub async fn observe_metrics(&self) -> Result<()> {
        let m = crate::metrics::get();
        let pool = self.store.pool_state();
        m.db_pool_connections.with_label_values(&["idle"]).set(pool.idle);
        m.db_pool_connections.with_label_values(&["used"]).set(pool.used);
        m.db_pool_connections.with_label_values(&["waiting"]).set(pool.waiting);
        let now = self.clock.now();
        let (due, oldest) = self.store.job_backlog(now).await?;
        m.jobs_due.set(due);
        m.job_oldest_due_seconds.set(oldest.map(|t| (now - t).num_seconds().max(0)).unwrap_or(0));
        m.ledger_entries.set(self.store.ledger_size().await?);
        let verified = self.store.last_verification().await?;
        m.ledger_last_verify_ok.set(i64::from(verified.is_some_and(|v| v.problem.is_none())));
        Ok(())
    }
}

impl Service {
    /// A consistent copy of the SQLite database at `path` while others write (admins only):
    /// answers the copy's size in bytes and the ledger entries it holds.
    pub async fn backup_into(&self, who: Option<&Principal>, path: &std::path::Path) -> Result<(u64, i64)> {
        require(who, Action::ManageEstateConfig, None)?;
        let entries = self.store.backup_into(path).await?;
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Ok((size, entries))
    }
}
