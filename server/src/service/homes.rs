//! The people's homes, from what is stored (scores, daily snapshots, item counts): the manager's
//! team cards (`/my-teams`) and the compliance-first estate overview (`/`). Their cost follows
//! the teams and campaigns shown, not the estate's images or findings.

use super::campaigns::{item_view, tally};
use super::policies::{daily_scores, policy_scores};
use super::{require, Result, Service};
use crate::auth::{Action, Principal};
use crate::store::capabilities::*;
use crate::store::{PolicyScoreRecord, SnapshotRecord, TeamItemCounts};
use app::types::{CampaignLine, CampaignProgress, ComplianceOverview, DeadlineLine, MyTeams, TeamCard, TeamCompliance, TrendPoint};
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

/// Cards an estate-wide role sees on the manager home: the lowest-scoring teams.
const WORST_TEAMS: usize = 6;
/// Items listed per card (overdue, due soon) and campaigns and deadlines on the overview.
const CARD_ITEMS: usize = 10;
const OVERVIEW_CAMPAIGNS: usize = 10;
const NEXT_DEADLINES: i64 = 5;
/// "Due soon": the deadline falls within this many days.
const DUE_SOON_DAYS: i64 = 7;

/// The stored counts of each team's policies ('' for subjects of no team).
fn by_team(scores: &[PolicyScoreRecord]) -> BTreeMap<&str, Vec<&PolicyScoreRecord>> {
    let mut out: BTreeMap<&str, Vec<&PolicyScoreRecord>> = BTreeMap::new();
    for s in scores {
        out.entry(s.team.as_str()).or_default().push(s);
    }
    out
}

fn overall(records: &[&PolicyScoreRecord]) -> Option<f64> {
    crate::policy::overall(records.iter().map(|s| (s.subjects, s.failing)))
}

/// Each team's overall score on each day of `snapshots`.
fn scores_on(snapshots: &[SnapshotRecord]) -> BTreeMap<(NaiveDate, &str), f64> {
    let mut counts: BTreeMap<(NaiveDate, &str), Vec<(i64, i64)>> = BTreeMap::new();
    for s in snapshots {
        counts.entry((s.day, s.team.as_str())).or_default().push((s.subjects, s.failing));
    }
    counts.into_iter().filter_map(|(k, c)| crate::policy::overall(c).map(|score| (k, score))).collect()
}

/// The day's score from a trend (when that day was recorded).
fn score_on(trend: &[TrendPoint], day: NaiveDate) -> Option<f64> {
    trend.iter().find(|p| p.day == day).map(|p| p.score)
}

/// The estate's score: over every team's counts summed per policy, the mean of the policy scores.
fn estate_score(scores: &[PolicyScoreRecord]) -> Option<f64> {
    let mut per_policy: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for s in scores {
        let e = per_policy.entry(s.policy.as_str()).or_default();
        e.0 += s.subjects;
        e.1 += s.failing;
    }
    crate::policy::overall(per_policy.into_values())
}

/// Items by state per team ('' for no team), and each team's items due soon and exceptions waiting.
struct TeamItems {
    progress: BTreeMap<String, CampaignProgress>,
    due_soon: BTreeMap<String, i64>,
    exceptions: BTreeMap<String, i64>,
}

fn team_items(rows: Vec<TeamItemCounts>) -> TeamItems {
    let mut t = TeamItems { progress: BTreeMap::new(), due_soon: BTreeMap::new(), exceptions: BTreeMap::new() };
    for r in rows {
        let team = r.team.unwrap_or_default();
        tally(t.progress.entry(team.clone()).or_default(), r.state, r.items, r.overdue);
        if r.state.is_outstanding() {
            *t.due_soon.entry(team.clone()).or_default() += r.due_soon;
        }
        if !r.state.is_closed() {
            *t.exceptions.entry(team).or_default() += r.exceptions_requested;
        }
    }
    t
}

/// Each team's ('' : no team) outstanding items and how many of them are past their deadline.
pub(super) fn outstanding_by_team(rows: Vec<TeamItemCounts>) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in rows.into_iter().filter(|r| r.state.is_outstanding()) {
        let e = out.entry(r.team.unwrap_or_default()).or_default();
        e.0 += r.items;
        e.1 += r.overdue;
    }
    out
}

fn outstanding(p: &CampaignProgress) -> i64 {
    p.open + p.acknowledged + p.pending_verification
}

impl Service {
    /// The manager home: a card per team of the caller (an estate-wide role: the lowest-scoring
    /// teams) with score, grade, 30-day trend, the policies failing most, items by state, those
    /// overdue and due in the next seven days, and exception requests waiting.
    #[tracing::instrument(skip_all)]
    pub async fn my_teams(&self, who: Option<&Principal>) -> Result<MyTeams> {
        let p = require(who, Action::ReadEstate, None)?;
        let today = self.clock.now().date_naive();
        let scores = self.store.policy_scores().await?;
        let teams_scores = by_team(&scores);
        let (teams, estate_wide, teams_total) = match p.visible_teams() {
            Some(mine) => {
                let n = mine.len() as i64;
                (mine, false, n)
            }
            None => {
                let mut ranked: Vec<(&str, f64)> =
                    teams_scores.iter().filter(|(t, _)| !t.is_empty()).filter_map(|(t, s)| overall(s).map(|v| (*t, v))).collect();
                ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
                let n = ranked.len() as i64;
                (ranked.into_iter().take(WORST_TEAMS).map(|(t, _)| t.to_string()).collect(), true, n)
            }
        };
        let since = today - Duration::days(30);
        let snapshots = self.store.snapshots_of_teams(&teams, since).await?;
        let items = team_items(self.store.team_item_counts(Some(&teams), today, today + Duration::days(DUE_SOON_DAYS)).await?);
        let due = self.store.items_due_before(Some(&teams), today + Duration::days(DUE_SOON_DAYS + 1), 5000).await?;
        let mut due_by_team: BTreeMap<String, Vec<app::types::CampaignItem>> = BTreeMap::new();
        for r in due {
            due_by_team.entry(r.team.clone().unwrap_or_default()).or_default().push(item_view(r, today));
        }
        let cards = teams
            .iter()
            .map(|team| {
                let own: Vec<SnapshotRecord> = snapshots.iter().filter(|s| &s.team == team).cloned().collect();
                let records = teams_scores.get(team.as_str()).map(Vec::as_slice).unwrap_or_default();
                let listed = due_by_team.remove(team).unwrap_or_default();
                card(team, records, daily_scores(&own), since, &items, listed)
            })
            .collect();
        Ok(MyTeams {
            cards,
            estate_wide,
            teams_total,
            evaluated_at: scores.iter().map(|s| s.evaluated_at).max(),
            formula: crate::policy::FORMULA.into(),
        })
    }

    /// The compliance-first overview: teams ranked by score with their changes and overdue
    /// items, the estate's score and trend, campaigns' progress and next deadlines, unaccounted
    /// workloads and the inventory's totals.
    #[tracing::instrument(skip_all)]
    pub async fn compliance_overview(&self, who: Option<&Principal>) -> Result<ComplianceOverview> {
        require(who, Action::ReadEstate, None)?;
        let today = self.clock.now().date_naive();
        let scores = self.store.policy_scores().await?;
        let (week, month) = (today - Duration::days(7), today - Duration::days(30));
        let snapshots = self.store.snapshots_of_days(&[week, month]).await?;
        let past = scores_on(&snapshots);
        let items = team_items(self.store.team_item_counts(None, today, today + Duration::days(DUE_SOON_DAYS)).await?);
        let teams = ranked_teams(&scores, &past, (week, month), &items);
        let trend = daily_scores(&self.store.estate_snapshots(month).await?);
        let score = estate_score(&scores);
        let change = |day| Some(score? - score_on(&trend, day)?);
        let (campaigns, campaigns_active, total_items) = self.campaign_lines(who).await?;
        let next_deadlines = self
            .store
            .next_deadlines(today, NEXT_DEADLINES)
            .await?
            .into_iter()
            .map(|d| DeadlineLine { campaign: d.campaign_id, title: d.title, deadline: d.deadline, items: d.items })
            .collect();
        Ok(ComplianceOverview {
            grade: score.map(|s| crate::policy::grade(s).to_string()),
            change_7_days: change(week),
            change_30_days: change(month),
            score,
            trend,
            teams,
            campaigns,
            campaigns_active,
            items: total_items,
            next_deadlines,
            unaccounted: self.unaccounted(who).await?.len() as i64,
            inventory: self.overview(who).await?,
            evaluated_at: scores.iter().map(|s| s.evaluated_at).max(),
            formula: format!("{} The estate's score is the same mean over every team's subjects together.", crate::policy::FORMULA),
        })
    }

    /// Campaigns with outstanding items (as `/api/v1/campaigns` counts them for the caller), the
    /// most overdue first; how many there are; every campaign's items summed.
    async fn campaign_lines(&self, who: Option<&Principal>) -> Result<(Vec<CampaignLine>, i64, CampaignProgress)> {
        let all = self.campaign_summaries(who).await?;
        let mut sum = CampaignProgress::default();
        for c in &all {
            let p = &c.progress;
            for (to, by) in [
                (&mut sum.total, p.total),
                (&mut sum.open, p.open),
                (&mut sum.acknowledged, p.acknowledged),
                (&mut sum.pending_verification, p.pending_verification),
                (&mut sum.excepted, p.excepted),
                (&mut sum.fixed, p.fixed),
                (&mut sum.retired, p.retired),
                (&mut sum.overdue, p.overdue),
            ] {
                *to += by;
            }
        }
        let mut active: Vec<CampaignLine> = all
            .into_iter()
            .filter(|c| outstanding(&c.progress) > 0)
            .map(|c| CampaignLine { id: c.id, title: c.title, progress: c.progress })
            .collect();
        active.sort_by(|a, b| b.progress.overdue.cmp(&a.progress.overdue).then(b.id.cmp(&a.id)));
        let n = active.len() as i64;
        active.truncate(OVERVIEW_CAMPAIGNS);
        Ok((active, n, sum))
    }
}

/// One team's card.
fn card(
    team: &str,
    records: &[&PolicyScoreRecord],
    trend: Vec<TrendPoint>,
    month_ago: NaiveDate,
    items: &TeamItems,
    listed: Vec<app::types::CampaignItem>,
) -> TeamCard {
    let score = overall(records);
    let mut failing_policies: Vec<_> = policy_scores(records.iter().copied()).into_iter().filter(|p| p.failing > 0).collect();
    failing_policies.sort_by(|a, b| b.failing.cmp(&a.failing).then(a.score.total_cmp(&b.score)).then(a.policy.cmp(&b.policy)));
    failing_policies.truncate(3);
    let (overdue, due_soon): (Vec<_>, Vec<_>) = listed.into_iter().partition(|i| i.overdue);
    TeamCard {
        team: team.to_string(),
        grade: score.map(|s| crate::policy::grade(s).to_string()),
        score,
        score_30_days_ago: score_on(&trend, month_ago),
        trend,
        failing_policies,
        items: items.progress.get(team).cloned().unwrap_or_default(),
        overdue: overdue.into_iter().take(CARD_ITEMS).collect(),
        due_soon: due_soon.into_iter().take(CARD_ITEMS).collect(),
        due_soon_total: items.due_soon.get(team).copied().unwrap_or(0),
        exceptions_pending: items.exceptions.get(team).copied().unwrap_or(0),
    }
}

/// Every team with a score or items, worst score first (unjudged last), with its changes over 7
/// and 30 days and its outstanding and overdue items.
fn ranked_teams(
    scores: &[PolicyScoreRecord],
    past: &BTreeMap<(NaiveDate, &str), f64>,
    (week, month): (NaiveDate, NaiveDate),
    items: &TeamItems,
) -> Vec<TeamCompliance> {
    let judged = by_team(scores);
    let mut names: Vec<&str> = judged.keys().copied().collect();
    names.extend(items.progress.keys().map(String::as_str));
    names.sort();
    names.dedup();
    let mut rows: Vec<TeamCompliance> = names
        .into_iter()
        .map(|team| {
            let score = judged.get(team).and_then(|s| overall(s));
            let change = |day| Some(score? - past.get(&(day, team))?);
            let p = items.progress.get(team).cloned().unwrap_or_default();
            TeamCompliance {
                team: (!team.is_empty()).then(|| team.to_string()),
                grade: score.map(|s| crate::policy::grade(s).to_string()),
                change_7_days: change(week),
                change_30_days: change(month),
                score,
                outstanding: outstanding(&p),
                overdue: p.overdue,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.score.unwrap_or(101.0).total_cmp(&b.score.unwrap_or(101.0)).then(a.team.cmp(&b.team)));
    rows
}
