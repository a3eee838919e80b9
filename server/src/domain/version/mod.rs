//! Package versions and version ranges in the purl `vers` syntax
//! (`vers:deb/>=1.1.1|<1.1.1n-0+deb11u4`), each scheme compared with its ecosystem's own
//! ordering: dpkg, rpm (`labelCompare`), apk, semver (npm, cargo, golang), PEP 440 (pypi),
//! Maven. Ranges are values: parsing checks every version in its scheme's grammar, so a range
//! that exists can always be evaluated.

mod apk;
mod deb;
mod maven;
mod rpm;

use std::cmp::Ordering;
use std::fmt;

/// A versioning scheme, as named in `vers:` URIs and (mostly) as purl types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Deb,
    Rpm,
    Apk,
    /// Semantic versioning 2.0 (npm, cargo, golang: a leading `v` is allowed).
    Semver,
    /// PEP 440 (pypi).
    Pypi,
    Maven,
}

impl Scheme {
    /// The scheme of a `vers:` URI or a purl type; `None` when unknown.
    pub fn parse(s: &str) -> Option<Scheme> {
        Some(match s.to_ascii_lowercase().as_str() {
            "deb" | "debian" => Scheme::Deb,
            "rpm" => Scheme::Rpm,
            "apk" | "alpine" => Scheme::Apk,
            "semver" | "npm" | "cargo" | "golang" | "go" => Scheme::Semver,
            "pypi" | "pep440" => Scheme::Pypi,
            "maven" => Scheme::Maven,
            _ => return None,
        })
    }

    /// Every scheme name accepted, for messages.
    pub const NAMES: &'static str = "deb, rpm, apk, npm, cargo, golang, semver, pypi, maven";

    /// Checks a version in this scheme's grammar.
    pub fn validate(self, v: &str) -> Result<(), String> {
        match self {
            Scheme::Deb => deb::parse(v).map(|_| ()),
            Scheme::Rpm => rpm::parse(v).map(|_| ()),
            Scheme::Apk => apk::validate(v),
            Scheme::Semver => semver_parse(v).map(|_| ()),
            Scheme::Pypi => pep440(v).map(|_| ()),
            Scheme::Maven => maven::validate(v),
        }
    }

    /// Orders two versions of this scheme; an error names what does not parse.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, String> {
        match self {
            Scheme::Deb => deb::compare(a, b),
            Scheme::Rpm => rpm::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
            Scheme::Semver => Ok(semver_parse(a)?.cmp_precedence(&semver_parse(b)?)),
            Scheme::Pypi => Ok(pep440(a)?.cmp(&pep440(b)?)),
            Scheme::Maven => maven::compare(a, b),
        }
    }
}

fn semver_parse(v: &str) -> Result<semver::Version, String> {
    let s = v.trim();
    let s = s.strip_prefix('v').or_else(|| s.strip_prefix('V')).unwrap_or(s);
    semver::Version::parse(s).map_err(|e| format!("{v:?} is not a semantic version: {e}"))
}

fn pep440(v: &str) -> Result<pep440_rs::Version, String> {
    v.trim().parse::<pep440_rs::Version>().map_err(|e| format!("{v:?} is not a PEP 440 version: {e}"))
}

/// A comparator of a `vers` constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    fn as_str(self) -> &'static str {
        match self {
            Comparator::Eq => "",
            Comparator::Ne => "!=",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }
}

/// One constraint: a comparator and a version (valid in the range's scheme).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub comparator: Comparator,
    pub version: String,
}

/// A version range: `vers:<scheme>/<constraint>|<constraint>…`, or `vers:<scheme>/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    scheme: Scheme,
    /// Empty: every version (`*`). Otherwise sorted by version, as the specification asks.
    constraints: Vec<Constraint>,
}

/// Most constraints one range may hold (real advisories use a handful).
pub const MAX_CONSTRAINTS: usize = 64;
/// Longest `vers:` URI, in bytes.
pub const MAX_RANGE_BYTES: usize = 4096;

impl VersionRange {
    /// Parses a `vers:` URI (at most `MAX_CONSTRAINTS` constraints, `MAX_RANGE_BYTES` bytes); the error says what is wrong (not a `vers:` URI, an unknown scheme,
    /// a comparator or version that does not parse in the scheme's grammar).
    pub fn parse(s: &str) -> Result<VersionRange, String> {
        let s = s.trim();
        if s.len() > MAX_RANGE_BYTES {
            return Err(format!("{} bytes, at most {MAX_RANGE_BYTES}", s.len()));
        }
        let rest = s
            .strip_prefix("vers:")
            .ok_or_else(|| format!("{s:?} is not a vers: URI (vers:<scheme>/<constraints>, e.g. vers:deb/<1.1.1n-0+deb11u4)"))?;
        let (scheme_name, constraints) =
            rest.split_once('/').ok_or_else(|| format!("{s:?} has no '/' between the scheme and the constraints"))?;
        let scheme = Scheme::parse(scheme_name)
            .ok_or_else(|| format!("the versioning scheme {scheme_name:?} is not known (known: {})", Scheme::NAMES))?;
        let constraints: String = constraints.chars().filter(|c| !c.is_whitespace()).collect();
        if constraints.is_empty() {
            return Err(format!("{s:?} has no constraints"));
        }
        if constraints == "*" {
            return Ok(VersionRange { scheme, constraints: vec![] });
        }
        let count = constraints.split('|').count();
        if count > MAX_CONSTRAINTS {
            return Err(format!("{count} constraints, at most {MAX_CONSTRAINTS}"));
        }
        let mut list = Vec::new();
        for part in constraints.split('|') {
            let (comparator, version) = if let Some(v) = part.strip_prefix(">=") {
                (Comparator::Ge, v)
            } else if let Some(v) = part.strip_prefix("<=") {
                (Comparator::Le, v)
            } else if let Some(v) = part.strip_prefix("!=") {
                (Comparator::Ne, v)
            } else if let Some(v) = part.strip_prefix('<') {
                (Comparator::Lt, v)
            } else if let Some(v) = part.strip_prefix('>') {
                (Comparator::Gt, v)
            } else if let Some(v) = part.strip_prefix('=') {
                (Comparator::Eq, v)
            } else {
                (Comparator::Eq, part)
            };
            if version.is_empty() {
                return Err(format!("the constraint {part:?} has no version"));
            }
            if version.starts_with(['<', '>', '=', '!', '*']) {
                return Err(format!("the constraint {part:?} has an unknown comparator"));
            }
            let version = super::purl::decode(version)?;
            scheme.validate(&version).map_err(|e| format!("in {scheme_name}: {e}"))?;
            list.push(Constraint { comparator, version });
        }
        // An insertion sort (at most 64 constraints): the standard sorts panic when a comparison is
        // not a total order, and a scheme's comparison of odd versions need not be one (found by
        // fuzzing Maven ranges). Then every pair is checked: strictly ascending, or refused.
        for i in 1..list.len() {
            let mut j = i;
            while j > 0 && scheme.compare(&list[j - 1].version, &list[j].version)? == Ordering::Greater {
                list.swap(j - 1, j);
                j -= 1;
            }
        }
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                match scheme.compare(&a.version, &b.version)? {
                    Ordering::Less => {}
                    Ordering::Equal => return Err(format!("the version {:?} appears twice", b.version)),
                    Ordering::Greater => {
                        return Err(format!("the versions {:?} and {:?} do not order consistently in {scheme_name}", a.version, b.version))
                    }
                }
            }
        }
        Ok(VersionRange { scheme, constraints: list })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether `version` is in the range (the vers specification's algorithm). A version that
    /// does not parse in the scheme is not in it.
    pub fn contains(&self, version: &str) -> bool {
        if self.constraints.is_empty() {
            return self.scheme.validate(version).is_ok();
        }
        let cmp = |c: &Constraint| self.scheme.compare(version, &c.version);
        let mut rest: Vec<(&Constraint, Ordering)> = Vec::new();
        for c in &self.constraints {
            let Ok(ord) = cmp(c) else { return false };
            match c.comparator {
                Comparator::Eq if ord == Ordering::Equal => return true,
                Comparator::Ne if ord == Ordering::Equal => return false,
                Comparator::Eq | Comparator::Ne => {}
                _ => rest.push((c, ord)),
            }
        }
        // `ord` is how the tested version compares with the constraint's version.
        let satisfies = |(c, ord): (&Constraint, Ordering)| match c.comparator {
            Comparator::Lt => ord == Ordering::Less,
            Comparator::Le => ord != Ordering::Greater,
            Comparator::Gt => ord == Ordering::Greater,
            Comparator::Ge => ord != Ordering::Less,
            Comparator::Eq => ord == Ordering::Equal,
            Comparator::Ne => ord != Ordering::Equal,
        };
        let lower = |c: &Constraint| matches!(c.comparator, Comparator::Gt | Comparator::Ge);
        let upper = |c: &Constraint| matches!(c.comparator, Comparator::Lt | Comparator::Le);
        match rest.as_slice() {
            // Only `!=` constraints (none matched): every other version is in; only `=` ones: none.
            [] => self.constraints.iter().all(|c| c.comparator == Comparator::Ne),
            [one] => satisfies(*one),
            _ => {
                let n = rest.len();
                for (k, pair) in rest.windows(2).enumerate() {
                    let (cur, next) = (pair[0], pair[1]);
                    if k == 0 && upper(cur.0) && satisfies(cur) {
                        return true;
                    }
                    if k == n - 2 && lower(next.0) && satisfies(next) {
                        return true;
                    }
                    if lower(cur.0) && upper(next.0) && satisfies(cur) && satisfies(next) {
                        return true;
                    }
                }
                false
            }
        }
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Deb => "deb",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Semver => "semver",
            Scheme::Pypi => "pypi",
            Scheme::Maven => "maven",
        };
        if self.constraints.is_empty() {
            return write!(f, "vers:{scheme}/*");
        }
        let parts: Vec<String> = self.constraints.iter().map(|c| format!("{}{}", c.comparator.as_str(), c.version)).collect();
        write!(f, "vers:{scheme}/{}", parts.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_contain() {
        let r = VersionRange::parse("vers:deb/<1.1.1n-0+deb11u4").unwrap();
        assert!(r.contains("1.1.1d-0+deb10u7"));
        assert!(r.contains("1.1.1n-0+deb11u3"));
        assert!(!r.contains("1.1.1n-0+deb11u4"));
        assert!(!r.contains("3.0.11-1~deb12u2"));
        let r = VersionRange::parse("vers:rpm/>=1:1.0.2k|<1:1.0.2k-26.el7").unwrap();
        assert!(r.contains("1:1.0.2k-25.el7_9"));
        assert!(!r.contains("1:1.0.2k-26.el7"));
        assert!(!r.contains("1.0.2k-25.el7"), "epoch 0 is below the range");
        let r = VersionRange::parse("vers:npm/>=1.0.0|<2.0.0|>=3.0.0|<3.1.0|!=3.0.5").unwrap();
        assert!(r.contains("1.5.0") && r.contains("3.0.4") && !r.contains("3.0.5") && !r.contains("2.5.0") && !r.contains("3.1.0"));
        assert!(VersionRange::parse("vers:pypi/*").unwrap().contains("2.0"));
        let not = VersionRange::parse("vers:npm/!=1.0.0|!=1.0.1").unwrap();
        assert!(not.contains("1.0.2") && !not.contains("1.0.1"), "only != constraints: every other version");
        let only = VersionRange::parse("vers:npm/1.0.0|=1.0.1").unwrap();
        assert!(only.contains("1.0.1") && !only.contains("1.0.2"), "only = constraints: those versions");
        let r = VersionRange::parse("vers:maven/>=2.0.0|<=2.17.0").unwrap();
        assert!(r.contains("2.14.1") && r.contains("2.17.0") && !r.contains("2.17.1") && !r.contains("1.2.17"));
        assert!(VersionRange::parse("vers:pypi/<2.0").unwrap().contains("2.0rc1"));
        assert_eq!(VersionRange::parse("vers:deb/<2|>=1").unwrap().to_string(), "vers:deb/>=1|<2");
    }

    /// Found by `.ci/fuzz.sh` (target `vers`): Maven's comparison of these odd versions is not a
    /// total order, and sorting the constraints with it panicked. The range is refused instead.
    #[test]
    fn a_range_whose_versions_do_not_order_is_refused_not_a_panic() {
        let input = include_str!("../../../fixtures/fuzz/vers-maven-not-a-total-order.txt");
        let range = input.split_once('\n').map_or(input, |(r, _)| r);
        let parsed = std::panic::catch_unwind(|| VersionRange::parse(range));
        assert!(parsed.is_ok(), "parsing panicked");
        if let Ok(r) = parsed.unwrap() {
            // Whatever it holds, its constraints are strictly ascending.
            let v: Vec<&str> = r.constraints.iter().map(|c| c.version.as_str()).collect();
            for w in v.windows(2) {
                assert_eq!(Scheme::Maven.compare(w[0], w[1]), Ok(Ordering::Less), "{v:?}");
            }
        }
    }

    #[test]
    fn a_range_holds_at_most_64_constraints() {
        let of = |n: usize| format!("vers:npm/{}", (0..n).map(|i| format!("!=1.0.{i}")).collect::<Vec<_>>().join("|"));
        assert!(VersionRange::parse(&of(64)).is_ok());
        let e = VersionRange::parse(&of(65)).unwrap_err();
        assert!(e.contains("65 constraints, at most 64"), "{e}");
        let e = VersionRange::parse(&of(9999)).unwrap_err();
        assert!(e.contains("at most"), "{e}");
    }

    #[test]
    fn no_version_string_panics_in_any_scheme() {
        let odd = [
            "",
            "-",
            ".",
            "..",
            "1-",
            "-1",
            ":",
            "1:",
            ":1",
            "~",
            "^",
            "_",
            "1.0-r",
            "-r1",
            "1_",
            "1__p",
            "a",
            "é1",
            "1é-2",
            "1.0-SNAPSHOT-é",
            "99999999999999999999999999999999999999999999",
            "1.0.0-",
            "v",
            "1!",
            "1.0+",
            "\u{0}",
            "1..2",
            "1--2",
        ];
        for scheme in [Scheme::Deb, Scheme::Rpm, Scheme::Apk, Scheme::Semver, Scheme::Pypi, Scheme::Maven] {
            for a in odd {
                let _ = scheme.validate(a);
                for b in odd {
                    let _ = scheme.compare(a, b);
                }
            }
        }
    }

    #[test]
    fn bad_ranges_are_refused_with_the_reason() {
        for (bad, says) in [
            ("deb/<1.0", "not a vers: URI"),
            ("vers:foo/<1.0", "not known"),
            ("vers:deb", "no '/'"),
            ("vers:deb/", "no constraints"),
            ("vers:deb/<=>1.0", "unknown comparator"),
            ("vers:deb/<", "no version"),
            ("vers:deb/<1.0-", "revision after '-' is empty"),
            ("vers:deb/<1.0$", "a character a Debian version may not"),
            ("vers:npm/<1.0", "not a semantic version"),
            ("vers:pypi/<1.0-beta-final-x", "not a PEP 440 version"),
            ("vers:apk/<1.0_foo", "not an Alpine version"),
            ("vers:deb/>=1.0|<1.0", "appears twice"),
        ] {
            let e = VersionRange::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
