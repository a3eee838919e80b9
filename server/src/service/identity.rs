//! Who is calling: API tokens checked, the group → role mappings in force for a sign-in or a
//! grant refresh, the database's health, and the sessions' store. The HTTP layer asks here; it
//! never holds the store.

use super::{Result, Service};
use crate::auth::mapping::GroupMapping;
use crate::auth::Grant;
use crate::domain::Role;
use crate::store::capabilities::*;
use crate::store::TokenInfo;

impl Service {
    /// The live token with this secret (its use noted), or None.
    #[tracing::instrument(skip_all)]
    pub async fn verify_token(&self, secret: &str) -> Result<Option<TokenInfo>> {
        Ok(self.store.verify_token(secret, self.clock.now()).await?)
    }

    /// The mappings in force: configuration first, then those admins stored. A store failure is
    /// an error, never fewer mappings: a person's grants must not shrink because a read failed.
    #[tracing::instrument(skip_all)]
    pub async fn mappings_in_force(&self) -> Result<Vec<GroupMapping>> {
        let mut all = self.configured_mappings.as_ref().clone();
        for (group, role, team) in self.store.role_mappings().await? {
            match role.parse::<Role>() {
                Ok(role) => all.push(GroupMapping { group, grant: Grant { role, team } }),
                Err(e) => tracing::warn!(group = %group, error = %e, "a stored role mapping names no role; skipped"),
            }
        }
        Ok(all)
    }

    /// Records a sign-in, a failed one or a sign-out (the ledger holds it).
    pub async fn record_auth_event(
        &self,
        user: Option<&crate::store::SignedInUser>,
        actor: &crate::store::Actor,
        kind: &str,
        payload: serde_json::Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        Ok(self.store.record_auth_event(user, actor, kind, payload, now).await?)
    }

    /// Which database this deployment runs on (`sqlite` or `postgres`).
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// The data version every change to the estate moves (kept pages are keyed by it).
    pub async fn data_version(&self) -> Result<i64> {
        Ok(self.store.data_version().await?)
    }

    /// Where browser sessions are kept (the session layer's rows, nothing else of the store).
    pub fn sessions(&self) -> impl SessionStore + Clone + std::fmt::Debug + 'static {
        self.store.clone()
    }
}
