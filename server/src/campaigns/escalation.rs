//! The escalation: every ladder level due decided once per item, one digest per recipient
//! queued in the same transaction, and the outbox delivered with retries.

use super::{ladder_of, Notifier, ACTOR};
use crate::domain::campaign::{due_levels, EscalationFacts};
use crate::store::capabilities::*;
use crate::store::{Actor, ContactRecord, EscalationItemRecord, NewMessage, StoreError};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A message is given up after this many failed attempts (the delivery log shows each).
pub const MAX_ATTEMPTS: i64 = 10;
/// Attempts made at once within one pass before a failed message waits for a later pass.
const ATTEMPTS_PER_PASS: i64 = 3;
/// Who a message goes to: (channel, address, the team of an inbox).
type Recipient = (String, String, Option<String>);

fn level_word(days: i64) -> String {
    match days {
        d if d < 0 => format!("reminder: due in {} days", -d),
        0 => "due today: the deadline is reached".into(),
        d => format!("overdue by {d} days"),
    }
}

/// The digest messages for the (item, level) pairs a run took: one per recipient (an e-mail
/// address, a webhook, a team's inbox, the person owning a vendor image: `people`, by image
/// row), each listing all of that recipient's items.
pub fn compose(
    taken: &[(i64, i64)],
    items: &HashMap<i64, EscalationItemRecord>,
    contacts: &[ContactRecord],
    people: &HashMap<i64, String>,
) -> Vec<NewMessage> {
    // recipient (channel, address, team of the inbox) → (item, level) pairs
    let mut by_recipient: BTreeMap<Recipient, Vec<(i64, i64)>> = BTreeMap::new();
    for &(item_id, level) in taken {
        let Some(item) = items.get(&item_id) else { continue };
        let team = item.team.clone().unwrap_or_default();
        by_recipient.entry(("inbox".into(), team.clone(), item.team.clone())).or_default().push((item_id, level));
        if let Some(person) = people.get(&item.image_id) {
            by_recipient.entry(("email".into(), person.clone(), None)).or_default().push((item_id, level));
        }
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
                    "- [level {level}, {}] campaign #{} \"{}\", item #{}: image {} of {}, deadline {}, state {}, {}\n",
                    level_word(days),
                    it.campaign_id,
                    it.campaign_title,
                    it.id,
                    it.digest,
                    match (&it.team, people.get(&it.image_id)) {
                        (_, Some(person)) => format!("vendor image owner {person}"),
                        (Some(team), None) => format!("team {team}"),
                        (None, None) => "(no team)".into(),
                    },
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
pub async fn escalate(
    store: &(impl CampaignStore + PolicyStore + VendorStore),
    run: &str,
    now: DateTime<Utc>,
) -> Result<(i64, i64), StoreError> {
    let items = store.escalation_items().await?;
    let mut due = Vec::new();
    for it in &items {
        let ladder = ladder_of(&it.ladder);
        let facts = EscalationFacts {
            state: it.state,
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
    let due_images: Vec<i64> =
        due.iter().filter_map(|(i, _)| by_id.get(i)).map(|i| i.image_id).collect::<BTreeSet<_>>().into_iter().collect();
    let people = super::vendor_people(store, &due_images).await?;
    let (taken, messages) =
        store.record_escalation(run, &due, &|taken| compose(taken, &by_id, &contacts, &people), &Actor(ACTOR.into()), now).await?;
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
pub async fn deliver(
    store: &(impl CampaignStore + PolicyStore),
    notifier: &Notifier,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<(i64, i64), StoreError> {
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
                        crate::metrics::get().escalation_messages.with_label_values(&[&m.channel, "sent"]).inc();
                        if !store.record_attempt(m.id, worker, Ok(&answer), now).await? {
                            tracing::warn!(message = m.id, "sent, but another worker holds the message now: it may be sent twice");
                        }
                        sent += 1;
                        break;
                    }
                    Err(e) => {
                        crate::metrics::get().escalation_messages.with_label_values(&[&m.channel, "failed"]).inc();
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
