//! Names as an enterprise has them: teams by business domain and area, repositories by service,
//! clusters by environment and region.

use super::{Estate, Rng};

const DOMAINS: [&str; 40] = [
    "payments",
    "checkout",
    "identity",
    "search",
    "catalog",
    "pricing",
    "ledger",
    "billing",
    "fraud",
    "risk",
    "claims",
    "lending",
    "cards",
    "treasury",
    "trading",
    "markets",
    "onboarding",
    "kyc",
    "notifications",
    "messaging",
    "logistics",
    "fulfilment",
    "inventory",
    "orders",
    "loyalty",
    "marketing",
    "analytics",
    "reporting",
    "datalake",
    "ml-platform",
    "observability",
    "platform",
    "networking",
    "storage",
    "security",
    "iam",
    "mobile",
    "web",
    "partners",
    "support",
];
const AREAS: [&str; 5] = ["core", "api", "web", "data", "ops"];
const SERVICES: [&str; 24] = [
    "api",
    "gateway",
    "worker",
    "scheduler",
    "frontend",
    "backend",
    "consumer",
    "producer",
    "indexer",
    "exporter",
    "batch",
    "migrator",
    "auth",
    "cache",
    "proxy",
    "reporter",
    "sync",
    "webhook",
    "admin",
    "search",
    "stream",
    "ingest",
    "notifier",
    "renderer",
];
const ENVIRONMENTS: [&str; 4] = ["prod", "prod", "staging", "dev"];
const REGIONS: [&str; 5] = ["eu-west", "eu-central", "us-east", "us-west", "ap-south"];

/// `n` distinct team names (`payments-core`, `payments-api`, …).
pub fn teams(n: usize) -> Vec<String> {
    (0..n)
        .map(|t| {
            let (d, a) = (t % DOMAINS.len(), t / DOMAINS.len());
            match a {
                0 => DOMAINS[d].to_string(),
                a if a <= AREAS.len() => format!("{}-{}", DOMAINS[d], AREAS[a - 1]),
                a => format!("{}-{}", DOMAINS[d], a),
            }
        })
        .collect()
}

/// Cluster `c`: environment, region and number (`prod-eu-west-01`, `staging-us-east-03`, …).
pub fn cluster(c: usize) -> String {
    format!("{}-{}-{:02}", ENVIRONMENTS[c % ENVIRONMENTS.len()], REGIONS[c % REGIONS.len()], c + 1)
}

/// Whether cluster `c` runs production.
pub fn is_production(c: usize) -> bool {
    ENVIRONMENTS[c % ENVIRONMENTS.len()] == "prod"
}

/// How many images (versions) each repository holds on average.
pub const VERSIONS_PER_REPOSITORY: usize = 5;

/// Image `i`'s repository under the registry (`TEAM/SERVICE`) and its tag: images come in runs of
/// versions of one service; the service's name is unique in the estate.
pub fn repository(estate: &Estate, i: usize) -> (String, String) {
    let repo = i / VERSIONS_PER_REPOSITORY;
    let first = repo * VERSIONS_PER_REPOSITORY;
    let team = estate.team_of(i);
    let service = SERVICES[Rng::derive(estate.seed, 4, repo as u64).below(SERVICES.len())];
    let version = i - first;
    (format!("{team}/{service}-{repo}"), format!("1.{}.{}", repo % 7, version))
}
