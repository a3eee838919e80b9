//! Ownership rules as the service hands them to the store: the pattern normalised for its kind
//! and the team a checked name, so the store writes what it is given.

use super::{FieldError, TeamName};
use app::types::RuleKind;

/// A new ownership rule, valid by construction (`RuleSpec::parse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    kind: RuleKind,
    pattern: String,
    team: TeamName,
}

impl RuleSpec {
    /// Checks and normalises a rule as a person or a file enters it; the error names the field.
    pub fn parse(kind: RuleKind, pattern: &str, team: &str) -> Result<RuleSpec, FieldError> {
        if pattern.len() > 1024 || pattern.chars().any(char::is_control) {
            return Err(FieldError::new("pattern", "at most 1024 bytes, no control characters"));
        }
        let pattern = match kind {
            RuleKind::RepositoryPrefix => prefix(pattern),
            RuleKind::Namespace => namespace(pattern),
            RuleKind::Label => label(pattern),
        }
        .map_err(|m| FieldError::new("pattern", m))?;
        let team = TeamName::parse(team).map_err(|m| FieldError::new("team", m))?;
        Ok(RuleSpec { kind, pattern, team })
    }

    pub fn kind(&self) -> RuleKind {
        self.kind
    }
    /// The normalised pattern (what is stored and matched).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
    pub fn team(&self) -> &TeamName {
        &self.team
    }
}

/// A repository prefix: trimmed, lowercase, no trailing `/`, no empty segments.
fn prefix(p: &str) -> Result<String, String> {
    let p = p.trim().trim_end_matches('/').to_ascii_lowercase();
    if p.is_empty() || p.split('/').any(str::is_empty) || p.chars().any(|c| c.is_whitespace() || c == '@') {
        return Err(format!("{p:?} is not a repository prefix such as docker.io/acme or acme/payments"));
    }
    Ok(p)
}

/// A namespace: a DNS label (lowercase letters, digits, '-').
fn namespace(p: &str) -> Result<String, String> {
    let p = p.trim();
    if p.is_empty() || p.len() > 63 || !p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(format!("{p:?} is not a Kubernetes namespace name"));
    }
    Ok(p.to_string())
}

/// A pod label selector `key=value` (one pair).
fn label(p: &str) -> Result<String, String> {
    let p = p.trim();
    match p.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !k.contains(char::is_whitespace) && !v.contains(char::is_whitespace) => {
            Ok(format!("{}={}", k.trim(), v.trim()))
        }
        _ => Err(format!("{p:?} is not a pod label key=value such as team=payments")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_normalised_for_their_kind_and_errors_name_the_field() {
        let r = RuleSpec::parse(RuleKind::RepositoryPrefix, " Docker.io/Acme/ ", "payments").unwrap();
        assert_eq!((r.pattern(), r.team().as_str()), ("docker.io/acme", "payments"));
        assert_eq!(RuleSpec::parse(RuleKind::Label, " team=x ", "t").map(|r| r.pattern().to_string()), Ok("team=x".into()));
        assert_eq!(RuleSpec::parse(RuleKind::Namespace, "shop", "t").unwrap().pattern(), "shop");
        for (kind, pattern, team, field) in [
            (RuleKind::RepositoryPrefix, "acme//x", "t", "pattern"),
            (RuleKind::RepositoryPrefix, "acme@sha256", "t", "pattern"),
            (RuleKind::Namespace, "Shop", "t", "pattern"),
            (RuleKind::Label, "team", "t", "pattern"),
            (RuleKind::Label, "a=b\u{7}", "t", "pattern"),
            (RuleKind::Namespace, "shop", "Payments!", "team"),
        ] {
            assert_eq!(RuleSpec::parse(kind, pattern, team).unwrap_err().field, field, "{pattern:?} {team:?}");
        }
        assert!(RuleSpec::parse(RuleKind::RepositoryPrefix, &"a".repeat(1025), "t").is_err());
    }
}
