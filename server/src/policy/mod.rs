//! The policy engine: judges every subject (platform images, live containers, nodes) by every
//! enabled policy in scope, from the store's evaluation inputs, and sums the results per team and
//! policy. `run` reads the inputs (the images' findings a thousand images at a time), judges with
//! the pure verdicts of `verdicts.rs` and stores the answer; pages read the stored results.
//!
//! **Score** of a team for a policy: the share of its judged subjects that pass, 0–100 (no judged
//! subject: no score). A team's **overall score** is the mean of its policy scores. **Grade**: A
//! from 90, B from 80, C from 70, D from 60, F below.

use crate::domain::policy::{Policy, Rule, SubjectKind};
use crate::domain::purl::PackageCoordinates;
use crate::registry::{glob, Promotion};
use crate::store::capabilities::*;
use crate::store::{
    EnvironmentRule, EvaluationInputs, ImageFacts, PackagesWanted, PolicyImage, PolicyResultRecord, PolicyScoreRecord, RunFact,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

mod verdicts;
pub use verdicts::overdue_cutoffs;
use verdicts::{image_verdict, node_verdict, non_root, promoted, Deny, Verdict};

/// The policies in force: the saved settings, the defaults for the rest (a stored policy that no
/// longer parses keeps its defaults, with a warning).
pub fn in_force(saved: &[crate::store::PolicyRecord]) -> Vec<Policy> {
    Policy::defaults()
        .into_iter()
        .map(|d| match saved.iter().find(|s| s.id == d.id) {
            None => d,
            Some(s) => {
                let params: serde_json::Value = serde_json::from_str(&s.params).unwrap_or(serde_json::Value::Null);
                Policy::build(&s.id, s.enabled, &s.scope, &params).unwrap_or_else(|e| {
                    tracing::warn!(policy = %s.id, error = %e, "a saved policy does not parse; its defaults apply");
                    d
                })
            }
        })
        .collect()
}

/// The policies in force as a snapshot records them: id, switch, scope and parameters.
pub fn in_force_record(saved: &[crate::store::PolicyRecord]) -> Vec<crate::domain::snapshot::PolicyInForce> {
    in_force(saved)
        .into_iter()
        .map(|p| crate::domain::snapshot::PolicyInForce {
            id: p.id.to_string(),
            enabled: p.enabled,
            scope: p.scope.as_string(),
            params: p.params_json(),
        })
        .collect()
}

/// Records `day`'s snapshot of the stored scores, with its content hashed into the ledger.
pub async fn record_snapshot(
    store: &impl PolicyStore,
    day: chrono::NaiveDate,
    actor: &crate::store::Actor,
    now: DateTime<Utc>,
) -> Result<u64, crate::store::StoreError> {
    let policies = in_force_record(&store.policies().await?);
    store.take_snapshot(day, &policies, actor, now).await
}

/// Images judged at a time: their findings and packages are what an evaluation holds in memory.
pub const EVALUATION_CHUNK: usize = 1000;

/// One complete evaluation: reads the inputs, judges the images a chunk at a time (reading only
/// the facts the enabled policies look at), then the containers and nodes; stores results and
/// scores in one transaction (only what changed); answers (results, failing).
pub async fn run(
    store: &(impl PolicyStore + RegistryStore + VendorStore),
    promotion: &Promotion,
    now: DateTime<Utc>,
) -> Result<(usize, usize), crate::store::StoreError> {
    let started = std::time::Instant::now();
    let policies = in_force(&store.policies().await?);
    let inputs = store.evaluation_inputs().await?;
    let hosts = crate::registry::approved_hosts(store).await?;
    let vendor = vendor_register(store).await?;
    let cx = Context { approved_hosts: &hosts, promotion, vendor: &vendor, now };
    let read = started.elapsed();
    let enabled = || policies.iter().filter(|p| p.enabled);
    let overdue = enabled().find_map(|p| match &p.rule {
        Rule::VulnerabilitySla(s) => Some(overdue_cutoffs(s, now)),
        _ => None,
    });
    let packages = packages_wanted(enabled());
    let mut judged = Judged { results: Vec::new() };
    for chunk in inputs.images.chunks(EVALUATION_CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|i| i.id).collect();
        let facts = store.evaluation_facts(&ids, overdue.as_ref(), &packages).await?;
        judge_image_chunk(&policies, chunk, &facts, &cx, &mut judged);
    }
    judge_runs_and_nodes(&policies, &inputs, &cx, &mut judged);
    let scores = scores(&judged.results, now);
    let judged_at = started.elapsed();
    let (written, deleted) = store.replace_policy_results(&judged.results, &scores, now).await?;
    let failing = judged.results.iter().filter(|r| !r.passed).count();
    tracing::info!(
        images = inputs.images.len(),
        containers = inputs.runs.len(),
        results = judged.results.len(),
        failing,
        written,
        deleted,
        inputs_ms = read.as_millis() as u64,
        judged_ms = (judged_at - read).as_millis() as u64,
        stored_ms = (started.elapsed() - judged_at).as_millis() as u64,
        "policies evaluated"
    );
    Ok((judged.results.len(), failing))
}

/// The packages the enabled denylists can name: those matching their entries' name patterns
/// (every package when a name cannot be a pattern; none without an entry).
fn packages_wanted<'a>(enabled: impl Iterator<Item = &'a Policy>) -> PackagesWanted {
    let names: Vec<Option<String>> = enabled
        .filter_map(|p| match &p.rule {
            Rule::Denylist(d) => Some(d.entries.iter().map(|(_, c, _)| c.name_like_pattern())),
            _ => None,
        })
        .flatten()
        .collect();
    match names.into_iter().collect::<Option<std::collections::BTreeSet<String>>>() {
        None => PackagesWanted::All,
        Some(patterns) if patterns.is_empty() => PackagesWanted::None,
        Some(patterns) => PackagesWanted::Matching(patterns.into_iter().collect()),
    }
}

/// How scores and grades are computed, as pages and the API state it.
pub const FORMULA: &str = "A policy's score is the share of the team's judged subjects that pass it (0-100); the team's score is the mean of its policy scores; grades: A from 90, B from 80, C from 70, D from 60, F below.";

/// A policy score from its counts (none when nothing is judged).
pub fn score(subjects: i64, failing: i64) -> Option<f64> {
    (subjects > 0).then(|| 100.0 * (subjects - failing) as f64 / subjects as f64)
}

/// The mean of the policy scores that exist.
pub fn overall(counts: impl IntoIterator<Item = (i64, i64)>) -> Option<f64> {
    let scores: Vec<f64> = counts.into_iter().filter_map(|(s, f)| score(s, f)).collect();
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}

/// The grade of a score.
pub fn grade(score: f64) -> &'static str {
    match score {
        s if s >= 90.0 => "A",
        s if s >= 80.0 => "B",
        s if s >= 70.0 => "C",
        s if s >= 60.0 => "D",
        _ => "F",
    }
}

/// The environment of a container: the first rule whose cluster (`*`: any) and namespace pattern
/// match, more specific clusters first.
pub fn environment_of<'a>(rules: &'a [EnvironmentRule], cluster: &str, namespace: &str) -> Option<&'a EnvironmentRule> {
    rules
        .iter()
        .filter(|r| r.cluster == cluster && glob(&r.namespace, namespace))
        .chain(rules.iter().filter(|r| r.cluster == "*" && glob(&r.namespace, namespace)))
        .next()
}

fn container_key(w: &RunFact) -> String {
    format!("{}/{}/{}/{}", w.cluster, w.namespace, w.pod, w.container)
}

/// What the evaluation needs besides the store's inputs.
pub struct Context<'a> {
    /// Hosts of approved registries, as image references name them.
    pub approved_hosts: &'a [String],
    pub promotion: &'a Promotion,
    /// The vendor image register.
    pub vendor: &'a crate::domain::vendor::Register,
    pub now: DateTime<Utc>,
}

/// The vendor image register as saved (the empty one when never saved; a saved one that no longer
/// reads is logged and judged as empty rather than stopping every evaluation).
pub async fn vendor_register(store: &impl VendorStore) -> Result<crate::domain::vendor::Register, crate::store::StoreError> {
    Ok(read_vendor_register(store.vendor_register().await?.as_deref()))
}

/// The register from its stored text (none stored: empty; text that does not hold: empty, logged).
pub fn read_vendor_register(text: Option<&str>) -> crate::domain::vendor::Register {
    let Some(text) = text else { return Default::default() };
    let entries: Vec<app::types::VendorImage> = serde_json::from_str(text).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the stored vendor register does not read");
        Vec::new()
    });
    crate::domain::vendor::Register::parse(entries).unwrap_or_else(|e| {
        tracing::error!(field = %e.field, error = %e.message, "the stored vendor register does not hold");
        Default::default()
    })
}

/// Judges `images` by every enabled image policy, from their findings and packages in `facts`.
fn judge_image_chunk(policies: &[Policy], images: &[PolicyImage], facts: &ImageFacts, cx: &Context<'_>, judged: &mut Judged) {
    let mut vulns: HashMap<i64, Vec<&crate::store::OpenVulnRecord>> = HashMap::new();
    for v in &facts.vulns {
        vulns.entry(v.image_id).or_default().push(v);
    }
    let mut packages: HashMap<i64, Vec<(PackageCoordinates, &str)>> = HashMap::new();
    for p in &facts.packages {
        let c = PackageCoordinates::for_package(p.purl.as_deref(), &p.pkg_type, p.os_family.as_deref(), &p.name);
        packages.entry(p.image_id).or_default().push((c, p.version.as_str()));
    }
    let chunk = ChunkFacts { vulns, packages };
    for policy in policies.iter().filter(|p| p.enabled && p.subject_kind() == SubjectKind::Image) {
        judge_images(policy, images, &chunk, cx, judged);
    }
}

/// Judges the live containers and the nodes by every enabled policy about them.
fn judge_runs_and_nodes(policies: &[Policy], inputs: &EvaluationInputs, cx: &Context<'_>, judged: &mut Judged) {
    let by_id: HashMap<i64, &PolicyImage> = inputs.images.iter().map(|i| (i.id, i)).collect();
    for policy in policies.iter().filter(|p| p.enabled) {
        match policy.subject_kind() {
            SubjectKind::Image => {}
            SubjectKind::Container => judge_containers(policy, inputs, &by_id, cx, judged),
            SubjectKind::Node => judge_nodes(policy, inputs, judged),
        }
    }
}

/// One chunk's open findings and packages, by image.
struct ChunkFacts<'a> {
    vulns: HashMap<i64, Vec<&'a crate::store::OpenVulnRecord>>,
    packages: HashMap<i64, Vec<(PackageCoordinates, &'a str)>>,
}

/// The results so far.
struct Judged {
    results: Vec<PolicyResultRecord>,
}

impl Judged {
    fn push(&mut self, policy: &Policy, kind: SubjectKind, subject: String, team: Option<String>, environment: Option<String>, v: Verdict) {
        let (passed, reason, since) = match v {
            Verdict::Pass(r) => (true, r, None),
            // A rule that knows when the failure began says so; else the first evaluation that
            // saw it failing (the store keeps it).
            Verdict::Fail(r, since) => (false, r, since),
        };
        self.results.push(PolicyResultRecord {
            policy: policy.id.to_string(),
            subject_kind: kind.as_str().to_string(),
            subject,
            team,
            environment,
            passed,
            reason,
            failing_since: since,
        });
    }
}

fn judge_images(policy: &Policy, images: &[PolicyImage], facts: &ChunkFacts<'_>, cx: &Context<'_>, judged: &mut Judged) {
    // Denylist entries were parsed when the policy was built.
    let deny: &[Deny] = match &policy.rule {
        Rule::Denylist(d) => &d.entries,
        _ => &[],
    };
    for img in images.iter().filter(|i| policy.scope.covers(i.row.team.as_deref(), None, None)) {
        let vulns = facts.vulns.get(&img.id).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(v) = image_verdict(&policy.rule, img, vulns, facts.packages.get(&img.id), deny, cx) {
            judged.push(policy, SubjectKind::Image, img.row.digest.clone(), img.row.team.clone(), None, v);
        }
    }
}

fn judge_containers(policy: &Policy, inputs: &EvaluationInputs, by_id: &HashMap<i64, &PolicyImage>, cx: &Context<'_>, judged: &mut Judged) {
    for w in &inputs.runs {
        let env = environment_of(&inputs.environments, &w.cluster, &w.namespace);
        if !policy.scope.covers(w.team.as_deref(), Some(&w.namespace), env.map(|e| e.environment.as_str())) {
            continue;
        }
        let v = match &policy.rule {
            Rule::NonRoot => Some(non_root(w)),
            Rule::VendorImages => cx.vendor.entry_of(&w.image).map(|e| {
                match crate::domain::vendor::judge(e, w.team.as_deref(), &w.namespace, env.map(|e| e.environment.as_str())) {
                    Some(why) => Verdict::Fail(why, None),
                    None => Verdict::Pass(format!("{} vendor image of {}, used where registered", e.repository, e.vendor)),
                }
            }),
            Rule::PromotedBeforeProduction => match env {
                Some(e) if e.production => Some(promoted(w, w.image_row.and_then(|id| by_id.get(&id).copied()), cx)),
                _ => None,
            },
            _ => None,
        };
        if let Some(v) = v {
            judged.push(policy, SubjectKind::Container, container_key(w), w.team.clone(), env.map(|e| e.environment.clone()), v);
        }
    }
}

fn judge_nodes(policy: &Policy, inputs: &EvaluationInputs, judged: &mut Judged) {
    let Rule::NodeVersions(p) = &policy.rule else { return };
    if !policy.scope.covers(None, None, None) {
        return;
    }
    for (cluster, n) in &inputs.nodes {
        judged.push(policy, SubjectKind::Node, format!("{cluster}/{}", n.name), None, None, node_verdict(p, n));
    }
}

fn scores(results: &[PolicyResultRecord], now: DateTime<Utc>) -> Vec<PolicyScoreRecord> {
    let mut by: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for r in results {
        let e = by.entry((r.team.clone().unwrap_or_default(), r.policy.clone())).or_insert((0, 0));
        e.0 += 1;
        e.1 += i64::from(!r.passed);
    }
    by.into_iter()
        .map(|((team, policy), (subjects, failing))| PolicyScoreRecord { team, policy, subjects, failing, evaluated_at: now })
        .collect()
}
