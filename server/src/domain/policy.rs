//! Policies: what Drydock judges the estate by. Each has an id, a title, whether it is on, a scope
//! (whose subjects it judges) and typed parameters with sensible defaults. Parsing checks every
//! parameter, so a policy that exists can always be evaluated.

use super::purl::PackageCoordinates;
use super::version::VersionRange;
use crate::domain::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Whose subjects a policy judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Team(String),
    Namespace(String),
    Environment(String),
}

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, FieldError> {
        let s = s.trim();
        if s.is_empty() || s == "all" {
            return Ok(Scope::All);
        }
        let (kind, value) = s
            .split_once(':')
            .ok_or_else(|| FieldError::new("scope", format!("{s:?} is not all, team:NAME, namespace:NAME or environment:NAME")))?;
        let value = value.trim();
        if value.is_empty() || value.len() > 253 || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(FieldError::new("scope", format!("{s:?} names nothing usable")));
        }
        Ok(match kind {
            "team" => Scope::Team(value.into()),
            "namespace" => Scope::Namespace(value.into()),
            "environment" => Scope::Environment(value.into()),
            other => return Err(FieldError::new("scope", format!("{other:?} is not all, team, namespace or environment"))),
        })
    }
    pub fn as_string(&self) -> String {
        match self {
            Scope::All => "all".into(),
            Scope::Team(t) => format!("team:{t}"),
            Scope::Namespace(n) => format!("namespace:{n}"),
            Scope::Environment(e) => format!("environment:{e}"),
        }
    }
    /// Whether a subject of `team`, running in `namespace`/`environment` (images: none), is judged.
    pub fn covers(&self, team: Option<&str>, namespace: Option<&str>, environment: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Team(t) => team == Some(t.as_str()),
            Scope::Namespace(n) => namespace == Some(n.as_str()),
            Scope::Environment(e) => environment == Some(e.as_str()),
        }
    }
}

/// The vulnerability SLA: days to fix by severity, tighter for known-exploited and likely-exploited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaParams {
    pub critical_days: i64,
    pub high_days: i64,
    pub medium_days: i64,
    pub low_days: i64,
    /// Only findings with a fixed version count (nothing to do otherwise).
    pub only_fixable: bool,
    /// Days for a CVE in the uploaded CISA KEV catalogue (null: no tighter deadline).
    pub kev_days: Option<i64>,
    /// EPSS at or above this (0..1) gets `epss_days` (null: off).
    pub epss_threshold: Option<f64>,
    pub epss_days: i64,
}

impl Default for SlaParams {
    fn default() -> Self {
        SlaParams {
            critical_days: 7,
            high_days: 30,
            medium_days: 90,
            low_days: 180,
            only_fixable: true,
            kev_days: Some(3),
            epss_threshold: Some(0.5),
            epss_days: 7,
        }
    }
}

/// The most entries a denylist holds: each becomes two parameters of the evaluation's package
/// query (beside a chunk of image ids), well inside both databases' limits.
pub const MAX_DENYLIST_ENTRIES: usize = 1000;

/// A denylisted package range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyEntry {
    /// What people call it ("shellshock bash").
    pub label: String,
    /// A package URL without version.
    pub package: String,
    /// A `vers` range.
    pub range: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DenylistParams {
    pub entries: Vec<DenyEntry>,
}

impl Default for DenylistParams {
    fn default() -> Self {
        let e = |label: &str, package: &str, range: &str| DenyEntry { label: label.into(), package: package.into(), range: range.into() };
        DenylistParams {
            entries: vec![
                e("shellshock bash", "pkg:deb/debian/bash", "vers:deb/<4.3-9.1"),
                e("shellshock bash", "pkg:rpm/centos/bash", "vers:rpm/<4.2.46-12.el7"),
                e("outdated ssl library (OpenSSL before 1.1.1)", "pkg:deb/debian/openssl", "vers:deb/<1.1.1"),
                e("outdated ssl library (OpenSSL before 1.1.1)", "pkg:deb/debian/libssl1.0.2", "vers:deb/*"),
                e("outdated ssl library (OpenSSL before 1.1.1)", "pkg:apk/alpine/openssl", "vers:apk/<1.1.1"),
                e("log4shell log4j", "pkg:maven/org.apache.logging.log4j/log4j-core", "vers:maven/>=2.0.0|<2.17.1"),
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaseParams {
    /// Approved base images: a name (`docker.io/library/debian`, matched against the image's base
    /// annotation) or a diff ID list prefix (`sha256:…`, the base's first layer).
    pub approved: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeParams {
    pub kubelet_min: String,
    /// `containerd://` minimum (the runtime's version).
    pub containerd_min: String,
}

impl Default for NodeParams {
    fn default() -> Self {
        NodeParams { kubelet_min: "v1.30.0".into(), containerd_min: "1.7.0".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FreshnessParams {
    pub max_age_days: i64,
}

impl Default for FreshnessParams {
    fn default() -> Self {
        FreshnessParams { max_age_days: 7 }
    }
}

/// A denylist: its parameters as entered (pages and the API show them) and its entries parsed
/// once, when the policy is built, as (label, package, range).
#[derive(Debug, Clone, PartialEq)]
pub struct Denylist {
    pub params: DenylistParams,
    pub entries: Vec<(String, PackageCoordinates, VersionRange)>,
}

/// The policies Drydock knows, with their parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    VulnerabilitySla(SlaParams),
    ApprovedRegistry,
    ApprovedBase(BaseParams),
    Signed,
    PromotedBeforeProduction,
    NonRoot,
    Denylist(Denylist),
    OsEndOfLife,
    NodeVersions(NodeParams),
    ScanFreshness(FreshnessParams),
    /// Containers of registered vendor images run only where the register allows.
    VendorImages,
}

/// Every policy id, in the order pages list them.
pub const IDS: [&str; 11] = [
    "vulnerability-sla",
    "approved-registry",
    "approved-base-image",
    "signed",
    "promoted-before-production",
    "non-root",
    "denylisted-packages",
    "os-end-of-life",
    "node-versions",
    "scan-freshness",
    "vendor-images",
];

/// What a policy judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    Image,
    Container,
    Node,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Image => "image",
            SubjectKind::Container => "container",
            SubjectKind::Node => "node",
        }
    }
}

/// One policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: &'static str,
    pub enabled: bool,
    pub scope: Scope,
    pub rule: Rule,
}

fn params<T: serde::de::DeserializeOwned + Default>(id: &str, v: &Value) -> Result<T, FieldError> {
    if v.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(v.clone()).map_err(|e| FieldError::new("params", format!("{id}: {e}")))
}

impl Policy {
    /// The policy `id` from stored or submitted parts (`params` null: the defaults).
    pub fn build(id: &str, enabled: bool, scope: &str, p: &Value) -> Result<Policy, FieldError> {
        let id: &'static str = IDS
            .iter()
            .find(|i| **i == id)
            .copied()
            .ok_or_else(|| FieldError::new("id", format!("{id:?} is not a policy (known: {})", IDS.join(", "))))?;
        let rule = match id {
            "vulnerability-sla" => {
                let s: SlaParams = params(id, p)?;
                for (name, d) in [
                    ("critical_days", s.critical_days),
                    ("high_days", s.high_days),
                    ("medium_days", s.medium_days),
                    ("low_days", s.low_days),
                    ("epss_days", s.epss_days),
                ] {
                    if !(0..=3650).contains(&d) {
                        return Err(FieldError::new("params", format!("{name}: {d} is not between 0 and 3650 days")));
                    }
                }
                if s.kev_days.is_some_and(|d| !(0..=3650).contains(&d)) {
                    return Err(FieldError::new("params", "kev_days: between 0 and 3650 days, or null"));
                }
                if s.epss_threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
                    return Err(FieldError::new("params", "epss_threshold: between 0 and 1, or null"));
                }
                Rule::VulnerabilitySla(s)
            }
            "approved-registry" => Rule::ApprovedRegistry,
            "approved-base-image" => Rule::ApprovedBase(params(id, p)?),
            "signed" => Rule::Signed,
            "promoted-before-production" => Rule::PromotedBeforeProduction,
            "non-root" => Rule::NonRoot,
            "vendor-images" => Rule::VendorImages,
            "denylisted-packages" => {
                let params: DenylistParams = params(id, p)?;
                if params.entries.len() > MAX_DENYLIST_ENTRIES {
                    return Err(FieldError::new(
                        "params",
                        format!("entries: at most {MAX_DENYLIST_ENTRIES}, not {}", params.entries.len()),
                    ));
                }
                let mut entries = Vec::with_capacity(params.entries.len());
                for (i, e) in params.entries.iter().enumerate() {
                    let package = PackageCoordinates::parse(&e.package)
                        .map_err(|m| FieldError::new("params", format!("entries[{i}].package: {m}")))?;
                    let range = VersionRange::parse(&e.range).map_err(|m| FieldError::new("params", format!("entries[{i}].range: {m}")))?;
                    entries.push((e.label.clone(), package, range));
                }
                Rule::Denylist(Denylist { params, entries })
            }
            "os-end-of-life" => Rule::OsEndOfLife,
            "node-versions" => {
                let n: NodeParams = params(id, p)?;
                for (name, v) in [("kubelet_min", &n.kubelet_min), ("containerd_min", &n.containerd_min)] {
                    super::version::Scheme::Semver.validate(v).map_err(|m| FieldError::new("params", format!("{name}: {m}")))?;
                }
                Rule::NodeVersions(n)
            }
            _ => {
                let f: FreshnessParams = params(id, p)?;
                if !(1..=3650).contains(&f.max_age_days) {
                    return Err(FieldError::new("params", "max_age_days: between 1 and 3650"));
                }
                Rule::ScanFreshness(f)
            }
        };
        Ok(Policy { id, enabled, scope: Scope::parse(scope)?, rule })
    }

    /// The default policy set: everything on, estate-wide.
    pub fn defaults() -> Vec<Policy> {
        IDS.iter().map(|id| Policy::build(id, true, "all", &Value::Null).expect("the defaults are valid")).collect()
    }

    pub fn subject_kind(&self) -> SubjectKind {
        match self.rule {
            Rule::PromotedBeforeProduction | Rule::NonRoot | Rule::VendorImages => SubjectKind::Container,
            Rule::NodeVersions(_) => SubjectKind::Node,
            _ => SubjectKind::Image,
        }
    }

    pub fn title(&self) -> &'static str {
        match self.rule {
            Rule::VulnerabilitySla(_) => "Vulnerabilities fixed within the SLA",
            Rule::ApprovedRegistry => "Images from approved registries",
            Rule::ApprovedBase(_) => "Approved base images",
            Rule::Signed => "Signed by a trusted key",
            Rule::PromotedBeforeProduction => "Promoted before running in production",
            Rule::NonRoot => "Not running as root",
            Rule::Denylist(_) => "No denylisted packages",
            Rule::OsEndOfLife => "Operating system still supported",
            Rule::NodeVersions(_) => "Nodes on supported kubelet and runtime",
            Rule::ScanFreshness(_) => "Scanned recently",
            Rule::VendorImages => "Vendor images used where registered",
        }
    }

    /// The parameters as JSON (null for a policy without any).
    pub fn params_json(&self) -> Value {
        match &self.rule {
            Rule::VulnerabilitySla(p) => serde_json::to_value(p),
            Rule::ApprovedBase(p) => serde_json::to_value(p),
            Rule::Denylist(d) => serde_json::to_value(&d.params),
            Rule::NodeVersions(p) => serde_json::to_value(p),
            Rule::ScanFreshness(p) => serde_json::to_value(p),
            _ => Ok(Value::Null),
        }
        .unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denylist_holds_at_most_its_bound() {
        let entries = |n: usize| {
            let e = serde_json::json!({"label": "x", "package": "pkg:deb/debian/bash", "range": "vers:deb/<1"});
            serde_json::json!({ "entries": vec![e; n] })
        };
        assert!(Policy::build("denylisted-packages", true, "all", &entries(MAX_DENYLIST_ENTRIES)).is_ok());
        let e = Policy::build("denylisted-packages", true, "all", &entries(MAX_DENYLIST_ENTRIES + 1)).unwrap_err();
        assert_eq!(e.field, "params");
        assert!(e.message.contains("entries: at most 1000, not 1001"), "{}", e.message);
    }

    #[test]
    fn defaults_and_refusals() {
        let all = Policy::defaults();
        assert_eq!(all.len(), IDS.len());
        assert!(all.iter().all(|p| p.enabled && p.scope == Scope::All));
        for (id, scope, params, says) in [
            ("nope", "all", Value::Null, "is not a policy"),
            ("vulnerability-sla", "all", serde_json::json!({"critical_days": -1}), "critical_days"),
            ("vulnerability-sla", "all", serde_json::json!({"epss_threshold": 2.0}), "epss_threshold"),
            ("vulnerability-sla", "all", serde_json::json!({"unknown": 1}), "unknown field"),
            (
                "denylisted-packages",
                "all",
                serde_json::json!({"entries": [{"label": "x", "package": "bash", "range": "vers:deb/<1"}]}),
                "entries[0].package",
            ),
            (
                "denylisted-packages",
                "all",
                serde_json::json!({"entries": [{"label": "x", "package": "pkg:deb/debian/bash", "range": "<1"}]}),
                "entries[0].range",
            ),
            ("signed", "galaxy:far", Value::Null, "scope"),
            ("node-versions", "all", serde_json::json!({"kubelet_min": "latest"}), "kubelet_min"),
        ] {
            let e = Policy::build(id, true, scope, &params).unwrap_err().to_string();
            assert!(e.contains(says), "{id} {params}: {e}");
        }
    }
}
