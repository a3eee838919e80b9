//! The ledger's entry format: an audit event's bytes are the canonical JSON (RFC 8785) of
//! `{index, time, actor, kind, subject, payload}`. Pure functions: the store writes entries with
//! them, the ledger and outside verifiers recompute them.

use serde_json::Value;

/// RFC 8785 (JCS) canonical JSON: object members sorted by their UTF-16 code units, no
/// whitespace, integers as integers, strings escaped as ECMAScript's JSON.stringify does.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 1e21 {
                    out.push_str(&format!("{}", f as i64));
                } else {
                    out.push_str(&format!("{f}"));
                }
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The time as entries carry it: RFC 3339, UTC, microseconds (what both databases keep).
pub fn entry_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike as _, Timelike as _};
    // `%Y-%m-%dT%H:%M:%S%.6fZ`, written without parsing a format string each time (the ledger's
    // verification formats every entry's time).
    match t.year() {
        0..=9999 => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond() % 1_000_000_000 / 1000
        ),
        _ => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    }
}

/// The entry bytes of one event.
pub fn entry_bytes(index: i64, time: &str, actor: &str, kind: &str, subject: &str, payload: &Value) -> String {
    canonical_json(&serde_json::json!({
        "index": index, "time": time, "actor": actor, "kind": kind, "subject": subject, "payload": payload,
    }))
}

/// Whether `entry` is exactly `entry_bytes` of these fields, checked without building the
/// payload as a value: the fields around the payload are rebuilt (into `buf`, reused between
/// calls) and compared as text; the payload is compared as text when its stored spelling is the
/// entry's (and is JSON), otherwise as canonical JSON, as `entry_bytes` would spell it.
#[allow(clippy::too_many_arguments)]
pub fn entry_matches(entry: &str, index: i64, time: &str, actor: &str, kind: &str, subject: &str, payload: &str, buf: &mut String) -> bool {
    use std::fmt::Write as _;
    buf.clear();
    buf.push_str("{\"actor\":");
    write_string(actor, buf);
    let _ = write!(buf, ",\"index\":{index},\"kind\":");
    write_string(kind, buf);
    buf.push_str(",\"payload\":");
    let head = buf.len();
    buf.push_str(",\"subject\":");
    write_string(subject, buf);
    buf.push_str(",\"time\":");
    write_string(time, buf);
    buf.push('}');
    let (prefix, suffix) = buf.split_at(head);
    let Some(middle) = entry.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(suffix)) else { return false };
    if middle == payload {
        return serde_json::from_str::<serde::de::IgnoredAny>(middle).is_ok();
    }
    let value: Value = serde_json::from_str(payload).unwrap_or_else(|_| Value::String(payload.to_string()));
    canonical_json(&value) == middle
}

/// Every `sha256:<64 hex>` digest named anywhere in a payload (strings, at any depth), once each.
pub fn mentioned_digests(v: &Value) -> std::collections::BTreeSet<String> {
    fn walk(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::String(s) => {
                let mut rest = s.as_str();
                while let Some(i) = rest.find("sha256:") {
                    let cand = &rest[i..];
                    let hex = &cand[7..];
                    if hex.len() >= 64 && hex.as_bytes()[..64].iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)) {
                        out.insert(cand[..71].to_string());
                        rest = &cand[71..];
                    } else {
                        rest = &cand[7..];
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(v, &mut out);
    out
}
