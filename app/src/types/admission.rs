//! The admission webhook's settings (`GET/PUT /api/v1/admission/settings`) and the page's view.

use super::*;
use std::collections::BTreeMap;

/// How admission treats a namespace or environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AdmissionMode {
    /// Allow without judging.
    Off,
    /// Allow, with warnings naming what would be denied.
    Warn,
    /// Deny what is past its deadline or grace.
    Enforce,
}

impl AdmissionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AdmissionMode::Off => "off",
            AdmissionMode::Warn => "warn",
            AdmissionMode::Enforce => "enforce",
        }
    }
}

/// What happens, in `enforce`, to an image Drydock has never seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UnknownImages {
    Allow,
    Deny,
}

/// A policy security enforces at admission, with its grace from when it started failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyAdmission {
    pub enforce: bool,
    #[serde(default)]
    pub grace_days: i64,
}

/// The admission settings: a namespace's mode wins over its environment's, which wins over the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdmissionSettings {
    pub default_mode: AdmissionMode,
    pub namespaces: BTreeMap<String, AdmissionMode>,
    pub environments: BTreeMap<String, AdmissionMode>,
    pub unknown_images: UnknownImages,
    /// Policies other than the vulnerability SLA judged at admission (policy id → enforcement).
    pub policies: BTreeMap<String, PolicyAdmission>,
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings {
            default_mode: AdmissionMode::Warn,
            namespaces: BTreeMap::new(),
            environments: BTreeMap::new(),
            unknown_images: UnknownImages::Allow,
            policies: BTreeMap::new(),
        }
    }
}

/// The admission page: the settings, the policies that may be enforced, whether the viewer may edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionPage {
    pub settings: AdmissionSettings,
    /// (policy id, title) of the policies other than the vulnerability SLA.
    pub policies: Vec<(String, String)>,
    pub may_edit: bool,
    /// The vendor image register.
    pub vendor: Vec<super::VendorImage>,
    /// The register's version as shown (sent back by its form: a register changed since is refused).
    pub vendor_version: String,
    /// The settings' version as shown (sent back by their form, likewise).
    pub settings_version: String,
}
