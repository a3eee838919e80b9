//! The Distribution registry's notification envelope (`notifications.endpoints` in its config):
//! `{"events": [{id, timestamp, action, target: {mediaType, digest, repository, tag}, actor:
//! {name}, request: {addr, useragent}, source: {addr}}]}`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Deserialize)]
struct Envelope {
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(default)]
    timestamp: Option<DateTime<Utc>>,
    action: String,
    target: Target,
    #[serde(default)]
    actor: Option<NameOnly>,
    #[serde(default)]
    request: Option<Request>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    repository: String,
    #[serde(default)]
    tag: Option<String>,
}

#[derive(Deserialize)]
struct NameOnly {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    addr: Option<String>,
    #[serde(default)]
    useragent: Option<String>,
}

pub use crate::domain::registry::RegistryEvent;

/// What an envelope held: the manifest pushes and deletions, and how many events were ignored
/// (pulls, blob uploads).
#[derive(Debug)]
pub struct Parsed {
    pub events: Vec<RegistryEvent>,
    pub ignored: usize,
}

/// Parses an envelope; the message names the field that is wrong.
pub fn parse(body: &[u8], now: DateTime<Utc>) -> Result<Parsed, String> {
    let env: Envelope = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
        .map_err(|e| format!("not a registry notification envelope: {} at {}", e.inner(), e.path()))?;
    let mut events = Vec::new();
    let mut ignored = 0;
    for (i, e) in env.events.into_iter().enumerate() {
        // The repository becomes part of the collector's URLs: only the distribution grammar.
        crate::domain::validate_repository_name(&e.target.repository).map_err(|err| format!("events[{i}].target.repository: {err}"))?;
        if let Some(t) = e.target.tag.as_deref().filter(|t| !t.is_empty()) {
            crate::domain::validate_tag(t).map_err(|err| format!("events[{i}].target.tag: {err}"))?;
        }
        for (field, value, max) in [
            ("id", Some(e.id.as_str()), 256),
            ("actor.name", e.actor.as_ref().and_then(|a| a.name.as_deref()), 256),
            ("request.addr", e.request.as_ref().and_then(|r| r.addr.as_deref()), 256),
            ("request.useragent", e.request.as_ref().and_then(|r| r.useragent.as_deref()), 1024),
        ] {
            if let Some(v) = value {
                if v.len() > max || v.contains('\0') {
                    return Err(format!("events[{i}].{field}: at most {max} bytes and no NUL character"));
                }
            }
        }
        let is_manifest =
            e.target.tag.is_some() || e.target.media_type.as_deref().is_some_and(|m| m.contains("manifest") || m.contains("index"));
        if !matches!(e.action.as_str(), "push" | "delete") || (e.action == "push" && !is_manifest) {
            ignored += 1;
            continue;
        }
        if e.target.repository.trim().is_empty() || e.id.trim().is_empty() {
            return Err(format!("events[{i}]: id and target.repository must not be empty"));
        }
        if let Some(d) = &e.target.digest {
            crate::domain::Digest::parse(d).map_err(|err| format!("events[{i}].target.digest: {err}"))?;
        }
        events.push(RegistryEvent {
            id: e.id,
            action: e.action,
            repository: e.target.repository,
            tag: e.target.tag.filter(|t| !t.is_empty()),
            digest: e.target.digest,
            actor: e.actor.and_then(|a| a.name).filter(|n| !n.is_empty()),
            source_addr: e.request.as_ref().and_then(|r| r.addr.clone()),
            user_agent: e.request.and_then(|r| r.useragent),
            happened_at: e.timestamp.unwrap_or(now),
        });
    }
    Ok(Parsed { events, ignored })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_manifest_pushes_and_deletes() {
        let body = br#"{"events":[
          {"id":"e1","timestamp":"2026-11-27T10:00:00Z","action":"push",
           "target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","repository":"team-a/app","tag":"1.0"},
           "actor":{"name":"alice"},"request":{"addr":"10.0.0.1:5555","useragent":"skopeo"}},
          {"id":"e2","action":"pull","target":{"repository":"team-a/app","tag":"1.0"}},
          {"id":"e3","action":"push","target":{"mediaType":"application/octet-stream","repository":"team-a/app"}}
        ]}"#;
        let p = parse(body, Utc::now()).unwrap();
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.ignored, 2);
        assert_eq!(p.events[0].actor.as_deref(), Some("alice"));
        assert_eq!(p.events[0].tag.as_deref(), Some("1.0"));
        assert!(parse(br#"{"events":[{"id":"x"}]}"#, Utc::now()).unwrap_err().contains("events[0]"));
        assert!(parse(b"{}", Utc::now()).is_err());
        let hostile = br#"{"events":[{"id":"e1","action":"push","target":{"repository":"../../../../internal/admin?x=","tag":"v1"}}]}"#;
        assert!(parse(hostile, Utc::now()).unwrap_err().contains("events[0].target.repository"));
        let bad_tag = br#"{"events":[{"id":"e1","action":"push","target":{"repository":"app","tag":"../x"}}]}"#;
        assert!(parse(bad_tag, Utc::now()).unwrap_err().contains("events[0].target.tag"));
    }
}
