//! Trivy reports drawn from the real ones: every finding is one of the fixtures' vulnerability
//! entries (its package, installed and fixed versions, severity, texts), placed in a synthetic
//! image of one OS family with a language layer, as Trivy lists them.

use super::{Estate, Rng};
use serde_json::{json, Value};

/// One vulnerability entry of a fixture, with the result it was listed under.
struct Template {
    family: Family,
    class: &'static str,
    kind: String,
    severity: String,
    entry: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Alpine,
    Debian,
    RedHat,
    Ubuntu,
    /// A language package (npm, jar): any image may carry it.
    Language,
}

/// The OS families an image is built on, with a real release of each (as Trivy names them).
const BASES: [(Family, &str, &str); 4] = [
    (Family::Alpine, "alpine", "3.11.5"),
    (Family::Debian, "debian", "10.1"),
    (Family::RedHat, "centos", "7.6.1810"),
    (Family::Ubuntu, "ubuntu", "18.04"),
];

/// Every distinct vulnerability entry of the fixtures' Trivy reports.
pub struct Templates(Vec<Template>);

impl Templates {
    pub fn from_fixtures() -> Templates {
        let mut seen = std::collections::HashSet::new();
        let mut list = Vec::new();
        for (_, bytes) in crate::demo::REPORTS {
            let report: Value = serde_json::from_slice(bytes).expect("the fixtures are Trivy JSON");
            for result in report["Results"].as_array().into_iter().flatten() {
                let kind = result["Type"].as_str().unwrap_or_default().to_string();
                let family = match kind.as_str() {
                    "alpine" => Family::Alpine,
                    "debian" => Family::Debian,
                    "centos" | "amazon" | "rocky" | "redhat" => Family::RedHat,
                    "ubuntu" => Family::Ubuntu,
                    _ => Family::Language,
                };
                let class = if family == Family::Language { "lang-pkgs" } else { "os-pkgs" };
                for v in result["Vulnerabilities"].as_array().into_iter().flatten() {
                    let key = (v["VulnerabilityID"].clone(), v["PkgName"].clone(), v["InstalledVersion"].clone(), v["PkgPath"].clone());
                    if seen.insert(key.clone()) {
                        let severity = v["Severity"].as_str().unwrap_or("UNKNOWN").to_string();
                        list.push(Template { family, class, kind: kind.clone(), severity, entry: v.clone() });
                    }
                }
            }
        }
        Templates(list)
    }

    /// The most findings one image can list (its family's entries and every language entry).
    pub fn max_per_image(&self) -> usize {
        BASES.iter().map(|(f, _, _)| self.0.iter().filter(|t| t.family == *f || t.family == Family::Language).count()).min().unwrap_or(0)
    }

    /// Image `i`'s base and the templates its report lists, in the report's order.
    fn pick(&self, estate: &Estate, i: usize) -> ((Family, &'static str, &'static str), Vec<&Template>) {
        let mut r = Rng::derive(estate.seed, 5, i as u64);
        let base = BASES[r.below(BASES.len())];
        let mut pool: Vec<&Template> = self.0.iter().filter(|t| t.family == base.0 || t.family == Family::Language).collect();
        let n = estate.findings_of(i).min(pool.len());
        // A partial Fisher-Yates shuffle: n distinct entries.
        for k in 0..n {
            let j = k + r.below(pool.len() - k);
            pool.swap(k, j);
        }
        pool.truncate(n);
        pool.sort_by_key(|t| t.family == Family::Language);
        (base, pool)
    }

    /// The severities of image `i`'s findings (Trivy's words).
    pub fn severities<'a>(&'a self, estate: &Estate, i: usize) -> Vec<&'a str> {
        self.pick(estate, i).1.into_iter().map(|t| t.severity.as_str()).collect()
    }
}

/// Image `i`'s Trivy report (schema 2) as JSON bytes.
pub fn trivy(estate: &Estate, i: usize) -> Vec<u8> {
    let ((_, os_kind, os_version), picked) = estate.templates.pick(estate, i);
    let (repository, tag) = estate.repository_of(i);
    let digest = estate.digest_of(i);
    let mut r = Rng::derive(estate.seed, 6, i as u64);
    let reference = format!("{}/{repository}:{tag}", Estate::REGISTRY);
    let mut repo_digests = vec![format!("{}/{repository}@{digest}", Estate::REGISTRY)];
    if r.chance(10) {
        repo_digests.push(format!("{}/{repository}@{digest}", Estate::MIRROR));
    }
    let mut results: Vec<Value> = Vec::new();
    for t in picked {
        let target = if t.class == "os-pkgs" { format!("{reference} ({os_kind} {os_version})") } else { lang_target(&t.kind) };
        match results.iter_mut().find(|res| res["Target"] == target.as_str()) {
            Some(res) => res["Vulnerabilities"].as_array_mut().expect("built below").push(t.entry.clone()),
            None => results.push(json!({"Target": target, "Class": t.class, "Type": t.kind, "Vulnerabilities": [t.entry.clone()]})),
        }
    }
    let mut config = json!({"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]});
    if r.chance(70) {
        config["User"] = json!(if r.chance(80) { "1000" } else { "root" });
    }
    let report = json!({
        "SchemaVersion": 2,
        "CreatedAt": "2026-11-30T02:00:00Z",
        "ArtifactName": reference,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": os_kind, "Name": os_version},
            "ImageID": r.digest(),
            "DiffIDs": [r.digest(), r.digest()],
            "RepoTags": [reference],
            "RepoDigests": repo_digests,
            "ImageConfig": {"architecture": "amd64", "os": "linux", "created": "2026-10-01T12:00:00Z", "config": config},
        },
        "Results": results,
    });
    serde_json::to_vec(&report).expect("JSON values serialise")
}

fn lang_target(kind: &str) -> String {
    match kind {
        "node-pkg" => "Node.js".into(),
        "jar" => "Java".into(),
        other => other.to_string(),
    }
}

/// A report of exactly `findings` findings for a new image (`estate.preset.images + k`): the
/// Alpine base's entries once, then the language entries again and again, each round at its own
/// path (an application bundling its dependencies several times over, as npm trees do).
pub fn large(estate: &Estate, k: usize, findings: usize) -> Vec<u8> {
    let i = estate.preset.images + k;
    let t = &estate.templates.0;
    let os: Vec<&Template> = t.iter().filter(|t| t.family == Family::Alpine).collect();
    let lang: Vec<&Template> = t.iter().filter(|t| t.family == Family::Language).collect();
    let mut entries: Vec<Value> = os.iter().take(findings).map(|t| t.entry.clone()).collect();
    let mut round = 0;
    while entries.len() < findings && !lang.is_empty() {
        for (k, t) in lang.iter().enumerate() {
            if entries.len() == findings {
                break;
            }
            let mut e = t.entry.clone();
            let name = e["PkgName"].as_str().unwrap_or("pkg").to_string();
            e["PkgPath"] = json!(format!("srv/bundle-{round}/{k}/node_modules/{name}/package.json"));
            entries.push(e);
        }
        round += 1;
    }
    let (repository, tag) = estate.repository_of(i);
    let reference = format!("{}/{repository}:{tag}", Estate::REGISTRY);
    let split = entries.len().min(os.len());
    let lang_entries = entries.split_off(split);
    let report = json!({
        "SchemaVersion": 2,
        "ArtifactName": reference,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "alpine", "Name": "3.11.5"},
            "ImageID": Rng::derive(estate.seed, 10, i as u64).digest(),
            "RepoTags": [reference],
            "RepoDigests": [format!("{}/{repository}@{}", Estate::REGISTRY, estate.digest_of(i))],
        },
        "Results": [
            {"Target": format!("{reference} (alpine 3.11.5)"), "Class": "os-pkgs", "Type": "alpine", "Vulnerabilities": entries},
            {"Target": "Node.js", "Class": "lang-pkgs", "Type": "node-pkg", "Vulnerabilities": lang_entries},
        ],
    });
    serde_json::to_vec(&report).expect("JSON values serialise")
}
