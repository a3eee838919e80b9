//! `database.statistics` (every 5 minutes): the planner's statistics gathered again for the
//! tables that changed enough since (PostgreSQL: autovacuum's default threshold; SQLite: what
//! `PRAGMA optimize` picks). Reads such as the admission webhook's are planned on them: on a
//! PostgreSQL whose autovacuum is off or behind, a never-analysed table is planned as if it were
//! tiny.

use crate::jobs::kind::{Job, JobContext, JobError};
use crate::store::capabilities::*;
use chrono::{DateTime, Utc};

pub struct DatabaseStatistics;

/// The tables analysed.
pub struct Analysed(Vec<String>);

impl std::fmt::Display for Analysed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("every table's statistics were current"),
            tables => write!(f, "statistics gathered for {} tables: {}", tables.len(), tables.join(", ")),
        }
    }
}

impl Job for DatabaseStatistics {
    const KIND: &'static str = "database.statistics";
    type Payload = ();
    type Outcome = Analysed;

    async fn run(&self, ctx: &JobContext, _: (), _: DateTime<Utc>) -> Result<Analysed, JobError> {
        Ok(Analysed(ctx.store.refresh_statistics().await?))
    }
}
