//! Campaigns as they stood at the end of a day, from the ledger entries recording them (chosen by
//! what they record, up to that time) and the items' rows: the deadline in force, each item's
//! last acknowledgement, its last exception request and that request's decision, and the state
//! those give. The entries used are named so that the bundle can prove each fact.

use super::{Acknowledgement, CampaignAt, Exception, ItemAt};
use crate::store::{CampaignItemRecord, CampaignRecord, StoredEntry};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::collections::HashMap;

/// A ledger entry read for what it records.
struct Fact<'a> {
    index: u64,
    time: DateTime<Utc>,
    actor: &'a str,
    kind: &'a str,
    payload: Value,
}

fn facts(entries: &[StoredEntry]) -> HashMap<&str, Vec<Fact<'_>>> {
    let mut by_subject: HashMap<&str, Vec<Fact<'_>>> = HashMap::new();
    for e in entries {
        let Some(index) = e.index else { continue };
        by_subject.entry(e.subject.as_str()).or_default().push(Fact {
            index: index as u64,
            time: e.time,
            actor: &e.actor,
            kind: &e.kind,
            payload: serde_json::from_str(&e.payload).unwrap_or(Value::Null),
        });
    }
    for list in by_subject.values_mut() {
        list.sort_by_key(|f| f.index);
    }
    by_subject
}

fn time(t: &DateTime<Utc>) -> String {
    crate::domain::entry::entry_time(t)
}

/// The campaigns created before `end` (the end of day `at`) with their items of `teams` (none:
/// every item), as of `end`. `entries`: the campaign entries appended before `end`.
pub fn campaigns_at(
    campaigns: &[CampaignRecord],
    items: &[CampaignItemRecord],
    entries: &[StoredEntry],
    teams: Option<&[String]>,
    end: DateTime<Utc>,
) -> Vec<CampaignAt> {
    let by_subject = facts(entries);
    let none = Vec::new();
    let mut out = Vec::new();
    for c in campaigns.iter().filter(|c| c.created_at < end) {
        let subject = format!("campaign:{}", c.id);
        let own = by_subject.get(subject.as_str()).unwrap_or(&none);
        let recorded: Vec<&Fact> = own.iter().filter(|f| matches!(f.kind, "campaign.created" | "campaign.deadline_changed")).collect();
        let deadline = recorded.iter().rev().find_map(|f| {
            let v = if f.kind == "campaign.created" { &f.payload["deadline"] } else { &f.payload["to"] };
            v.as_str().and_then(|d| d.parse::<NaiveDate>().ok())
        });
        let changed_later = c.deadline != deadline;
        let mine: Vec<ItemAt> = items
            .iter()
            .filter(|i| i.campaign_id == c.id && i.created_at < end)
            .filter(|i| teams.is_none_or(|t| i.team.as_ref().is_some_and(|x| t.contains(x))))
            .map(|i| item_at(i, by_subject.get(format!("{subject}/item:{}", i.id).as_str()).unwrap_or(&none), deadline, changed_later, end))
            .collect();
        if teams.is_some() && mine.is_empty() {
            continue;
        }
        out.push(CampaignAt {
            id: c.id,
            title: c.title.clone(),
            deadline,
            created_by: c.created_by.clone(),
            created_at: time(&c.created_at),
            entries: recorded.iter().map(|f| f.index).collect(),
            items: mine,
        });
    }
    out
}

/// One item as of `end`. Its deadline: the campaign's in force then when the campaign's moved
/// since (moving it moves every item not closed), else the item's own.
fn item_at(i: &CampaignItemRecord, facts: &[Fact], deadline: Option<NaiveDate>, changed_later: bool, end: DateTime<Utc>) -> ItemAt {
    let acknowledgement = facts.iter().rev().find(|f| f.kind == "campaign.item.acknowledged").map(|f| Acknowledgement {
        planned: f.payload["planned"].as_str().map(str::to_string),
        note: f.payload["note"].as_str().map(str::to_string),
        by: f.actor.to_string(),
        at: time(&f.time),
        entry: f.index,
    });
    let exception = exception_at(facts);
    let day = (end - chrono::Duration::microseconds(1)).date_naive();
    let closed = i.closed_at.is_some_and(|t| t < end);
    let excepted = exception
        .as_ref()
        .is_some_and(|x| x.state == "approved" && x.until.as_deref().and_then(|u| u.parse::<NaiveDate>().ok()).is_some_and(|u| u >= day));
    let state = match () {
        _ if closed => i.state.as_str().to_string(),
        _ if excepted => "excepted".into(),
        _ if acknowledgement.is_some() => "acknowledged".into(),
        _ => "open".into(),
    };
    ItemAt {
        id: i.id,
        image: i.digest.clone(),
        team: i.team.clone(),
        state,
        deadline: if changed_later && !closed { deadline.unwrap_or(i.deadline) } else { i.deadline },
        acknowledgement,
        exception,
    }
}

/// The item's last exception request and its decision, if made.
fn exception_at(facts: &[Fact]) -> Option<Exception> {
    let asked = facts.iter().rev().find(|f| f.kind == "campaign.item.exception_requested")?;
    let id = &asked.payload["request_id"];
    let decided = facts.iter().find(|f| {
        matches!(f.kind, "campaign.item.exception_approved" | "campaign.item.exception_rejected") && f.payload["request_id"] == *id
    });
    Some(Exception {
        state: match decided {
            None => "requested".into(),
            Some(d) if d.kind == "campaign.item.exception_approved" => "approved".into(),
            Some(_) => "rejected".into(),
        },
        reason: asked.payload["reason"].as_str().unwrap_or_default().to_string(),
        until: asked.payload["until"].as_str().map(str::to_string),
        requested_by: asked.actor.to_string(),
        requested_at: time(&asked.time),
        requested_entry: asked.index,
        decided_by: decided.map(|d| d.actor.to_string()),
        decided_at: decided.map(|d| time(&d.time)),
        decided_entry: decided.map(|d| d.index),
    })
}

/// The ledger indexes `campaigns` rest on.
pub fn entries_used(campaigns: &[CampaignAt]) -> Vec<u64> {
    let mut out = Vec::new();
    for c in campaigns {
        out.extend(&c.entries);
        for i in &c.items {
            out.extend(i.acknowledgement.as_ref().map(|a| a.entry));
            if let Some(x) = &i.exception {
                out.push(x.requested_entry);
                out.extend(x.decided_entry);
            }
        }
    }
    out
}
