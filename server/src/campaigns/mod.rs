//! The campaign engine: which images a selector affects, the items they make, bringing items up
//! to date with what runs (fixed only when the fix runs), and the escalation pass (decide each
//! due (item, level) once, queue one digest per recipient, deliver with retries).
//!
//! One pass (`pass`) is what the `campaign.escalate` job and `drydock escalate --once` run.

pub mod notify;

use crate::domain::campaign::{due_levels, sla_deadline, EscalationFacts, ItemState, Ladder, Level, Selector};
use crate::domain::policy::{Rule, Scope, SlaParams};
use crate::store::{
    Actor, CampaignItemRecord, CampaignRecord, ContactRecord, EscalationItemRecord, ItemUpdate, NewCampaignItem, NewMessage, Store,
    StoreError,
};
use app::types::{EscalationReport, Severity};
use chrono::{DateTime, Duration, NaiveDate, Utc};
pub use notify::Notifier;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A workload: (cluster, namespace, `Kind/name`).
type WorkloadKey = (String, String, String);
/// A workload's live containers: (the image row each runs, whether that image was scanned).
type Containers = Vec<(Option<i64>, bool)>;
/// Who a message goes to: (channel, address, the team of an inbox).
type Recipient = (String, String, Option<String>);

/// The actor of what the escalation does on its own (ledger entries).
pub const ACTOR: &str = "system:escalation";
/// A message is given up after this many failed attempts (the delivery log shows each).
pub const MAX_ATTEMPTS: i64 = 10;
/// Attempts made at once within one pass before a failed message waits for a later pass.
const ATTEMPTS_PER_PASS: i64 = 3;

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

/// Open findings the selector matches, by image row: the estate search's answer (by vulnerability
/// id, by package and range), one read per id and one for the package.
pub async fn affected(store: &Store, sel: &Selector) -> Result<BTreeMap<i64, Affected>, StoreError> {
    let mut rows = Vec::new();
    for id in sel.cves() {
        rows.extend(store.search_vulnerability(id).await?);
    }
    if let Some(c) = sel.package() {
        let mut inside: HashMap<String, bool> = HashMap::new();
        rows.extend(
            store
                .search_package(c)
                .await?
                .into_iter()
                .filter(|m| *inside.entry(m.installed.clone()).or_insert_with(|| sel.version_selected(&m.installed))),
        );
    }
    let mut out: BTreeMap<i64, Affected> = BTreeMap::new();
    for m in rows {
        let severity: Severity = m.severity.parse().unwrap_or(Severity::Unknown);
        let a = out.entry(m.image_row).or_insert_with(|| Affected {
            digest: m.digest.clone(),
            team: m.team.clone(),
            severity,
            first_seen: m.first_seen,
            kev: false,
            epss: None,
        });
        a.severity = a.severity.min(severity);
        a.first_seen = a.first_seen.min(m.first_seen);
        a.kev |= m.kev;
        a.epss = match (a.epss, m.epss) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
    }
    Ok(out)
}

/// The vulnerability SLA policy's parameters in force (its defaults when it is not saved).
pub async fn sla_params(store: &Store) -> Result<SlaParams, StoreError> {
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

/// A workload's key: `Kind/name`, or `Pod/<name>` for a pod of no workload.
fn workload_key(w: &crate::store::WorkloadRecord) -> WorkloadKey {
    (w.cluster.clone(), w.namespace.clone(), w.workload.clone().unwrap_or_else(|| format!("Pod/{}", w.pod)))
}

/// Workloads running each of `ids` now (an index through its platforms).
async fn running_workloads(store: &Store, ids: &[i64]) -> Result<HashMap<i64, BTreeSet<WorkloadKey>>, StoreError> {
    let facts = store.matched_images(ids, None).await?;
    let mut out: HashMap<i64, BTreeSet<WorkloadKey>> = HashMap::new();
    for (id, w) in &facts.running {
        out.entry(*id).or_default().insert(workload_key(w));
    }
    Ok(out)
}

/// The items `affected` images within `scope` make: the campaign's deadline, else each from the
/// SLA. A team scope keeps that team's images; a namespace or environment scope keeps the images
/// running there now.
pub async fn new_items(
    store: &Store,
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
    let kept: Vec<i64> = affected.iter().filter(|(id, a)| within(id, a)).map(|(id, _)| *id).collect();
    Ok(affected
        .iter()
        .filter(|(id, _)| kept.contains(id))
        .map(|(id, a)| NewCampaignItem {
            image_id: *id,
            team: a.team.clone(),
            severity: a.severity.as_str().to_string(),
            first_seen: a.first_seen,
            deadline: deadline.unwrap_or_else(|| sla_deadline(start, a.first_seen, sla_days(sla, a))),
            workloads: running.remove(id).map(|s| s.into_iter().collect()).unwrap_or_default(),
        })
        .collect())
}

/// Creates a campaign over what `selector` affects now: one item per affected image, each with
/// the campaign's deadline or its SLA deadline, in one transaction (audited). Answers its id.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    store: &Store,
    title: &str,
    selector: &Selector,
    scope: &Scope,
    deadline: Option<NaiveDate>,
    ladder: &Ladder,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
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

/// What an item becomes given what runs now. `followed`: the live containers of each workload the
/// item follows, as (image row, scanned); `affected_row` tells whether an image row is affected.
fn judge(
    item: &CampaignItemRecord,
    still_affected: bool,
    followed: &BTreeMap<WorkloadKey, Containers>,
    affected_row: &dyn Fn(i64) -> bool,
    today: NaiveDate,
) -> (ItemState, bool) {
    let current = ItemState::parse(&item.state).unwrap_or(ItemState::Open);
    // An approved exception that has expired reopens the item.
    let mut expired = false;
    let mut base = current;
    if current == ItemState::Excepted && item.exception_until.is_some_and(|u| u < today) {
        base = if item.acknowledged_by.is_some() { ItemState::Acknowledged } else { ItemState::Open };
        expired = true;
    }
    // Where the item stands when nothing is fixed: its own state (pending goes back).
    let unfixed = match base {
        ItemState::PendingVerification => {
            if item.acknowledged_by.is_some() {
                ItemState::Acknowledged
            } else {
                ItemState::Open
            }
        }
        s => s,
    };
    if followed.is_empty() {
        // It never ran: only a later scan of the image that is no longer affected closes it.
        return (if still_affected { unfixed } else { ItemState::Fixed }, expired);
    }
    let live: Vec<&Containers> = followed.values().filter(|c| !c.is_empty()).collect();
    if live.is_empty() {
        return (ItemState::Retired, expired);
    }
    let containers = live.iter().flat_map(|c| c.iter());
    let mut pending = false;
    for (row, scanned) in containers {
        match row {
            Some(r) if affected_row(*r) => return (unfixed, expired),
            Some(_) if *scanned => {}
            _ => pending = true,
        }
    }
    if pending {
        // Excepted items stay excepted until the new image is verified.
        (if base == ItemState::Excepted { base } else { ItemState::PendingVerification }, expired)
    } else {
        (ItemState::Fixed, expired)
    }
}

/// Brings every campaign's items up to date with the estate: images found affected later join,
/// items follow the workloads that run their image, and close when the fix runs (or everything
/// behind them is gone). One transaction per campaign that changed. Answers (joined, changed).
pub async fn refresh(store: &Store, now: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
    let actor = Actor(ACTOR.into());
    let sla = sla_params(store).await?;
    let (campaigns, _) = store.campaigns(i64::MAX, 0).await?;
    let (mut joined_total, mut changed_total) = (0i64, 0i64);
    for c in campaigns {
        let sel = match selector_of(&c) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "a stored campaign's selector does not read; it is left as it is");
                continue;
            }
        };
        let hit = affected(store, &sel).await?;
        let items = store.campaign_items(&[c.id], None).await?;
        let have: HashSet<i64> = items.iter().map(|i| i.image_id).collect();
        let new: BTreeMap<i64, Affected> = hit.iter().filter(|(id, _)| !have.contains(id)).map(|(id, a)| (*id, a.clone())).collect();
        let scope = Scope::parse(&c.scope).unwrap_or(Scope::All);
        let joined = new_items(store, &new, &scope, c.deadline, now, &sla).await?;

        let open: Vec<&CampaignItemRecord> =
            items.iter().filter(|i| !ItemState::parse(&i.state).is_some_and(ItemState::is_closed)).collect();
        let ids: Vec<i64> = open.iter().map(|i| i.id).collect();
        let mut follows: HashMap<i64, BTreeSet<WorkloadKey>> = HashMap::new();
        for (item, cluster, ns, w) in store.item_workloads(&ids).await? {
            follows.entry(item).or_default().insert((cluster, ns, w));
        }
        let images: Vec<i64> = open.iter().map(|i| i.image_id).collect();
        let running_now = running_workloads(store, &images).await?;
        let clusters: Vec<String> = follows
            .values()
            .chain(running_now.values())
            .flat_map(|s| s.iter().map(|(c, _, _)| c.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut containers: HashMap<WorkloadKey, Containers> = HashMap::new();
        for f in store.followed_containers(&clusters).await? {
            containers.entry((f.cluster, f.namespace, f.workload)).or_default().push((f.image_row, f.scanned));
        }
        // An index is affected through its platforms.
        let rows: Vec<i64> = containers.values().flatten().filter_map(|(r, _)| *r).collect::<BTreeSet<_>>().into_iter().collect();
        let mut platforms: HashMap<i64, Vec<i64>> = HashMap::new();
        for (index, child) in store.platforms_of(&rows).await? {
            platforms.entry(index).or_default().push(child);
        }
        let affected_row = |r: i64| hit.contains_key(&r) || platforms.get(&r).is_some_and(|c| c.iter().any(|x| hit.contains_key(x)));

        let mut updates = Vec::new();
        for item in open {
            let mut followed_keys = follows.remove(&item.id).unwrap_or_default();
            let now_running = running_now.get(&item.image_id).cloned().unwrap_or_default();
            let new_workloads: Vec<WorkloadKey> = now_running.difference(&followed_keys).cloned().collect();
            followed_keys.extend(new_workloads.iter().cloned());
            let followed: BTreeMap<WorkloadKey, Containers> =
                followed_keys.iter().map(|k| (k.clone(), containers.get(k).cloned().unwrap_or_default())).collect();
            let (state, expired) = judge(item, hit.contains_key(&item.image_id), &followed, &affected_row, now.date_naive());
            let running = !now_running.is_empty();
            let workloads = followed_keys.len() as i64;
            if state.as_str() != item.state
                || running != item.running
                || workloads != item.workloads
                || !new_workloads.is_empty()
                || expired
            {
                updates.push(ItemUpdate {
                    id: item.id,
                    state: state.as_str().into(),
                    running,
                    workloads,
                    new_workloads,
                    exception_expired: expired,
                });
            }
        }
        if !joined.is_empty() || !updates.is_empty() {
            let (j, u) = store.apply_campaign_refresh(c.id, &joined, &updates, &actor, now).await?;
            joined_total += j as i64;
            changed_total += u as i64;
        }
    }
    Ok((joined_total, changed_total))
}

fn level_word(days: i64) -> String {
    match days {
        d if d < 0 => format!("reminder: due in {} days", -d),
        0 => "due today: the deadline is reached".into(),
        d => format!("overdue by {d} days"),
    }
}

/// The digest messages for the (item, level) pairs a run took: one per recipient (an e-mail
/// address, a webhook, a team's inbox), each listing all of that recipient's items.
pub fn compose(taken: &[(i64, i64)], items: &HashMap<i64, EscalationItemRecord>, contacts: &[ContactRecord]) -> Vec<NewMessage> {
    // recipient (channel, address, team of the inbox) → (item, level) pairs
    let mut by_recipient: BTreeMap<Recipient, Vec<(i64, i64)>> = BTreeMap::new();
    for &(item_id, level) in taken {
        let Some(item) = items.get(&item_id) else { continue };
        let team = item.team.clone().unwrap_or_default();
        by_recipient.entry(("inbox".into(), team.clone(), item.team.clone())).or_default().push((item_id, level));
        for c in contacts.iter().filter(|c| c.level == level && (c.team == team || c.team.is_empty())) {
            if let Some(e) = &c.email {
                by_recipient.entry(("email".into(), e.clone(), None)).or_default().push((item_id, level));
            }
            if let Some(w) = &c.webhook {
                by_recipient.entry(("webhook".into(), w.clone(), None)).or_default().push((item_id, level));
            }
        }
    }
    by_recipient
        .into_iter()
        .map(|((channel, address, inbox_team), mut pairs)| {
            pairs.sort();
            pairs.dedup();
            let teams: BTreeSet<String> =
                pairs.iter().filter_map(|(i, _)| items.get(i)).map(|i| i.team.clone().unwrap_or_else(|| "no team".into())).collect();
            let top = pairs.iter().map(|(_, l)| *l).max().unwrap_or(0);
            let subject = format!(
                "Drydock: {} patch item{} need{} action ({})",
                pairs.len(),
                if pairs.len() == 1 { "" } else { "s" },
                if pairs.len() == 1 { "s" } else { "" },
                teams.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            let mut body = String::from("These patch campaign items need action:\n\n");
            for (item_id, level) in &pairs {
                let Some(it) = items.get(item_id) else { continue };
                let ladder = ladder_of(&it.ladder);
                let days = ladder.levels().iter().find(|l| l.level == *level).map(|l| l.days).unwrap_or(0);
                body.push_str(&format!(
                    "- [level {level}, {}] campaign #{} \"{}\", item #{}: image {} of team {}, deadline {}, state {}, {}\n",
                    level_word(days),
                    it.campaign_id,
                    it.campaign_title,
                    it.id,
                    it.digest,
                    it.team.as_deref().unwrap_or("(no team)"),
                    it.deadline,
                    it.state,
                    if it.running { format!("running in {} workload(s)", it.workloads) } else { "not running anywhere".into() },
                ));
            }
            body.push_str("\nAcknowledge with a planned date, or request a risk exception, on Drydock's Required updates page.\n");
            NewMessage { channel, address, team: inbox_team.filter(|t| !t.is_empty()), level: top, subject, body, items: pairs }
        })
        .collect()
}

/// Decides what is due at `now` and queues its messages; answers (escalations, messages).
pub async fn escalate(store: &Store, run: &str, now: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
    let items = store.escalation_items().await?;
    let mut due = Vec::new();
    for it in &items {
        let ladder = ladder_of(&it.ladder);
        let facts = EscalationFacts {
            state: ItemState::parse(&it.state).unwrap_or(ItemState::Open),
            deadline: it.deadline,
            exception_until: if it.exception_state.as_deref() == Some("approved") { it.exception_until } else { None },
            delivered: it.delivered.as_deref().unwrap_or("").split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        };
        due.extend(due_levels(&ladder, &facts, now).into_iter().map(|l| (it.id, l)));
    }
    if due.is_empty() {
        return Ok((0, 0));
    }
    let contacts = store.contacts().await?;
    let by_id: HashMap<i64, EscalationItemRecord> = items.into_iter().map(|i| (i.id, i)).collect();
    let (taken, messages) =
        store.record_escalation(run, &due, |taken| compose(taken, &by_id, &contacts), &Actor(ACTOR.into()), now).await?;
    Ok((taken as i64, messages as i64))
}

/// The pause before attempt `attempts + 1` of a failed message: 1 minute, doubling, at most an hour.
pub fn retry_after(attempts: i64) -> Duration {
    Duration::minutes((1i64 << attempts.clamp(0, 6)).min(60))
}

/// Sends every queued message due at `now` that this worker can claim: a few attempts at once
/// (a short pause between), then later passes; each attempt is logged. A destination that failed
/// every attempt of one message (the SMTP server, one webhook) gets a single attempt per message
/// for the rest of the pass, so a server that is down does not hold the pass. Answers (sent,
/// failed attempts).
pub async fn deliver(store: &Store, notifier: &Notifier, worker: &str, now: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
    let (mut sent, mut failed) = (0i64, 0i64);
    let mut down: HashSet<String> = HashSet::new();
    loop {
        let batch = store.claim_messages(worker, now, now + Duration::minutes(10), 50).await?;
        if batch.is_empty() {
            break;
        }
        for m in batch {
            let mut attempts = m.attempts;
            let destination = if m.channel == "email" { "email".to_string() } else { m.address.clone() };
            let rounds = if down.contains(&destination) { 1 } else { ATTEMPTS_PER_PASS };
            for round in 0..rounds {
                match notifier.send(&m.channel, &m.address, &m.subject, &m.body).await {
                    Ok(answer) => {
                        store.record_attempt(m.id, worker, Ok(&answer), now).await?;
                        sent += 1;
                        break;
                    }
                    Err(e) => {
                        failed += 1;
                        attempts += 1;
                        let give_up = attempts >= MAX_ATTEMPTS;
                        let last_round = round + 1 == rounds;
                        let retry = if give_up { None } else { Some(if last_round { now + retry_after(attempts) } else { now }) };
                        tracing::warn!(message = m.id, channel = %m.channel, error = %e, "a message could not be delivered");
                        store.record_attempt(m.id, worker, Err((&e, retry)), now).await?;
                        if give_up || last_round {
                            down.insert(destination.clone());
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(300 * (round as u64 + 1))).await;
                    }
                }
            }
        }
    }
    Ok((sent, failed))
}

/// One escalation pass at `now`: items brought up to date, due levels decided and queued once,
/// messages delivered.
pub async fn pass(store: &Store, notifier: &Notifier, worker: &str, now: DateTime<Utc>) -> Result<EscalationReport, StoreError> {
    let (joined, changed) = refresh(store, now).await?;
    let run = format!("{worker}:{}", crate::domain::random_hex(8));
    let (escalations, messages) = escalate(store, &run, now).await?;
    let (sent, failed) = deliver(store, notifier, worker, now).await?;
    Ok(EscalationReport { joined, changed, escalations, messages, sent, failed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(state: &str) -> CampaignItemRecord {
        let t = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
        CampaignItemRecord {
            id: 1,
            campaign_id: 1,
            campaign_title: "t".into(),
            image_id: 10,
            digest: "sha256:x".into(),
            team: Some("web".into()),
            running: true,
            workloads: 1,
            state: state.into(),
            severity: "critical".into(),
            first_seen: t,
            deadline: t.date_naive(),
            planned: None,
            note: None,
            acknowledged_by: None,
            acknowledged_at: None,
            exception_state: None,
            exception_reason: None,
            exception_until: None,
            exception_by: None,
            exception_at: None,
            decision_note: None,
            decided_by: None,
            decided_at: None,
            created_at: t,
            updated_at: t,
            closed_at: None,
        }
    }

    fn key(w: &str) -> (String, String, String) {
        ("c".into(), "ns".into(), w.into())
    }

    #[test]
    fn fixed_only_when_every_followed_workload_runs_a_scanned_unaffected_image() {
        let today = "2026-12-05".parse().unwrap();
        let affected = |r: i64| r == 10;
        let one = |row: Option<i64>, scanned: bool| BTreeMap::from([(key("Deployment/web"), vec![(row, scanned)])]);
        assert_eq!(judge(&item("open"), true, &one(Some(10), true), &affected, today).0, ItemState::Open, "still the affected image");
        assert_eq!(
            judge(&item("open"), true, &one(Some(11), false), &affected, today).0,
            ItemState::PendingVerification,
            "new, not scanned"
        );
        assert_eq!(
            judge(&item("open"), true, &one(None, false), &affected, today).0,
            ItemState::PendingVerification,
            "a digest we have no row of"
        );
        assert_eq!(judge(&item("open"), true, &one(Some(11), true), &affected, today).0, ItemState::Fixed);
        assert_eq!(judge(&item("pending_verification"), true, &one(Some(10), true), &affected, today).0, ItemState::Open, "back to open");
        // Two workloads: one fixed, one not.
        let two = BTreeMap::from([(key("Deployment/a"), vec![(Some(11), true)]), (key("Deployment/b"), vec![(Some(10), true)])]);
        assert_eq!(judge(&item("acknowledged"), true, &two, &affected, today).0, ItemState::Acknowledged);
        // One gone, the other fixed: fixed. All gone: retired.
        let gone = BTreeMap::from([(key("Deployment/a"), vec![(Some(11), true)]), (key("Deployment/b"), vec![])]);
        assert_eq!(judge(&item("open"), true, &gone, &affected, today).0, ItemState::Fixed);
        let all_gone = BTreeMap::from([(key("Deployment/a"), vec![])]);
        assert_eq!(judge(&item("open"), true, &all_gone, &affected, today).0, ItemState::Retired);
        // Never ran: open until a scan says the image is no longer affected.
        assert_eq!(judge(&item("open"), true, &BTreeMap::new(), &affected, today).0, ItemState::Open);
        assert_eq!(judge(&item("open"), false, &BTreeMap::new(), &affected, today).0, ItemState::Fixed);
        // An expired exception reopens.
        let mut ex = item("excepted");
        ex.exception_until = Some("2026-12-04".parse().unwrap());
        assert_eq!(judge(&ex, true, &one(Some(10), true), &affected, today), (ItemState::Open, true));
        ex.exception_until = Some("2026-12-05".parse().unwrap());
        assert_eq!(judge(&ex, true, &one(Some(10), true), &affected, today), (ItemState::Excepted, false), "its last day");
    }
}
