//! The vendor image register: read by every role, replaced whole by security (checked, then saved
//! with its ledger entry; the estate is judged again by the policy `vendor-images`).

use super::{require, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::vendor::Register;
use crate::store::capabilities::*;
use crate::store::Actor;
use app::types::{Page, VendorImage};

impl Service {
    pub async fn vendor_images(&self, who: Option<&Principal>) -> Result<(Page<VendorImage>, String)> {
        require(who, Action::ReadEstate, None)?;
        let stored = self.store.vendor_register().await?;
        let r = crate::policy::read_vendor_register(stored.as_deref());
        Ok((Page { total: r.entries().len() as i64, items: r.entries().to_vec() }, crate::store::document_version(stored.as_deref())))
    }

    /// Replaces the register (security); answers it as saved (repositories normalised) with its
    /// version. With `seen` (the version the editor was shown: the page's form, an API
    /// `If-Match`), a register changed since is a conflict.
    #[tracing::instrument(skip(self, who, entries))]
    pub async fn put_vendor_images(
        &self,
        who: Option<&Principal>,
        entries: Vec<VendorImage>,
        seen: Option<&str>,
    ) -> Result<(Page<VendorImage>, String)> {
        let p = require(who, Action::ManagePolicies, None)?;
        let r = Register::parse(entries)?;
        let text = serde_json::to_string(r.entries()).map_err(|_| super::Error::Internal)?;
        self.store.put_vendor_register(&text, seen, &Actor(p.actor.clone()), self.clock.now()).await?;
        self.jobs.evaluate_soon();
        Ok((Page { total: r.entries().len() as i64, items: r.entries().to_vec() }, crate::store::document_version(Some(&text))))
    }
}
