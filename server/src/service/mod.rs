//! The application layer: each capability once — who may do it (the RBAC specification, with one
//! wording for every refusal), the store call, and the values derived from it (promotion). REST
//! handlers, form handlers, server functions and CLI commands are adapters over it: they read
//! their input, call here, and render `Error` their way (JSON, an HTML page, a typed
//! server-function error, an exit code).

pub mod admin;
pub mod admission;
pub mod bundle;
pub mod campaigns;
pub mod checklist;
pub mod clusters;
pub mod compliance;
pub mod evidence;
pub mod exceptions;
pub mod homes;
mod identity;
pub mod images;
pub mod ingest;
pub mod ledger;
pub mod operations;
pub mod policies;
pub mod registries;
pub mod risk;
pub mod vendor;
mod views;
pub mod workloads;

use crate::auth::{Action, Principal};
use crate::clock::SharedClock;
use crate::store::{Store, StoreError};
use std::sync::Arc;

/// Why a capability could not be used: the one error kind every adapter renders (`app::error`).
pub use app::error::Error;

/// The wait an answer during a database outage suggests (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::Refused(e) => e,
            outage if outage.is_outage() => {
                tracing::warn!(error = %outage, "the database is not answering");
                Error::Unavailable {
                    message: "the database is not answering; try again shortly".into(),
                    retry_after: Some(RETRY_AFTER_SECONDS),
                }
            }
            other => {
                tracing::error!(error = %other, "store failure");
                Error::Internal
            }
        }
    }
}

impl From<crate::domain::FieldError> for Error {
    fn from(e: crate::domain::FieldError) -> Error {
        Error::invalid(e.field, e.message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The refusal of `action` on `team` for `who` (one wording for the API, the pages and forms).
pub fn refusal(who: &Principal, action: Action, team: Option<&str>) -> Error {
    if who.grants.is_empty() {
        return Error::Forbidden("your identity provider's groups give you no role in Drydock".into());
    }
    let roles: Vec<&str> = who.grants.iter().map(|g| g.role.as_str()).collect();
    let what = match (action, team) {
        // Never the other team's name: a refusal must not tell what exists.
        (Action::ReadTeamDetails, _) => return Error::Forbidden("your role does not cover this team's details".into()),
        (Action::SendData, _) => "send reports (ingest, security or admin may)",
        (Action::ReadEstate, _) => "read; it may only send data in or ask for admission",
        (Action::ReadLedgerEntries, _) => {
            "read raw ledger entries (viewer, auditor, security and admin may; checkpoints and proofs are open to every reader)"
        }
        (Action::ManageTokens, _) => "manage API tokens (security and admin may)",
        (Action::ManageEstateConfig, _) => "change the estate's configuration (admin may)",
        (Action::ManageRoleMappings, _) => "manage people and role mappings (admin may)",
        (Action::ManagePolicies, _) => "manage policies (security and admin may)",
        (Action::Acknowledge, _) => "acknowledge for this team (its developers and admin may)",
        (Action::RequestException, _) => "request exceptions for this team (its developers, managers and admin may)",
        (Action::ExportTeamReport, _) => "export this team's report",
        (Action::ReviewAdmission, _) => "ask for admission decisions (admission tokens may)",
        (Action::ExportEvidence, _) => "export evidence bundles (auditor, security and admin may)",
    };
    Error::Forbidden(format!("role {} may not {what}", roles.join(", ")))
}

/// The caller allowed to do `action` on `team`, or the refusal.
pub fn require<'a>(who: Option<&'a Principal>, action: Action, team: Option<&str>) -> Result<&'a Principal> {
    let p = who.ok_or_else(Error::sign_in)?;
    if p.can(action, team) {
        Ok(p)
    } else {
        Err(refusal(p, action, team))
    }
}

/// What every capability needs: the store, the clock, the settings that derive values.
pub struct Service {
    pub store: Store,
    pub clock: SharedClock,
    /// How promotion is decided (applied here once, to every image answered).
    pub promotion: crate::registry::Promotion,
    /// A running image scanned longer ago than this is unaccounted.
    pub scan_max_age_days: i64,
    pub jobs: Arc<crate::jobs::Jobs>,
    /// The ledger's key (or why there is none).
    pub ledger_key: std::result::Result<Arc<crate::ledger::LedgerKey>, String>,
    /// Where new checkpoints are also sent.
    pub ledger_witness: Option<String>,
    /// Group → role mappings from the configuration (shown beside the stored ones).
    pub configured_mappings: Arc<Vec<crate::auth::mapping::GroupMapping>>,
    /// Where webhooks may point (checked when contacts are saved, again at delivery).
    pub webhook_policy: Arc<crate::domain::network::AddressPolicy>,
    /// Admission decisions not yet written to the ledger.
    pub admission_tally: Arc<admission::DecisionTally>,
    /// Admission contexts and decisions kept per data version (`admission/cache.rs`).
    pub admission_cache: Arc<crate::admission::cache::AdmissionCache>,
}
