//! Patch campaigns' reads and writes (`backend/campaigns.rs`).

use super::*;
use chrono::{DateTime, NaiveDate, Utc};

impl Store {
    /// Creates a campaign and all its items in one transaction (audited); answers its id.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_campaign(&self, c: &NewCampaign, items: &[NewCampaignItem], actor: &Actor, now: DateTime<Utc>) -> Result<i64> {
        dispatch!(self, create_campaign(c, items, actor, now))
    }
    /// Moves a campaign's deadline and its open items' (audited); false when there is no such campaign.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_deadline(&self, id: i64, deadline: NaiveDate, actor: &Actor, now: DateTime<Utc>) -> Result<bool> {
        dispatch!(self, change_deadline(id, deadline, actor, now))
    }
    /// Campaigns, newest first, and how many there are.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn campaigns(&self, limit: i64, offset: i64) -> Result<(Vec<CampaignRecord>, i64)> {
        dispatch!(self, campaigns(limit, offset))
    }
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn campaign(&self, id: i64) -> Result<Option<CampaignRecord>> {
        dispatch!(self, campaign(id))
    }
    /// Items of these campaigns (of `teams` and of no team when given).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn campaign_items(&self, campaigns: &[i64], teams: Option<&[String]>) -> Result<Vec<CampaignItemRecord>> {
        dispatch!(self, campaign_items(campaigns, teams))
    }
    /// Items of any campaign in these states (of `teams` when given), by deadline.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn items_in_states(&self, states: &[&str], teams: Option<&[String]>, limit: i64) -> Result<Vec<CampaignItemRecord>> {
        dispatch!(self, items_in_states(states, teams, limit))
    }
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn campaign_item(&self, campaign: i64, item: i64) -> Result<Option<CampaignItemRecord>> {
        dispatch!(self, campaign_item(campaign, item))
    }
    /// (item, cluster, namespace, workload) each item follows.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn item_workloads(&self, items: &[i64]) -> Result<Vec<(i64, String, String, String)>> {
        dispatch!(self, item_workloads(items))
    }
    /// Acknowledges an open or acknowledged item (audited); false when it is in another state.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn acknowledge_item(
        &self,
        campaign: i64,
        item: i64,
        planned: NaiveDate,
        note: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        dispatch!(self, acknowledge_item(campaign, item, planned, note, actor, now))
    }
    /// Records exception request `request_id` (audited); false when the item is closed or
    /// excepted, a request waits, or its previous request is not `request_id - 1`.
    #[tracing::instrument(level = "debug", skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn request_exception(
        &self,
        campaign: i64,
        item: i64,
        request_id: i64,
        reason: &str,
        until: NaiveDate,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        dispatch!(self, request_exception(campaign, item, request_id, reason, until, actor, now))
    }
    /// Decides exception request `request_id` of `requested_by` (audited with both people);
    /// false unless that request waits now and the decider is someone else.
    #[tracing::instrument(level = "debug", skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_exception(
        &self,
        campaign: i64,
        item: i64,
        request_id: i64,
        requested_by: &str,
        approve: bool,
        note: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        dispatch!(self, decide_exception(campaign, item, request_id, requested_by, approve, note, actor, now))
    }
    /// Joins new items and applies item updates of one campaign (one transaction, audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn apply_campaign_refresh(
        &self,
        campaign: i64,
        joined: &[NewCampaignItem],
        updates: &[ItemUpdate],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)> {
        dispatch!(self, apply_campaign_refresh(campaign, joined, updates, actor, now))
    }
    /// Live containers of these clusters by workload, with their image rows and scan state.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn followed_containers(&self, clusters: &[String]) -> Result<Vec<FollowedContainer>> {
        dispatch!(self, followed_containers(clusters))
    }
    /// (index, platform image) pairs of the indexes among `ids`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn platforms_of(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        dispatch!(self, platforms_of(ids))
    }
    /// Replaces a team's contacts ('' : the global ones), audited without webhook secrets.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn replace_contacts(&self, team: &str, contacts: &[ContactRecord], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, replace_contacts(team, contacts, actor, now))
    }
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn contacts(&self) -> Result<Vec<ContactRecord>> {
        dispatch!(self, contacts())
    }
    /// Items not closed, with their ladders and delivered levels.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn escalation_items(&self) -> Result<Vec<EscalationItemRecord>> {
        dispatch!(self, escalation_items())
    }
    /// Takes the (item, level) pairs no run took before and queues `compose`'s messages for them.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_escalation<F>(
        &self,
        run: &str,
        due: &[(i64, i64)],
        compose: F,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)>
    where
        F: FnOnce(&[(i64, i64)]) -> Vec<NewMessage>,
    {
        dispatch!(self, record_escalation(run, due, compose, actor, now))
    }
    /// Claims messages due for sending.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn claim_messages(&self, worker: &str, now: DateTime<Utc>, until: DateTime<Utc>, limit: i64) -> Result<Vec<MessageRecord>> {
        dispatch!(self, claim_messages(worker, now, until, limit))
    }
    /// Records an attempt to send a claimed message.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_attempt(
        &self,
        id: i64,
        worker: &str,
        outcome: std::result::Result<&str, (&str, Option<DateTime<Utc>>)>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        dispatch!(self, record_attempt(id, worker, outcome, now))
    }
    /// The newest messages with their attempts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn messages(
        &self,
        channel: Option<&str>,
        teams: Option<&[String]>,
        global: bool,
        limit: i64,
    ) -> Result<Vec<(MessageRecord, Vec<DeliveryAttemptRecord>)>> {
        dispatch!(self, messages(channel, teams, global, limit))
    }
    /// Every team's name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn team_names(&self) -> Result<Vec<String>> {
        dispatch!(self, team_names())
    }
    /// Items per (campaign, state) and how many are past `today`'s deadline.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn campaign_state_counts(
        &self,
        campaigns: &[i64],
        teams: Option<&[String]>,
        today: NaiveDate,
    ) -> Result<Vec<(i64, String, i64, i64)>> {
        dispatch!(self, campaign_state_counts(campaigns, teams, today))
    }
}
