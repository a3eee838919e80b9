//! Policies, environments, the stored evaluation and snapshots (`backend/policy.rs`).

use super::*;
use chrono::{DateTime, NaiveDate, Utc};

impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn policies(&self) -> Result<Vec<PolicyRecord>> {
        dispatch!(self, policies())
    }

    /// Saves policies (id, enabled, scope, params), audited; the evaluation becomes due.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_policies(&self, list: &[(String, bool, String, serde_json::Value)], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, save_policies(list, actor, now))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn environment_rules(&self) -> Result<Vec<EnvironmentRule>> {
        dispatch!(self, environment_rules())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_environment_rule(&self, r: &EnvironmentRule, actor: &Actor, now: DateTime<Utc>) -> Result<EnvironmentRule> {
        dispatch!(self, add_environment_rule(r, actor, now))
    }

    /// Everything a policy evaluation reads.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn evaluation_inputs(&self) -> Result<EvaluationInputs> {
        dispatch!(self, evaluation_inputs())
    }

    /// Replaces the stored evaluation.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn replace_policy_results(&self, results: &[PolicyResultRecord], scores: &[PolicyScoreRecord]) -> Result<()> {
        dispatch!(self, replace_policy_results(results, scores))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn policy_scores(&self) -> Result<Vec<PolicyScoreRecord>> {
        dispatch!(self, policy_scores())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn failing_results(&self, team: &str, policy: Option<&str>, limit: i64) -> Result<Vec<PolicyResultRecord>> {
        dispatch!(self, failing_results(team, policy, limit))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn take_snapshot(&self, day: NaiveDate) -> Result<u64> {
        dispatch!(self, take_snapshot(day))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn snapshots(&self, team: Option<&str>, since: NaiveDate) -> Result<Vec<SnapshotRecord>> {
        dispatch!(self, snapshots(team, since))
    }

    /// The demo estate's reconstructed 30 days of history (see `demo.rs`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn backfill_demo_snapshots(&self, today: NaiveDate, days: i64) -> Result<()> {
        dispatch!(self, backfill_demo_snapshots(today, days))
    }

    /// Whether a team of this name exists.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn team_exists(&self, name: &str) -> Result<bool> {
        dispatch!(self, team_exists(name))
    }
}
