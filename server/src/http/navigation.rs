//! What the navigation shows each person, and where each role lands after signing in: links
//! only to what the role may use (the RBAC specification decides), homes by role.

use crate::auth::{Action, Principal};
use crate::domain::Role;

/// (path, label, may this principal use it?).
type Entry = (&'static str, &'static str, fn(&Principal) -> bool);

fn has_role(p: &Principal, roles: &[Role]) -> bool {
    p.grants.iter().any(|g| roles.contains(&g.role))
}

const ENTRIES: [Entry; 28] = [
    ("/my-teams", "My teams", |p| p.can(Action::ReadEstate, None)),
    ("/updates", "Required updates", |p| has_role(p, &[Role::Developer, Role::Manager, Role::Admin])),
    ("/overdue", "Overdue", |p| has_role(p, &[Role::Manager, Role::Security, Role::Admin, Role::Viewer, Role::Auditor])),
    ("/campaigns", "Campaigns", |p| p.can(Action::ReadEstate, None)),
    ("/exceptions", "Exception queue", |p| p.can(Action::ManagePolicies, None)),
    ("/inbox", "Inbox", |p| p.can(Action::ReadEstate, None)),
    ("/", "Overview", |p| p.can(Action::ReadEstate, None)),
    ("/search", "Search", |p| p.can(Action::ReadEstate, None)),
    ("/risk", "Fix these first", |p| p.can(Action::ReadEstate, None)),
    ("/checklist", "Checklist", |p| p.can(Action::ReadEstate, None)),
    ("/admission", "Admission", |p| p.can(Action::ManagePolicies, None)),
    ("/scorecards", "Scorecards", |p| p.can(Action::ReadEstate, None)),
    ("/policies", "Policies", |p| p.can(Action::ReadEstate, None)),
    ("/teams", "Teams", |p| p.can(Action::ReadEstate, None)),
    ("/images", "Images", |p| p.can(Action::ReadEstate, None)),
    ("/workloads", "Workloads", |p| p.can(Action::ReadEstate, None)),
    ("/unaccounted", "Unaccounted", |p| p.can(Action::ReadEstate, None)),
    ("/clusters", "Clusters", |p| p.can(Action::ReadEstate, None)),
    ("/registries", "Registries", |p| p.can(Action::ReadEstate, None)),
    ("/ledger", "Ledger", |p| p.can(Action::ReadEstate, None)),
    ("/evidence", "Evidence", |p| p.can(Action::ExportEvidence, None)),
    ("/deliveries", "Delivery log", |p| p.can(Action::ManagePolicies, None)),
    ("/admin/contacts", "Contacts", |p| p.can(Action::ManagePolicies, None)),
    ("/admin/ownership", "Ownership", |p| p.can(Action::ManageEstateConfig, None)),
    ("/admin/tokens", "API tokens", |p| p.can(Action::ManageTokens, None)),
    ("/admin/roles", "Role mapping", |p| p.can(Action::ManageRoleMappings, None)),
    ("/admin/users", "Users", |p| p.can(Action::ManageRoleMappings, None)),
    ("/admin/jobs", "Jobs", |p| p.can(Action::ManageEstateConfig, None)),
];

/// The links `who` may use, in the order the navigation lists them (signed out: none).
pub fn nav_for(who: Option<&Principal>) -> Vec<(String, String)> {
    match who {
        None => vec![],
        Some(p) => ENTRIES.iter().filter(|(_, _, ok)| ok(p)).map(|(h, l, _)| (h.to_string(), l.to_string())).collect(),
    }
}

/// Where a person lands after signing in: developers on their team's required updates, managers
/// on their teams' cards (score, trend, what is late), security on the campaigns and exception queue,
/// auditors on the evidence bundles, everyone else on the estate overview.
pub fn home_for(who: &Principal) -> &'static str {
    if has_role(who, &[Role::Admin, Role::Viewer]) {
        "/"
    } else if has_role(who, &[Role::Security]) {
        "/campaigns"
    } else if has_role(who, &[Role::Manager]) {
        "/my-teams"
    } else if has_role(who, &[Role::Developer]) {
        "/updates"
    } else if has_role(who, &[Role::Auditor]) {
        "/evidence"
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Grant;

    fn p(role: Role, team: Option<&str>) -> Principal {
        Principal {
            actor: "t".into(),
            display: "t".into(),
            grants: vec![Grant { role, team: team.map(|t| crate::domain::TeamName::parse(t).unwrap()) }],
            bindings: None,
        }
    }

    #[test]
    fn each_role_sees_only_what_it_may_use_and_lands_home() {
        let dev = nav_for(Some(&p(Role::Developer, Some("web"))));
        let hrefs: Vec<&str> = dev.iter().map(|(h, _)| h.as_str()).collect();
        assert!(hrefs.contains(&"/updates") && hrefs.contains(&"/campaigns"));
        for admin_only in ["/admin/tokens", "/admin/roles", "/admin/users", "/admin/jobs", "/exceptions", "/deliveries"] {
            assert!(!hrefs.contains(&admin_only), "a developer sees {admin_only}");
        }
        let security: Vec<String> = nav_for(Some(&p(Role::Security, None))).into_iter().map(|(h, _)| h).collect();
        assert!(security.contains(&"/exceptions".to_string()) && security.contains(&"/admin/tokens".to_string()));
        assert!(!security.contains(&"/admin/roles".to_string()));
        assert!(nav_for(Some(&p(Role::Ingest, None))).is_empty());
        assert!(nav_for(None).is_empty());
        assert_eq!(home_for(&p(Role::Developer, Some("web"))), "/updates");
        assert_eq!(home_for(&p(Role::Manager, Some("web"))), "/my-teams");
        assert_eq!(home_for(&p(Role::Security, None)), "/campaigns");
        assert_eq!(home_for(&p(Role::Admin, None)), "/");
    }
}
