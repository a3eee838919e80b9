//! The vendor image register: read by every role, replaced whole by security (checked, then saved
//! with its ledger entry; the estate is judged again by the policy `vendor-images`).

use super::{require, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::vendor::Register;
use crate::store::capabilities::*;
use crate::store::Actor;
use app::types::{Page, VendorImage};

impl Service {
    pub async fn vendor_images(&self, who: Option<&Principal>) -> Result<Page<VendorImage>> {
        require(who, Action::ReadEstate, None)?;
        let r = crate::policy::vendor_register(&self.store).await?;
        Ok(Page { total: r.entries().len() as i64, items: r.entries().to_vec() })
    }

    /// Replaces the register (security); answers it as saved (repositories normalised). With
    /// `seen` (the `vendor_version` the editor was shown), a register changed since is a conflict.
    #[tracing::instrument(skip(self, who, entries))]
    pub async fn put_vendor_images(
        &self,
        who: Option<&Principal>,
        entries: Vec<VendorImage>,
        seen: Option<&str>,
    ) -> Result<Page<VendorImage>> {
        let p = require(who, Action::ManagePolicies, None)?;
        let r = Register::parse(entries)?;
        let text = serde_json::to_string(r.entries()).map_err(|_| super::Error::Internal)?;
        self.store.put_vendor_register(&text, seen, &Actor(p.actor.clone()), self.clock.now()).await?;
        self.jobs.evaluate_soon();
        Ok(Page { total: r.entries().len() as i64, items: r.entries().to_vec() })
    }
}
