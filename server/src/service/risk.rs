//! "Fix these first": the stored risk ranking, scoped to the caller (security and viewers see the
//! estate, a team's people their teams; `team` asks for one team's).

use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::risk::{score, Exposure};
use crate::store::capabilities::*;
use crate::store::RiskRecord;
use app::types::{RiskItem, RiskList, Severity};
use std::collections::BTreeMap;

fn item(r: RiskRecord) -> RiskItem {
    RiskItem {
        vulnerability: r.vulnerability,
        score: r.score,
        severity: r.severity,
        kev: r.kev,
        epss: r.epss,
        images: r.images,
        instances: r.instances,
        environments: serde_json::from_str(&r.environments).unwrap_or_default(),
        teams: serde_json::from_str(&r.teams).unwrap_or_default(),
    }
}

/// Several teams' rankings as one: each vulnerability's figures summed (an image belongs to one
/// team, so nothing counts twice) and scored again, highest first.
fn merged(rows: Vec<RiskRecord>) -> Vec<RiskItem> {
    let mut by: BTreeMap<String, (RiskItem, Exposure)> = BTreeMap::new();
    for r in rows {
        let e = Exposure { production: r.production, other: r.other, registry_only: r.registry_only };
        let next = item(r);
        match by.get_mut(&next.vulnerability) {
            None => {
                by.insert(next.vulnerability.clone(), (next, e));
            }
            Some((m, exposure)) => {
                exposure.add(&e);
                let worst = |s: &str| s.parse::<Severity>().unwrap_or(Severity::Unknown);
                if worst(&next.severity) < worst(&m.severity) {
                    m.severity = next.severity;
                }
                m.kev |= next.kev;
                m.epss = crate::risk::higher(m.epss, next.epss);
                m.images += next.images;
                m.instances += next.instances;
                for (k, v) in next.environments {
                    *m.environments.entry(k).or_default() += v;
                }
                m.teams.extend(next.teams);
                m.teams.sort();
                m.teams.dedup();
            }
        }
    }
    let mut items: Vec<RiskItem> = by
        .into_values()
        .map(|(mut m, e)| {
            m.score = score(m.severity.parse().unwrap_or(Severity::Unknown), m.kev, m.epss, &e);
            m
        })
        .collect();
    items.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.vulnerability.cmp(&b.vulnerability)));
    items
}

impl Service {
    /// The ranking the caller may see: `team`'s (its details' readers), else the estate's for an
    /// estate-wide role, else the caller's teams' together.
    #[tracing::instrument(skip(self, who))]
    pub async fn risk(&self, who: Option<&Principal>, team: Option<&str>, limit: Option<i64>, offset: Option<i64>) -> Result<RiskList> {
        let p = require(who, Action::ReadEstate, None)?;
        let limit = limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(Error::invalid("limit", "between 1 and 1000"));
        }
        let offset = offset.unwrap_or(0);
        if !(0..=1_000_000).contains(&offset) {
            return Err(Error::invalid("offset", "between 0 and 1000000"));
        }
        let scopes: Option<Vec<String>> = match team {
            Some(t) => {
                let name = crate::domain::TeamName::parse(t).map_err(|e| Error::invalid("team", e))?;
                require(who, Action::ReadTeamDetails, Some(name.as_str()))?;
                if !self.store.team_exists(name.as_str()).await? {
                    return Err(Error::NotFound(format!("no team is named {:?}", name.as_str())));
                }
                Some(vec![name.as_str().to_string()])
            }
            None => p.visible_teams(),
        };
        let (items, total) = match scopes.as_deref() {
            None => self.store.risk_page(crate::risk::ESTATE, limit, offset).await.map(|(r, n)| (r.into_iter().map(item).collect(), n))?,
            Some([one]) => self.store.risk_page(one, limit, offset).await.map(|(r, n)| (r.into_iter().map(item).collect(), n))?,
            Some(many) => {
                let all = merged(self.store.risk_of_scopes(many).await?);
                let n = all.len() as i64;
                (all.into_iter().skip(offset as usize).take(limit as usize).collect(), n)
            }
        };
        Ok(RiskList {
            items,
            total,
            teams: scopes.unwrap_or_default(),
            ranked_at: self.store.risk_ranked().await?.map(|(_, at)| at),
            formula: crate::domain::risk::FORMULA.into(),
        })
    }
}
