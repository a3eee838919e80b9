//! Who may do what: roles, and the clusters and registries an ingest token is bound to.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What an API token or a person may do. The full specification lives in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sends data in; reads nothing.
    Ingest,
    /// The Kubernetes API server asking the admission webhook; reads nothing else.
    Admission,
    Viewer,
    /// Reads the whole estate, the ledger and evidence bundles; changes nothing.
    Auditor,
    Developer,
    Manager,
    Security,
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Admission => "admission",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
            Role::Developer => "developer",
            Role::Manager => "manager",
            Role::Security => "security",
            Role::Admin => "admin",
        }
    }

    /// Every role but `ingest` and `admission` reads the estate.
    pub fn can_read(self) -> bool {
        !matches!(self, Role::Ingest | Role::Admission)
    }

    /// Sends reports in: ingest tokens, security and admin.
    pub fn can_ingest(self) -> bool {
        matches!(self, Role::Ingest | Role::Security | Role::Admin)
    }

    /// Manages ownership rules, registries, clusters and role mappings.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "ingest" => Role::Ingest,
            "admission" => Role::Admission,
            "viewer" => Role::Viewer,
            "auditor" => Role::Auditor,
            "developer" => Role::Developer,
            "manager" => Role::Manager,
            "security" => Role::Security,
            "admin" => Role::Admin,
            other => {
                return Err(format!(
                    "unknown role {other:?} (one of ingest, admission, viewer, auditor, developer, manager, security, admin)"
                ))
            }
        })
    }
}

/// What an ingest token may post besides scans: pods, nodes and audit events of these clusters,
/// notifications of these registries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBindings {
    pub clusters: Vec<String>,
    pub registries: Vec<String>,
}

impl TokenBindings {
    /// Checks each name (cluster and registry names: 1-64 of letters, digits, '-', '_', '.').
    pub fn validate(&self) -> std::result::Result<(), String> {
        for (what, names) in [("cluster", &self.clusters), ("registry", &self.registries)] {
            for n in names {
                if n.is_empty() || n.len() > 64 || !n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                    return Err(format!("{what} {n:?}: 1 to 64 letters, digits, '-', '_' or '.'"));
                }
            }
        }
        Ok(())
    }
}
