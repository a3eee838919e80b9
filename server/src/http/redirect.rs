//! Where a browser may be sent back to after signing in: local paths only, never an open
//! redirect.

/// Only local paths: never an open redirect. A target is kept only when it is a path starting
/// with exactly one `/` and holds no control character, whitespace or backslash — checked on
/// the text as given and once percent-decoded (browsers and proxies decode). Anything else is `/`.
pub fn safe_return(to: Option<&str>) -> String {
    fn plain_path(t: &str) -> bool {
        t.starts_with('/') && !t.starts_with("//") && !t.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    }
    fn percent_decoded(t: &str) -> String {
        let b = t.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match (b[i], b.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
                (b'%', Some(v)) => {
                    out.push(v);
                    i += 3;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    match to {
        Some(t) if plain_path(t) && plain_path(&percent_decoded(t)) && !t.starts_with("/auth/") => t.to_string(),
        _ => "/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn return_to_accepts_only_plain_local_paths() {
        for ok in ["/", "/images", "/teams/payments?tab=images#top", "/images?offset=100&limit=50", "/repositories/127.0.0.1%3A5000%2Fapp"]
        {
            assert_eq!(safe_return(Some(ok)), ok, "{ok:?}");
        }
        for trick in [
            "/\t/evil.example",
            "/\r\n/evil.example",
            "//evil.example",
            "/\\evil.example",
            "/%09/evil.example",
            "/%2f/evil.example",
            "/%5c/evil.example",
            "/%0d%0aLocation:%20http://evil.example",
            "https://evil.example/",
            "http:/evil.example",
            "javascript:alert(1)",
            "evil.example",
            " /images",
            "/ /evil.example",
            "",
            "/auth/login",
        ] {
            assert_eq!(safe_return(Some(trick)), "/", "{trick:?}");
        }
        assert_eq!(safe_return(None), "/");
    }
}
