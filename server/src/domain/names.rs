//! Names that can only hold what their grammar allows: teams, clusters, registries.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A name that can only hold what its grammar allows (private field; `parse`, `TryFrom<String>`
/// and serde all check it). It reads as a `&str`. A row decodes into it as stored: only checked
/// names are written, so what comes back is not checked again.
macro_rules! checked_name {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
        #[serde(try_from = "String", into = "String")]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            /// The name, or what is wrong with it.
            pub fn parse(s: &str) -> Result<$name, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(s).map(|()| $name(s.to_string()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<$name, String> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A slug: lowercase letters, digits and dashes, 1 to 63 characters, not starting with a dash.
fn slug(what: &str, s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("{what} name {s:?} must be 1-63 lowercase letters, digits or dashes"))
    }
}

checked_name!(
    /// A team's name (a slug).
    TeamName,
    |s| slug("team", s)
);
checked_name!(
    /// A cluster's name (a slug, as Kubernetes names clusters in kubeconfig contexts).
    ClusterName,
    |s| slug("cluster", s)
);
checked_name!(
    /// A registry's name in Drydock: 1 to 64 letters, digits, '-', '_' or '.'.
    RegistryName,
    |s| {
        if s.is_empty() || s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            Err(format!("registry name {s:?} must be 1 to 64 letters, digits, '-', '_' or '.'"))
        } else {
            Ok(())
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_however_they_arrive() {
        assert_eq!(TeamName::parse("payments").unwrap().as_str(), "payments");
        assert!(TeamName::parse("Payments").unwrap_err().starts_with("team name"));
        assert!(ClusterName::parse("-edge").unwrap_err().starts_with("cluster name"));
        assert!(ClusterName::parse(&"a".repeat(64)).is_err());
        assert_eq!(&*RegistryName::parse("hub.docker_1").unwrap(), "hub.docker_1");
        assert!(RegistryName::parse("a b").is_err());
        // Deserialising goes through the same check; serialising gives the plain string.
        assert!(serde_json::from_str::<TeamName>("\"a/b\"").is_err());
        let t: TeamName = serde_json::from_str("\"shop\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"shop\"");
    }
}
