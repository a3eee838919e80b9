//! Patch campaigns: what the API and the pages carry.

use super::*;

/// `POST /api/v1/campaigns`: what to patch, by when, and who hears of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCampaignRequest {
    pub title: String,
    /// Vulnerability ids (`CVE-…`, `GHSA-…`).
    #[serde(default)]
    pub cves: Vec<String>,
    /// A package URL without version (`pkg:deb/debian/openssl`), with `range` or alone (any version).
    #[serde(default)]
    pub package: Option<String>,
    /// A `vers` range of that package (`vers:deb/<1.1.1n-0+deb11u4`).
    #[serde(default)]
    pub range: Option<String>,
    /// Which affected images count: `all` (default), `team:NAME` (that team's images),
    /// `namespace:NAME` or `environment:NAME` (images running there).
    #[serde(default)]
    pub scope: Option<String>,
    /// `YYYY-MM-DD`; absent: each item's deadline comes from the vulnerability SLA policy.
    #[serde(default)]
    pub deadline: Option<String>,
    /// The escalation ladder; absent: the default (team 7 days before, team lead at the deadline,
    /// manager 7 days after, CISO 14 days after).
    #[serde(default)]
    pub ladder: Option<Vec<LadderLevel>>,
}

/// One rung of an escalation ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LadderLevel {
    /// Contacts of this level hear of it.
    pub level: i64,
    /// Days relative to the deadline (negative: a reminder before it).
    pub days: i64,
    /// Who that is, for people reading the ladder.
    #[serde(default)]
    pub recipients: String,
}

/// A campaign with its items (the caller's teams' and items of no team).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: i64,
    pub title: String,
    pub cves: Vec<String>,
    pub package: Option<String>,
    pub range: Option<String>,
    /// all, team:NAME, namespace:NAME or environment:NAME.
    pub scope: String,
    /// The campaign's deadline; null when each item's comes from the SLA.
    pub deadline: Option<String>,
    pub ladder: Vec<LadderLevel>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// When the items were last brought up to date with the estate.
    pub refreshed_at: Option<DateTime<Utc>>,
    pub items: Vec<CampaignItem>,
    /// Items per state, over the items shown.
    pub progress: CampaignProgress,
}

/// How far a campaign (or one team's share of it) has come.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignProgress {
    pub total: i64,
    pub open: i64,
    pub acknowledged: i64,
    pub pending_verification: i64,
    pub excepted: i64,
    pub fixed: i64,
    pub retired: i64,
    /// Open or acknowledged items past their deadline.
    pub overdue: i64,
}

/// One (team, affected image) of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignItem {
    pub id: i64,
    pub campaign: i64,
    pub campaign_title: String,
    /// The owning team (null: no team; the global contacts hear of it).
    pub team: Option<String>,
    /// The image's primary digest.
    pub image: String,
    /// Whether a workload ran the image when last looked at.
    pub running: bool,
    /// Workloads that ran it.
    pub workloads: i64,
    /// open, acknowledged, pending_verification, excepted, fixed, retired.
    pub state: String,
    pub deadline: String,
    pub overdue: bool,
    /// The worst severity of its matching findings.
    pub severity: String,
    pub first_seen: DateTime<Utc>,
    pub planned: Option<String>,
    pub note: Option<String>,
    pub acknowledged_by: Option<String>,
    pub exception: Option<ItemException>,
    /// When the item joined the campaign (at its creation, or when its image was found affected later).
    pub joined_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A risk exception on an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ItemException {
    /// The request's number on this item (1, 2, …): a decision names the request it decides.
    pub request_id: i64,
    /// requested, approved, rejected, expired.
    pub state: String,
    pub reason: String,
    pub until: String,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub note: Option<String>,
}

/// `PUT /api/v1/campaigns/{id}/deadline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeadlineChange {
    /// The new deadline, `YYYY-MM-DD`, of the campaign and of every item not yet closed.
    pub deadline: String,
}

/// `POST …/items/{item}/ack`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AckRequest {
    /// When the team plans to run the fix, `YYYY-MM-DD`.
    pub planned: String,
    #[serde(default)]
    pub note: String,
}

/// `POST …/items/{item}/exception`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExceptionRequest {
    pub reason: String,
    /// The exception's last day, `YYYY-MM-DD`.
    pub until: String,
}

/// `POST …/items/{item}/exception/decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExceptionDecision {
    pub approve: bool,
    #[serde(default)]
    pub note: String,
    /// The request decided (`exception.request_id` of the item as the decider read it); a
    /// different request waiting now is a conflict (409). Required.
    #[serde(default)]
    pub request_id: Option<i64>,
}

/// A contact of one ladder level (`PUT /api/v1/contacts`, `PUT /api/v1/teams/{team}/contacts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub level: i64,
    #[serde(default)]
    pub email: Option<String>,
    /// A Slack-compatible incoming webhook (https), sent `{"text": …}`.
    #[serde(default)]
    pub webhook: Option<String>,
}

/// A team's contacts (`team` null: the global contacts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamContacts {
    pub team: Option<String>,
    pub contacts: Vec<Contact>,
}

/// A message the escalation sent (or is sending), with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryMessage {
    pub id: i64,
    /// email, webhook or inbox.
    pub channel: String,
    /// The e-mail address; a webhook's host only (its URL is a secret); the team for the inbox.
    pub recipient: String,
    pub team: Option<String>,
    pub level: i64,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// queued, sent, retrying, gave_up.
    pub status: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: Vec<DeliveryAttempt>,
}

/// One attempt to send a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    pub worker: String,
    /// sent, retry, gave_up.
    pub outcome: String,
    pub detail: String,
}

/// What one escalation pass did (`drydock escalate --once`, the job).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationReport {
    /// Items that joined campaigns (images found affected later).
    pub joined: i64,
    /// Items whose state changed (fixed, retired, pending verification, reopened).
    pub changed: i64,
    /// (item, level) escalations decided by this pass.
    pub escalations: i64,
    /// Digest messages queued.
    pub messages: i64,
    /// Messages sent, and failed attempts (retried later).
    pub sent: i64,
    pub failed: i64,
    /// Campaigns that could not be brought up to date, each with why (the others were).
    #[serde(default)]
    pub errors: Vec<String>,
}

/// The Campaigns page: every campaign with its progress, and whether the viewer may start one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignsPage {
    pub campaigns: Vec<Campaign>,
    pub may_create: bool,
    /// Exception requests waiting for security (shown to those who decide them).
    pub exceptions_waiting: Option<i64>,
}

/// One campaign's page: its items, progress per team, the burndown chart, what the viewer may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignPage {
    pub campaign: Campaign,
    /// (team, progress) for every team with items the viewer sees; "no team" for unowned items.
    pub teams: Vec<(String, CampaignProgress)>,
    /// Items still open per day since the start (SVG drawn on the server).
    pub burndown_svg: Option<String>,
    /// The same as text: (day, items not yet done).
    pub burndown: Vec<(chrono::NaiveDate, i64)>,
    /// Items the viewer may acknowledge, request exceptions for, and decide the waiting request of.
    pub may_ack: Vec<i64>,
    pub may_request: Vec<i64>,
    pub may_decide: Vec<i64>,
    /// Whether the viewer manages campaigns (moves the deadline).
    pub may_manage: bool,
}

/// A list of items with what the viewer may do to each (required updates, overdue items, the
/// exception queue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemsPage {
    pub items: Vec<CampaignItem>,
    pub may_ack: Vec<i64>,
    pub may_request: Vec<i64>,
    pub may_decide: Vec<i64>,
    /// The teams the viewer's roles are for (empty: every team).
    pub teams: Vec<String>,
}

/// The contacts page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactsPage {
    pub contacts: Vec<TeamContacts>,
    /// Teams contacts can be added for.
    pub teams: Vec<String>,
    pub may_edit: bool,
}
