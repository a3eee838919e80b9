//! The admission webhook's engine: an `admission.k8s.io/v1` AdmissionReview read (Pods and pod
//! templates: every container, init container and ephemeral container), each image judged from
//! the stored facts, and the answer — allowed, allowed with warnings (inside a deadline or a
//! grace), or denied past them in `enforce`. Pure: the service reads the facts and the settings.

use crate::domain::campaign::ItemState;
use crate::domain::ImageRef;
use crate::store::{AdmissionFacts, AdmissionItem};
use app::types::{AdmissionMode, AdmissionSettings, UnknownImages};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub mod cache;

/// At most this many containers are judged in one object (Kubernetes has no limit; a Pod with
/// more is judged on the first ones and says so).
pub const MAX_CONTAINERS: usize = 256;
/// Warnings longer than this are cut (kubectl prints each on a line; the API server caps them).
pub const MAX_WARNING_CHARS: usize = 240;
/// At most this many warnings are returned; the rest are counted in the last.
pub const MAX_WARNINGS: usize = 20;

/// The parts of an AdmissionReview request Drydock reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub uid: String,
    pub kind: String,
    pub namespace: String,
    pub dry_run: bool,
    pub object: Value,
}

/// Reads an AdmissionReview; a body that is not one is an error naming what is wrong.
pub fn parse_review(body: &Value) -> Result<Request, String> {
    if body["apiVersion"] != "admission.k8s.io/v1" || body["kind"] != "AdmissionReview" {
        return Err("not an admission.k8s.io/v1 AdmissionReview (apiVersion and kind)".into());
    }
    let r = &body["request"];
    let uid = r["uid"].as_str().filter(|u| !u.is_empty() && u.len() <= 128).ok_or("request.uid: 1 to 128 characters")?;
    let text = |v: &Value, max: usize| v.as_str().filter(|s| s.len() <= max).unwrap_or_default().to_string();
    Ok(Request {
        uid: uid.to_string(),
        kind: text(&r["kind"]["kind"], 64),
        namespace: text(&r["namespace"], 63),
        dry_run: r["dryRun"].as_bool().unwrap_or(false),
        object: r["object"].clone(),
    })
}

/// A container as the object names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// `container`, `init` or `ephemeral`.
    pub kind: &'static str,
    pub name: String,
    pub image: String,
}

/// The pod spec of a Pod or of a workload's template; None for any other kind.
fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    match kind {
        "Pod" => Some(&object["spec"]),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            Some(&object["spec"]["template"]["spec"])
        }
        "CronJob" => Some(&object["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
        _ => None,
    }
}

/// Every container of the object (None: a kind Drydock does not judge).
pub fn containers(kind: &str, object: &Value) -> Option<Vec<Container>> {
    let spec = pod_spec(kind, object)?;
    let mut out = Vec::new();
    for (kind, key) in [("init", "initContainers"), ("container", "containers"), ("ephemeral", "ephemeralContainers")] {
        for c in spec[key].as_array().into_iter().flatten() {
            let image = c["image"].as_str().unwrap_or_default();
            out.push(Container {
                kind,
                name: c["name"].as_str().unwrap_or_default().chars().take(253).collect(),
                image: image.chars().take(512).collect(),
            });
        }
    }
    Some(out)
}

/// How the store is asked for an image: by digest, or by `registry/name:tag` (`latest` when none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lookup {
    Digest(String),
    Tag(String, String, String),
}

impl Lookup {
    pub fn of(image: &str) -> Option<Lookup> {
        let r = ImageRef::parse(image).ok()?;
        Some(match r.digest {
            Some(d) => Lookup::Digest(d.as_str().to_string()),
            None => Lookup::Tag(r.repository.registry, r.repository.name, r.tag.unwrap_or_else(|| "latest".into())),
        })
    }
    /// The `reference` the store answers for it.
    pub fn key(&self) -> String {
        match self {
            Lookup::Digest(d) => d.clone(),
            Lookup::Tag(r, n, t) => format!("{r}/{n}:{t}"),
        }
    }
}

/// What was decided, with the words for each warning and each reason to deny.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub warnings: Vec<String>,
    pub denials: Vec<String>,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.denials.is_empty()
    }
    /// allowed, warned or denied.
    pub fn outcome(&self) -> &'static str {
        match (self.denials.is_empty(), self.warnings.is_empty()) {
            (false, _) => "denied",
            (true, false) => "warned",
            (true, true) => "allowed",
        }
    }
}

fn vulnerabilities(i: &AdmissionItem) -> String {
    let cves: Vec<String> = serde_json::from_str(&i.cves).unwrap_or_default();
    match (cves.is_empty(), &i.package) {
        (false, _) => cves.join(", "),
        (true, Some(p)) => p.clone(),
        (true, None) => i.title.clone(),
    }
}

/// An image reference with its digest cut to 12 hex digits (the words must fit a warning).
pub fn short(image: &str) -> String {
    match image.split_once("@sha256:") {
        Some((name, hex)) if hex.len() > 12 => format!("{name}@sha256:{}", &hex[..12]),
        _ => image.to_string(),
    }
}

fn acknowledgement(i: &AdmissionItem) -> String {
    match (&i.acknowledged_by, i.planned) {
        (Some(who), Some(p)) => format!("acknowledged by {who}, planned {p}"),
        (Some(who), None) => format!("acknowledged by {who}"),
        _ => "not acknowledged".into(),
    }
}

/// "IMAGE: fix CVE… by DATE (campaign N "title"); acknowledged by …" — or, past it, "… was due DATE".
fn item_words(image: &str, i: &AdmissionItem, past: bool) -> String {
    let due = if past {
        format!("{} was due {}, the deadline has passed", vulnerabilities(i), i.deadline)
    } else {
        format!("fix {} by {}", vulnerabilities(i), i.deadline)
    };
    format!("{}: {due} (campaign {} \"{}\"); {}", short(image), i.campaign_id, i.title, acknowledgement(i))
}

/// Everything the decision reads besides the facts.
pub struct Judge<'a> {
    pub settings: &'a AdmissionSettings,
    pub mode: AdmissionMode,
    pub now: DateTime<Utc>,
    /// The vendor image register, and where the workload would run.
    pub vendor: &'a crate::domain::vendor::Register,
    pub namespace: &'a str,
    pub environment: Option<&'a str>,
}

impl Judge<'_> {
    /// Judges each container's image: `facts` says what the store knows of each lookup key.
    pub fn decide(&self, containers: &[Container], facts: &AdmissionFacts) -> Decision {
        let mut d = Decision::default();
        if self.mode == AdmissionMode::Off {
            return d;
        }
        let today = self.now.date_naive();
        let resolved: BTreeMap<&str, i64> = facts.resolved.iter().map(|r| (r.reference.as_str(), r.image_id)).collect();
        let mut seen = std::collections::BTreeSet::new();
        for c in containers.iter().take(MAX_CONTAINERS) {
            if !seen.insert(c.image.as_str()) {
                continue;
            }
            if let Some(why) =
                self.vendor.entry_of(&c.image).and_then(|e| crate::domain::vendor::judge(e, None, self.namespace, self.environment))
            {
                self.violation(&mut d, format!("{}: {why}", short(&c.image)));
            }
            let Some(id) = Lookup::of(&c.image).and_then(|l| resolved.get(l.key().as_str()).copied()) else {
                self.unknown(&mut d, c);
                continue;
            };
            let mut ids = vec![id];
            ids.extend(facts.platforms.iter().filter(|(index, _)| *index == id).map(|(_, p)| *p));
            for i in facts.items.iter().filter(|i| ids.contains(&i.image_id)) {
                self.item(&mut d, &c.image, i, today);
            }
            for f in facts.failures.iter().filter(|f| ids.contains(&f.image_id)) {
                self.failure(&mut d, &c.image, &f.policy, &f.reason, f.failing_since);
            }
        }
        if containers.len() > MAX_CONTAINERS {
            d.warnings.push(format!("only the first {MAX_CONTAINERS} of {} containers were judged", containers.len()));
        }
        d
    }

    /// A violation: denied in `enforce`, a warning saying so in `warn`.
    fn violation(&self, d: &mut Decision, words: String) {
        match self.mode {
            AdmissionMode::Enforce => d.denials.push(words),
            _ => d.warnings.push(format!("would be denied in enforce mode: {words}")),
        }
    }

    fn unknown(&self, d: &mut Decision, c: &Container) {
        let words = format!("{}: an image Drydock has never seen (not scanned, not in a known registry)", short(&c.image));
        if self.mode == AdmissionMode::Enforce && self.settings.unknown_images == UnknownImages::Deny {
            d.denials.push(words);
        } else {
            d.warnings.push(words);
        }
    }

    fn item(&self, d: &mut Decision, image: &str, i: &AdmissionItem, today: NaiveDate) {
        if i.state == ItemState::Excepted || i.exception_state.as_deref() == Some("approved") {
            if let Some(until) = i.exception_until.filter(|u| *u >= today) {
                d.warnings.push(format!("{}: {} excepted until {until} (campaign {})", short(image), vulnerabilities(i), i.campaign_id));
                return;
            }
        }
        if i.deadline >= today {
            d.warnings.push(item_words(image, i, false));
        } else {
            self.violation(d, item_words(image, i, true));
        }
    }

    fn failure(&self, d: &mut Decision, image: &str, policy: &str, reason: &str, since: Option<DateTime<Utc>>) {
        if policy == "vulnerability-sla" {
            self.violation(d, format!("{}: vulnerability-sla: {reason}", short(image)));
            return;
        }
        let Some(p) = self.settings.policies.get(policy).filter(|p| p.enforce) else { return };
        let ends = since.unwrap_or(self.now) + Duration::days(p.grace_days);
        if ends > self.now {
            d.warnings.push(format!("{}: {policy} enforced from {}: {reason}", short(image), ends.format("%Y-%m-%d %H:%M UTC")));
        } else {
            self.violation(d, format!("{}: {policy}, its grace ended {}: {reason}", short(image), ends.format("%Y-%m-%d")));
        }
    }
}

/// Cuts a warning to `MAX_WARNING_CHARS`, and the list to `MAX_WARNINGS`.
fn bounded(mut warnings: Vec<String>) -> Vec<String> {
    let extra = warnings.len().saturating_sub(MAX_WARNINGS);
    warnings.truncate(MAX_WARNINGS);
    if extra > 0 {
        warnings.push(format!("and {extra} more"));
    }
    warnings
        .into_iter()
        .map(|w| {
            if w.chars().count() > MAX_WARNING_CHARS {
                format!("{}…", w.chars().take(MAX_WARNING_CHARS - 1).collect::<String>())
            } else {
                w
            }
        })
        .collect()
}

/// The AdmissionReview answering `uid`.
pub fn response(uid: &str, d: &Decision) -> Value {
    let mut r = json!({ "uid": uid, "allowed": d.allowed() });
    if !d.warnings.is_empty() {
        r["warnings"] = json!(bounded(d.warnings.clone()));
    }
    if !d.allowed() {
        let message = format!("Drydock denies this workload: {}", d.denials.join(" | "));
        r["status"] = json!({ "code": 403, "reason": "Forbidden", "message": message });
    }
    json!({ "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": r })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_container_of_pods_and_templates_is_read_and_other_kinds_are_not() {
        let spec = json!({"initContainers": [{"name": "i", "image": "a:1"}], "containers": [{"name": "c", "image": "b@sha256:0000000000000000000000000000000000000000000000000000000000000000"}],
            "ephemeralContainers": [{"name": "e", "image": "c"}]});
        let kinds: Vec<&str> = containers("Pod", &json!({"spec": spec})).unwrap().iter().map(|c| c.kind).collect();
        assert_eq!(kinds, ["init", "container", "ephemeral"]);
        let cron = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}});
        assert_eq!(containers("CronJob", &cron).unwrap().len(), 3);
        assert_eq!(containers("Deployment", &json!({"spec": {"template": {"spec": spec}}})).unwrap().len(), 3);
        assert!(containers("ConfigMap", &json!({})).is_none());
        assert_eq!(Lookup::of("b:2"), Some(Lookup::Tag("docker.io".into(), "library/b".into(), "2".into())));
        assert_eq!(Lookup::of("registry.example/x").unwrap().key(), "registry.example/x:latest");
    }

    #[test]
    fn warnings_are_bounded_and_digests_shortened() {
        assert_eq!(short("r/x@sha256:0123456789abcdef0123"), "r/x@sha256:0123456789ab");
        let many: Vec<String> = (0..30).map(|i| format!("{i}{}", "x".repeat(400))).collect();
        let out = bounded(many);
        assert_eq!(out.len(), MAX_WARNINGS + 1);
        assert!(out.iter().all(|w| w.chars().count() <= MAX_WARNING_CHARS));
        assert_eq!(out.last().unwrap(), "and 10 more");
        let denied = response("u", &Decision { warnings: vec![], denials: vec!["no".into()] });
        assert_eq!((denied["response"]["allowed"].as_bool(), denied["response"]["status"]["code"].as_i64()), (Some(false), Some(403)));
    }
}
