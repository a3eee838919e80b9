//! The store's own rows of patch campaigns: campaigns and items, contacts, the escalation's
//! decisions and messages.

use chrono::{DateTime, Utc};

/// A stored campaign (its selector and ladder as the JSON they were saved as).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRecord {
    pub id: i64,
    pub title: String,
    pub cves: String,
    pub package: Option<String>,
    pub range_vers: Option<String>,
    pub scope: String,
    pub deadline: Option<chrono::NaiveDate>,
    pub ladder: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub refreshed_at: Option<DateTime<Utc>>,
}

/// A stored campaign item with its image's primary digest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignItemRecord {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_title: String,
    pub image_id: i64,
    pub digest: String,
    pub team: Option<String>,
    pub running: bool,
    pub workloads: i64,
    pub state: crate::domain::campaign::ItemState,
    pub severity: String,
    pub first_seen: DateTime<Utc>,
    pub deadline: chrono::NaiveDate,
    pub planned: Option<chrono::NaiveDate>,
    pub note: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub exception_state: Option<String>,
    pub exception_reason: Option<String>,
    pub exception_until: Option<chrono::NaiveDate>,
    pub exception_by: Option<String>,
    pub exception_at: Option<DateTime<Utc>>,
    /// The number of the item's latest exception request (1, 2, …).
    pub exception_request_id: Option<i64>,
    pub decision_note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl CampaignItemRecord {
    /// Item `id` of campaign `campaign` as `item` is first written: open, nothing acknowledged,
    /// asked or decided, created and updated at `now`.
    pub fn opened(id: i64, campaign: i64, title: &str, item: &NewCampaignItem, now: DateTime<Utc>) -> CampaignItemRecord {
        CampaignItemRecord {
            id,
            campaign_id: campaign,
            campaign_title: title.to_string(),
            image_id: item.image_id,
            digest: item.digest.clone(),
            team: item.team.clone(),
            running: !item.workloads.is_empty(),
            workloads: item.workloads.len() as i64,
            state: crate::domain::campaign::ItemState::Open,
            severity: item.severity.clone(),
            first_seen: item.first_seen,
            deadline: item.deadline,
            planned: None,
            note: None,
            acknowledged_by: None,
            acknowledged_at: None,
            exception_state: None,
            exception_reason: None,
            exception_until: None,
            exception_by: None,
            exception_at: None,
            exception_request_id: None,
            decision_note: None,
            decided_by: None,
            decided_at: None,
            created_at: now,
            updated_at: now,
            closed_at: None,
        }
    }

    /// Whether a caller who sees `teams` (None: every team) sees this item: its team's and items
    /// of no team, the rule the store's item reads apply in SQL (`push_items_seen_by`).
    pub fn seen_by(&self, teams: Option<&[String]>) -> bool {
        match (teams, &self.team) {
            (Some(teams), Some(team)) => teams.contains(team),
            _ => true,
        }
    }
}

/// A campaign item to create.
#[derive(Debug, Clone)]
pub struct NewCampaignItem {
    pub image_id: i64,
    /// The image's primary digest (what the created item answers with).
    pub digest: String,
    pub team: Option<String>,
    pub severity: String,
    pub first_seen: DateTime<Utc>,
    pub deadline: chrono::NaiveDate,
    /// (cluster, namespace, workload) running the affected image now.
    pub workloads: Vec<(String, String, String)>,
}

/// A campaign to create.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub title: String,
    pub cves: Vec<String>,
    pub package: Option<String>,
    pub range: Option<String>,
    pub scope: String,
    pub deadline: Option<chrono::NaiveDate>,
    pub ladder: serde_json::Value,
}

/// What a refresh pass found for one item: its new state and the workloads now seen running it.
#[derive(Debug, Clone)]
pub struct ItemUpdate {
    pub id: i64,
    pub state: crate::domain::campaign::ItemState,
    pub running: bool,
    pub workloads: i64,
    pub new_workloads: Vec<(String, String, String)>,
    /// Set when the update reopens an item whose exception expired.
    pub exception_expired: bool,
}

/// A contact of one level (of a team, or global when `team` is empty).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ContactRecord {
    pub team: String,
    pub level: i64,
    pub email: Option<String>,
    pub webhook: Option<String>,
}

/// What the escalation reads of an item still open.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationItemRecord {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_title: String,
    pub ladder: String,
    pub image_id: i64,
    pub digest: String,
    pub team: Option<String>,
    pub state: crate::domain::campaign::ItemState,
    pub deadline: chrono::NaiveDate,
    pub exception_until: Option<chrono::NaiveDate>,
    pub exception_state: Option<String>,
    pub running: bool,
    pub workloads: i64,
    /// Delivered levels, comma-separated.
    pub delivered: Option<String>,
}

/// A message to put in the outbox, for the deliveries it reports.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel: String,
    pub address: String,
    pub team: Option<String>,
    pub level: i64,
    pub subject: String,
    pub body: String,
    /// (item, level) pairs the message reports.
    pub items: Vec<(i64, i64)>,
}

/// A message of the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: i64,
    pub channel: String,
    pub address: String,
    pub team: Option<String>,
    pub level: i64,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub next_attempt: DateTime<Utc>,
    pub attempts: i64,
    pub sent_at: Option<DateTime<Utc>>,
    pub gave_up_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// One attempt to send a message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryAttemptRecord {
    pub message_id: i64,
    pub at: DateTime<Utc>,
    pub worker: String,
    pub outcome: String,
    pub detail: String,
}

/// A live container of a workload a campaign item follows, with what decides whether it is fixed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowedContainer {
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    /// The image row it runs (None: a digest Drydock has no row of).
    pub image_row: Option<i64>,
    /// Whether a scanner report covers that image (or, for an index, the platform it runs).
    pub scanned: bool,
}

/// One team's items in one state (`team` null: items of no team), with how many of them are past
/// their deadline, fall due in the next days asked for, and carry an exception request waiting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamItemCounts {
    pub team: Option<String>,
    pub state: crate::domain::campaign::ItemState,
    pub items: i64,
    pub overdue: i64,
    pub due_soon: i64,
    pub exceptions_requested: i64,
}

/// A day on which outstanding items of a campaign fall due.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadlineRecord {
    pub campaign_id: i64,
    pub title: String,
    pub deadline: chrono::NaiveDate,
    pub items: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_seen_by_its_team_by_everyone_when_it_has_none_and_by_estate_wide_callers() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let new = |team: Option<&str>| NewCampaignItem {
            image_id: 1,
            digest: "sha256:a".into(),
            team: team.map(str::to_string),
            severity: "high".into(),
            first_seen: t,
            deadline: t.date_naive(),
            workloads: vec![],
        };
        let web = CampaignItemRecord::opened(1, 7, "c", &new(Some("web")), t);
        let none = CampaignItemRecord::opened(2, 7, "c", &new(None), t);
        let teams = ["web".to_string()];
        assert!(web.seen_by(Some(&teams)) && none.seen_by(Some(&teams)));
        assert!(!web.seen_by(Some(&["payments".to_string()])) && !web.seen_by(Some(&[])));
        assert!(web.seen_by(None) && none.seen_by(None));
        assert_eq!((web.state, web.running, web.workloads, web.campaign_id), (crate::domain::campaign::ItemState::Open, false, 0, 7));
    }
}
