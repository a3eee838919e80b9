//! The vendor image register, valid by construction: each entry names a repository (or a prefix),
//! exactly one responsible owner (a team or a person), and where the image may run; `judge` says
//! why a container breaks its entry, if it does. The policy `vendor-images` and the admission
//! webhook both ask it.

use super::admission::label;
use super::text::FieldError;
use super::ImageRef;
use app::types::VendorImage;

/// At most this many entries, and this many names in each list.
pub const MAX_ENTRIES: usize = 500;
pub const MAX_NAMES: usize = 200;

/// The register: entries in the order given; the first that matches an image is its entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Register(Vec<VendorImage>);

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

/// `registry/name` of an image reference (tag and digest dropped), as Docker resolves it.
pub fn repository_of(image: &str) -> Option<String> {
    ImageRef::parse(image).ok().map(|r| r.repository.full())
}

fn check(i: usize, e: &mut VendorImage) -> Result<(), FieldError> {
    let at = |f: &str| format!("[{i}].{f}");
    let (base, prefix) = match e.repository.strip_suffix("/*") {
        Some(p) => (p, true),
        None => (e.repository.as_str(), false),
    };
    let r = ImageRef::parse(base).map_err(|_| FieldError::new(at("repository"), format!("{:?} is not a repository", short(base))))?;
    if r.tag.is_some() || r.digest.is_some() {
        return Err(FieldError::new(at("repository"), "a repository, without tag or digest"));
    }
    let normal = r.repository.full();
    e.repository = if prefix { format!("{normal}/*") } else { normal };
    if e.vendor.trim().is_empty() || e.vendor.len() > 256 || e.licence.len() > 2000 {
        return Err(FieldError::new(at("vendor"), "a vendor name of 1 to 256 characters (licence notes: at most 2000)"));
    }
    match (&e.owner_team, &e.owner_person) {
        (Some(t), None) => {
            super::TeamName::parse(t).map_err(|m| FieldError::new(at("owner_team"), m))?;
        }
        (None, Some(p)) if p.contains('@') && p.len() <= 256 && !p.chars().any(char::is_whitespace) => {}
        (None, Some(_)) => return Err(FieldError::new(at("owner_person"), "an e-mail address")),
        _ => return Err(FieldError::new(at("owner_team"), "exactly one owner: owner_team or owner_person")),
    }
    for t in &e.allowed_teams {
        super::TeamName::parse(t).map_err(|m| FieldError::new(at("allowed_teams"), m))?;
    }
    for (field, list) in
        [("allowed_namespaces", &e.allowed_namespaces), ("environments", &e.environments), ("not_environments", &e.not_environments)]
    {
        if let Some(bad) = list.iter().find(|n| !label(n)) {
            return Err(FieldError::new(at(field), format!("{:?} is not a name (1-63 lowercase letters, digits and '-')", short(bad))));
        }
    }
    if [&e.allowed_teams, &e.allowed_namespaces, &e.environments, &e.not_environments].iter().any(|l| l.len() > MAX_NAMES) {
        return Err(FieldError::new(at("allowed_teams"), format!("at most {MAX_NAMES} names a list")));
    }
    Ok(())
}

impl Register {
    /// Checks and normalises every entry (repositories as Docker resolves them); one repository once.
    pub fn parse(mut entries: Vec<VendorImage>) -> Result<Register, FieldError> {
        if entries.len() > MAX_ENTRIES {
            return Err(FieldError::new("entries", format!("at most {MAX_ENTRIES}, not {}", entries.len())));
        }
        for (i, e) in entries.iter_mut().enumerate() {
            check(i, e)?;
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = entries.iter().find(|e| !seen.insert(e.repository.clone())) {
            return Err(FieldError::new("repository", format!("{} is registered twice", dup.repository)));
        }
        Ok(Register(entries))
    }

    pub fn entries(&self) -> &[VendorImage] {
        &self.0
    }

    /// The entry an image reference falls under: its repository exactly, else the longest prefix.
    pub fn entry_of(&self, image: &str) -> Option<&VendorImage> {
        let repo = repository_of(image)?;
        self.0.iter().find(|e| e.repository == repo).or_else(|| {
            self.0.iter().filter(|e| e.repository.strip_suffix('*').is_some_and(|p| repo.starts_with(p))).max_by_key(|e| e.repository.len())
        })
    }
}

/// Why a container running `entry`'s image breaks it (None: it keeps to it). `team`: the
/// container's team when known (admission does not know it).
pub fn judge(entry: &VendorImage, team: Option<&str>, namespace: &str, environment: Option<&str>) -> Option<String> {
    let mut why = Vec::new();
    if let Some(t) = team.filter(|_| !entry.allowed_teams.is_empty()) {
        if !entry.allowed_teams.iter().any(|a| a == t) {
            why.push(format!("team {t} may not use it (allowed: {})", entry.allowed_teams.join(", ")));
        }
    }
    if !entry.allowed_namespaces.is_empty() && !entry.allowed_namespaces.iter().any(|n| n == namespace) {
        why.push(format!("namespace {namespace} may not run it (allowed: {})", entry.allowed_namespaces.join(", ")));
    }
    let env = environment.unwrap_or("no environment");
    if !entry.environments.is_empty() && !entry.environments.iter().any(|e| Some(e.as_str()) == environment) {
        why.push(format!("it must run only in {}, not {env}", entry.environments.join(", ")));
    }
    if let Some(e) = environment.filter(|e| entry.not_environments.iter().any(|n| n == e)) {
        why.push(format!("it must not run in {e}"));
    }
    (!why.is_empty()).then(|| format!("{} vendor image of {}: {}", entry.repository, entry.vendor, why.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(repo: &str) -> VendorImage {
        VendorImage {
            repository: repo.into(),
            vendor: "Acme".into(),
            owner_team: Some("platform".into()),
            owner_person: None,
            licence: String::new(),
            allowed_teams: vec![],
            allowed_namespaces: vec![],
            environments: vec![],
            not_environments: vec![],
        }
    }

    #[test]
    fn entries_are_normalised_and_matched_exactly_or_by_the_longest_prefix() {
        let r = Register::parse(vec![entry("nginx"), entry("quay.io/acme/*"), entry("quay.io/acme/gateway/*")]).unwrap();
        assert_eq!(r.entries()[0].repository, "docker.io/library/nginx");
        assert_eq!(r.entry_of("nginx:1.25").unwrap().repository, "docker.io/library/nginx");
        assert_eq!(
            r.entry_of("quay.io/acme/gateway/edge@sha256:0000000000000000000000000000000000000000000000000000000000000000")
                .unwrap()
                .repository,
            "quay.io/acme/gateway/*"
        );
        assert_eq!(r.entry_of("quay.io/acme/db:2").unwrap().repository, "quay.io/acme/*");
        assert!(r.entry_of("quay.io/other/db:2").is_none());
    }

    #[test]
    fn a_bad_entry_is_refused_naming_its_field() {
        let mut two_owners = entry("nginx");
        two_owners.owner_person = Some("a@b.c".into());
        let mut bad_ns = entry("nginx");
        bad_ns.allowed_namespaces = vec!["Shop".into()];
        for (e, field) in [(two_owners, "[0].owner_team"), (bad_ns, "[0].allowed_namespaces"), (entry("nginx:1.25"), "[0].repository")] {
            assert_eq!(Register::parse(vec![e]).unwrap_err().field, field);
        }
        assert_eq!(Register::parse(vec![entry("nginx"), entry("docker.io/library/nginx")]).unwrap_err().field, "repository");
    }

    #[test]
    fn a_container_is_judged_by_team_namespace_and_environment() {
        let mut e = entry("nginx");
        e.allowed_teams = vec!["payments".into()];
        e.environments = vec!["dmz".into()];
        assert_eq!(judge(&e, Some("payments"), "edge", Some("dmz")), None);
        let why = judge(&e, Some("storefront"), "edge", Some("prod")).unwrap();
        assert!(why.contains("team storefront may not use it") && why.contains("must run only in dmz, not prod"), "{why}");
        e.not_environments = vec!["prod".into()];
        e.environments = vec![];
        assert!(judge(&e, None, "edge", Some("prod")).unwrap().contains("must not run in prod"));
    }
}
