//! Admission settings as security sets them: valid by construction (known modes, Kubernetes
//! names, known policies, bounded grace), merged key by key (a PUT may send only some keys), and
//! the mode that applies to a namespace.

use super::text::FieldError;
use app::types::{AdmissionMode, AdmissionSettings, PolicyAdmission, UnknownImages};
use serde_json::Value;
use std::collections::BTreeMap;

/// At most this many namespaces and environments each may be named.
pub const MAX_NAMED: usize = 1000;
/// At most this many days of grace a policy may be given.
pub const MAX_GRACE_DAYS: i64 = 365;

/// A Kubernetes namespace (a DNS-1123 label) or an environment name: 1–63 lowercase letters,
/// digits and '-', starting and ending with a letter or digit.
pub(crate) fn label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn field<T: serde::de::DeserializeOwned>(key: &str, v: &Value) -> Result<T, FieldError> {
    serde_json::from_value(v.clone()).map_err(|e| FieldError::new(key, e.to_string()))
}

fn modes(key: &str, v: &Value) -> Result<BTreeMap<String, AdmissionMode>, FieldError> {
    let m: BTreeMap<String, AdmissionMode> = field(key, v)?;
    if m.len() > MAX_NAMED {
        return Err(FieldError::new(key, format!("at most {MAX_NAMED} names, not {}", m.len())));
    }
    if let Some(bad) = m.keys().find(|k| !label(k)) {
        return Err(FieldError::new(
            key,
            format!("{:?} is not a name (1-63 lowercase letters, digits and '-')", bad.chars().take(80).collect::<String>()),
        ));
    }
    Ok(m)
}

/// The policies admission may enforce, with their titles: those judging images (what a workload
/// names), but the vulnerability SLA, which is always enforced past its deadlines.
pub fn enforceable() -> Vec<(&'static str, &'static str)> {
    super::policy::Policy::defaults()
        .iter()
        .filter(|p| p.subject_kind() == super::policy::SubjectKind::Image && p.id != "vulnerability-sla")
        .map(|p| (p.id, p.title()))
        .collect()
}

fn policies(v: &Value) -> Result<BTreeMap<String, PolicyAdmission>, FieldError> {
    let m: BTreeMap<String, PolicyAdmission> = field("policies", v)?;
    let allowed = enforceable();
    for (id, p) in &m {
        if id == "vulnerability-sla" {
            return Err(FieldError::new("policies", "vulnerability-sla is always enforced past its deadlines; it takes no setting"));
        }
        if !allowed.iter().any(|(a, _)| a == id) {
            return Err(FieldError::new(
                "policies",
                format!("{:?} is not a policy admission can judge (one judging images)", id.chars().take(80).collect::<String>()),
            ));
        }
        if !(0..=MAX_GRACE_DAYS).contains(&p.grace_days) {
            return Err(FieldError::new("policies", format!("{id}.grace_days: between 0 and {MAX_GRACE_DAYS}")));
        }
    }
    Ok(m)
}

/// `current` with the keys `patch` sends replaced (each checked); an unknown key is refused.
pub fn merged(current: &AdmissionSettings, patch: &Value) -> Result<AdmissionSettings, FieldError> {
    let obj = patch.as_object().ok_or_else(|| FieldError::new("settings", "must be a JSON object"))?;
    let mut out = current.clone();
    for (key, v) in obj {
        match key.as_str() {
            "default_mode" => out.default_mode = field(key, v)?,
            "unknown_images" => out.unknown_images = field::<UnknownImages>(key, v)?,
            "namespaces" => out.namespaces = modes(key, v)?,
            "environments" => out.environments = modes(key, v)?,
            "policies" => out.policies = policies(v)?,
            other => {
                return Err(FieldError::new(
                    other.chars().take(80).collect::<String>(),
                    "unknown setting (default_mode, namespaces, environments, unknown_images, policies)",
                ))
            }
        }
    }
    Ok(out)
}

/// The mode of `namespace` (in `environment`, when one applies): the namespace's own, else the
/// environment's, else the default.
pub fn mode_for(s: &AdmissionSettings, namespace: &str, environment: Option<&str>) -> AdmissionMode {
    s.namespaces.get(namespace).or_else(|| environment.and_then(|e| s.environments.get(e))).copied().unwrap_or(s.default_mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_replaces_only_its_keys_and_names_what_is_wrong() {
        let base = merged(&AdmissionSettings::default(), &json!({"namespaces": {"shop": "enforce"}})).unwrap();
        let next = merged(&base, &json!({"default_mode": "enforce"})).unwrap();
        assert_eq!(next.namespaces.get("shop"), Some(&AdmissionMode::Enforce));
        assert_eq!(next.default_mode, AdmissionMode::Enforce);
        for (bad, field) in [
            (json!({"default_mode": "block"}), "default_mode"),
            (json!({"namespaces": {"Shop": "warn"}}), "namespaces"),
            (json!({"policies": {"signed": {"enforce": true, "grace_days": 400}}}), "policies"),
            (json!({"policies": {"vulnerability-sla": {"enforce": true}}}), "policies"),
            (json!({"policies": {"nope": {"enforce": true}}}), "policies"),
            (json!({"policies": {"non-root": {"enforce": true}}}), "policies"),
            (json!({"colour": "red"}), "colour"),
        ] {
            assert_eq!(merged(&base, &bad).unwrap_err().field, field, "{bad}");
        }
    }

    #[test]
    fn the_namespace_wins_over_the_environment_over_the_default() {
        let s = merged(
            &AdmissionSettings::default(),
            &json!({"default_mode": "off", "environments": {"prod": "enforce"}, "namespaces": {"canary": "warn"}}),
        )
        .unwrap();
        assert_eq!(mode_for(&s, "canary", Some("prod")), AdmissionMode::Warn);
        assert_eq!(mode_for(&s, "shop", Some("prod")), AdmissionMode::Enforce);
        assert_eq!(mode_for(&s, "shop", None), AdmissionMode::Off);
    }
}
