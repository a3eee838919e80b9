//! Domain values that can only be built valid: digests, image references, roles; a registry's
//! and a cluster's configuration and what their collectors read (`registry`, `cluster`). Nothing
//! here imports the store or anything above it.

pub mod campaign;
pub mod cluster;
pub mod dates;
pub mod entry;
pub mod kev;
pub mod merkle;
pub mod network;
pub mod policy;
pub mod purl;
pub mod registry;
pub mod text;
pub mod version;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
pub use text::{check_len, free_text, is_bidi_control, FieldError};

/// A content digest such as `sha256:<64 hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Digest(String);

impl Digest {
    /// Accepts `sha256:<64 lowercase hex>` and `sha512:<128 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Digest, String> {
        let (alg, hex) = s.split_once(':').ok_or_else(|| format!("{s:?} is not a digest (expected sha256:<hex>)"))?;
        let len = match alg {
            "sha256" => 64,
            "sha512" => 128,
            _ => return Err(format!("{s:?} uses an unsupported digest algorithm {alg:?}")),
        };
        if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(format!("{s:?} is not a valid {alg} digest"));
        }
        Ok(Digest(s.to_string()))
    }

    /// The digest text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A normalised repository: registry host plus path, as Docker resolves short names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    pub registry: String,
    pub name: String,
}

impl Repository {
    /// `registry/name`.
    pub fn full(&self) -> String {
        format!("{}/{}", self.registry, self.name)
    }
}

/// An image reference split into repository, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub repository: Repository,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl ImageRef {
    /// Parses `[registry/]path[:tag][@digest]` the way Docker does: a first component with a
    /// `.` or `:` (or `localhost`) is a registry, else `docker.io`; a one-component Docker Hub
    /// name lives under `library/`.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty image reference".into());
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d)?)),
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (path, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(rest[last_slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if path.is_empty() || tag.as_deref() == Some("") {
            return Err(format!("{s:?} is not an image reference"));
        }
        let (registry, name) = match path.split_once('/') {
            Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (first.to_ascii_lowercase(), rest.to_string())
            }
            _ => ("docker.io".to_string(), path.to_string()),
        };
        let name = if registry == "docker.io" && !name.contains('/') { format!("library/{name}") } else { name };
        if name.is_empty() || name.split('/').any(str::is_empty) {
            return Err(format!("{s:?} has an empty path component"));
        }
        Ok(ImageRef { repository: Repository { registry, name }, tag, digest })
    }
}

/// What an API token or a person may do. The full specification lives in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sends data in; reads nothing.
    Ingest,
    Viewer,
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
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Manager => "manager",
            Role::Security => "security",
            Role::Admin => "admin",
        }
    }

    /// Every role but `ingest` reads the estate.
    pub fn can_read(self) -> bool {
        self != Role::Ingest
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
            "viewer" => Role::Viewer,
            "developer" => Role::Developer,
            "manager" => Role::Manager,
            "security" => Role::Security,
            "admin" => Role::Admin,
            other => return Err(format!("unknown role {other:?} (one of ingest, viewer, developer, manager, security, admin)")),
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

/// A database URL with any password replaced, safe for logs.
pub fn redact_url(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => u.to_string(),
    }
}

/// SHA-256 of `bytes`, lowercase hex (report identity, digests checked against their bytes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The first string (or member name) of a JSON document holding a NUL character, as a path like
/// `items[3].metadata.name`. PostgreSQL cannot store NUL in text, SQLite can: such input is
/// refused the same way on both (422 naming the field), before anything is written.
pub fn find_nul(v: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut String) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().enumerate().any(|(i, x)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(x, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            serde_json::Value::Object(o) => o.iter().any(|(k, x)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.replace('\0', "\\0"));
                let found = k.contains('\0') || walk(x, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| if path.is_empty() { "the body".to_string() } else { path })
}

/// An error with its causes, `outer: cause: cause` (HTTP clients' own text hides why a connection
/// was not made).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Is this URL's host a loopback address (`127.0.0.0/8`, `::1`, `localhost`)?
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Checks a server URL that will receive a secret: https, or plain http only to loopback or when
/// the operator said `insecure`. The message names `field`.
pub fn check_secret_url(url: &url::Url, insecure: bool, field: &str) -> Result<(), FieldError> {
    // Credentials in the URL would be stored, shown, logged and recorded in the ledger with it.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(field, "no credentials in the URL (name the user and the variable holding the secret instead)"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) || insecure => Ok(()),
        "http" => Err(FieldError::new(
            field,
            "plain http:// is allowed only for loopback or with insecure (the credential would travel in clear)",
        )),
        other => Err(FieldError::new(field, format!("scheme {other:?} is not http or https"))),
    }
}

/// A repository name in the OCI distribution grammar: path components of lowercase letters and
/// digits joined by `.`, `_`, `__` or runs of `-`, separated by `/`; at most 255 characters.
pub fn validate_repository_name(s: &str) -> Result<(), String> {
    fn component(c: &str) -> bool {
        let b = c.as_bytes();
        if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            let ch = b[i];
            if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
                i += 1;
                continue;
            }
            // A separator: ".", "_", "__" or one or more "-", always between alphanumerics.
            let start = i;
            match ch {
                b'.' => i += 1,
                b'_' => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
                b'-' => {
                    while b.get(i) == Some(&b'-') {
                        i += 1;
                    }
                }
                _ => return false,
            }
            if i == start || !b.get(i).is_some_and(|n| n.is_ascii_lowercase() || n.is_ascii_digit()) {
                return false;
            }
        }
        true
    }
    if !s.is_empty() && s.len() <= 255 && s.split('/').all(component) {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a repository name (lowercase letters and digits separated by '.', '_', '__', '-' or '/')",
            s.chars().take(80).collect::<String>()
        ))
    }
}

/// A tag in the OCI distribution grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn validate_tag(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    if !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
    {
        Ok(())
    } else {
        Err(format!("{:?} is not a tag", s.chars().take(80).collect::<String>()))
    }
}

/// `n` random bytes from the operating system, as lowercase hex.
pub fn random_hex(n: usize) -> String {
    use rand::RngCore as _;
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

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

    #[test]
    fn repository_names_follow_the_distribution_grammar() {
        for ok in ["app", "team-a/app", "library/nginx", "a.b_c__d---e/f0", "juice-shop"] {
            assert!(validate_repository_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "../../../../internal/admin?x=",
            "a/../b",
            "a//b",
            "/a",
            "a/",
            "A",
            "a?x",
            "a#b",
            "a%2fb",
            "a b",
            "a___b",
            "-a",
            "a-",
            "a..b",
            "",
        ] {
            assert!(validate_repository_name(bad).is_err(), "{bad}");
        }
        assert!(validate_repository_name(&"a".repeat(256)).is_err());
        assert!(validate_tag("v1.2.3_rc-1").is_ok());
        for bad in ["", ".x", "-x", "a/b", "a:b", &"a".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_docker_references() {
        let r = ImageRef::parse("bkimminich/juice-shop:v10.2.0").unwrap();
        assert_eq!(r.repository.full(), "docker.io/bkimminich/juice-shop");
        assert_eq!(r.tag.as_deref(), Some("v10.2.0"));
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(r.repository.full(), "docker.io/library/nginx");
        let r = ImageRef::parse("localhost:5000/team-a/app:1.0").unwrap();
        assert_eq!(r.repository.registry, "localhost:5000");
        assert_eq!(r.repository.name, "team-a/app");
        let d = "sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065";
        let r = ImageRef::parse(&format!("quay.io/org/img@{d}")).unwrap();
        assert_eq!(r.digest.unwrap().as_str(), d);
        assert!(r.tag.is_none());
        assert!(ImageRef::parse("a//b").is_err());
        assert!(ImageRef::parse("img@sha256:xyz").is_err());
    }

    #[test]
    fn digests_are_checked() {
        assert!(Digest::parse("sha256:abc").is_err());
        assert!(Digest::parse(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(Digest::parse(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(Digest::parse(&format!("md5:{}", "a".repeat(32))).is_err());
    }
}
