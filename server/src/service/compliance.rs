//! Compliance: the KEV catalogue security uploads, and the estate search by vulnerability or
//! by package and version range.

use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::domain::kev::KevCatalog;
use crate::domain::purl::PackageCoordinates;
use crate::domain::version::{Scheme, VersionRange};
use crate::store::capabilities::*;
use crate::store::{Actor, KevUploadRecord, MatchedImages, SearchFilter, SearchImageRecord, SearchMatchRecord};
use app::types::{KevCatalogInfo, RunningWorkload, SearchItem, SearchMatch, SearchQuery, SearchResult, Severity};
use std::collections::{BTreeMap, BTreeSet, HashMap};

impl From<KevUploadRecord> for KevCatalogInfo {
    fn from(r: KevUploadRecord) -> Self {
        KevCatalogInfo {
            version: r.version,
            released: r.released,
            entries: r.entries,
            sha256: r.sha256,
            uploaded_at: r.uploaded_at,
            uploaded_by: r.uploaded_by,
        }
    }
}

/// What to look for, checked.
enum Question {
    Vulnerability(String),
    Package(PackageCoordinates, Option<VersionRange>),
}

/// The versioning scheme a package type's versions follow, if Drydock orders them.
fn scheme_of(ptype: &str) -> Option<Scheme> {
    Scheme::parse(ptype)
}

fn question(q: &SearchQuery) -> Result<Question> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    match (text(&q.cve), text(&q.package), text(&q.range)) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            Err(Error::invalid("cve", "ask by vulnerability (cve) or by package and range (package, range), not both"))
        }
        (Some(id), None, None) => {
            if id.len() > 128 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::invalid("cve", format!("{id:?} is not a vulnerability id")));
            }
            Ok(Question::Vulnerability(id))
        }
        (None, Some(p), range) => {
            let c = PackageCoordinates::parse(&p).map_err(|e| Error::invalid("package", e))?;
            let range = match range {
                None => None,
                Some(r) => {
                    let r = VersionRange::parse(&r).map_err(|e| Error::invalid("range", e))?;
                    if scheme_of(c.ptype()) != Some(r.scheme()) {
                        return Err(Error::invalid(
                            "range",
                            format!("{r} does not order {} packages (their versions are not in that scheme)", c.ptype()),
                        ));
                    }
                    Some(r)
                }
            };
            Ok(Question::Package(c, range))
        }
        (None, None, Some(_)) => {
            Err(Error::invalid("package", "a range needs the package it applies to (package=pkg:type/namespace/name)"))
        }
        (None, None, None) => Err(Error::invalid("cve", "ask by cve=ID, or by package=PURL and range=VERS")),
    }
}

impl Service {
    /// Replaces the KEV catalogue with an upload of CISA's JSON (security, admin).
    #[tracing::instrument(skip_all)]
    pub async fn upload_kev(&self, who: Option<&Principal>, body: &[u8]) -> Result<KevCatalogInfo> {
        let p = require(who, Action::ManagePolicies, None)?;
        let catalog = KevCatalog::parse(body).map_err(Error::from)?;
        let sha = crate::domain::sha256_hex(body);
        Ok(self.store.replace_kev(&catalog, &sha, &Actor(p.actor.clone()), self.clock.now()).await?.into())
    }

    /// Every open finding matching the question, grouped by image: items of the images the caller
    /// may see (their workloads likewise), the four totals estate-wide.
    #[tracing::instrument(skip(self, who))]
    pub async fn search(&self, who: Option<&Principal>, q: &SearchQuery) -> Result<SearchResult> {
        let p = require(who, Action::ReadEstate, None)?;
        let limit = q.limit.unwrap_or(500);
        if !(1..=5000).contains(&limit) {
            return Err(Error::invalid("limit", "between 1 and 5000"));
        }
        let offset = q.offset.unwrap_or(0).max(0);
        let filter = match question(q)? {
            Question::Vulnerability(id) => SearchFilter::Vulnerability(id),
            Question::Package(coordinates, range) => {
                // Each installed version is checked against the range once, however many images hold it.
                let versions = match range {
                    Some(r) => Some(self.store.package_versions(&coordinates).await?.into_iter().filter(|v| r.contains(v)).collect()),
                    None => None,
                };
                SearchFilter::Package { coordinates, versions }
            }
        };
        // Counted and ordered over every matching image; the matches and workloads are read
        // for the page only.
        let found = self.store.search_images(&filter).await?;
        let instances: i64 = found.images.iter().map(|i| i.instances).sum();
        let ids: Vec<i64> = found.images.iter().map(|i| i.image_row).collect();
        let runs = self.store.running_teams(&ids).await?;
        let running_images = runs.iter().map(|(id, _)| *id).collect::<BTreeSet<i64>>().len() as i64;
        let registry_only_images = ids.len() as i64 - running_images;
        let visible = |team: Option<&str>| p.can(Action::ReadTeamDetails, team);
        let runs_visibly: BTreeSet<i64> = runs.iter().filter(|(_, t)| visible(t.as_deref())).map(|(id, _)| *id).collect();
        // Running images first, then the most instances (every path counted), then by digest.
        let mut order: Vec<(bool, std::cmp::Reverse<i64>, &str, i64)> = found
            .images
            .iter()
            .filter(|i| visible(i.team.as_deref()))
            .map(|i| (!runs_visibly.contains(&i.image_row), std::cmp::Reverse(i.instances), i.digest.as_str(), i.image_row))
            .collect();
        order.sort();
        let total = order.len() as i64;
        let page: Vec<i64> = order.into_iter().skip(offset as usize).take(limit as usize).map(|(_, _, _, id)| id).collect();
        let images: HashMap<i64, &SearchImageRecord> = found.images.iter().map(|i| (i.image_row, i)).collect();
        let mut by_image: HashMap<i64, Vec<SearchMatchRecord>> = HashMap::new();
        for m in self.store.search_matches(&filter, &page).await? {
            by_image.entry(m.image_row).or_default().push(m);
        }
        let facts = self.store.matched_images(&page, None).await?;
        let mut items = Vec::with_capacity(page.len());
        for id in page {
            let matches = by_image.remove(&id).unwrap_or_default();
            items.push(search_item(images[&id], matches, &facts, &visible));
        }
        let unique_vulnerabilities = found.unique_vulnerabilities;
        Ok(SearchResult { items, total, unique_vulnerabilities, instances, running_images, registry_only_images })
    }
}

/// One affected image as the search lists it: its repositories, the workloads the caller may
/// list running it (containers counted per workload), and its matches.
fn search_item(
    image: &SearchImageRecord,
    matches: Vec<SearchMatchRecord>,
    facts: &MatchedImages,
    visible: &dyn Fn(Option<&str>) -> bool,
) -> SearchItem {
    let id = image.image_row;
    let mut running: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for (_, w) in facts.running.iter().filter(|(m, w)| *m == id && visible(w.team.as_deref())) {
        let workload = w.workload.clone().unwrap_or_else(|| format!("Pod/{}", w.pod));
        *running.entry((w.cluster.clone(), w.namespace.clone(), workload)).or_insert(0) += 1;
    }
    SearchItem {
        image: image.digest.clone(),
        team: image.team.clone(),
        repositories: facts.repositories.get(&id).cloned().unwrap_or_default(),
        running: running
            .into_iter()
            .map(|((cluster, namespace, workload), containers)| RunningWorkload { cluster, namespace, workload, containers })
            .collect(),
        matches: grouped_matches(matches),
    }
}

/// What makes two matches of an image the same (every field of `SearchMatch` but `locations`).
type MatchKey = (String, String, String, Option<String>, bool, Option<u64>, Severity);

/// An image's matches, each (vulnerability, package, version) once with the number of places in
/// the image holding it, in the order they were first listed: a library bundled by several
/// applications is found at each of their paths, and listing it once per path said the same
/// thing again and again (a third of the answer's bytes at `enterprise`, BENCHMARKS.md).
fn grouped_matches(matches: Vec<SearchMatchRecord>) -> Vec<SearchMatch> {
    let mut out: Vec<SearchMatch> = Vec::new();
    let mut seen: HashMap<MatchKey, usize> = HashMap::new();
    for m in matches {
        let one = SearchMatch {
            package: PackageCoordinates::new(&m.purl_type, &m.purl_namespace, &m.purl_name).to_string(),
            vulnerability: m.vulnerability,
            installed: m.installed,
            fixed: m.fixed,
            kev: m.kev,
            epss: m.epss,
            severity: m.severity,
            locations: 1,
        };
        let key = (
            one.vulnerability.clone(),
            one.package.clone(),
            one.installed.clone(),
            one.fixed.clone(),
            one.kev,
            one.epss.map(f64::to_bits),
            one.severity,
        );
        match seen.get(&key) {
            Some(&i) => out[i].locations += 1,
            None => {
                seen.insert(key, out.len());
                out.push(one);
            }
        }
    }
    out
}
