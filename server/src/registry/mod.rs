//! The registry collector: every repository, tag and digest of the configured registries, what
//! each image is (platform, config, labels, base image, user, layers), its cosign signature, and
//! the indexes over platform manifests.
//!
//! `collect_registry` is the step function (`drydock collect --once`, the schedule in `serve`
//! and the tests call it). A registry that fails keeps its last good inventory: nothing is
//! deleted for what could not be read; its status records the error and when to try again.

use crate::store::capabilities::*;
pub mod client;
pub mod cosign;
pub mod notify;
pub mod wire;

use crate::store::Actor;
use chrono::{DateTime, Utc};
use client::{Credentials, RegistryClient};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Why a registry (or one repository of it) could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("access denied: {0}")]
    Denied(String),
    #[error("unexpected answer: {0}")]
    Garbage(String),
}

pub use crate::domain::registry::{ImageConfig, Manifest, NewRegistry, RegistryRow, RegistryStatus, RepositoryInventory, SignatureSeen};

/// What the collector needs besides the registry rows.
#[derive(Clone, Default)]
pub struct CollectSettings {
    pub trusted_keys: Vec<cosign::TrustedKey>,
}

/// The result of one registry's run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CollectSummary {
    pub registry: String,
    pub repositories: usize,
    pub tags: usize,
    pub new_manifests: usize,
    pub signatures_verified: usize,
    /// Repositories that could not be read, with why (the rest were collected).
    pub errors: Vec<String>,
}

fn is_signature_tag(tag: &str) -> bool {
    tag.starts_with("sha256-") && (tag.ends_with(".sig") || tag.ends_with(".att") || tag.ends_with(".sbom"))
}

/// A client for `reg`; the password comes from the environment variable it names.
pub fn client_for(reg: &RegistryRow, ca_pem: Option<&str>) -> Result<RegistryClient, RegistryError> {
    let password = match &reg.password_env {
        Some(var) => Some(
            std::env::var(var).map_err(|_| RegistryError::Config(format!("the environment variable {var} (the password) is not set")))?,
        ),
        None => None,
    };
    RegistryClient::new(&reg.url, Credentials { username: reg.username.clone(), password, auth_hosts: reg.auth_hosts.clone() }, ca_pem)
}

/// Collects one registry (every repository, or only `only` when a notification names one) and
/// stores the result; updates the registry's status either way.
pub async fn collect_registry(
    store: &(impl RegistryStore + InventoryStore),
    reg: &RegistryRow,
    settings: &CollectSettings,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CollectSummary, RegistryError> {
    let actor = Actor(format!("collector:registry:{}", reg.name));
    let result = collect_inner(store, reg, settings, only, &actor, now).await;
    let status = match &result {
        Ok(s) if s.errors.is_empty() => Ok(s),
        Ok(s) => Err(s.errors.join("; ")),
        Err(e) => Err(e.to_string()),
    };
    let counts = result.as_ref().ok().map(|s| (s.repositories, s.tags));
    store
        .record_registry_run(reg.id, status.map(|_| ()), counts, only.is_some(), now)
        .await
        .map_err(|e| RegistryError::Config(format!("the registry status could not be saved: {e}")))?;
    result
}

async fn collect_inner(
    store: &(impl RegistryStore + InventoryStore),
    reg: &RegistryRow,
    settings: &CollectSettings,
    only: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<CollectSummary, RegistryError> {
    let ca = store.registry_ca(reg.id).await.map_err(|e| RegistryError::Config(e.to_string()))?;
    let client = client_for(reg, ca.as_deref())?;
    let host = client.host();
    let repositories = match only {
        Some(r) => vec![r.to_string()],
        None => match client.catalog().await {
            Ok(Some(list)) => {
                let mut all: Vec<String> = list;
                all.extend(reg.repositories.iter().cloned());
                all.sort();
                all.dedup();
                all
            }
            Ok(None) if !reg.repositories.is_empty() => reg.repositories.clone(),
            Ok(None) => return Err(RegistryError::Garbage("the registry has no catalog and no repositories are configured".into())),
            // A catalog we may not read (a token for some repositories only): the configured list.
            Err(RegistryError::Denied(_)) if !reg.repositories.is_empty() => reg.repositories.clone(),
            Err(e) => return Err(e),
        },
    };
    let mut summary = CollectSummary { registry: reg.name.clone(), ..Default::default() };
    let mut referrers_supported = true;
    for repo in &repositories {
        match collect_repository(&client, store, repo, settings, &mut referrers_supported).await {
            Ok(Some(inv)) => {
                summary.repositories += 1;
                summary.tags += inv.tags.len();
                summary.new_manifests += inv.manifests.len();
                summary.signatures_verified += inv.signatures.iter().filter(|s| matches!(s.verdict, cosign::Verdict::Verified(_))).count();
                store
                    .store_repository_inventory(reg.id, &host, &inv, actor, now)
                    .await
                    .map_err(|e| RegistryError::Config(format!("{repo}: could not be stored: {e}")))?;
            }
            Ok(None) => summary.errors.push(format!("{repo}: the registry does not know this repository")),
            Err(RegistryError::Unreachable(e)) => return Err(RegistryError::Unreachable(e)),
            Err(e) => summary.errors.push(format!("{repo}: {e}")),
        }
    }
    Ok(summary)
}

/// Reads one repository: tags → digests, the manifests not known yet (an index's platform
/// manifests too), their configs, and the signatures.
async fn collect_repository(
    client: &RegistryClient,
    store: &(impl RegistryStore + InventoryStore),
    repo: &str,
    settings: &CollectSettings,
    referrers_supported: &mut bool,
) -> Result<Option<RepositoryInventory>, RegistryError> {
    // Names that reach a URL follow the distribution grammar, wherever they came from (a
    // catalog, a notification, configuration): nothing else is requested.
    crate::domain::validate_repository_name(repo).map_err(RegistryError::Garbage)?;
    let Some(mut all_tags) = client.tags(repo).await? else { return Ok(None) };
    all_tags.retain(|t| crate::domain::validate_tag(t).is_ok());
    let tag_set: HashSet<&str> = all_tags.iter().map(String::as_str).collect();
    let mut inv = RepositoryInventory { repository: repo.to_string(), ..Default::default() };
    for tag in all_tags.iter().filter(|t| !is_signature_tag(t)) {
        if let Some(d) = client.resolve_tag(repo, tag).await? {
            crate::domain::Digest::parse(&d).map_err(|e| RegistryError::Garbage(format!("{repo}:{tag}: {e}")))?;
            inv.tags.push((tag.clone(), d));
        }
    }
    let tagged: Vec<String> = {
        let mut v: Vec<String> = inv.tags.iter().map(|(_, d)| d.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let known = store.collected_digests(&tagged).await.map_err(|e| RegistryError::Config(e.to_string()))?;
    let mut digests_in_repo: Vec<String> = tagged.clone();
    for digest in tagged.iter().filter(|d| !known.contains(*d)) {
        let m = read_manifest(client, repo, digest).await?;
        if let Manifest::Index { platforms, .. } = &m {
            let children: Vec<String> = platforms.iter().map(|(d, _)| d.clone()).collect();
            for c in &children {
                crate::domain::Digest::parse(c).map_err(|e| RegistryError::Garbage(format!("{repo}@{digest}: platform manifest {e}")))?;
            }
            let known_children = store.collected_digests(&children).await.map_err(|e| RegistryError::Config(e.to_string()))?;
            for child in children.iter().filter(|c| !known_children.contains(*c)) {
                let cm = read_manifest(client, repo, child).await?;
                inv.manifests.push(cm);
            }
            digests_in_repo.extend(children);
        }
        inv.manifests.push(m);
    }
    // Signatures: cosign's tag convention, and the referrers API where the registry has it.
    let signed_refs = store.signature_refs(&digests_in_repo).await.map_err(|e| RegistryError::Config(e.to_string()))?;
    for digest in &digests_in_repo {
        let Some(sig_tag) = cosign::signature_tag(digest) else { continue };
        let mut sig_manifest: Option<String> = None;
        if tag_set.contains(sig_tag.as_str()) {
            sig_manifest = client.resolve_tag(repo, &sig_tag).await?;
        } else if *referrers_supported {
            match client.referrers(repo, digest).await? {
                None => *referrers_supported = false,
                Some(index) => {
                    sig_manifest = index["manifests"].as_array().into_iter().flatten().find_map(|m| {
                        let t = m["artifactType"].as_str().unwrap_or_default();
                        (t.contains("cosign") || t == cosign::SIMPLE_SIGNING_MEDIA_TYPE)
                            .then(|| m["digest"].as_str().map(str::to_string))
                            .flatten()
                    });
                }
            }
        }
        let Some(sig_ref) = sig_manifest else { continue };
        crate::domain::Digest::parse(&sig_ref).map_err(|e| RegistryError::Garbage(format!("{repo}: signature of {digest}: {e}")))?;
        // The same signature checked before: again only if it did not verify and keys exist now.
        if signed_refs.get(digest).is_some_and(|(r, state)| *r == sig_ref && (state == "verified" || settings.trusted_keys.is_empty())) {
            continue;
        }
        let verdict = check_signature(client, repo, digest, &sig_ref, &settings.trusted_keys).await?;
        inv.signatures.push(SignatureSeen { digest: digest.clone(), verdict, reference: sig_ref });
    }
    Ok(Some(inv))
}

async fn check_signature(
    client: &RegistryClient,
    repo: &str,
    digest: &str,
    sig_ref: &str,
    keys: &[cosign::TrustedKey],
) -> Result<cosign::Verdict, RegistryError> {
    let (_, _, body) = client.manifest(repo, sig_ref).await?;
    let m: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| RegistryError::Garbage(format!("{repo} signature manifest {sig_ref}: {e}")))?;
    let mut layers = Vec::new();
    for l in m["layers"].as_array().into_iter().flatten() {
        let Some(sig) = l["annotations"][cosign::SIGNATURE_ANNOTATION].as_str() else { continue };
        let Some(d) = l["digest"].as_str() else { continue };
        crate::domain::Digest::parse(d).map_err(|e| RegistryError::Garbage(format!("{repo} signature {sig_ref}: layer {e}")))?;
        let payload = client.blob(repo, d, client::MAX_CONFIG_BYTES).await?;
        layers.push(cosign::SignedPayload { signature_b64: sig.to_string(), payload: payload.to_vec() });
    }
    Ok(cosign::verify(digest, &layers, keys))
}

const INDEX_TYPES: [&str; 2] = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

/// Reads a manifest by digest; for an image, its config blob too.
async fn read_manifest(client: &RegistryClient, repo: &str, digest: &str) -> Result<Manifest, RegistryError> {
    let (got, media_type, body) = client.manifest(repo, digest).await?;
    let garbage = |e: String| RegistryError::Garbage(format!("{repo}@{digest}: {e}"));
    match parse_manifest(&body, &media_type).map_err(garbage)? {
        ParsedManifest::Index { media_type, platforms } => Ok(Manifest::Index { digest: got, media_type, platforms }),
        ParsedManifest::Image { media_type, config_digest, base_name, base_digest } => {
            let blob = client.blob(repo, &config_digest, client::MAX_CONFIG_BYTES).await?;
            let mut config = parse_config(&blob).map_err(|e| garbage(format!("config {config_digest}: {e}")))?;
            config.config_digest = config_digest;
            config.base_name = base_name.or_else(|| config.labels.get("org.opencontainers.image.base.name").cloned());
            config.base_digest = base_digest.or_else(|| config.labels.get("org.opencontainers.image.base.digest").cloned());
            Ok(Manifest::Image { digest: got, media_type, config })
        }
    }
}

/// What a manifest says, before its config blob is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedManifest {
    /// An index: (platform manifest digest, `os/arch[/variant]`) of each platform.
    Index { media_type: String, platforms: Vec<(String, String)> },
    /// An image: its config's digest and the base image its annotations name.
    Image { media_type: String, config_digest: String, base_name: Option<String>, base_digest: Option<String> },
}

/// Parses a manifest or an index (`media_type`: the `Content-Type` it came with, used when the
/// body names none). Schema 1 manifests are refused.
pub fn parse_manifest(body: &[u8], media_type: &str) -> Result<ParsedManifest, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("the manifest is not JSON: {e}"))?;
    let media_type = v["mediaType"].as_str().unwrap_or(media_type).to_string();
    let is_index = INDEX_TYPES.contains(&media_type.as_str()) || (v.get("manifests").is_some() && v.get("config").is_none());
    if is_index {
        let mut platforms = Vec::new();
        for m in v["manifests"].as_array().into_iter().flatten() {
            let Some(d) = m["digest"].as_str() else { continue };
            // Attestation manifests (BuildKit's unknown/unknown) are not platforms.
            let os = m["platform"]["os"].as_str().unwrap_or("unknown");
            let arch = m["platform"]["architecture"].as_str().unwrap_or("unknown");
            if os == "unknown" && arch == "unknown" {
                continue;
            }
            let p = match m["platform"]["variant"].as_str() {
                Some(var) => format!("{os}/{arch}/{var}"),
                None => format!("{os}/{arch}"),
            };
            platforms.push((d.to_string(), p));
        }
        return Ok(ParsedManifest::Index { media_type, platforms });
    }
    let config_digest = v["config"]["digest"]
        .as_str()
        .ok_or_else(|| format!("{media_type} manifest without config.digest (schema 1 is not supported)"))?
        .to_string();
    crate::domain::Digest::parse(&config_digest).map_err(|e| format!("config {e}"))?;
    let ann = &v["annotations"];
    let base_name = ann["org.opencontainers.image.base.name"].as_str().map(str::to_string);
    let base_digest = ann["org.opencontainers.image.base.digest"].as_str().map(str::to_string);
    Ok(ParsedManifest::Image { media_type, config_digest, base_name, base_digest })
}

/// An OCI / Docker image config blob.
pub fn parse_config(blob: &[u8]) -> Result<ImageConfig, String> {
    let v: serde_json::Value = serde_json::from_slice(blob).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let s = |x: &serde_json::Value| x.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let labels = v["config"]["Labels"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
        .unwrap_or_default();
    Ok(ImageConfig {
        config_digest: String::new(),
        os: s(&v["os"]),
        architecture: s(&v["architecture"]),
        variant: s(&v["variant"]),
        created: v["created"].as_str().and_then(|c| DateTime::parse_from_rfc3339(c).ok()).map(|t| t.with_timezone(&Utc)),
        labels,
        user: v["config"]["User"].as_str().map(str::to_string),
        diff_ids: v["rootfs"]["diff_ids"].as_array().into_iter().flatten().filter_map(|d| d.as_str().map(str::to_string)).collect(),
        base_name: None,
        base_digest: None,
    })
}

/// Whether a config user runs as root: empty, `root`, `0`, or `0:…` / `root:…`.
pub fn runs_as_root(user: Option<&str>) -> bool {
    match user.map(str::trim) {
        None | Some("") => true,
        Some(u) => {
            let name = u.split(':').next().unwrap_or(u);
            name == "root" || name == "0"
        }
    }
}

/// How promotion is decided (setting `promotion_mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Promotion {
    /// The image's label of this name holds the promotion state (set by whoever built it).
    Label(String),
    /// The image is promoted when it is in a repository matching one of these patterns
    /// (placement is controlled by the registry's permissions).
    Repository(Vec<String>),
}

impl Default for Promotion {
    fn default() -> Self {
        Promotion::Label("promotion".into())
    }
}

impl Promotion {
    /// The state for an image with these labels, in these repositories (`registry/name`).
    pub fn evaluate(&self, labels: &BTreeMap<String, String>, repositories: &[String]) -> app::types::Promotion {
        match self {
            Promotion::Label(key) => {
                let value = labels.get(key).filter(|v| !v.is_empty()).cloned();
                app::types::Promotion { mode: "label".into(), promoted: value.is_some(), value }
            }
            Promotion::Repository(patterns) => {
                let value = repositories.iter().find(|r| patterns.iter().any(|p| glob(p, r))).cloned();
                app::types::Promotion { mode: "repository".into(), promoted: value.is_some(), value }
            }
        }
    }

    /// An image's promotion from its labels and the repositories (with tags) it is in. In
    /// repository mode a pattern matches a repository (`registry/name`) or a tag in it
    /// (`registry/name:tag`).
    pub fn for_image(&self, labels: &BTreeMap<String, String>, repositories: &[app::types::RepositoryTags]) -> app::types::Promotion {
        let mut places: Vec<String> = Vec::new();
        for r in repositories {
            places.push(r.repository.clone());
            places.extend(r.tags.iter().map(|t| format!("{}:{t}", r.repository)));
        }
        self.evaluate(labels, &places)
    }
}

/// `*` matches within one path segment, `**` across segments.
pub fn glob(pattern: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => (0..=s.len()).any(|i| go(&p[2..], &s[i..])),
            Some(b'*') => (0..=s.len()).take_while(|i| *i == 0 || s[i - 1] != b'/').any(|i| go(&p[1..], &s[i..])),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), s.as_bytes())
}

/// Hosts of the approved registries, as image references name them.
pub async fn approved_hosts(store: &impl RegistryStore) -> Result<Vec<String>, crate::store::StoreError> {
    Ok(store
        .registries()
        .await?
        .into_iter()
        .filter(|r| r.approved)
        .filter_map(|r| {
            let u = url::Url::parse(&r.url).ok()?;
            let host = u.host_str()?.to_string();
            Some(match (host.as_str(), u.port()) {
                ("registry-1.docker.io" | "index.docker.io", _) => "docker.io".to_string(),
                (_, Some(p)) => format!("{host}:{p}"),
                (_, None) => host,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_by_label_or_repository() {
        assert!(glob("reg.example/prod/**", "reg.example/prod/team-a/app"));
        assert!(glob("reg.example/*/app", "reg.example/prod/app"));
        assert!(!glob("reg.example/*/app", "reg.example/prod/x/app"));
        assert!(!glob("reg.example/prod/**", "reg.example/dev/app"));
        let labels: BTreeMap<String, String> = [("promotion".to_string(), "prod".to_string())].into();
        let by_label = Promotion::Label("promotion".into()).evaluate(&labels, &[]);
        assert_eq!((by_label.promoted, by_label.value.as_deref()), (true, Some("prod")));
        let none = Promotion::Label("stage".into()).evaluate(&labels, &[]);
        assert!(!none.promoted);
        let by_repo = Promotion::Repository(vec!["r/prod/**".into()]).evaluate(&labels, &["r/dev/a".into(), "r/prod/a".into()]);
        assert_eq!((by_repo.mode.as_str(), by_repo.promoted, by_repo.value.as_deref()), ("repository", true, Some("r/prod/a")));
        let by_tag = Promotion::Repository(vec!["r/app:release-*".into()]);
        assert!(by_tag.evaluate(&labels, &["r/app".into(), "r/app:release-2".into()]).promoted);
        assert!(!by_tag.evaluate(&labels, &["r/app".into(), "r/app:dev".into()]).promoted);
    }

    #[test]
    fn config_blob_and_root_user() {
        let blob = br#"{"architecture":"arm64","os":"linux","variant":"v8","created":"2024-01-02T03:04:05Z",
            "config":{"User":"1000:1000","Labels":{"promotion":"prod","org.opencontainers.image.source":"https://x"}},
            "rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}"#;
        let c = parse_config(blob).unwrap();
        assert_eq!(c.platform().as_deref(), Some("linux/arm64/v8"));
        assert_eq!(c.labels.get("promotion").map(String::as_str), Some("prod"));
        assert_eq!(c.diff_ids, vec!["sha256:aa".to_string()]);
        assert!(!runs_as_root(c.user.as_deref()));
        assert!(runs_as_root(None) && runs_as_root(Some("")) && runs_as_root(Some("0:0")) && runs_as_root(Some("root")));
        assert!(parse_config(b"[1]").is_err());
    }
}
