//! The one written specification of who may do what. Every API route, page and server function
//! asks `Principal::can`; nothing else decides permissions. README.md ("Roles") says the same in prose.
//!
//! Auditors read what viewers read, every team's details, exports and the ledger, and export
//! evidence bundles; they change nothing.
//!
//! Visibility rule: every reading role sees estate totals (overview numbers, team totals). Item
//! details — a team's page, its images and their findings — are visible to viewer, security and
//! admin for every team, and to developers and managers only for their own teams. Unowned images
//! belong to nobody and are visible to every reading role (someone has to claim them).

use crate::domain::Role;

/// Something a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Estate totals: overview, team totals, ownership rules, the image list.
    ReadEstate,
    /// One team's item details (team page, its images and findings). Scoped by team.
    ReadTeamDetails,
    /// Send reports, pod lists, audit events, registry notifications in.
    SendData,
    /// Acknowledge campaign items and request exceptions. Scoped by team.
    Acknowledge,
    /// Request a risk exception for a campaign item. Scoped by team.
    RequestException,
    /// Team reports and exports. Scoped by team.
    ExportTeamReport,
    /// Policies, campaigns, deadlines, exception decisions.
    ManagePolicies,
    /// Create and revoke API tokens.
    ManageTokens,
    /// Ownership rules, registries, clusters.
    ManageEstateConfig,
    /// Group → role mappings; ending other people's sessions.
    ManageRoleMappings,
    /// Raw ledger entries (every team's subjects, sign-ins, audit facts): estate-wide readers
    /// only. Team-scoped roles may read checkpoints and proofs (hashes reveal nothing).
    ReadLedgerEntries,
    /// Ask the admission webhook whether a workload may run (the Kubernetes API server).
    ReviewAdmission,
    /// Export the signed evidence bundle of the compliance state at a date.
    ExportEvidence,
}

impl Action {
    /// Every action, for the RBAC matrix.
    pub const ALL: [Action; 13] = [
        Action::ReadEstate,
        Action::ReadTeamDetails,
        Action::SendData,
        Action::Acknowledge,
        Action::RequestException,
        Action::ExportTeamReport,
        Action::ManagePolicies,
        Action::ManageTokens,
        Action::ManageEstateConfig,
        Action::ManageRoleMappings,
        Action::ReadLedgerEntries,
        Action::ReviewAdmission,
        Action::ExportEvidence,
    ];
}

/// One role, possibly for one team.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub role: Role,
    pub team: Option<crate::domain::TeamName>,
}

/// Does `grant` allow `action` on `team` (`None`: not team-scoped, or an unowned subject)?
pub fn grant_allows(grant: &Grant, action: Action, team: Option<&str>) -> bool {
    use Role::*;
    let own_team = |g: &Grant| match team {
        None => true,
        Some(t) => g.team.as_deref() == Some(t),
    };
    match action {
        Action::ReadEstate => grant.role.can_read(),
        Action::ReadTeamDetails => match grant.role {
            Viewer | Auditor | Security | Admin => true,
            Developer | Manager => own_team(grant),
            Ingest | Admission => false,
        },
        Action::SendData => matches!(grant.role, Ingest | Security | Admin),
        Action::Acknowledge => match grant.role {
            Admin => true,
            Developer => team.is_some() && own_team(grant),
            _ => false,
        },
        Action::RequestException => match grant.role {
            Admin => true,
            Developer | Manager => team.is_some() && own_team(grant),
            _ => false,
        },
        Action::ExportTeamReport => match grant.role {
            Admin | Security | Auditor => true,
            Manager => team.is_some() && own_team(grant),
            _ => false,
        },
        Action::ManagePolicies => matches!(grant.role, Security | Admin),
        Action::ManageTokens => matches!(grant.role, Security | Admin),
        Action::ManageEstateConfig | Action::ManageRoleMappings => grant.role == Admin,
        Action::ReadLedgerEntries => matches!(grant.role, Viewer | Auditor | Security | Admin),
        Action::ReviewAdmission => grant.role == Admission,
        Action::ExportEvidence => matches!(grant.role, Auditor | Security | Admin),
    }
}

/// May `grants` create or revoke a token of `role`? Security: ingest tokens; admin: any.
pub fn may_manage_token_role(grants: &[Grant], role: Role) -> bool {
    grants.iter().any(|g| g.role == Role::Admin || (g.role == Role::Security && role == Role::Ingest))
}

/// Any of `grants` allows it.
pub fn allows(grants: &[Grant], action: Action, team: Option<&str>) -> bool {
    grants.iter().any(|g| grant_allows(g, action, team))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(role: Role, team: Option<&str>) -> Vec<Grant> {
        vec![Grant { role, team: team.map(|t| crate::domain::TeamName::parse(t).unwrap()) }]
    }

    #[test]
    fn developers_see_totals_but_only_their_teams_details() {
        let dev = g(Role::Developer, Some("team-a"));
        assert!(allows(&dev, Action::ReadEstate, None));
        assert!(allows(&dev, Action::ReadTeamDetails, Some("team-a")));
        assert!(!allows(&dev, Action::ReadTeamDetails, Some("team-b")));
        assert!(allows(&dev, Action::ReadTeamDetails, None), "unowned images are visible");
        assert!(allows(&dev, Action::Acknowledge, Some("team-a")));
        assert!(!allows(&dev, Action::Acknowledge, Some("team-b")));
        assert!(!allows(&dev, Action::SendData, None));
    }

    #[test]
    fn ingest_reads_nothing() {
        let ingest = g(Role::Ingest, None);
        for a in Action::ALL {
            assert_eq!(allows(&ingest, a, None), a == Action::SendData, "{a:?}");
        }
    }
}
