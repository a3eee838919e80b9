//! Images as registries and scanners name them: content digests, repositories, references
//! (`[registry/]path[:tag][@digest]`), and the distribution grammar of repository names and tags.

use serde::Serialize;
use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
