//! From identity-provider groups to grants (roles and teams). Mappings come from configuration
//! (`group_roles` / `DRYDOCK_GROUP_ROLES`) and from the admin page (stored in the database).

use super::Grant;
use crate::domain::{FieldError, Role, TeamName};

/// One mapping: members of `group` get `role` (for `team`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMapping {
    pub group: String,
    pub grant: Grant,
}

impl GroupMapping {
    /// A mapping as a person or the configuration enters it; the error names the field at fault.
    /// People get no `ingest` role (it is for tokens); developers and managers need a team.
    pub fn new(group: &str, role: Role, team: Option<TeamName>) -> Result<GroupMapping, FieldError> {
        let group = group.trim();
        if group.is_empty() {
            return Err(FieldError::new("group", "empty"));
        }
        if group.len() > 256 || group.chars().any(char::is_control) {
            return Err(FieldError::new("group", "at most 256 bytes, no control characters"));
        }
        if group.contains([',', '=']) {
            return Err(FieldError::new("group", "a group name may not contain ',' or '='"));
        }
        if matches!(role, Role::Ingest | Role::Admission) {
            return Err(FieldError::new("role", format!("the {} role is for API tokens, not people", role.as_str())));
        }
        if matches!(role, Role::Developer | Role::Manager) && team.is_none() {
            return Err(FieldError::new("team", format!("{} needs a team", role.as_str())));
        }
        Ok(GroupMapping { group: group.to_string(), grant: Grant { role, team } })
    }
}

/// Parses `group=role[:team],...`.
pub fn parse(spec: &str) -> Result<Vec<GroupMapping>, String> {
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (group, rest) =
            item.split_once('=').ok_or_else(|| format!("group mapping {item:?} must look like group=role or group=role:team"))?;
        let (role, team) = match rest.split_once(':') {
            Some((r, t)) => (r.trim(), Some(TeamName::parse(t.trim())?)),
            None => (rest.trim(), None),
        };
        let role: Role = role.parse()?;
        out.push(GroupMapping::new(group, role, team).map_err(|e| format!("group mapping {item:?}: {e}"))?);
    }
    Ok(out)
}

/// The grants a person with `groups` receives.
pub fn grants_for(groups: &[String], mappings: &[GroupMapping]) -> Vec<Grant> {
    let mut grants: Vec<Grant> = mappings.iter().filter(|m| groups.iter().any(|g| g == &m.group)).map(|m| m.grant.clone()).collect();
    grants.sort_by(|a, b| (a.role.as_str(), &a.team).cmp(&(b.role.as_str(), &b.team)));
    grants.dedup();
    grants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let m = parse("platform-admins=admin,team-a-dev=developer:team-a").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].grant, Grant { role: Role::Developer, team: Some(TeamName::parse("team-a").unwrap()) });
        let g = grants_for(&["team-a-dev".into(), "other".into()], &m);
        assert_eq!(g, vec![Grant { role: Role::Developer, team: Some(TeamName::parse("team-a").unwrap()) }]);
        assert!(grants_for(&["nobody".into()], &m).is_empty());
    }

    #[test]
    fn refuses_what_would_be_ambiguous() {
        assert!(parse("x=ingest").is_err());
        assert!(parse("x=developer").is_err());
        assert!(parse("x=root").is_err());
        assert!(parse("no-equals").is_err());
        assert!(parse("x=developer:Bad Team").is_err());
    }
}
