//! A registry as configured and what its collector reads: manifests, image configs, signature
//! verdicts, one repository's inventory, and the pushes its notifications report. Values only:
//! the registry collector produces them, the store keeps them.

use crate::domain::FieldError;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A configured registry and its collection status (shared with the pages).
pub use app::types::{RegistryRow, RegistryStatus};

/// What an admin sends to add a registry.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewRegistry {
    #[schema(value_type = String)]
    pub name: crate::domain::RegistryName,
    pub url: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    /// PEM certificates to trust for this registry.
    #[serde(default)]
    pub ca_pem: Option<String>,
    #[serde(default)]
    pub insecure: bool,
    /// Hosts (besides the registry's own) whose https token realm may receive the credentials.
    #[serde(default)]
    pub auth_hosts: Vec<String>,
    #[serde(default)]
    pub approved: bool,
    #[serde(default)]
    pub repositories: Vec<String>,
}

impl NewRegistry {
    /// Checks the fields; the message names the wrong one.
    pub fn validate(&mut self) -> Result<(), FieldError> {
        let url = url::Url::parse(self.url.trim()).map_err(|e| FieldError::new("url", format!("{e}")))?;
        crate::domain::check_secret_url(&url, self.insecure, "url")?;
        if url.host().is_none() || (url.path() != "/" && !url.path().is_empty()) || url.query().is_some() {
            return Err(FieldError::new("url", "give the registry's base URL, e.g. https://registry.example.com"));
        }
        self.url = url.as_str().trim_end_matches('/').to_string();
        if self.password_env.as_deref().is_some_and(|v| v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
            return Err(FieldError::new("password_env", "the NAME of an environment variable (letters, digits, '_')"));
        }
        if let Some(pem) = &self.ca_pem {
            reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| FieldError::new("ca_pem", format!("{e}")))?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(FieldError::new("ca_pem", "no PEM certificate in it"));
            }
        }
        for r in &self.repositories {
            crate::domain::validate_repository_name(r).map_err(|e| FieldError::new("repositories", e))?;
        }
        for h in &mut self.auth_hosts {
            *h = h.trim().to_ascii_lowercase();
            if url::Host::parse(h).is_err() || h.is_empty() || h.contains([':', '/']) {
                return Err(FieldError::new("auth_hosts", format!("{h:?} is not a host name")));
            }
        }
        Ok(())
    }
}

/// One image configuration as read from its config blob (and the manifest's annotations).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageConfig {
    pub config_digest: String,
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    pub diff_ids: Vec<String>,
    pub base_name: Option<String>,
    pub base_digest: Option<String>,
}

impl ImageConfig {
    pub fn platform(&self) -> Option<String> {
        let os = self.os.as_deref()?;
        let arch = self.architecture.as_deref()?;
        Some(match &self.variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        })
    }
}

/// A manifest the collector read (a handful per run: the image variant's size does not matter).
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Manifest {
    Image { digest: String, media_type: String, config: ImageConfig },
    Index { digest: String, media_type: String, platforms: Vec<(String, String)> },
}

impl Manifest {
    pub fn digest(&self) -> &str {
        match self {
            Manifest::Image { digest, .. } | Manifest::Index { digest, .. } => digest,
        }
    }
}

/// A signature check for one digest: (state, detail, the .sig manifest's digest).
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureSeen {
    pub digest: String,
    pub verdict: Verdict,
    pub reference: String,
}

/// Everything read from one repository in one run.
#[derive(Debug, Clone, Default)]
pub struct RepositoryInventory {
    pub repository: String,
    /// tag → digest (cosign's signature tags excluded).
    pub tags: Vec<(String, String)>,
    /// Manifests not known before this run (known digests are not fetched again).
    pub manifests: Vec<Manifest>,
    pub signatures: Vec<SignatureSeen>,
}

/// The outcome for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A trusted key verified a payload naming this digest (the key's name).
    Verified(String),
    /// A signature exists but no trusted key verifies it for this digest (why).
    Present(String),
}

/// One push or deletion of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEvent {
    pub id: String,
    pub action: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// The registry user who did it (empty for anonymous pushes).
    pub actor: Option<String>,
    pub source_addr: Option<String>,
    pub user_agent: Option<String>,
    pub happened_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_validation_names_the_field() {
        let mut ok = NewRegistry {
            name: crate::domain::RegistryName::parse("local").unwrap(),
            url: "http://127.0.0.1:5000/".into(),
            username: None,
            password_env: None,
            ca_pem: None,
            insecure: false,
            auth_hosts: vec![],
            approved: true,
            repositories: vec![],
        };
        ok.validate().unwrap();
        assert_eq!(ok.url, "http://127.0.0.1:5000");
        let mut remote = NewRegistry { url: "http://registry.example.com".into(), ..ok.clone() };
        assert!(remote.validate().unwrap_err().to_string().contains("loopback"));
        remote.insecure = true;
        remote.validate().unwrap();
        assert!(serde_json::from_value::<NewRegistry>(serde_json::json!({"name": "a b", "url": "http://127.0.0.1:5000"})).is_err());
        let mut creds = NewRegistry { url: "https://bot:hunter2@registry.example.com".into(), ..ok.clone() };
        let e = creds.validate().unwrap_err().to_string();
        assert!(e.starts_with("url: no credentials") && !e.contains("hunter2"), "{e}");
        let mut bad = NewRegistry { password_env: Some("A-B".into()), ..ok.clone() };
        assert!(bad.validate().unwrap_err().to_string().starts_with("password_env"));
        let mut bad = NewRegistry { ca_pem: Some("junk".into()), ..ok };
        assert!(bad.validate().unwrap_err().to_string().starts_with("ca_pem"));
    }
}
