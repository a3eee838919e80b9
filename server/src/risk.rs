//! The "fix these first" ranking, made by a job from stored data (never on a request): for each
//! vulnerability, its affected images, the containers running them by environment, KEV and EPSS,
//! scored by `domain::risk`. Kept per scope: the estate (`*`, the top `ESTATE_TOP`), each team and
//! the images of no team (`''`, the top `TEAM_TOP` each). A run over an unchanged data version
//! does nothing.

use crate::domain::risk::{score, Exposure};
use crate::store::capabilities::*;
use crate::store::{RiskFinding, RiskInputs, RiskRecord, StoreError};
use app::types::Severity;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Vulnerabilities kept for the estate, and for each team.
pub const ESTATE_TOP: usize = 5000;
pub const TEAM_TOP: usize = 200;
/// The scope of the estate's ranking.
pub const ESTATE: &str = "*";
/// The key of running containers in no environment, and of images running nowhere.
pub const NO_ENVIRONMENT: &str = "none";
pub const REGISTRY_ONLY: &str = "registry-only";

/// Where one image runs: containers by environment, and how many in production.
#[derive(Debug, Clone, Default)]
struct Placement {
    by_environment: BTreeMap<String, i64>,
    production: i64,
    containers: i64,
}

/// One vulnerability's figures in one scope, as they add up.
#[derive(Debug, Clone)]
struct Tally {
    severity: Severity,
    kev: bool,
    epss: Option<f64>,
    images: i64,
    exposure: Exposure,
    environments: BTreeMap<String, i64>,
    teams: BTreeSet<String>,
}

impl Tally {
    fn new(f: &RiskFinding) -> Tally {
        Tally {
            severity: f.severity,
            kev: f.kev,
            epss: f.epss,
            images: 0,
            exposure: Exposure::default(),
            environments: BTreeMap::new(),
            teams: BTreeSet::new(),
        }
    }

    /// Counts one affected image (its worst finding of the vulnerability, where it runs, its team).
    fn add(&mut self, f: &RiskFinding, at: Option<&Placement>, team: Option<&str>) {
        self.severity = self.severity.min(f.severity);
        self.kev |= f.kev;
        self.epss = higher(self.epss, f.epss);
        self.images += 1;
        match at.filter(|p| p.containers > 0) {
            Some(p) => {
                self.exposure.production += p.production;
                self.exposure.other += p.containers - p.production;
                for (env, n) in &p.by_environment {
                    *self.environments.entry(env.clone()).or_default() += n;
                }
            }
            None => {
                self.exposure.registry_only += 1;
                *self.environments.entry(REGISTRY_ONLY.into()).or_default() += 1;
            }
        }
        if let Some(t) = team {
            self.teams.insert(t.to_string());
        }
    }

    fn record(self, scope: &str, vulnerability: &str) -> RiskRecord {
        RiskRecord {
            scope: scope.to_string(),
            vulnerability: vulnerability.to_string(),
            score: score(self.severity, self.kev, self.epss, &self.exposure),
            severity: self.severity.as_str().to_string(),
            kev: self.kev,
            epss: self.epss,
            images: self.images,
            instances: self.exposure.production + self.exposure.other,
            production: self.exposure.production,
            other: self.exposure.other,
            registry_only: self.exposure.registry_only,
            environments: serde_json::to_string(&self.environments).unwrap_or_else(|_| "{}".into()),
            teams: serde_json::to_string(&self.teams).unwrap_or_else(|_| "[]".into()),
        }
    }
}

/// The higher of two EPSS probabilities (either may be unknown).
pub fn higher(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Each image's placement: live containers by environment (an index counts its platforms' too).
fn placements(inputs: &RiskInputs) -> HashMap<i64, Placement> {
    let mut out: HashMap<i64, Placement> = HashMap::new();
    let mut indexes: HashMap<i64, Vec<i64>> = HashMap::new();
    for (child, index) in &inputs.platforms {
        indexes.entry(*child).or_default().push(*index);
    }
    for run in &inputs.runs {
        let Some(row) = run.image_row else { continue };
        let env = crate::policy::environment_of(&inputs.environments, &run.cluster, &run.namespace);
        let name = env.map(|e| e.environment.clone()).unwrap_or_else(|| NO_ENVIRONMENT.into());
        let production = env.is_some_and(|e| e.production);
        for id in std::iter::once(row).chain(indexes.get(&row).into_iter().flatten().copied()) {
            let p = out.entry(id).or_default();
            *p.by_environment.entry(name.clone()).or_default() += 1;
            p.production += i64::from(production);
            p.containers += 1;
        }
    }
    out
}

/// The worst finding of each (image, vulnerability).
fn worst_per_image(findings: Vec<RiskFinding>) -> Vec<RiskFinding> {
    let mut by: BTreeMap<(i64, String), RiskFinding> = BTreeMap::new();
    for f in findings {
        match by.get_mut(&(f.image_id, f.vulnerability.clone())) {
            Some(w) => {
                w.severity = w.severity.min(f.severity);
                w.kev |= f.kev;
                w.epss = higher(w.epss, f.epss);
            }
            None => {
                by.insert((f.image_id, f.vulnerability.clone()), f);
            }
        }
    }
    by.into_values().collect()
}

/// The top `n` of one scope's tallies by score, as records.
fn top(scope: &str, tallies: HashMap<String, Tally>, n: usize) -> Vec<RiskRecord> {
    let mut rows: Vec<RiskRecord> = tallies.into_iter().map(|(v, t)| t.record(scope, &v)).collect();
    rows.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.vulnerability.cmp(&b.vulnerability)));
    rows.truncate(n);
    rows
}

/// Ranks the estate's vulnerabilities and stores the ranking, unless nothing changed since the
/// last one; answers how many rows were stored (none: skipped).
pub async fn rank(store: &crate::store::Store, now: DateTime<Utc>) -> Result<Option<usize>, StoreError> {
    let version = store.data_version().await?;
    if store.risk_ranked().await?.is_some_and(|(v, _)| v == version) {
        return Ok(None);
    }
    let inputs = store.risk_inputs().await?;
    let at = placements(&inputs);
    let teams: HashMap<i64, Option<String>> = inputs.images.iter().cloned().collect();
    let ids: Vec<i64> = inputs.images.iter().map(|(id, _)| *id).collect();
    let mut estate: HashMap<String, Tally> = HashMap::new();
    let mut per_team: HashMap<String, HashMap<String, Tally>> = HashMap::new();
    for chunk in ids.chunks(crate::policy::EVALUATION_CHUNK) {
        for f in worst_per_image(store.risk_findings(chunk).await?) {
            let team = teams.get(&f.image_id).cloned().flatten();
            let place = at.get(&f.image_id);
            estate.entry(f.vulnerability.clone()).or_insert_with(|| Tally::new(&f)).add(&f, place, team.as_deref());
            let scope = per_team.entry(team.clone().unwrap_or_default()).or_default();
            scope.entry(f.vulnerability.clone()).or_insert_with(|| Tally::new(&f)).add(&f, place, team.as_deref());
        }
    }
    let mut rows = top(ESTATE, estate, ESTATE_TOP);
    for (team, tallies) in per_team {
        rows.extend(top(&team, tallies, TEAM_TOP));
    }
    store.replace_risk(&rows, now).await?;
    Ok(Some(rows.len()))
}
