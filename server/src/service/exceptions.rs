//! Risk exceptions on campaign items: requested by the item's team (one waiting request at a
//! time, numbered), decided by security or admin naming the request they decide, never by the
//! person who asked.

use super::campaigns::text;
use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::dates;
use crate::store::capabilities::*;
use crate::store::{Actor, CampaignItemRecord};
use app::types::{CampaignItem, ExceptionDecision, ExceptionRequest};

/// The answer to a second request over a waiting one, or to a decision naming another request.
fn waiting_conflict(it: &CampaignItemRecord) -> Error {
    Error::Conflict(format!(
        "exception request {} on item {} waits for a decision; it cannot be replaced, and a decision must name it (request_id)",
        it.exception_request_id.unwrap_or(1),
        it.id
    ))
}

fn own_request() -> Error {
    Error::Forbidden("you requested this exception: someone else must decide it (separation of duties)".into())
}

impl Service {
    /// Requests a risk exception with a reason and a last day (that team's developers and
    /// managers, admin). A request that waits for a decision is never rewritten: 409.
    #[tracing::instrument(skip(self, who))]
    pub async fn request_exception(
        &self,
        who: Option<&Principal>,
        campaign: i64,
        item: i64,
        req: &ExceptionRequest,
    ) -> Result<CampaignItem> {
        let who = who.ok_or_else(Error::sign_in)?;
        let it = self.item_of(who, campaign, item).await?;
        let p = require(Some(who), Action::RequestException, it.team.as_deref())?;
        let reason = text("reason", &req.reason, 1, 2000)?;
        let until = dates::exception_until("until", &req.until, self.clock.now().date_naive()).map_err(Error::from)?;
        if it.exception_state.as_deref() == Some("requested") {
            return Err(waiting_conflict(&it));
        }
        let request_id = it.exception_request_id.unwrap_or(0) + 1;
        if !self.store.request_exception(campaign, item, request_id, &reason, until, &Actor(p.actor.clone()), self.clock.now()).await? {
            let now = self.item_of(who, campaign, item).await?;
            if now.exception_state.as_deref() == Some("requested") {
                return Err(waiting_conflict(&now));
            }
            return Err(Error::Conflict(format!("item {item} is {}: an exception can be requested for open items only", now.state)));
        }
        self.item_answer(who, campaign, item).await
    }

    /// Decides the exception request `req.request_id` waiting on an item (security, admin; never
    /// the person who requested it: separation of duties). The ledger entry names both people.
    #[tracing::instrument(skip(self, who))]
    pub async fn decide_exception(
        &self,
        who: Option<&Principal>,
        campaign: i64,
        item: i64,
        req: &ExceptionDecision,
    ) -> Result<CampaignItem> {
        let p = require(who, Action::ManagePolicies, None)?;
        let it = self.item_of(p, campaign, item).await?;
        let waiting = it.exception_state.as_deref() == Some("requested");
        if waiting && it.exception_by.as_deref() == Some(p.actor.as_str()) {
            return Err(own_request());
        }
        let request_id = req.request_id.ok_or_else(|| Error::invalid("request_id", "name the exception request you decide"))?;
        let note = text("note", &req.note, 0, 2000)?;
        if !waiting {
            return Err(Error::Conflict(format!("no exception request is waiting on item {item}")));
        }
        if it.exception_request_id != Some(request_id) {
            return Err(waiting_conflict(&it));
        }
        let requester = it.exception_by.clone().unwrap_or_default();
        let actor = Actor(p.actor.clone());
        if !self.store.decide_exception(campaign, item, request_id, &requester, req.approve, &note, &actor, self.clock.now()).await? {
            let now = self.item_of(p, campaign, item).await?;
            if now.exception_state.as_deref() == Some("requested") && now.exception_by.as_deref() == Some(p.actor.as_str()) {
                return Err(own_request());
            }
            return Err(match now.exception_state.as_deref() {
                Some("requested") => waiting_conflict(&now),
                _ => Error::Conflict(format!("no exception request is waiting on item {item}")),
            });
        }
        self.item_answer(p, campaign, item).await
    }
}
