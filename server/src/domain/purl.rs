//! Package coordinates: a package URL's type, namespace and name, without the version, the
//! qualifiers and the subpath (`pkg:deb/debian/openssl`). Findings are indexed by them and the
//! estate search asks by them.

use std::fmt;

/// A package's identity across versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageCoordinates {
    ptype: String,
    namespace: String,
    name: String,
}

/// Percent-decodes a package URL or `vers` segment.
pub(crate) fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or_else(|| format!("a bad percent escape in {s:?}"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("a bad percent escape in {s:?}"))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once decoded"))
}

impl PackageCoordinates {
    /// Coordinates from parts, normalised as the purl specification asks per type (lower-case
    /// names for deb, apk, npm, pypi, golang; `_` is `-` in pypi names).
    pub fn new(ptype: &str, namespace: &str, name: &str) -> PackageCoordinates {
        let ptype = ptype.to_ascii_lowercase();
        let (mut namespace, mut name) = (namespace.trim_matches('/').to_string(), name.to_string());
        if matches!(ptype.as_str(), "deb" | "apk" | "rpm" | "npm" | "pypi" | "golang" | "github" | "bitbucket") {
            namespace = namespace.to_lowercase();
        }
        if matches!(ptype.as_str(), "deb" | "apk" | "npm" | "pypi" | "golang" | "github" | "bitbucket") {
            name = name.to_lowercase();
        }
        if ptype == "pypi" {
            name = name.replace('_', "-");
        }
        PackageCoordinates { ptype, namespace, name }
    }

    /// Parses a package URL, ignoring its version, qualifiers and subpath.
    pub fn parse(purl: &str) -> Result<PackageCoordinates, String> {
        let rest = purl.trim().strip_prefix("pkg:").ok_or_else(|| format!("{purl:?} is not a package URL (pkg:type/namespace/name)"))?;
        let rest = rest.trim_start_matches('/');
        let rest = rest.split('#').next().unwrap_or("");
        let rest = rest.split('?').next().unwrap_or("");
        // The version follows the last '@' of the last segment (a scope's '@' is escaped).
        let rest = match rest.rfind('@') {
            Some(at) if !rest[at..].contains('/') => &rest[..at],
            _ => rest,
        };
        let mut segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        if segments.len() < 2 {
            return Err(format!("{purl:?} has no type and name (pkg:type/namespace/name)"));
        }
        let ptype = segments.remove(0);
        if !ptype.chars().all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c)) || ptype.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("{purl:?}: the type {ptype:?} is not a purl type"));
        }
        let name = decode(segments.pop().unwrap_or(""))?;
        let namespace = segments.iter().map(|s| decode(s)).collect::<Result<Vec<_>, _>>()?.join("/");
        if name.is_empty() {
            return Err(format!("{purl:?} has an empty name"));
        }
        Ok(PackageCoordinates::new(ptype, &namespace, &name))
    }

    /// A finding's or a package's coordinates: from the report's package URL when it has one,
    /// else built from the scanner's package type, the image's OS family and the name.
    pub fn for_package(purl: Option<&str>, package_type: &str, os_family: Option<&str>, name: &str) -> PackageCoordinates {
        if let Some(c) = purl.and_then(|p| PackageCoordinates::parse(p).ok()) {
            return c;
        }
        let family = os_family.map(str::to_ascii_lowercase);
        let t = package_type.to_ascii_lowercase();
        let split = |sep: char| match name.rsplit_once(sep) {
            Some((ns, n)) => (ns.to_string(), n.to_string()),
            None => (String::new(), name.to_string()),
        };
        let (ptype, namespace, name) = match t.as_str() {
            "debian" | "ubuntu" => ("deb", t.clone(), name.to_string()),
            "deb" | "dpkg" => ("deb", family.unwrap_or_else(|| "debian".into()), name.to_string()),
            "alpine" | "apk" | "wolfi" | "chainguard" => {
                ("apk", if t == "apk" { family.unwrap_or_else(|| "alpine".into()) } else { t.clone() }, name.to_string())
            }
            "centos" | "rocky" | "redhat" | "amazon" | "alma" | "oracle" | "fedora" | "photon" | "suse" | "opensuse" | "opensuse.leap"
            | "sles" | "cbl-mariner" | "azurelinux" => ("rpm", t.clone(), name.to_string()),
            "rpm" => ("rpm", family.unwrap_or_default(), name.to_string()),
            "node-pkg" | "npm" | "yarn" | "pnpm" | "bun" => {
                let (ns, n) = if name.starts_with('@') { split('/') } else { (String::new(), name.to_string()) };
                ("npm", ns, n)
            }
            "jar" | "pom" | "gradle" | "java-archive" | "sbt" => {
                let (ns, n) = split(':');
                ("maven", ns, n)
            }
            "python-pkg" | "pip" | "pipenv" | "poetry" | "python" | "uv" => ("pypi", String::new(), name.to_string()),
            "gobinary" | "gomod" | "go-module" => {
                let (ns, n) = split('/');
                ("golang", ns, n)
            }
            "cargo" | "rust-binary" | "rust-crate" => ("cargo", String::new(), name.to_string()),
            "gemspec" | "bundler" | "gem" => ("gem", String::new(), name.to_string()),
            "nuget" | "dotnet-core" | "dotnet-deps" | "packages-props" => ("nuget", String::new(), name.to_string()),
            "composer" | "composer-vendor" | "php-composer" => {
                let (ns, n) = split('/');
                ("composer", ns, n)
            }
            _ => ("generic", String::new(), name.to_string()),
        };
        PackageCoordinates::new(ptype, &namespace, &name)
    }

    pub fn ptype(&self) -> &str {
        &self.ptype
    }
    pub fn namespace(&self) -> &str {
        &self.namespace
    }
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A lower-case SQL `LIKE` pattern (no escape character) that the lower-cased name or
    /// package URL of every package with these coordinates' name matches, and usually few others:
    /// `for_package` takes the name from the package URL (when it has no percent escape) or from
    /// the name, and normalising only lower-cases it (and turns pypi's `_` into `-`). So each
    /// letter appears in order; the characters another spelling could hide stand for any one
    /// character (`_`): `-` (pypi's `_`), `k` (the Kelvin sign lower-cases to it), and `_`, `%`
    /// and `\` (LIKE's own). None for a name that is not ASCII (SQL lower-cases ASCII only):
    /// then nothing can be filtered. Package URLs with a percent escape must be read whatever
    /// their text (the caller's part).
    pub fn name_like_pattern(&self) -> Option<String> {
        if !self.name.is_ascii() {
            return None;
        }
        let letters = self.name.chars().map(|c| match c.to_ascii_lowercase() {
            '-' | 'k' | '_' | '%' | '\\' => '_',
            c => c,
        });
        Some(std::iter::once('%').chain(letters).chain(std::iter::once('%')).collect())
    }

    /// Operating system packages (deb, rpm, apk): found by the package manager, at no path.
    pub fn is_os_package(&self) -> bool {
        matches!(self.ptype.as_str(), "deb" | "rpm" | "apk")
    }
}

impl fmt::Display for PackageCoordinates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "pkg:{}/{}", self.ptype, self.name)
        } else {
            write!(f, "pkg:{}/{}/{}", self.ptype, self.namespace, self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_urls_lose_version_qualifiers_and_subpath() {
        let c = PackageCoordinates::parse("pkg:deb/debian/libssl1.1@1.1.1d-0+deb10u7?arch=amd64&distro=debian-10").unwrap();
        assert_eq!(c.to_string(), "pkg:deb/debian/libssl1.1");
        let c = PackageCoordinates::parse("pkg:npm/%40babel/core@7.0.0").unwrap();
        assert_eq!((c.namespace(), c.name()), ("@babel", "core"));
        let c = PackageCoordinates::parse("pkg:maven/org.springframework/spring-beans@5.3.17#sub/path").unwrap();
        assert_eq!(c.to_string(), "pkg:maven/org.springframework/spring-beans");
        assert_eq!(PackageCoordinates::parse("pkg:pypi/Django_Rest@1").unwrap().to_string(), "pkg:pypi/django-rest");
        assert_eq!(PackageCoordinates::parse("pkg:deb/debian/openssl").unwrap().to_string(), "pkg:deb/debian/openssl");
        for bad in ["deb/debian/openssl", "pkg:openssl", "pkg:1deb/x/y", "pkg:deb/debian/%zz"] {
            assert!(PackageCoordinates::parse(bad).is_err(), "{bad}");
        }
    }

    /// SQL `LIKE` as both backends run it on these patterns: case-sensitive here (the caller
    /// lower-cases the text), `%` any run, `_` any one character.
    fn like(pattern: &str, text: &str) -> bool {
        let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
        fn go(p: &[char], t: &[char]) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
                Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
                Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
            }
        }
        go(&p, &t)
    }

    #[test]
    fn the_name_pattern_matches_every_spelling_that_normalises_to_the_name() {
        let cases = [
            ("pkg:pypi/django-rest", Some("pkg:pypi/Django_Rest@1.0"), "python-pkg", "Django_Rest"),
            ("pkg:deb/debian/openssl", None, "debian", "OpenSSL"),
            ("pkg:deb/debian/openssl", Some("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64"), "debian", "libssl3"),
            ("pkg:maven/org.apache.logging.log4j/log4j-core", None, "jar", "org.apache.logging.log4j:log4j-core"),
            ("pkg:npm/@babel/core", None, "node-pkg", "@babel/core"),
            ("pkg:deb/debian/kelvin", None, "debian", "\u{212a}elvin"),
        ];
        for (deny, purl, ptype, name) in cases {
            let d = PackageCoordinates::parse(deny).unwrap();
            let c = PackageCoordinates::for_package(purl, ptype, Some("debian"), name);
            assert_eq!(c.name(), d.name(), "{deny}: the case itself normalises to the name");
            let p = d.name_like_pattern().unwrap();
            let hit = like(&p, &name.to_ascii_lowercase()) || purl.is_some_and(|u| like(&p, &u.to_ascii_lowercase()));
            assert!(hit, "{p} misses {purl:?} / {name:?}");
        }
        let p = PackageCoordinates::parse("pkg:deb/debian/bash").unwrap().name_like_pattern().unwrap();
        for other in ["openssl", "libc6", "dash"] {
            assert!(!like(&p, other), "{p} should not match {other}");
        }
        assert_eq!(PackageCoordinates::new("maven", "x", "caf\u{e9}").name_like_pattern(), None);
    }

    #[test]
    fn coordinates_are_built_when_a_report_has_no_purl() {
        assert_eq!(PackageCoordinates::for_package(None, "debian", Some("debian"), "openssl").to_string(), "pkg:deb/debian/openssl");
        assert_eq!(
            PackageCoordinates::for_package(None, "jar", None, "org.apache.logging.log4j:log4j-core").to_string(),
            "pkg:maven/org.apache.logging.log4j/log4j-core"
        );
        assert_eq!(PackageCoordinates::for_package(None, "node-pkg", None, "@babel/core").to_string(), "pkg:npm/@babel/core");
        assert_eq!(PackageCoordinates::for_package(None, "alpine", Some("alpine"), "musl").to_string(), "pkg:apk/alpine/musl");
        assert!(PackageCoordinates::for_package(None, "centos", Some("centos"), "openssl-libs").is_os_package());
    }
}
