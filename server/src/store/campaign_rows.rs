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
