//! Debian package versions: `[epoch:]upstream[-revision]`, ordered as `dpkg --compare-versions`
//! orders them (deb-version(7): letters before non-letters, `~` before everything, even the end;
//! digit runs compared as numbers).

use std::cmp::Ordering;

/// A parsed Debian version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebVersion<'a> {
    epoch: u64,
    upstream: &'a str,
    revision: &'a str,
}

/// Parses as dpkg does: the epoch before the first `:`, the revision after the last `-`.
pub fn parse(v: &str) -> Result<DebVersion<'_>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("an empty version".into());
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) => {
            let epoch = e.parse::<u64>().map_err(|_| format!("the epoch {e:?} is not a number"))?;
            (epoch, rest)
        }
        None => (0, v),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return Err(format!("{v:?}: the revision after '-' is empty")),
        Some((u, r)) => (u, r),
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return Err(format!("{v:?} has no upstream version"));
    }
    let ok = |s: &str, extra: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c) || extra.contains(c));
    if !ok(upstream, "-:") || !ok(revision, "") {
        return Err(format!("{v:?} holds a character a Debian version may not"));
    }
    Ok(DebVersion { epoch, upstream, revision })
}

/// `dpkg --compare-versions a lt b` and friends; errors name the version that does not parse.
pub fn compare(a: &str, b: &str) -> Result<Ordering, String> {
    let (a, b) = (parse(a)?, parse(b)?);
    Ok(a.epoch.cmp(&b.epoch).then_with(|| verrevcmp(a.upstream, b.upstream)).then_with(|| verrevcmp(a.revision, b.revision)))
}

/// A character's weight in the non-digit parts: `~` lowest, then the end, letters, the rest.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(a[i]) - i32::from(b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}
