//! A synthetic estate at a chosen size, for benchmarks and scale tests: deterministic (one seed,
//! the same bytes every time), shaped like the real reports in `server/fixtures/` (their
//! vulnerabilities, packages, severities and fixes are the templates every finding is drawn
//! from), with realistic team, repository and namespace names; some images are pushed to two
//! registries, some run in several clusters. It produces what a real estate sends — Trivy JSON
//! reports and `kubectl get pods -A -o json` pod lists — so loading it goes through the same
//! parsing and storing as any upload.

mod names;
mod pods;
mod reports;

pub use pods::PodListSummary;

/// How big an estate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub teams: usize,
    pub images: usize,
    /// Running containers, over every cluster.
    pub containers: usize,
    pub clusters: usize,
    /// Findings over every image's report (exactly).
    pub findings: usize,
}

impl Preset {
    /// CI's size: 20 teams, 1,000 images, 5,000 containers, 100,000 findings.
    pub const SMALL: Preset = Preset { name: "small", teams: 20, images: 1_000, containers: 5_000, clusters: 4, findings: 100_000 };
    /// The comparison size: 40 teams, 4,000 images, about 105,000 findings.
    pub const MEDIUM: Preset = Preset { name: "medium", teams: 40, images: 4_000, containers: 20_000, clusters: 8, findings: 105_000 };
    /// An enterprise: 200 teams, 20,000 images, 100,000 containers in 20 clusters, 2,000,000 findings.
    pub const ENTERPRISE: Preset =
        Preset { name: "enterprise", teams: 200, images: 20_000, containers: 100_000, clusters: 20, findings: 2_000_000 };

    pub fn by_name(name: &str) -> Result<Preset, String> {
        [Self::SMALL, Self::MEDIUM, Self::ENTERPRISE]
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("unknown preset {name:?}: small, medium or enterprise"))
    }

    /// A smaller estate of the same shape (tests).
    pub fn tiny(images: usize, findings: usize, containers: usize) -> Preset {
        Preset { name: "tiny", teams: 4, images, containers, clusters: 2, findings }
    }
}

/// A deterministic generator (SplitMix64: the same sequence on every platform and version).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for one purpose and index, independent of the order things are generated in.
    pub fn derive(seed: u64, purpose: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.0 ^= r.next_u64().wrapping_add(index);
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 11) as u128 * n as u128) >> 53) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A sha256-shaped digest (64 hex digits).
    pub fn digest(&mut self) -> String {
        format!("sha256:{:016x}{:016x}{:016x}{:016x}", self.next_u64(), self.next_u64(), self.next_u64(), self.next_u64())
    }
}

/// What an estate holds, counted while it is generated (tests count again from the output).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub images: usize,
    pub findings: usize,
    /// Findings by Trivy's severity word (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN).
    pub by_severity: std::collections::BTreeMap<String, usize>,
    pub containers: usize,
    pub pods: usize,
}

/// The estate a preset and a seed describe; reports and pod lists are made on demand, one at a
/// time, so an enterprise estate never sits in memory whole.
pub struct Estate {
    pub preset: Preset,
    pub seed: u64,
    pub teams: Vec<String>,
    templates: reports::Templates,
}

impl Estate {
    pub fn new(preset: Preset, seed: u64) -> Estate {
        Estate { preset, seed, teams: names::teams(preset.teams), templates: reports::Templates::from_fixtures() }
    }

    /// The registry host every image is pushed to, and the mirror some are also pushed to.
    pub const REGISTRY: &'static str = "registry.corp.example";
    pub const MIRROR: &'static str = "mirror.corp.example";

    /// Image `i`'s team, its repository's (teams differ in size: a few large, many small).
    pub fn team_of(&self, i: usize) -> &str {
        let mut r = Rng::derive(self.seed, 1, (i / names::VERSIONS_PER_REPOSITORY) as u64);
        let u = (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        &self.teams[((u * u) * self.teams.len() as f64) as usize % self.teams.len()]
    }

    /// How many findings image `i`'s report lists: between half and one and a half times the
    /// mean, in pairs that sum to twice the mean, so the estate holds exactly `findings`.
    pub fn findings_of(&self, i: usize) -> usize {
        let (n, total) = (self.preset.images, self.preset.findings);
        let mean = total / n;
        let extra = usize::from(i < total % n);
        let pair = i / 2;
        let jitter = if 2 * pair + 1 < n { Rng::derive(self.seed, 2, pair as u64).below(mean / 2 + 1) } else { 0 };
        let base = mean + extra;
        let count = if i.is_multiple_of(2) { base + jitter } else { base - jitter };
        count.min(self.templates.max_per_image())
    }

    /// Image `i`'s Trivy report, as the scanner would write it.
    pub fn report(&self, i: usize) -> Vec<u8> {
        reports::trivy(self, i)
    }

    /// A report of exactly `findings` findings for the `k`-th image beyond the estate (uploads
    /// of a chosen size).
    pub fn large_report(&self, k: usize, findings: usize) -> Vec<u8> {
        reports::large(self, k, findings)
    }

    /// Cluster `c`'s pod list (`kubectl get pods -A -o json`) and what it holds.
    pub fn pod_list(&self, c: usize) -> (String, Vec<u8>, PodListSummary) {
        pods::pod_list(self, c)
    }

    /// Cluster `c`'s name.
    pub fn cluster_name(&self, c: usize) -> String {
        names::cluster(c)
    }

    /// Image `i`'s repository (without the registry host) and tag.
    pub fn repository_of(&self, i: usize) -> (String, String) {
        names::repository(self, i)
    }

    /// Image `i`'s manifest digest.
    pub fn digest_of(&self, i: usize) -> String {
        Rng::derive(self.seed, 3, i as u64).digest()
    }

    /// Everything the estate holds, counted by generating it.
    pub fn expected(&self) -> Expected {
        let mut e = Expected { images: self.preset.images, ..Default::default() };
        for i in 0..self.preset.images {
            for sev in self.templates.severities(self, i) {
                *e.by_severity.entry(sev.to_string()).or_default() += 1;
                e.findings += 1;
            }
        }
        for c in 0..self.preset.clusters {
            let s = pods::plan(self, c);
            e.pods += s.pods;
            e.containers += s.containers;
        }
        e
    }
}

#[cfg(test)]
mod tests;
