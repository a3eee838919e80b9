//! Small formatting helpers shared by pages.

use chrono::{DateTime, Utc};

/// `sha256:0123456789ab` — the algorithm and the first 12 hex digits.
pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", &hex[..hex.len().min(12)]),
        None => d.chars().take(19).collect(),
    }
}

/// A UTC time as a short absolute date.
pub fn date(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Percent-encodes a path segment (digests carry `:`; team names are slugs).
pub fn path_segment(s: &str) -> String {
    encode(s, false)
}

/// Percent-encodes a query parameter value (repository names keep their `/`).
pub fn query_value(s: &str) -> String {
    encode(s, true)
}

fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => out.push(b as char),
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
