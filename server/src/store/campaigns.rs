//! Patch campaigns' reads and writes (`backend/campaigns.rs`).

use super::*;
use chrono::{DateTime, NaiveDate, Utc};

/// What composes the messages of the (item, level) pairs an escalation run took.
pub type Compose<'a> = &'a (dyn Fn(&[(i64, i64)]) -> Vec<NewMessage> + Sync);

store_capability! {
    /// Patch campaigns, their items, exceptions, contacts and escalation messages (`backend/campaigns.rs`, `backend/escalation.rs`).
    pub trait CampaignStore {
        /// Takes the (item, level) pairs no run took before and queues `compose`'s messages for them.
        fn record_escalation(&self, run: &str, due: &[(i64, i64)], compose: Compose<'_>, actor: &Actor, now: DateTime<Utc>) -> Result<(usize, usize)>;
        /// Creates a campaign and all its items in one transaction (audited); answers its id and
        /// the items as written (as `campaign_items` would read them back).
        fn create_campaign(&self, c: &NewCampaign, items: &[NewCampaignItem], actor: &Actor, now: DateTime<Utc>) -> Result<(i64, Vec<CampaignItemRecord>)>;
        /// Moves a campaign's deadline and its open items' (audited); false when there is no such campaign.
        fn change_deadline(&self, id: i64, deadline: NaiveDate, actor: &Actor, now: DateTime<Utc>) -> Result<bool>;
        /// Campaigns, newest first, and how many there are.
        fn campaigns(&self, limit: i64, offset: i64) -> Result<(Vec<CampaignRecord>, i64)>;
        fn campaign(&self, id: i64) -> Result<Option<CampaignRecord>>;
        /// Items of these campaigns (of `teams` and of no team when given).
        fn campaign_items(&self, campaigns: &[i64], teams: Option<&[String]>) -> Result<Vec<CampaignItemRecord>>;
        /// Items of any campaign in these states (of `teams` when given), by deadline.
        fn items_in_states(&self, states: &[crate::domain::campaign::ItemState], teams: Option<&[String]>, limit: i64) -> Result<Vec<CampaignItemRecord>>;
        fn campaign_item(&self, campaign: i64, item: i64) -> Result<Option<CampaignItemRecord>>;
        /// (item, cluster, namespace, workload) each item follows.
        fn item_workloads(&self, items: &[i64]) -> Result<Vec<(i64, String, String, String)>>;
        /// Acknowledges an open or acknowledged item (audited); false when it is in another state.
        fn acknowledge_item(&self, campaign: i64, item: i64, planned: NaiveDate, note: &str, actor: &Actor, now: DateTime<Utc>) -> Result<bool>;
        /// Records exception request `request_id` (audited); false when the item is closed or
        /// excepted, a request waits, or its previous request is not `request_id - 1`.
        fn request_exception(&self, campaign: i64, item: i64, request_id: i64, reason: &str, until: NaiveDate, actor: &Actor, now: DateTime<Utc>) -> Result<bool>;
        /// Decides exception request `request_id` of `requested_by` (audited with both people);
        /// false unless that request waits now and the decider is someone else.
        fn decide_exception(&self, campaign: i64, item: i64, request_id: i64, requested_by: &str, approve: bool, note: &str, actor: &Actor, now: DateTime<Utc>) -> Result<bool>;
        /// Joins new items and applies item updates of one campaign (one transaction, audited).
        fn apply_campaign_refresh(&self, campaign: i64, joined: &[NewCampaignItem], updates: &[ItemUpdate], actor: &Actor, now: DateTime<Utc>) -> Result<(usize, usize)>;
        /// Live containers of these clusters by workload, with their image rows and scan state.
        fn followed_containers(&self, clusters: &[String]) -> Result<Vec<FollowedContainer>>;
        /// (index, platform image) pairs of the indexes among `ids`.
        fn platforms_of(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>>;
        /// Replaces a team's contacts ('' : the global ones), audited without webhook secrets.
        fn replace_contacts(&self, team: &str, contacts: &[ContactRecord], actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        fn contacts(&self) -> Result<Vec<ContactRecord>>;
        /// Items not closed, with their ladders and delivered levels.
        fn escalation_items(&self) -> Result<Vec<EscalationItemRecord>>;
        /// Claims messages due for sending.
        fn claim_messages(&self, worker: &str, now: DateTime<Utc>, until: DateTime<Utc>, limit: i64) -> Result<Vec<MessageRecord>>;
        /// Records an attempt to send a claimed message.
        fn record_attempt(&self, id: i64, worker: &str, outcome: std::result::Result<&str, (&str, Option<DateTime<Utc>>)>, now: DateTime<Utc>) -> Result<bool>;
        /// The newest messages with their attempts.
        fn messages(&self, channel: Option<&str>, teams: Option<&[String]>, global: bool, limit: i64) -> Result<Vec<(MessageRecord, Vec<DeliveryAttemptRecord>)>>;
        /// Every team's name.
        fn team_names(&self) -> Result<Vec<String>>;
        /// Items per (campaign, state) and how many are past `today`'s deadline.
        fn campaign_state_counts(&self, campaigns: &[i64], teams: Option<&[String]>, today: NaiveDate) -> Result<Vec<(i64, crate::domain::campaign::ItemState, i64, i64)>>;
        /// Items per (team, state) of every campaign: past `today`'s deadline, due from `today` to
        /// `due_by`, with an exception request waiting (`teams`: only theirs).
        fn team_item_counts(&self, teams: Option<&[String]>, today: NaiveDate, due_by: NaiveDate) -> Result<Vec<TeamItemCounts>>;
        /// Outstanding items of `teams` (every team's with None) falling due before `before`,
        /// by deadline (the overdue first).
        fn items_due_before(&self, teams: Option<&[String]>, before: NaiveDate, limit: i64) -> Result<Vec<CampaignItemRecord>>;
        /// The next days from `today` on which outstanding items fall due, per campaign.
        fn next_deadlines(&self, today: NaiveDate, limit: i64) -> Result<Vec<DeadlineRecord>>;
        /// Outstanding items past their deadline (of `teams` and of no team when given), longest overdue first, and how many.
        fn overdue_items(&self, teams: Option<&[String]>, today: NaiveDate, limit: i64, offset: i64) -> Result<Page<CampaignItemRecord>>;
    }
}
