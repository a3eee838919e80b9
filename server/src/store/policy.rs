//! Policies, environments, the stored evaluation and snapshots (`backend/policy.rs`).

use super::*;
use crate::domain::snapshot::PolicyInForce;
use chrono::{DateTime, NaiveDate, Utc};

store_capability! {
    /// Policies, environment rules, evaluation inputs and results, scorecard snapshots (`backend/policy.rs`).
    pub trait PolicyStore {
        fn policies(&self) -> Result<Vec<PolicyRecord>>;
        /// Saves policies (id, enabled, scope, params), audited; the evaluation becomes due.
        fn save_policies(&self, list: &[(String, bool, String, serde_json::Value)], actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        fn environment_rules(&self) -> Result<Vec<EnvironmentRule>>;
        fn add_environment_rule(&self, r: &EnvironmentRule, actor: &Actor, now: DateTime<Utc>) -> Result<EnvironmentRule>;
        /// What a policy evaluation reads besides the images' findings and packages.
        fn evaluation_inputs(&self) -> Result<EvaluationInputs>;
        /// Open findings that may be overdue (with `overdue`) and the wanted packages of some images.
        fn evaluation_facts(&self, ids: &[i64], overdue: Option<&OverdueCutoffs>, packages: &PackagesWanted) -> Result<ImageFacts>;
        /// Stores an evaluation made at `now` (only the results that changed are written; a failing
        /// result without its start keeps the stored one, else starts now); answers (written, deleted).
        fn replace_policy_results(&self, results: &[PolicyResultRecord], scores: &[PolicyScoreRecord], now: DateTime<Utc>) -> Result<(u64, u64)>;
        fn policy_scores(&self) -> Result<Vec<PolicyScoreRecord>>;
        /// A team's failing results (`policy`: of that policy only), the longest failing first.
        fn failing_results(&self, team: &str, policy: Option<&str>, limit: i64, offset: i64) -> Result<Vec<PolicyResultRecord>>;
        /// One policy's results (`failing`: only those failing; `teams`: theirs and no team's), failing first.
        fn policy_results_page(&self, policy: &str, failing: bool, teams: Option<&[String]>, limit: i64, offset: i64) -> Result<app::types::Page<PolicyResultRecord>>;
        fn take_snapshot(&self, day: NaiveDate, policies: &[PolicyInForce], actor: &Actor, now: DateTime<Utc>) -> Result<u64>;
        /// The content recorded for `day`'s snapshot: (its SHA-256, the canonical JSON).
        fn scorecard_document(&self, day: NaiveDate) -> Result<Option<(String, String)>>;
        fn snapshots(&self, team: Option<&str>, since: NaiveDate) -> Result<Vec<SnapshotRecord>>;
        /// The snapshots of `teams` from `since` on, oldest first.
        fn snapshots_of_teams(&self, teams: &[String], since: NaiveDate) -> Result<Vec<SnapshotRecord>>;
        /// Every team's snapshots of the given days.
        fn snapshots_of_days(&self, days: &[NaiveDate]) -> Result<Vec<SnapshotRecord>>;
        /// The estate's snapshots from `since` on: per day and policy, every team's counts summed (team '').
        fn estate_snapshots(&self, since: NaiveDate) -> Result<Vec<SnapshotRecord>>;
        /// The demo estate's reconstructed 30 days of history (see `demo.rs`).
        fn backfill_demo_snapshots(&self, today: NaiveDate, days: i64) -> Result<()>;
        /// Whether a team of this name exists.
        fn team_exists(&self, name: &str) -> Result<bool>;
    }
}
