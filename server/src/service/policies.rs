//! Policies (security edits them), environments (admins), and the scorecards read from the stored
//! evaluation: the managers' ranking and each team's card with its drill-down and trend.

use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::policy::Policy;
use crate::store::capabilities::*;
use crate::store::{Actor, EnvironmentRule, PolicyScoreRecord, SnapshotRecord};
use app::types::{
    EnvironmentRuleView, FailingSubject, NewEnvironmentRule, Page, PolicyInput, PolicyResultRow, PolicyScore, PolicyView, Scorecards,
    TeamScoreRow, TeamScorecard, TrendPoint,
};
use chrono::Duration;
use std::collections::BTreeMap;

fn view(r: EnvironmentRule) -> EnvironmentRuleView {
    EnvironmentRuleView {
        id: r.id,
        cluster: r.cluster,
        namespace: r.namespace,
        environment: r.environment,
        production: r.production,
        internet_facing: r.internet_facing,
        created_at: r.created_at,
        created_by: r.created_by,
    }
}

/// The name that stands for "no team" in scorecard paths.
pub const UNOWNED: &str = "-";

/// Which of a team's failing subjects a scorecard carries: those of one policy or all, from
/// `offset` on (the longest failing first), at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct FailingWindow<'a> {
    pub policy: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

impl FailingWindow<'_> {
    /// The API's and the exports' window: the first 500 of every policy.
    pub const FIRST_500: FailingWindow<'static> = FailingWindow { policy: None, offset: 0, limit: 500 };
}

/// `policy` names one of the policies Drydock judges.
fn known_policy(policy: &str) -> Result<()> {
    if crate::domain::policy::IDS.contains(&policy) {
        Ok(())
    } else {
        Err(Error::invalid("policy", format!("{policy:?} is not a policy (known: {})", crate::domain::policy::IDS.join(", "))))
    }
}

fn check_name(field: &str, v: &str, allow_glob: bool) -> Result<()> {
    let ok =
        !v.is_empty() && v.len() <= 253 && v.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c) || (allow_glob && c == '*'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(field, format!("{v:?} must be 1-253 letters, digits, '-', '.', '_'{}", if allow_glob { " or '*'" } else { "" })))
    }
}

/// Each policy's score over the stored counts of one team's policies.
pub(super) fn policy_scores<'a>(scores: impl IntoIterator<Item = &'a PolicyScoreRecord>) -> Vec<PolicyScore> {
    let titles: BTreeMap<&str, &str> = Policy::defaults().iter().map(|p| (p.id, p.title())).collect();
    scores
        .into_iter()
        .filter_map(|s| {
            let score = crate::policy::score(s.subjects, s.failing)?;
            Some(PolicyScore {
                title: titles.get(s.policy.as_str()).copied().unwrap_or(&s.policy).to_string(),
                policy: s.policy.clone(),
                subjects: s.subjects,
                failing: s.failing,
                score,
                grade: crate::policy::grade(score).into(),
            })
        })
        .collect()
}

/// The overall score of each day of `snapshots` (of one team, or the estate's sums), oldest first.
pub(super) fn daily_scores(snapshots: &[SnapshotRecord]) -> Vec<TrendPoint> {
    let mut days: BTreeMap<chrono::NaiveDate, Vec<(i64, i64)>> = BTreeMap::new();
    for s in snapshots {
        days.entry(s.day).or_default().push((s.subjects, s.failing));
    }
    days.into_iter().filter_map(|(day, c)| crate::policy::overall(c).map(|score| TrendPoint { day, score })).collect()
}

impl Service {
    /// Every policy with its settings and, from the last evaluation, subjects judged and failing.
    #[tracing::instrument(skip_all)]
    pub async fn policies(&self, who: Option<&Principal>) -> Result<Vec<PolicyView>> {
        require(who, Action::ReadEstate, None)?;
        let saved = self.store.policies().await?;
        let scores = self.store.policy_scores().await?;
        Ok(crate::policy::in_force(&saved)
            .into_iter()
            .map(|p| {
                let s = saved.iter().find(|s| s.id == p.id);
                let (subjects, failing) =
                    scores.iter().filter(|x| x.policy == p.id).fold((0, 0), |(a, b), x| (a + x.subjects, b + x.failing));
                PolicyView {
                    id: p.id.into(),
                    title: p.title().into(),
                    subject: p.subject_kind().as_str().into(),
                    enabled: p.enabled,
                    scope: p.scope.as_string(),
                    params: p.params_json(),
                    subjects,
                    failing,
                    updated_at: s.map(|s| s.updated_at),
                    updated_by: s.map(|s| s.updated_by.clone()),
                }
            })
            .collect())
    }

    /// Saves the policies named (security, admin): each is checked whole before any is saved.
    #[tracing::instrument(skip_all)]
    pub async fn save_policies(&self, who: Option<&Principal>, list: &[PolicyInput]) -> Result<Vec<PolicyView>> {
        let p = require(who, Action::ManagePolicies, None)?;
        if list.is_empty() {
            return Err(Error::invalid("id", "name at least one policy"));
        }
        let mut checked = Vec::with_capacity(list.len());
        for i in list {
            let policy = Policy::build(&i.id, i.enabled, &i.scope, &i.params).map_err(Error::from)?;
            if checked.iter().any(|(id, ..): &(String, bool, String, serde_json::Value)| id == &i.id) {
                return Err(Error::invalid("id", format!("{} is named twice", i.id)));
            }
            checked.push((policy.id.to_string(), policy.enabled, policy.scope.as_string(), policy.params_json()));
        }
        self.store.save_policies(&checked, &Actor(p.actor.clone()), self.clock.now()).await?;
        self.jobs.evaluate_soon();
        self.policies(who).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn environment_rules(&self, who: Option<&Principal>) -> Result<Vec<EnvironmentRuleView>> {
        require(who, Action::ReadEstate, None)?;
        Ok(self.store.environment_rules().await?.into_iter().map(view).collect())
    }

    /// Adds an environment rule (admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn add_environment_rule(&self, who: Option<&Principal>, new: &NewEnvironmentRule) -> Result<EnvironmentRuleView> {
        let p = require(who, Action::ManageEstateConfig, None)?;
        let rule = EnvironmentRule {
            id: 0,
            cluster: new.cluster.trim().to_string(),
            namespace: new.namespace.trim().to_string(),
            environment: new.environment.trim().to_string(),
            production: new.production,
            internet_facing: new.internet_facing,
            created_at: self.clock.now(),
            created_by: p.actor.clone(),
        };
        if rule.cluster != "*" {
            crate::domain::ClusterName::parse(&rule.cluster).map_err(|e| Error::invalid("cluster", e))?;
        }
        check_name("namespace", &rule.namespace, true)?;
        check_name("environment", &rule.environment, false)?;
        let created = self.store.add_environment_rule(&rule, &Actor(p.actor.clone()), self.clock.now()).await?;
        self.jobs.evaluate_soon();
        Ok(view(created))
    }

    /// One policy's results as the caller may see them (team-scoped roles: their teams' and no
    /// team's subjects), failing first: the list behind a policy's failing count.
    #[tracing::instrument(skip(self, who))]
    pub async fn policy_results(
        &self,
        who: Option<&Principal>,
        policy: &str,
        failing: bool,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<PolicyResultRow>> {
        let p = require(who, Action::ReadEstate, None)?;
        known_policy(policy)?;
        let limit = limit.unwrap_or(500);
        if !(1..=5000).contains(&limit) {
            return Err(Error::invalid("limit", "between 1 and 5000"));
        }
        let page = self.store.policy_results_page(policy, failing, p.visible_teams().as_deref(), limit, offset.unwrap_or(0).max(0)).await?;
        let items = page
            .items
            .into_iter()
            .map(|r| PolicyResultRow {
                policy: r.policy,
                subject_kind: r.subject_kind,
                subject: r.subject,
                team: r.team,
                environment: r.environment,
                passed: r.passed,
                reason: r.reason,
                failing_since: r.failing_since,
            })
            .collect();
        Ok(Page { items, total: page.total })
    }

    /// Every team ranked by score, worst first, with last week's score.
    #[tracing::instrument(skip_all)]
    pub async fn scorecards(&self, who: Option<&Principal>) -> Result<Scorecards> {
        require(who, Action::ReadEstate, None)?;
        let scores = self.store.policy_scores().await?;
        let week_ago = (self.clock.now() - Duration::days(7)).date_naive();
        let old = self.store.snapshots(None, week_ago).await?;
        let mut by_team: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
        for s in &scores {
            by_team.entry(s.team.as_str()).or_default().push((s.subjects, s.failing));
        }
        let mut last_week: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
        for s in old.iter().filter(|s| s.day == week_ago) {
            last_week.entry(s.team.as_str()).or_default().push((s.subjects, s.failing));
        }
        let mut teams: Vec<TeamScoreRow> = by_team
            .into_iter()
            .map(|(team, counts)| {
                let score = crate::policy::overall(counts.iter().copied());
                TeamScoreRow {
                    team: (!team.is_empty()).then(|| team.to_string()),
                    grade: score.map(|s| crate::policy::grade(s).to_string()),
                    score,
                    subjects: counts.iter().map(|c| c.0).sum(),
                    failing: counts.iter().map(|c| c.1).sum(),
                    score_last_week: last_week.get(team).and_then(|c| crate::policy::overall(c.iter().copied())),
                }
            })
            .collect();
        teams.sort_by(|a, b| a.score.unwrap_or(101.0).total_cmp(&b.score.unwrap_or(101.0)).then(a.team.cmp(&b.team)));
        Ok(Scorecards { teams, evaluated_at: scores.iter().map(|s| s.evaluated_at).max(), formula: crate::policy::FORMULA.into() })
    }

    /// One team's scorecard: its details (developers and managers: their own teams), with the
    /// failing subjects in `window`. The team `-` is the subjects no team owns (no team may be
    /// named so).
    #[tracing::instrument(skip(self, who))]
    pub async fn team_scorecard(&self, who: Option<&Principal>, team: &str, window: FailingWindow<'_>) -> Result<TeamScorecard> {
        require(who, Action::ReadEstate, None)?;
        let key = if team == UNOWNED { "" } else { team };
        require(who, Action::ReadTeamDetails, (!key.is_empty()).then_some(key))?;
        if let Some(p) = window.policy {
            known_policy(p)?;
        }
        let scores: Vec<_> = self.store.policy_scores().await?.into_iter().filter(|s| s.team == key).collect();
        let policies = policy_scores(&scores);
        let score = crate::policy::overall(scores.iter().map(|s| (s.subjects, s.failing)));
        if scores.is_empty() && !key.is_empty() && !self.store.team_exists(key).await? {
            return Err(Error::NotFound(format!("no team is named {key:?}")));
        }
        let failing_total = scores.iter().filter(|s| window.policy.is_none_or(|p| p == s.policy)).map(|s| s.failing).sum();
        let (offset, limit) = (window.offset.max(0), window.limit.clamp(1, 500));
        let failing = self
            .store
            .failing_results(key, window.policy, limit, offset)
            .await?
            .into_iter()
            .map(|r| FailingSubject {
                policy: r.policy,
                subject_kind: r.subject_kind,
                subject: r.subject,
                environment: r.environment,
                reason: r.reason,
                failing_since: r.failing_since,
            })
            .collect();
        let since = (self.clock.now() - Duration::days(90)).date_naive();
        let trend = daily_scores(&self.store.snapshots(Some(key), since).await?);
        Ok(TeamScorecard {
            team: team.into(),
            grade: score.map(|s| crate::policy::grade(s).to_string()),
            score,
            policies,
            failing,
            failing_total,
            trend,
            evaluated_at: scores.iter().map(|s| s.evaluated_at).max(),
            formula: crate::policy::FORMULA.into(),
        })
    }
}
