//! Items brought up to date with the estate: images found affected later join, items follow the
//! workloads that ran their image, and close only when the fix runs (or everything behind them
//! is gone); an expired exception reopens its item.

use super::{affected, new_items, running_workloads, selector_of, sla_params, Affected, Containers, WorkloadKey, ACTOR};
use crate::domain::campaign::ItemState;
use crate::domain::policy::Scope;
use crate::store::capabilities::*;
use crate::store::{Actor, CampaignItemRecord, ItemUpdate, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What an item becomes given what runs now. `followed`: the live containers of each workload the
/// item follows, as (image row, scanned); `affected_row` tells whether an image row is affected.
pub(crate) fn judge(
    item: &CampaignItemRecord,
    still_affected: bool,
    followed: &BTreeMap<WorkloadKey, Containers>,
    affected_row: &dyn Fn(i64) -> bool,
    today: NaiveDate,
) -> (ItemState, bool) {
    let current = item.state;
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
/// behind them is gone). One transaction per campaign that changed. A campaign that cannot be
/// refreshed (an error, even a panic) is one error in the answer and the pass goes on with the
/// others. Answers (joined, changed, errors).
pub async fn refresh(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
    now: DateTime<Utc>,
) -> Result<(i64, i64, Vec<String>), StoreError> {
    use futures_util::FutureExt as _;
    let actor = Actor(ACTOR.into());
    let sla = sla_params(store).await?;
    let (campaigns, _) = store.campaigns(i64::MAX, 0).await?;
    let (mut joined_total, mut changed_total, mut errors) = (0i64, 0i64, Vec::new());
    for c in campaigns {
        let one = std::panic::AssertUnwindSafe(refresh_campaign(store, &c, &sla, &actor, now)).catch_unwind().await;
        match one {
            Ok(Ok((j, u))) => {
                joined_total += j;
                changed_total += u;
            }
            Ok(Err(e)) => errors.push(format!("campaign {}: {e}", c.id)),
            Err(panic) => errors.push(format!("campaign {}: panicked: {}", c.id, crate::panics::panic_message(&*panic))),
        }
    }
    for e in &errors {
        tracing::warn!(error = %e, "a campaign could not be refreshed; the pass goes on with the others");
    }
    Ok((joined_total, changed_total, errors))
}

/// One campaign brought up to date (one transaction when something changed): (joined, changed).
async fn refresh_campaign(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
    c: &crate::store::CampaignRecord,
    sla: &crate::domain::policy::SlaParams,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(i64, i64), String> {
    let sel = selector_of(c).map_err(|e| format!("its selector does not read: {e}"))?;
    let db = |e: StoreError| e.to_string();
    let hit = affected(store, &sel).await.map_err(db)?;
    let items = store.campaign_items(&[c.id], None).await.map_err(db)?;
    let have: HashSet<i64> = items.iter().map(|i| i.image_id).collect();
    let new: BTreeMap<i64, Affected> = hit.iter().filter(|(id, _)| !have.contains(id)).map(|(id, a)| (*id, a.clone())).collect();
    let scope = Scope::parse(&c.scope).unwrap_or(Scope::All);
    let joined = new_items(store, &new, &scope, c.deadline, now, sla).await.map_err(db)?;
    let updates = item_updates(store, &items, &hit, now).await.map_err(db)?;
    if joined.is_empty() && updates.is_empty() {
        return Ok((0, 0));
    }
    let (j, u) = store.apply_campaign_refresh(c.id, &joined, &updates, actor, now).await.map_err(db)?;
    Ok((j as i64, u as i64))
}

/// The updates of a campaign's open items given what runs now (`hit`: the affected images).
async fn item_updates(
    store: &(impl CampaignStore + FindingsStore + PolicyStore + RuntimeStore + VendorStore),
    items: &[CampaignItemRecord],
    hit: &BTreeMap<i64, Affected>,
    now: DateTime<Utc>,
) -> Result<Vec<ItemUpdate>, StoreError> {
    let open: Vec<&CampaignItemRecord> = items.iter().filter(|i| !i.state.is_closed()).collect();
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
        if state != item.state || running != item.running || workloads != item.workloads || !new_workloads.is_empty() || expired {
            updates.push(ItemUpdate { id: item.id, state, running, workloads, new_workloads, exception_expired: expired });
        }
    }
    Ok(updates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(state: &str) -> CampaignItemRecord {
        let t = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let new = crate::store::NewCampaignItem {
            image_id: 10,
            digest: "sha256:x".into(),
            team: Some("web".into()),
            severity: "critical".into(),
            first_seen: t,
            deadline: t.date_naive(),
            workloads: vec![key("a")],
        };
        CampaignItemRecord { state: ItemState::parse(state).expect("a state"), ..CampaignItemRecord::opened(1, 1, "t", &new, t) }
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
