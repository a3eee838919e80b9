//! RPM versions: `[epoch:]version[-release]`, ordered as rpm's `labelCompare` orders them:
//! epoch (missing: 0), then version, then release with `rpmvercmp` (alphanumeric segments,
//! numbers above letters, `~` before everything, `^` after the end but before anything else).

use std::cmp::Ordering;

/// A parsed RPM EVR; a missing release stays missing (it sorts before any release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evr<'a> {
    pub epoch: u64,
    pub version: &'a str,
    pub release: Option<&'a str>,
}

pub fn parse(v: &str) -> Result<Evr<'_>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("an empty version".into());
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) => (e.parse::<u64>().map_err(|_| format!("the epoch {e:?} is not a number"))?, rest),
        None => (0, v),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((ver, rel)) => (ver, Some(rel)),
        None => (rest, None),
    };
    if version.is_empty() || release == Some("") {
        return Err(format!("{v:?} has an empty version or release"));
    }
    if !version.chars().chain(release.unwrap_or("").chars()).all(|c| c.is_ascii_alphanumeric() || "._+~^".contains(c)) {
        return Err(format!("{v:?} holds a character an RPM version may not"));
    }
    Ok(Evr { epoch, version, release })
}

pub fn compare(a: &str, b: &str) -> Result<Ordering, String> {
    let (a, b) = (parse(a)?, parse(b)?);
    Ok(a.epoch.cmp(&b.epoch).then_with(|| rpmvercmp(a.version, b.version)).then_with(|| match (a.release, b.release) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (Some(x), Some(y)) => rpmvercmp(x, y),
    }))
}

/// rpm's `rpmvercmp` (rpmio/rpmvercmp.c).
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while i < a.len() || j < b.len() {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca.is_none() || cb.is_none() {
            break;
        }
        let numeric = a[i].is_ascii_digit();
        let class = |c: u8| if numeric { c.is_ascii_digit() } else { c.is_ascii_alphabetic() };
        let (si, sj) = (i, j);
        while i < a.len() && class(a[i]) {
            i += 1;
        }
        while j < b.len() && class(b[j]) {
            j += 1;
        }
        if sj == j {
            // Segments of different kinds: a number is newer than letters.
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        let (mut x, mut y) = (&a[si..i], &b[sj..j]);
        if numeric {
            while x.first() == Some(&b'0') {
                x = &x[1..];
            }
            while y.first() == Some(&b'0') {
                y = &y[1..];
            }
            match x.len().cmp(&y.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match x.cmp(y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}
