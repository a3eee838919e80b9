//! Alpine package versions (`1.2.3a_rc1_p2-r4`): the Gentoo version syntax apk-tools follows,
//! ordered by the Package Manager Specification's algorithm (numeric components, a letter, the
//! suffixes `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_p`, then the `-rN` revision).

use std::cmp::Ordering;

struct Apk<'a> {
    /// Dotted numeric components (as written: leading zeros matter).
    numbers: Vec<&'a str>,
    letter: Option<u8>,
    /// (suffix weight, its number).
    suffixes: Vec<(i32, u64)>,
    revision: u64,
}

fn suffix_weight(s: &str) -> Option<i32> {
    Some(match s {
        "alpha" => -4,
        "beta" => -3,
        "pre" => -2,
        "rc" => -1,
        "p" => 1,
        _ => return None,
    })
}

fn parse(v: &str) -> Result<Apk<'_>, String> {
    let bad = || format!("{v:?} is not an Alpine version (digits and dots, a letter, _suffixes, -rN)");
    let v = v.trim();
    let (body, revision) = match v.rfind("-r") {
        Some(at) if v[at + 2..].bytes().all(|c| c.is_ascii_digit()) && at + 2 < v.len() => {
            (&v[..at], v[at + 2..].parse::<u64>().map_err(|_| bad())?)
        }
        _ => (v, 0),
    };
    let mut parts = body.split('_');
    let main = parts.next().unwrap_or("");
    let (main, letter) = match main.as_bytes().last() {
        Some(c) if c.is_ascii_lowercase() || c.is_ascii_uppercase() => (&main[..main.len() - 1], Some(*c)),
        _ => (main, None),
    };
    let numbers: Vec<&str> = main.split('.').collect();
    if numbers.iter().any(|n| n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit())) {
        return Err(bad());
    }
    let mut suffixes = Vec::new();
    for s in parts {
        let name_end = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        let weight = suffix_weight(&s[..name_end]).ok_or_else(bad)?;
        let n = if name_end == s.len() { 0 } else { s[name_end..].parse::<u64>().map_err(|_| bad())? };
        suffixes.push((weight, n));
    }
    Ok(Apk { numbers, letter, suffixes, revision })
}

/// Two numeric components: as numbers, unless one has a leading zero (then as decimals, trailing
/// zeros ignored, as the specification says).
fn component(a: &str, b: &str) -> Ordering {
    if !a.starts_with('0') && !b.starts_with('0') {
        let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        x.len().cmp(&y.len()).then_with(|| x.cmp(y))
    } else {
        a.trim_end_matches('0').cmp(b.trim_end_matches('0'))
    }
}

pub fn validate(v: &str) -> Result<(), String> {
    parse(v).map(|_| ())
}

pub fn compare(a: &str, b: &str) -> Result<Ordering, String> {
    let (a, b) = (parse(a)?, parse(b)?);
    // The first component is always numeric; later ones by `component`.
    for (x, y) in a.numbers.iter().zip(&b.numbers) {
        match component(x, y) {
            Ordering::Equal => {}
            other => return Ok(other),
        }
    }
    match a.numbers.len().cmp(&b.numbers.len()) {
        Ordering::Equal => {}
        other => return Ok(other),
    }
    match a.letter.cmp(&b.letter) {
        Ordering::Equal => {}
        other => return Ok(other),
    }
    for k in 0..a.suffixes.len().max(b.suffixes.len()) {
        let ord = match (a.suffixes.get(k), b.suffixes.get(k)) {
            (Some(&x), Some(&y)) => x.cmp(&y),
            // A suffix against none: a pre-release suffix sorts before, `_p` after.
            (Some(&(w, n)), None) => (w, n).cmp(&(0, 0)),
            (None, Some(&(w, n))) => (0, 0).cmp(&(w, n)),
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return Ok(ord);
        }
    }
    Ok(a.revision.cmp(&b.revision))
}
