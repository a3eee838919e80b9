//! Identity and permissions: API token secrets, the RBAC specification, principals.

pub mod rbac;

pub use rbac::{Action, Grant};

/// Who is calling: a token or a signed-in person, with what they were granted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    /// The actor recorded in audit events (`token:NAME`, `user:LOGIN`).
    pub actor: String,
    /// What pages show: login, name or e-mail.
    pub display: String,
    pub grants: Vec<Grant>,
    /// An ingest token's bindings: the clusters and registries it may post for (None: a person,
    /// or a token of another role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindings: Option<crate::domain::TokenBindings>,
}

impl Principal {
    /// The local command line: whoever can open the database acts as an admin, recorded as `cli`.
    pub fn cli() -> Principal {
        Principal {
            actor: "cli".into(),
            display: "command line".into(),
            grants: vec![Grant { role: crate::domain::Role::Admin, team: None }],
            bindings: None,
        }
    }

    /// Does the principal's role (and team) allow `action` on `team`?
    pub fn can(&self, action: Action, team: Option<&str>) -> bool {
        rbac::allows(&self.grants, action, team)
    }

    /// The teams whose details this principal may see; `None` means every team.
    pub fn visible_teams(&self) -> Option<Vec<String>> {
        use crate::domain::Role::*;
        if self.grants.iter().any(|g| matches!(g.role, Viewer | Auditor | Security | Admin)) {
            return None;
        }
        let mut teams: Vec<String> = self
            .grants
            .iter()
            .filter(|g| matches!(g.role, Developer | Manager))
            .filter_map(|g| g.team.as_deref().map(str::to_string))
            .collect();
        teams.sort();
        teams.dedup();
        Some(teams)
    }
}

// API token secrets. A token is `ddk_` plus 32 random bytes (base64url); only its SHA-256 is
// stored, so a database leak does not leak usable tokens.

use base64::Engine as _;
use rand::RngCore as _;

/// A fresh token secret.
pub fn new_token_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("ddk_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
pub mod mapping;
pub mod oidc;
