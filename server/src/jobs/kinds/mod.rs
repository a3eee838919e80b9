//! The kinds of job Drydock runs, one file each.

mod campaign_escalate;
mod cluster_collect;
mod database_statistics;
mod ledger_checkpoint;
mod ledger_verify;
mod policy_evaluate;
mod registry_collect;
mod registry_refresh;
mod risk_rank;
mod scorecard_snapshot;
mod session_purge;

pub use campaign_escalate::CampaignEscalate;
pub use cluster_collect::ClusterCollect;
pub use database_statistics::DatabaseStatistics;
pub use ledger_checkpoint::LedgerCheckpoint;
pub use ledger_verify::LedgerVerify;
pub use policy_evaluate::PolicyEvaluate;
pub use registry_collect::RegistryCollect;
pub use registry_refresh::RegistryRefresh;
pub use risk_rank::RiskRank;
pub use scorecard_snapshot::ScorecardSnapshot;
pub use session_purge::SessionPurge;

use super::kind::{Job, Runnable};
use std::sync::Arc;

/// Every built-in kind by its name, for the runner.
pub(super) fn builtin() -> Vec<(&'static str, Arc<dyn Runnable>)> {
    fn entry<J: Job>(j: J) -> (&'static str, Arc<dyn Runnable>) {
        (J::KIND, Arc::new(j))
    }
    vec![
        entry(RegistryCollect),
        entry(RegistryRefresh),
        entry(ClusterCollect),
        entry(PolicyEvaluate),
        entry(CampaignEscalate),
        entry(ScorecardSnapshot),
        entry(RiskRank),
        entry(LedgerVerify),
        entry(LedgerCheckpoint),
        entry(SessionPurge),
        entry(DatabaseStatistics),
    ]
}
