//! Answers kept while nothing they depend on can have changed: the settings, environment rules
//! and vendor register read once per data version (every write to the estate moves it, on any
//! replica), and each decision kept for its (data version, minute) under everything it was made
//! from — the namespace, the cluster, every container's kind, name and image. A rollout asks the
//! same Pod many times; the first asks the database, the others are answered from memory until
//! the estate or the minute changes (deadlines and grace periods are judged against the time).

use super::{Container, Decision};
use crate::domain::vendor::Register;
use crate::store::EnvironmentRule;
use app::types::AdmissionSettings;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most decisions kept at once (per replica); past it, the oldest minute's are dropped with the rest.
const MAX_DECISIONS: usize = 4096;
/// A decision whose key is longer than this (bytes of names and images) is not kept: the cache's
/// memory stays bounded (4,096 × 16 KiB) whatever the objects asked about.
const MAX_KEY_BYTES: usize = 16 * 1024;

/// What every decision of one data version reads besides the images' facts.
#[derive(Debug, Default)]
pub struct Context {
    pub settings: AdmissionSettings,
    pub rules: Vec<EnvironmentRule>,
    pub vendor: Register,
}

/// Everything a decision was made from, besides the data version and the minute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    namespace: String,
    cluster: Option<String>,
    containers: Vec<(&'static str, String, String)>,
}

impl Key {
    pub fn new(namespace: &str, cluster: Option<&str>, containers: &[Container]) -> Key {
        Key {
            namespace: namespace.to_string(),
            cluster: cluster.map(str::to_string),
            containers: containers.iter().map(|c| (c.kind, c.name.clone(), c.image.clone())).collect(),
        }
    }
}

#[derive(Debug, Default)]
struct Kept {
    version: Option<i64>,
    context: Option<Arc<Context>>,
    minute: i64,
    decisions: HashMap<Key, Decision>,
}

#[derive(Debug, Default)]
pub struct AdmissionCache {
    inner: Mutex<Kept>,
}

impl AdmissionCache {
    fn at(&self, version: i64) -> std::sync::MutexGuard<'_, Kept> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if g.version != Some(version) {
            *g = Kept { version: Some(version), ..Default::default() };
        }
        g
    }

    /// The context read at `version`, if it was.
    pub fn context(&self, version: i64) -> Option<Arc<Context>> {
        self.at(version).context.clone()
    }

    pub fn keep_context(&self, version: i64, context: Arc<Context>) {
        self.at(version).context = Some(context);
    }

    /// The decision made at `version` in `minute` for `key`, if one was.
    pub fn decision(&self, version: i64, minute: i64, key: &Key) -> Option<Decision> {
        let g = self.at(version);
        if g.minute == minute {
            g.decisions.get(key).cloned()
        } else {
            None
        }
    }

    pub fn keep(&self, version: i64, minute: i64, key: Key, decision: &Decision) {
        let bytes: usize = key.namespace.len() + key.containers.iter().map(|(_, n, i)| n.len() + i.len()).sum::<usize>();
        if bytes > MAX_KEY_BYTES {
            return;
        }
        let mut g = self.at(version);
        if g.minute != minute || g.decisions.len() >= MAX_DECISIONS {
            g.minute = minute;
            g.decisions.clear();
        }
        g.decisions.insert(key, decision.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(image: &str) -> Key {
        Key::new("shop", Some("prod"), &[Container { kind: "container", name: "app".into(), image: image.into() }])
    }

    #[test]
    fn a_decision_is_kept_for_its_version_and_minute_only() {
        let cache = AdmissionCache::default();
        let d = Decision { warnings: vec!["w".into()], denials: vec![] };
        cache.keep(7, 100, key("a:1"), &d);
        assert_eq!(cache.decision(7, 100, &key("a:1")), Some(d.clone()));
        assert_eq!(cache.decision(7, 100, &key("a:2")), None, "another image");
        assert_eq!(cache.decision(7, 101, &key("a:1")), None, "the minute turned");
        cache.keep(7, 100, key("a:1"), &d);
        assert_eq!(cache.decision(8, 100, &key("a:1")), None, "the estate changed");
        assert_eq!(cache.decision(7, 100, &key("a:1")), None, "and the old version's answers are gone");
        let other = Key::new("other", Some("prod"), &[Container { kind: "container", name: "app".into(), image: "a:1".into() }]);
        cache.keep(9, 1, key("a:1"), &d);
        assert_eq!(cache.decision(9, 1, &other), None, "another namespace");
        let huge = key(&"x".repeat(MAX_KEY_BYTES + 1));
        cache.keep(9, 1, huge.clone(), &d);
        assert_eq!(cache.decision(9, 1, &huge), None, "too large to keep");
    }

    #[test]
    fn the_context_is_read_again_when_the_version_moves() {
        let cache = AdmissionCache::default();
        assert!(cache.context(1).is_none());
        cache.keep_context(1, Arc::new(Context::default()));
        assert!(cache.context(1).is_some());
        assert!(cache.context(2).is_none());
        assert!(cache.context(1).is_none(), "one version at a time");
    }
}
