//! The campaign engine: which images a selector affects, the items they make, bringing items up
//! to date with what runs (fixed only when the fix runs), and the escalation pass (decide each
//! due (item, level) once, queue one digest per recipient, deliver with retries).
//!
//! One pass (`pass`) is what the `campaign.escalate` job and `drydock escalate --once` run:
//! `refresh.rs` brings items up to date, `escalation.rs` decides and delivers.

use crate::store::capabilities::*;
pub mod escalation;
pub mod notify;
pub mod refresh;

use crate::domain::campaign::{sla_deadline, Ladder, Level, Selector};
use crate::domain::policy::{Rule, Scope, SlaParams};
use crate::store::{Actor, CampaignItemRecord, CampaignRecord, NewCampaignItem, StoreError};
use app::types::{EscalationReport, Severity};
use chrono::{DateTime, NaiveDate, Utc};
pub use escalation::{compose, deliver, escalate, retry_after, MAX_ATTEMPTS};
pub use notify::{Lookup, Notifier, SystemLookup};
pub use refresh::refresh;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A workload: (cluster, namespace, `Kind/name`).
pub(crate) type WorkloadKey = (String, String, String);
/// A workload's live containers: (the image row each runs, whether that image was scanned).
pub(crate) type Containers = Vec<(Option<i64>, bool)>;

/// The actor of what the escalation does on its own (ledger entries).
pub const ACTOR: &str = "system:escalation";

/// An image the selector matches, with what its deadline derives from.
#[derive(Debug, Clone)]
pub struct Affected {
    pub digest: String,
    pub team: Option<String>,
    /// The worst severity of its matching findings.
    pub severity: Severity,
    /// The earliest first sighting of its matching findings.
    pub first_seen: DateTime<Utc>,
    pub kev: bool,
    pub epss: Option<f64>,
}

/// A registered vendor image's items go to the owner responsible for its updates, not to the team
/// of the repository it was found in: the register's `owner_team`, or no team when a person owns
/// it (the escalation writes to that person at every level, `vendor_people`). Nothing is read
/// when the register is empty.
async fn to_vendor_owners(store: &impl VendorStore, affected: &mut BTreeMap<i64, Affected>) -> Result<(), StoreError> {
    let register = crate::policy::vendor_register(store).await?;
    if register.entries().is_empty() || affected.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = affected.keys().copied().collect();
    for (id, repository) in store.repositories_of(&ids).await? {
        if let (Some(entry), Some(a)) = (register.entry_of(&repository), affected.get_mut(&id)) {
            a.team = entry.owner_team.clone();
        }
    }
    Ok(())
}

/// The person responsible for each image among `ids` that the register gives to a person.
pub(crate) async fn vendor_people(store: &impl VendorStore, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
    let register = crate::policy::vendor_register(store).await?;
    if ids.is_empty() || !register.entries().iter().any(|e| e.owner_person.is_some()) {
        return Ok(HashMap::new());
    }
    let mut out = HashMap::new();
    for (id, repository) in store.repositories_of(ids).await? {
        if let Some(person) = register.entry_of(&repository).and_then(|e| e.owner_person.clone()) {
            out.insert(id, person);
        }
    }
    Ok(out)
}

/// Open findings the selector matches, by image row: read summed per image (and installed
/// version, severity, KEV) by id and by package; a package's versions are then kept by the range.
pub async fn affected(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
    sel: &Selector,
) -> Result<BTreeMap<i64, Affected>, StoreError> {
    let mut rows = Vec::new();
    for id in sel.cves() {
        rows.extend(store.affected_by_vulnerability(id).await?);
    }
    if let Some(c) = sel.package() {
        let mut inside: HashMap<String, bool> = HashMap::new();
        rows.extend(
            store
                .affected_by_package(c)
                .await?
                .into_iter()
                .filter(|m| *inside.entry(m.installed.clone()).or_insert_with(|| sel.version_selected(&m.installed))),
        );
    }
    let mut out: BTreeMap<i64, Affected> = BTreeMap::new();
    for m in rows {
        let a = out.entry(m.image_row).or_insert_with(|| Affected {
            digest: m.digest,
            team: m.team,
            severity: m.severity,
            first_seen: m.first_seen,
            kev: false,
            epss: None,
        });
        a.severity = a.severity.min(m.severity);
        a.first_seen = a.first_seen.min(m.first_seen);
        a.kev |= m.kev;
        a.epss = match (a.epss, m.epss) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
    }
    to_vendor_owners(store, &mut out).await?;
    Ok(out)
}

/// The vulnerability SLA policy's parameters in force (its defaults when it is not saved).
pub async fn sla_params(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
) -> Result<SlaParams, StoreError> {
    let policies = crate::policy::in_force(&store.policies().await?);
    Ok(policies
        .into_iter()
        .find_map(|p| match p.rule {
            Rule::VulnerabilitySla(s) => Some(s),
            _ => None,
        })
        .unwrap_or_default())
}

/// Days the SLA gives an image's findings: by worst severity, tighter when known-exploited or
/// likely exploited (EPSS at or above the threshold).
pub fn sla_days(p: &SlaParams, a: &Affected) -> i64 {
    let mut days = match a.severity {
        Severity::Critical => p.critical_days,
        Severity::High => p.high_days,
        Severity::Medium => p.medium_days,
        Severity::Low | Severity::Negligible | Severity::Unknown => p.low_days,
    };
    if let (true, Some(k)) = (a.kev, p.kev_days) {
        days = days.min(k);
    }
    if let (Some(t), Some(e)) = (p.epss_threshold, a.epss) {
        if e >= t {
            days = days.min(p.epss_days);
        }
    }
    days
}

/// Workloads running each of `ids` now (an index through its platforms).
pub(crate) async fn running_workloads(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
    ids: &[i64],
) -> Result<HashMap<i64, BTreeSet<WorkloadKey>>, StoreError> {
    let mut out: HashMap<i64, BTreeSet<WorkloadKey>> = HashMap::new();
    for (id, cluster, namespace, workload) in store.running_workload_keys(ids).await? {
        out.entry(id).or_default().insert((cluster, namespace, workload));
    }
    Ok(out)
}

/// The items `affected` images within `scope` make: the campaign's deadline, else each from the
/// SLA. A team scope keeps that team's images; a namespace or environment scope keeps the images
/// running there now.
pub async fn new_items(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
    affected: &BTreeMap<i64, Affected>,
    scope: &Scope,
    deadline: Option<NaiveDate>,
    start: DateTime<Utc>,
    sla: &SlaParams,
) -> Result<Vec<NewCampaignItem>, StoreError> {
    let ids: Vec<i64> = affected.keys().copied().collect();
    let mut running = running_workloads(store, &ids).await?;
    let rules = match scope {
        Scope::Environment(_) => store.environment_rules().await?,
        _ => vec![],
    };
    let within = |id: &i64, a: &Affected| match scope {
        Scope::All => true,
        Scope::Team(t) => a.team.as_deref() == Some(t.as_str()),
        Scope::Namespace(n) => running.get(id).is_some_and(|w| w.iter().any(|(_, ns, _)| ns == n)),
        Scope::Environment(e) => running
            .get(id)
            .is_some_and(|w| w.iter().any(|(c, ns, _)| crate::policy::environment_of(&rules, c, ns).is_some_and(|r| &r.environment == e))),
    };
    let kept: std::collections::HashSet<i64> = affected.iter().filter(|(id, a)| within(id, a)).map(|(id, _)| *id).collect();
    Ok(affected
        .iter()
        .filter(|(id, _)| kept.contains(id))
        .map(|(id, a)| NewCampaignItem {
            image_id: *id,
            digest: a.digest.clone(),
            team: a.team.clone(),
            severity: a.severity.as_str().to_string(),
            first_seen: a.first_seen,
            deadline: deadline.unwrap_or_else(|| sla_deadline(start, a.first_seen, sla_days(sla, a))),
            workloads: running.remove(id).map(|s| s.into_iter().collect()).unwrap_or_default(),
        })
        .collect())
}

/// Creates a campaign over what `selector` affects now: one item per affected image, each with
/// the campaign's deadline or its SLA deadline, in one transaction (audited). Answers its id and
/// its items as written.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
    title: &str,
    selector: &Selector,
    scope: &Scope,
    deadline: Option<NaiveDate>,
    ladder: &Ladder,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(i64, Vec<CampaignItemRecord>), StoreError> {
    let affected = affected(store, selector).await?;
    let sla = sla_params(store).await?;
    let items = new_items(store, &affected, scope, deadline, now, &sla).await?;
    let new = crate::store::NewCampaign {
        title: title.to_string(),
        cves: selector.cves().to_vec(),
        package: selector.package().map(|c| c.to_string()),
        range: selector.range().map(|r| r.to_string()),
        scope: scope.as_string(),
        deadline,
        ladder: serde_json::to_value(ladder.levels()).unwrap_or_default(),
    };
    store.create_campaign(&new, &items, actor, now).await
}

/// A stored campaign's selector.
pub fn selector_of(c: &CampaignRecord) -> Result<Selector, String> {
    let cves: Vec<String> = serde_json::from_str(&c.cves).map_err(|e| format!("campaign {}: cves: {e}", c.id))?;
    Selector::parse(&cves, c.package.as_deref(), c.range_vers.as_deref()).map_err(|e| format!("campaign {}: {e}", c.id))
}

/// A stored ladder (the default when it no longer reads).
pub fn ladder_of(json: &str) -> Ladder {
    serde_json::from_str::<Vec<Level>>(json).ok().and_then(|l| Ladder::new(l).ok()).unwrap_or_else(Ladder::default_ladder)
}

/// One escalation pass at `now`: items brought up to date, due levels decided and queued once,
/// messages delivered.
pub async fn pass(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
    notifier: &Notifier,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<EscalationReport, StoreError> {
    let (joined, changed, errors) = refresh(store, now).await?;
    let run = format!("{worker}:{}", crate::domain::random_hex(8));
    let (escalations, messages) = escalate(store, &run, now).await?;
    let (sent, failed) = deliver(store, notifier, worker, now).await?;
    Ok(EscalationReport { joined, changed, escalations, messages, sent, failed, errors })
}
