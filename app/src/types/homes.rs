//! The people's homes: the manager's team cards (`/my-teams`) and the compliance-first estate
//! overview (`/`).

use super::*;

/// One team's card on the manager home: "is my team getting better, and what is late?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamCard {
    pub team: String,
    /// The team's score now (the mean of its policy scores; null when nothing of it is judged).
    pub score: Option<f64>,
    pub grade: Option<String>,
    /// The score 30 days ago (from the snapshots), when there is one.
    pub score_30_days_ago: Option<f64>,
    /// The daily score over the last 30 days, oldest first.
    pub trend: Vec<TrendPoint>,
    /// The policies with the most failing subjects (at most three, failing ones only).
    pub failing_policies: Vec<PolicyScore>,
    /// The team's campaign items by state.
    pub items: CampaignProgress,
    /// Items past their deadline, the longest overdue first (at most ten; `items.overdue` counts all).
    pub overdue: Vec<CampaignItem>,
    /// Outstanding items whose deadline falls in the next seven days (at most ten).
    pub due_soon: Vec<CampaignItem>,
    /// How many items are due in the next seven days.
    pub due_soon_total: i64,
    /// Exception requests of the team waiting for security's decision.
    pub exceptions_pending: i64,
}

/// The manager home (`GET /api/v1/my-teams`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MyTeams {
    pub cards: Vec<TeamCard>,
    /// The caller's role covers every team: the cards are the lowest-scoring teams.
    pub estate_wide: bool,
    /// Teams the caller's roles cover (estate-wide: every team with a score).
    pub teams_total: i64,
    pub evaluated_at: Option<DateTime<Utc>>,
    pub formula: String,
}

/// The manager home as the page shows it: the cards and each card's trend drawn as SVG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyTeamsPage {
    pub home: MyTeams,
    /// One per card, in the same order (none without a trend).
    pub trend_svgs: Vec<Option<String>>,
}

/// A team's line on the compliance overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamCompliance {
    /// Null: subjects of no team.
    pub team: Option<String>,
    pub score: Option<f64>,
    pub grade: Option<String>,
    /// Score now minus the score 7 and 30 days ago (null without a snapshot then).
    pub change_7_days: Option<f64>,
    pub change_30_days: Option<f64>,
    /// Campaign items still to be worked on, and those of them past their deadline.
    pub outstanding: i64,
    pub overdue: i64,
}

/// A campaign's progress on the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignLine {
    pub id: i64,
    pub title: String,
    pub progress: CampaignProgress,
}

/// A coming deadline: how many outstanding items of a campaign are due that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeadlineLine {
    pub campaign: i64,
    pub title: String,
    pub deadline: chrono::NaiveDate,
    pub items: i64,
}

/// The compliance-first estate overview (`GET /api/v1/overview`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComplianceOverview {
    /// The estate's score: the mean over policies of the share of every judged subject passing.
    pub score: Option<f64>,
    pub grade: Option<String>,
    pub change_7_days: Option<f64>,
    pub change_30_days: Option<f64>,
    /// The estate's daily score over the last 30 days, oldest first.
    pub trend: Vec<TrendPoint>,
    /// Teams ranked by score, worst first (unjudged teams last).
    pub teams: Vec<TeamCompliance>,
    /// Campaigns with outstanding items, most overdue first (at most ten), and how many there are.
    pub campaigns: Vec<CampaignLine>,
    pub campaigns_active: i64,
    /// Every campaign's items summed.
    pub items: CampaignProgress,
    /// The next deadlines with outstanding items (at most five).
    pub next_deadlines: Vec<DeadlineLine>,
    /// Running images that cannot be accounted for (`/api/v1/unaccounted`'s total).
    pub unaccounted: i64,
    /// Images, findings by severity and the other inventory totals.
    pub inventory: Overview,
    pub evaluated_at: Option<DateTime<Utc>>,
    pub formula: String,
}

/// The overview as the page shows it, with the estate trend drawn as SVG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceOverviewPage {
    pub overview: ComplianceOverview,
    pub trend_svg: Option<String>,
}

/// A link to the list behind a figure: `href` is a relative `/api/v1/…` URL answering
/// `{"items", "total"}` whose `total` is `count`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub href: String,
    pub count: i64,
}

/// One question of the enterprise Docker checklist, answered from the stored estate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChecklistItem {
    /// Stable: `shellshock`, `outdated-ssl`, `secrets`, `root`…
    pub id: String,
    pub section: String,
    pub question: String,
    /// `ok`, `attention` or `unknown` (Drydock cannot answer: `answer` says why and what would).
    pub status: String,
    pub answer: String,
    /// The numbers behind the answer.
    pub figures: serde_json::Value,
    pub evidence: Vec<Evidence>,
}

/// `GET /api/v1/checklist`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Checklist {
    pub items: Vec<ChecklistItem>,
    pub total: i64,
}
