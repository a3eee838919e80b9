//! Small formatting helpers shared by pages.

use chrono::{DateTime, Utc};

/// `sha256:0123456789ab` — the algorithm and the first 12 hex digits.
pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", &hex[..hex.len().min(12)]),
        None => d.chars().take(19).collect(),
    }
}

/// A page's document title, `{text} · Drydock`, as the root `<Title formatter>` gives it to every
/// page. On the server it is HTML-escaped: leptos_meta 0.8 writes the `<title>` text as given, so
/// a stored name such as `w</title><meta http-equiv="refresh" …>` would otherwise become markup.
/// In the browser the title is set through `document.title`, which takes text: it stays as is.
pub fn document_title(text: &str) -> String {
    let title = format!("{text} · Drydock");
    if cfg!(feature = "ssr") {
        escape_html(&title)
    } else {
        title
    }
}

/// `s` with the characters HTML gives meaning to (`& < > " '`) written as references.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `n` and the noun, singular for one: `1 workload`, `3 workloads`, `0 requests`.
pub fn count(n: i64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_singular_only_for_one() {
        assert_eq!(count(0, "exception request waits", "exception requests wait"), "0 exception requests wait");
        assert_eq!(count(1, "exception request waits", "exception requests wait"), "1 exception request waits");
        assert_eq!(count(2, "workload", "workloads"), "2 workloads");
    }

    #[test]
    fn escaped_text_holds_no_markup_and_reads_back_the_same() {
        let hostile = r#"w</title><meta http-equiv="refresh" content="0;url=https://evil.test/">'&"#;
        let e = escape_html(hostile);
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''), "{e}");
        let back = e.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
        assert_eq!(back, hostile);
        assert_eq!(escape_html("Campaigns"), "Campaigns");
    }
}
