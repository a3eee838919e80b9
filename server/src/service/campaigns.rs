//! Patch campaigns: creation (security, admin), reading them (items of the caller's teams),
//! acknowledgement (the team's developers, admin), risk exceptions (`exceptions.rs`), contacts (admin), the delivery log (security) and each person's inbox.

use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::campaign::{ItemState, Ladder, Level, Selector};
use crate::domain::dates;
use crate::domain::network::AddressPolicy;
use crate::store::capabilities::*;
use crate::store::{Actor, CampaignItemRecord, CampaignRecord, ContactRecord, DeliveryAttemptRecord, MessageRecord};
use app::types::{
    AckRequest, Campaign, CampaignItem, CampaignProgress, Contact, DeliveryAttempt, DeliveryMessage, ItemException, LadderLevel,
    NewCampaignRequest, Page, TeamContacts,
};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Most contacts one team (or the global list) may have.
const MAX_CONTACTS: usize = 50;
/// Items still to be worked on.
const ACTIVE: [ItemState; 4] = [ItemState::Open, ItemState::Acknowledged, ItemState::PendingVerification, ItemState::Excepted];

pub(super) fn text(field: &str, s: &str, min: usize, max: usize) -> Result<String> {
    crate::domain::free_text(field, s, min, max).map_err(Error::from)
}

fn overdue(state: ItemState, deadline: NaiveDate, today: NaiveDate) -> bool {
    state.is_outstanding() && deadline < today
}

pub(super) fn item_view(r: CampaignItemRecord, today: NaiveDate) -> CampaignItem {
    let exception = match (r.exception_state, r.exception_reason, r.exception_until, r.exception_by) {
        (Some(state), Some(reason), Some(until), Some(by)) => Some(ItemException {
            request_id: r.exception_request_id.unwrap_or(1),
            state,
            reason,
            until: until.to_string(),
            requested_by: by,
            decided_by: r.decided_by,
            note: r.decision_note,
        }),
        _ => None,
    };
    CampaignItem {
        overdue: overdue(r.state, r.deadline, today),
        id: r.id,
        campaign: r.campaign_id,
        campaign_title: r.campaign_title,
        team: r.team,
        image: r.digest,
        running: r.running,
        workloads: r.workloads,
        state: r.state.as_str().to_string(),
        deadline: r.deadline.to_string(),
        severity: r.severity,
        first_seen: r.first_seen,
        planned: r.planned.map(|d| d.to_string()),
        note: r.note,
        acknowledged_by: r.acknowledged_by,
        exception,
        joined_at: r.created_at,
        closed_at: r.closed_at,
    }
}

/// Counts `n` items in `state`, `overdue` of them past their deadline (only items still to be
/// worked on are late).
pub(super) fn tally(p: &mut CampaignProgress, state: ItemState, n: i64, overdue: i64) {
    p.total += n;
    *match state {
        ItemState::Open => &mut p.open,
        ItemState::Acknowledged => &mut p.acknowledged,
        ItemState::PendingVerification => &mut p.pending_verification,
        ItemState::Excepted => &mut p.excepted,
        ItemState::Fixed => &mut p.fixed,
        ItemState::Retired => &mut p.retired,
    } += n;
    if state.is_outstanding() {
        p.overdue += overdue;
    }
}

/// Items per state over `items` (as the pages show them).
pub fn progress(items: &[CampaignItem]) -> CampaignProgress {
    let mut p = CampaignProgress::default();
    for i in items {
        match ItemState::parse(&i.state) {
            Some(state) => tally(&mut p, state, 1, i.overdue as i64),
            None => p.total += 1,
        }
    }
    p
}

fn campaign_view(c: CampaignRecord, items: Vec<CampaignItem>) -> Campaign {
    let ladder = crate::campaigns::ladder_of(&c.ladder);
    Campaign {
        id: c.id,
        title: c.title,
        cves: serde_json::from_str(&c.cves).unwrap_or_default(),
        package: c.package,
        range: c.range_vers,
        scope: c.scope,
        deadline: c.deadline.map(|d| d.to_string()),
        ladder: ladder.levels().iter().map(|l| LadderLevel { level: l.level, days: l.days, recipients: l.recipients.clone() }).collect(),
        created_at: c.created_at,
        created_by: c.created_by,
        refreshed_at: c.refreshed_at,
        progress: progress(&items),
        items,
    }
}

/// A message as the delivery log and the inbox show it: a webhook's URL is a secret, its host is not.
fn message_view((m, attempts): (MessageRecord, Vec<DeliveryAttemptRecord>)) -> DeliveryMessage {
    let recipient = match m.channel.as_str() {
        "webhook" => url::Url::parse(&m.address)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("webhook at {h}")))
            .unwrap_or_else(|| "webhook".into()),
        "inbox" => m.team.clone().map(|t| format!("team {t}")).unwrap_or_else(|| "global".into()),
        _ => m.address.clone(),
    };
    let status = match (m.sent_at, m.gave_up_at, m.attempts) {
        (Some(_), _, _) => "sent",
        (None, Some(_), _) => "gave_up",
        (None, None, 0) => "queued",
        _ => "retrying",
    };
    DeliveryMessage {
        id: m.id,
        channel: m.channel,
        recipient,
        team: m.team,
        level: m.level,
        subject: m.subject,
        body: m.body,
        created_at: m.created_at,
        status: status.into(),
        sent_at: m.sent_at,
        attempts: attempts
            .into_iter()
            .map(|a| DeliveryAttempt { at: a.at, worker: a.worker, outcome: a.outcome, detail: a.detail })
            .collect(),
    }
}

/// A contact checked: a level of the ladder, an e-mail address and/or an https webhook whose
/// host is not a refused address (a name is checked again, resolved, at each delivery).
fn check_contact(i: usize, c: &Contact, webhooks: &AddressPolicy) -> Result<ContactRecord> {
    if !(0..crate::domain::campaign::MAX_LEVELS as i64).contains(&c.level) {
        return Err(Error::invalid(format!("contacts[{i}].level"), format!("between 0 and {}", crate::domain::campaign::MAX_LEVELS - 1)));
    }
    let email = c.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_string);
    let webhook = c.webhook.as_deref().map(str::trim).filter(|w| !w.is_empty()).map(str::to_string);
    if email.is_none() && webhook.is_none() {
        return Err(Error::invalid(format!("contacts[{i}].email"), "give an e-mail address, a webhook, or both"));
    }
    if let Some(e) = &email {
        if e.len() > 254 || e.parse::<lettre::Address>().is_err() {
            return Err(Error::invalid(format!("contacts[{i}].email"), format!("{e:?} is not an e-mail address")));
        }
    }
    if let Some(w) = &webhook {
        let u = url::Url::parse(w).map_err(|e| Error::invalid(format!("contacts[{i}].webhook"), e))?;
        crate::domain::check_secret_url(&u, false, &format!("contacts[{i}].webhook")).map_err(Error::from)?;
        let host = u.host().ok_or_else(|| Error::invalid(format!("contacts[{i}].webhook"), "the URL has no host"))?;
        webhooks.check_host(&host).map_err(|e| Error::invalid(format!("contacts[{i}].webhook"), e))?;
    }
    Ok(ContactRecord { team: String::new(), level: c.level, email, webhook })
}

/// Items not yet done (neither fixed nor retired) at the end of each day from `start` to `today`.
pub fn burndown(items: &[CampaignItem], start: NaiveDate, today: NaiveDate) -> Vec<(NaiveDate, i64)> {
    let mut out = Vec::new();
    let mut day = start;
    while day <= today && out.len() < 3660 {
        let open =
            items.iter().filter(|i| i.joined_at.date_naive() <= day && i.closed_at.is_none_or(|c| c.date_naive() > day)).count() as i64;
        out.push((day, open));
        day = dates::add_days(day, 1);
    }
    out
}

/// Progress per team ("no team" for items of none), by team name.
pub fn team_progress(items: &[CampaignItem]) -> Vec<(String, CampaignProgress)> {
    let mut by_team: BTreeMap<String, Vec<CampaignItem>> = BTreeMap::new();
    for i in items {
        by_team.entry(i.team.clone().unwrap_or_else(|| "no team".into())).or_default().push(i.clone());
    }
    by_team.into_iter().map(|(t, list)| (t, progress(&list))).collect()
}

/// What `who` may do to each item: acknowledge (that team's developers, admin; open items),
/// request an exception (that team's developers and managers, admin; items not closed and with
/// no request or approval standing), decide the waiting request (security, admin; never their own).
pub fn allowed_actions(who: Option<&Principal>, items: &[CampaignItem]) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    let Some(p) = who else { return (vec![], vec![], vec![]) };
    let ack = items
        .iter()
        .filter(|i| ItemState::parse(&i.state).is_some_and(ItemState::is_acknowledgeable) && p.can(Action::Acknowledge, i.team.as_deref()))
        .map(|i| i.id)
        .collect();
    let request = items
        .iter()
        .filter(|i| ItemState::parse(&i.state).is_some_and(ItemState::is_outstanding))
        .filter(|i| !i.exception.as_ref().is_some_and(|e| e.state == "requested" || e.state == "approved"))
        .filter(|i| p.can(Action::RequestException, i.team.as_deref()))
        .map(|i| i.id)
        .collect();
    let decide = items
        .iter()
        .filter(|i| i.exception.as_ref().is_some_and(|e| e.state == "requested" && e.requested_by != p.actor))
        .filter(|_| p.can(Action::ManagePolicies, None))
        .map(|i| i.id)
        .collect();
    (ack, request, decide)
}

impl Service {
    /// Creates a campaign: the estate search's affected images become items (one per image and
    /// its team), each with its deadline, in one transaction (security, admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn create_campaign(&self, who: Option<&Principal>, req: &NewCampaignRequest) -> Result<Campaign> {
        let p = require(who, Action::ManagePolicies, None)?;
        let now = self.clock.now();
        let title = text("title", &req.title, 1, 200)?;
        let selector = Selector::parse(&req.cves, req.package.as_deref(), req.range.as_deref()).map_err(Error::from)?;
        let deadline = match req.deadline.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(d) => Some(dates::deadline("deadline", d, now.date_naive()).map_err(Error::from)?),
        };
        let ladder = match &req.ladder {
            None => Ladder::default_ladder(),
            Some(levels) => Ladder::new(
                levels.iter().map(|l| Level { level: l.level, days: l.days, recipients: l.recipients.trim().to_string() }).collect(),
            )
            .map_err(Error::from)?,
        };
        let scope = crate::domain::policy::Scope::parse(req.scope.as_deref().unwrap_or("all")).map_err(Error::from)?;
        let (id, written) =
            crate::campaigns::create(&self.store, &title, &selector, &scope, deadline, &ladder, &Actor(p.actor.clone()), now).await?;
        // The answer is built from the items as written: reading them all back was a sixth of a
        // campaign's creation (BENCHMARKS.md, session 21).
        let c = self.store.campaign(id).await?.ok_or_else(|| Error::NotFound(format!("campaign {id} does not exist")))?;
        let teams = p.visible_teams();
        let mut items: Vec<CampaignItemRecord> = written.into_iter().filter(|it| it.seen_by(teams.as_deref())).collect();
        // As `campaign_items` orders them: by team (no team last), deadline, id.
        items.sort_by(|a, b| (a.team.is_none(), &a.team, a.deadline, a.id).cmp(&(b.team.is_none(), &b.team, b.deadline, b.id)));
        Ok(campaign_view(c, items.into_iter().map(|r| item_view(r, now.date_naive())).collect()))
    }

    /// Moves a campaign's deadline and that of its open items (security, admin); levels already
    /// delivered are not sent again.
    #[tracing::instrument(skip(self, who))]
    pub async fn change_deadline(&self, who: Option<&Principal>, id: i64, deadline: &str) -> Result<Campaign> {
        let p = require(who, Action::ManagePolicies, None)?;
        let now = self.clock.now();
        let d = dates::deadline("deadline", deadline, now.date_naive()).map_err(Error::from)?;
        if !self.store.change_deadline(id, d, &Actor(p.actor.clone()), now).await? {
            return Err(Error::NotFound(format!("campaign {id} does not exist")));
        }
        self.campaign(who, id).await
    }

    /// One campaign with the items the caller may see.
    #[tracing::instrument(skip(self, who))]
    pub async fn campaign(&self, who: Option<&Principal>, id: i64) -> Result<Campaign> {
        let p = require(who, Action::ReadEstate, None)?;
        let c = self.store.campaign(id).await?.ok_or_else(|| Error::NotFound(format!("campaign {id} does not exist")))?;
        let today = self.clock.now().date_naive();
        let teams = p.visible_teams();
        let items = self.store.campaign_items(&[id], teams.as_deref()).await?.into_iter().map(|r| item_view(r, today)).collect();
        Ok(campaign_view(c, items))
    }

    /// Campaigns, newest first, each with the items the caller may see.
    #[tracing::instrument(skip(self, who))]
    pub async fn campaigns(&self, who: Option<&Principal>, limit: Option<i64>, offset: Option<i64>) -> Result<Page<Campaign>> {
        let p = require(who, Action::ReadEstate, None)?;
        let limit = limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(Error::invalid("limit", "between 1 and 500"));
        }
        let (list, total) = self.store.campaigns(limit, offset.unwrap_or(0).max(0)).await?;
        let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
        let today = self.clock.now().date_naive();
        let teams = p.visible_teams();
        let mut by_campaign: BTreeMap<i64, Vec<CampaignItem>> = BTreeMap::new();
        for r in self.store.campaign_items(&ids, teams.as_deref()).await? {
            by_campaign.entry(r.campaign_id).or_default().push(item_view(r, today));
        }
        let items = list.into_iter().map(|c| {
            let items = by_campaign.remove(&c.id).unwrap_or_default();
            campaign_view(c, items)
        });
        Ok(Page { items: items.collect(), total })
    }

    /// Campaigns, newest first, with the progress of the items the caller may see and no items
    /// (the Campaigns page: its cost follows the campaigns, not their items).
    #[tracing::instrument(skip(self, who))]
    pub async fn campaign_summaries(&self, who: Option<&Principal>) -> Result<Vec<Campaign>> {
        let p = require(who, Action::ReadEstate, None)?;
        let (list, _) = self.store.campaigns(500, 0).await?;
        let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
        let teams = p.visible_teams();
        let today = self.clock.now().date_naive();
        let mut progress: BTreeMap<i64, CampaignProgress> = BTreeMap::new();
        for (campaign, state, n, overdue) in self.store.campaign_state_counts(&ids, teams.as_deref(), today).await? {
            tally(progress.entry(campaign).or_default(), state, n, overdue);
        }
        Ok(list
            .into_iter()
            .map(|c| {
                let p = progress.remove(&c.id).unwrap_or_default();
                let mut view = campaign_view(c, vec![]);
                view.progress = p;
                view
            })
            .collect())
    }

    /// An item `who` may see: an item of a team outside the caller's is answered exactly as a
    /// missing one (404), so that no one learns which item ids other teams have.
    pub(super) async fn item_of(&self, who: &Principal, campaign: i64, item: i64) -> Result<CampaignItemRecord> {
        require(Some(who), Action::ReadEstate, None)?;
        if self.store.campaign(campaign).await?.is_none() {
            return Err(Error::NotFound(format!("campaign {campaign} does not exist")));
        }
        let missing = || Error::NotFound(format!("campaign {campaign} has no item {item}"));
        let it = self.store.campaign_item(campaign, item).await?.ok_or_else(missing)?;
        match who.visible_teams() {
            Some(teams) if !it.team.as_ref().is_some_and(|t| teams.contains(t)) => Err(missing()),
            _ => Ok(it),
        }
    }

    pub(super) async fn item_answer(&self, who: &Principal, campaign: i64, item: i64) -> Result<CampaignItem> {
        Ok(item_view(self.item_of(who, campaign, item).await?, self.clock.now().date_naive()))
    }

    /// Acknowledges an item with a planned date and a note (that team's developers, admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn acknowledge(&self, who: Option<&Principal>, campaign: i64, item: i64, req: &AckRequest) -> Result<CampaignItem> {
        let who = who.ok_or_else(Error::sign_in)?;
        let it = self.item_of(who, campaign, item).await?;
        let p = require(Some(who), Action::Acknowledge, it.team.as_deref())?;
        let planned = dates::planned("planned", &req.planned, self.clock.now().date_naive()).map_err(Error::from)?;
        let note = text("note", &req.note, 0, 2000)?;
        if !self.store.acknowledge_item(campaign, item, planned, &note, &Actor(p.actor.clone()), self.clock.now()).await? {
            return Err(Error::Conflict(format!("item {item} is {}: only open or acknowledged items can be acknowledged", it.state)));
        }
        self.item_answer(who, campaign, item).await
    }

    /// Items of the caller's teams still to be worked on, by deadline ("My team's required
    /// updates"; estate-wide roles see every team's).
    #[tracing::instrument(skip(self, who))]
    pub async fn required_updates(&self, who: Option<&Principal>) -> Result<Vec<CampaignItem>> {
        let p = require(who, Action::ReadEstate, None)?;
        let today = self.clock.now().date_naive();
        let teams = p.visible_teams();
        Ok(self.store.items_in_states(&ACTIVE, teams.as_deref(), 5000).await?.into_iter().map(|r| item_view(r, today)).collect())
    }

    /// Exception requests waiting for a decision (security, admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn exception_queue(&self, who: Option<&Principal>) -> Result<Vec<CampaignItem>> {
        require(who, Action::ManagePolicies, None)?;
        let today = self.clock.now().date_naive();
        Ok(self
            .store
            .items_in_states(&ACTIVE, None, 5000)
            .await?
            .into_iter()
            .filter(|r| r.exception_state.as_deref() == Some("requested"))
            .map(|r| item_view(r, today))
            .collect())
    }

    /// Every team's contacts and the global ones (security, admin). A webhook's URL is its
    /// secret: only its origin is shown (`https://hooks.example.com/…`).
    #[tracing::instrument(skip(self, who))]
    pub async fn contacts(&self, who: Option<&Principal>) -> Result<Vec<TeamContacts>> {
        require(who, Action::ManagePolicies, None)?;
        let mut by_team: BTreeMap<String, Vec<Contact>> = BTreeMap::new();
        for c in self.store.contacts().await? {
            let webhook = c.webhook.map(|w| match url::Url::parse(&w) {
                Ok(u) => format!("{}/…", u.origin().ascii_serialization()),
                Err(_) => "…".into(),
            });
            by_team.entry(c.team).or_default().push(Contact { level: c.level, email: c.email, webhook });
        }
        Ok(by_team.into_iter().map(|(team, contacts)| TeamContacts { team: Some(team).filter(|t| !t.is_empty()), contacts }).collect())
    }

    /// Adds one contact to a team's (or the global) list (admin).
    #[tracing::instrument(skip(self, who, contact))]
    pub async fn add_contact(&self, who: Option<&Principal>, team: Option<&str>, contact: &Contact) -> Result<TeamContacts> {
        require(who, Action::ManageEstateConfig, None)?;
        let key = team.unwrap_or("");
        let mut list: Vec<Contact> = self
            .store
            .contacts()
            .await?
            .into_iter()
            .filter(|c| c.team == key)
            .map(|c| Contact { level: c.level, email: c.email, webhook: c.webhook })
            .collect();
        list.push(contact.clone());
        let saved = self.put_contacts(who, team, &list).await?;
        Ok(TeamContacts { team: saved.team, contacts: vec![contact.clone()] })
    }

    /// Every team's name (the contacts page offers them; security, admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn team_names(&self, who: Option<&Principal>) -> Result<Vec<String>> {
        require(who, Action::ManagePolicies, None)?;
        Ok(self.store.team_names().await?)
    }

    /// Replaces one team's contacts (`team` None: the global ones) (admin).
    #[tracing::instrument(skip(self, who, list))]
    pub async fn put_contacts(&self, who: Option<&Principal>, team: Option<&str>, list: &[Contact]) -> Result<TeamContacts> {
        let p = require(who, Action::ManageEstateConfig, None)?;
        if let Some(t) = team {
            if !self.store.team_exists(t).await? {
                return Err(Error::NotFound(format!("no team is named {t:?}")));
            }
        }
        if list.len() > MAX_CONTACTS {
            return Err(Error::invalid("contacts", format!("at most {MAX_CONTACTS}")));
        }
        let checked: Vec<ContactRecord> =
            list.iter().enumerate().map(|(i, c)| check_contact(i, c, &self.webhook_policy)).collect::<Result<_>>()?;
        self.store.replace_contacts(team.unwrap_or(""), &checked, &Actor(p.actor.clone()), self.clock.now()).await?;
        Ok(TeamContacts {
            team: team.map(str::to_string),
            contacts: checked.into_iter().map(|c| Contact { level: c.level, email: c.email, webhook: c.webhook }).collect(),
        })
    }

    /// The newest escalation messages with each delivery attempt (security, admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn delivery_log(&self, who: Option<&Principal>, limit: Option<i64>) -> Result<Vec<DeliveryMessage>> {
        require(who, Action::ManagePolicies, None)?;
        let limit = limit.unwrap_or(200).clamp(1, 2000);
        Ok(self.store.messages(None, None, true, limit).await?.into_iter().map(message_view).collect())
    }

    /// The caller's inbox: the escalation digests of their teams (estate-wide roles: every
    /// team's and the global ones).
    #[tracing::instrument(skip(self, who))]
    pub async fn inbox(&self, who: Option<&Principal>) -> Result<Vec<DeliveryMessage>> {
        let p = require(who, Action::ReadEstate, None)?;
        let teams = p.visible_teams();
        Ok(self.store.messages(Some("inbox"), teams.as_deref(), teams.is_none(), 200).await?.into_iter().map(message_view).collect())
    }
}
