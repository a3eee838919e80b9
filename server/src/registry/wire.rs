//! The Distribution protocol's small pieces the client is made of: challenge parameters, `Link`
//! headers, error codes, body caps, and the policy of where credentials may go.

use super::RegistryError;
use reqwest::header::{HeaderMap, LINK};

/// Largest manifest read (the distribution spec suggests registries accept at least 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Largest config blob (and cosign payload) read: image configs are kilobytes; 8 MiB leaves room
/// for a long history without letting a registry exhaust memory.
pub const MAX_CONFIG_BYTES: usize = 8 << 20;
/// Largest page of `_catalog`, `tags/list`, referrers or token endpoint answer.
pub const MAX_LIST_BYTES: usize = 16 << 20;

/// May the credentials go to this token realm? Only https on the registry's host or a listed host
/// (Docker Hub's `auth.docker.io` for Docker Hub), or plain http on the registry's own host when
/// the registry itself is plain http (it was allowed as loopback or insecure). The refusal names
/// the realm.
pub fn realm_allowed(registry: &url::Url, realm: &url::Url, auth_hosts: &[String]) -> Result<(), String> {
    let host = realm.host_str().unwrap_or_default().to_ascii_lowercase();
    let registry_host = registry.host_str().unwrap_or_default().to_ascii_lowercase();
    let docker_hub = matches!(registry_host.as_str(), "registry-1.docker.io" | "index.docker.io" | "docker.io") && host == "auth.docker.io";
    let listed = docker_hub || auth_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
    let ok = match realm.scheme() {
        "https" => host == registry_host || listed,
        "http" => host == registry_host && registry.scheme() == "http",
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let why = if realm.scheme() != "https" && host != registry_host {
        "plain http on another host"
    } else if realm.scheme() != "https" {
        "plain http while the registry is https"
    } else {
        "on another host that is not listed for this registry (drydock registry add ... --auth-host HOST)"
    };
    Err(format!("the token realm {realm} is {why}: the registry's credentials are not sent there"))
}

/// Reads a response body, refusing one larger than `limit` (by its Content-Length, or as it comes).
pub(super) async fn read_capped(mut resp: reqwest::Response, limit: usize, what: &str) -> Result<bytes::Bytes, RegistryError> {
    let too_big = || RegistryError::Garbage(format!("{what}: the answer is larger than the cap of {limit} bytes"));
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_big());
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| RegistryError::Unreachable(format!("{what}: {}", error_chain(&e))))? {
        if buf.len() + chunk.len() > limit {
            return Err(too_big());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The first `errors[].code` of a Distribution error body.
pub(super) fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let e = v["errors"].as_array()?.first()?;
    Some(match e["message"].as_str() {
        Some(m) => format!("{} ({m})", e["code"].as_str().unwrap_or("error")),
        None => e["code"].as_str()?.to_string(),
    })
}

/// `<url>; rel="next"` from a `Link` header.
pub(super) fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find(|part| part.contains("rel=\"next\"") || part.contains("rel=next")).and_then(|part| {
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        Some(part[start..end].to_string())
    })
}

/// A `key="value"` parameter of a challenge.
pub(super) fn param(challenge: &str, key: &str) -> Option<String> {
    let rest = challenge.split_once(' ').map(|(_, r)| r).unwrap_or(challenge);
    let mut out = None;
    let mut s = rest;
    while !s.is_empty() {
        let (k, after) = s.split_once('=')?;
        let k = k.trim().trim_start_matches(',').trim();
        let (v, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], quoted[end + 1..].trim_start_matches(',').trim_start())
        } else {
            match after.split_once(',') {
                Some((v, r)) => (v, r.trim_start()),
                None => (after, ""),
            }
        };
        if k.eq_ignore_ascii_case(key) {
            out = Some(v.to_string());
        }
        s = remaining;
    }
    out
}

pub(super) use crate::domain::error_chain;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parameters_links_and_the_credential_policy() {
        let c = r#"Bearer realm="http://127.0.0.1:1/token",service="registry.test",scope="repository:team-a/app:pull",error="insufficient_scope""#;
        assert_eq!(param(c, "realm").as_deref(), Some("http://127.0.0.1:1/token"));
        assert_eq!(param(c, "scope").as_deref(), Some("repository:team-a/app:pull"));
        assert_eq!(param(c, "error").as_deref(), Some("insufficient_scope"));
        assert_eq!(param(r#"Basic realm="Registry Realm""#, "realm").as_deref(), Some("Registry Realm"));
        let reg = url::Url::parse("https://registry.example.com").unwrap();
        let hub = url::Url::parse("https://registry-1.docker.io").unwrap();
        let local = url::Url::parse("http://127.0.0.1:5000").unwrap();
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(realm_allowed(&reg, &u("https://registry.example.com/token"), &[]).is_ok());
        assert!(realm_allowed(&reg, &u("https://auth.example.com/token"), &[]).unwrap_err().contains("not listed"));
        assert!(realm_allowed(&reg, &u("https://auth.example.com/token"), &["auth.example.com".into()]).is_ok());
        assert!(realm_allowed(&reg, &u("http://auth.example.com/token"), &["auth.example.com".into()]).unwrap_err().contains("plain http"));
        assert!(realm_allowed(&reg, &u("http://registry.example.com/token"), &[]).unwrap_err().contains("plain http"));
        assert!(realm_allowed(&hub, &u("https://auth.docker.io/token"), &[]).is_ok());
        assert!(realm_allowed(&reg, &u("https://auth.docker.io/token"), &[]).is_err(), "auth.docker.io is known for Docker Hub only");
        assert!(realm_allowed(&local, &u("http://127.0.0.1:5001/token"), &[]).is_ok(), "same loopback host, registry plain http");
        assert!(realm_allowed(&local, &u("http://localhost:5001/token"), &[]).unwrap_err().contains("another host"));
        let mut h = HeaderMap::new();
        h.insert(LINK, r#"</v2/_catalog?last=b&n=2>; rel="next""#.parse().unwrap());
        assert_eq!(next_link(&h).as_deref(), Some("/v2/_catalog?last=b&n=2"));
    }
}
