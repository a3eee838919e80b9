//! The demo estate: real Trivy reports shipped in `server/fixtures/trivy/` (sources in
//! `server/fixtures/SOURCES.md`), a few teams and ownership rules, and tags placing the images in
//! a demo registry. The reports are real scanner output; only the placement is invented, because
//! the upstream fixtures were scanned from tarballs that name no repository.

use crate::domain::ownership::RuleSpec;
use crate::ingest;
use crate::store::capabilities::*;
use crate::store::{sha256_hex, Actor, Store};
use anyhow::Context as _;
use app::types::RuleKind;

/// (file name, report bytes).
pub const REPORTS: [(&str, &[u8]); 10] = [
    ("juice-shop-v10.2.0.json", include_bytes!("../fixtures/trivy/juice-shop-v10.2.0.json")),
    ("alpine-310.json", include_bytes!("../fixtures/trivy/alpine-310.json")),
    ("amazon-2.json", include_bytes!("../fixtures/trivy/amazon-2.json")),
    ("centos-7.json", include_bytes!("../fixtures/trivy/centos-7.json")),
    ("debian-buster.json", include_bytes!("../fixtures/trivy/debian-buster.json")),
    ("defectdojo-scheme_2_many_vulns.json", include_bytes!("../fixtures/trivy/defectdojo-scheme_2_many_vulns.json")),
    ("distroless-base.json", include_bytes!("../fixtures/trivy/distroless-base.json")),
    ("rockylinux-8.json", include_bytes!("../fixtures/trivy/rockylinux-8.json")),
    ("spring4shell-jre11.json", include_bytes!("../fixtures/trivy/spring4shell-jre11.json")),
    ("ubuntu-1804.json", include_bytes!("../fixtures/trivy/ubuntu-1804.json")),
];

/// (team, display name, repository prefix).
const TEAMS: [(&str, &str, &str); 4] = [
    ("storefront", "Storefront", "docker.io/bkimminich"),
    ("payments", "Payments", "registry.demo.internal/payments"),
    ("platform", "Platform", "registry.demo.internal/platform"),
    ("data", "Data & Analytics", "registry.demo.internal/data"),
];

/// (report file, where the demo registry holds that image). `rockylinux-8` stays in no
/// repository (an unowned image); the DefectDojo report names no digest (an unmatched report).
const PLACEMENTS: [(&str, &str); 7] = [
    ("alpine-310.json", "registry.demo.internal/platform/base-alpine:3.10"),
    ("amazon-2.json", "registry.demo.internal/platform/build-agent:2"),
    ("debian-buster.json", "registry.demo.internal/payments/ledger-api:2.4.1"),
    ("distroless-base.json", "registry.demo.internal/payments/checkout:1.9.0"),
    ("spring4shell-jre11.json", "registry.demo.internal/payments/fraud-scoring:0.3.2"),
    ("centos-7.json", "registry.demo.internal/data/etl-runner:7.6"),
    ("ubuntu-1804.json", "registry.demo.internal/data/notebook:18.04"),
];

/// Loads the demo estate when the database is empty; does nothing otherwise.
/// Real cluster output (server/fixtures/k8s-pods, SOURCES.md there), by demo cluster.
const PODS: [(&str, &str, &[u8]); 4] = [
    ("minikube", "nri-k8s-1.35-kubelet-pods.json", include_bytes!("../fixtures/k8s-pods/nri-k8s-1.35-kubelet-pods.json")),
    ("staging", "troubleshoot-crashloop-podlist.json", include_bytes!("../fixtures/k8s-pods/troubleshoot-crashloop-podlist.json")),
    (
        "staging-b",
        "troubleshoot-imagepull-fail-podlist.json",
        include_bytes!("../fixtures/k8s-pods/troubleshoot-imagepull-fail-podlist.json"),
    ),
    ("batch", "troubleshoot-oomkill-podlist.json", include_bytes!("../fixtures/k8s-pods/troubleshoot-oomkill-podlist.json")),
];

/// Real Kubernetes audit logs (server/fixtures/k8s-audit).
const AUDIT: [(&str, &[u8]); 2] = [
    ("audit2rbac-demo.log.jsonl", include_bytes!("../fixtures/k8s-audit/audit2rbac-demo.log.jsonl")),
    (
        "falco-create_configmap_sensitive_values.jsonl",
        include_bytes!("../fixtures/k8s-audit/falco-create_configmap_sensitive_values.jsonl"),
    ),
];

pub async fn load_if_empty(store: &Store, promotion: &crate::registry::Promotion) -> anyhow::Result<bool> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    let actor = Actor("demo".into());
    let now = chrono::Utc::now();
    load_teams_and_reports(store, &actor, now).await?;
    load_runtime(store, &actor, now).await?;
    // The CISA KEV catalogue as security would upload it (server/fixtures/kev, CC0).
    let kev: &[u8] = include_bytes!("../fixtures/kev/known_exploited_vulnerabilities.json");
    let catalog = crate::domain::kev::KevCatalog::parse(kev).map_err(anyhow::Error::msg).context("demo KEV catalogue")?;
    store.replace_kev(&catalog, &sha256_hex(kev), &actor, now).await?;
    // Judge the estate now, and give the trend charts a history: 30 days of snapshots, marked
    // as reconstructed (the scores of earlier days are today's with a few failures more, fewer
    // each day: a synthetic improvement, so the charts have something to draw).
    crate::policy::run(store, promotion, now).await?;
    crate::policy::record_snapshot(store, now.date_naive(), &actor, now).await?;
    store.backfill_demo_snapshots(now.date_naive(), 30).await?;
    start_campaigns(store, now).await?;
    tracing::info!(
        "demo estate loaded: {} reports, {} teams, {} pod lists, {} audit logs",
        REPORTS.len(),
        TEAMS.len(),
        PODS.len(),
        AUDIT.len()
    );
    Ok(true)
}

/// The teams with their ownership rules, the real scanner reports, and where some are tagged.
async fn load_teams_and_reports(store: &Store, actor: &Actor, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    for (name, display, prefix) in TEAMS {
        let rule = RuleSpec::parse(RuleKind::RepositoryPrefix, prefix, name)?;
        store.upsert_team(rule.team(), display, actor, now).await?;
        store.add_ownership_rule(&rule, actor, now).await?;
    }
    for (file, bytes) in REPORTS {
        let report = ingest::parse(bytes, None).with_context(|| format!("demo report {file}"))?;
        let outcome = store.ingest_report(&report, &sha256_hex(bytes), actor, now).await?;
        if let Some((_, reference)) = PLACEMENTS.iter().find(|(f, _)| *f == file) {
            let digest = outcome.summary().image.clone().with_context(|| format!("demo report {file} names no image"))?;
            let r = crate::domain::ImageRef::parse(reference).map_err(anyhow::Error::msg)?;
            store.place_tag(&r, &digest, actor, now).await?;
        }
    }
    Ok(())
}

/// A demo cluster's name (the constants below are valid; parsed like any other).
fn cluster(name: &str) -> anyhow::Result<crate::domain::ClusterName> {
    crate::domain::ClusterName::parse(name).map_err(anyhow::Error::msg)
}

/// What runs: a real minikube node's kubelet /pods, three real API server pod lists, real
/// audit logs, the synthetic cluster, and the environments of their namespaces.
async fn load_runtime(store: &Store, actor: &Actor, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    for (name, file, bytes) in PODS {
        match crate::k8s::parse(bytes).map_err(anyhow::Error::msg).with_context(|| format!("demo pods {file}"))? {
            crate::k8s::Upload::Pods(p) => store.store_pods(&cluster(name)?, &p, actor, now).await.map(|_| ())?,
            crate::k8s::Upload::Nodes(n) => store.store_nodes(&cluster(name)?, &n, actor, now).await.map(|_| ())?,
        }
    }
    // Real Kubernetes audit logs (facts only: the ConfigMap secrets in one of them are not kept).
    for (file, bytes) in AUDIT {
        let facts = crate::k8s::audit::parse(bytes).map_err(anyhow::Error::msg).with_context(|| format!("demo audit {file}"))?;
        store.record_k8s_audit(&cluster("minikube")?, &facts, actor, now).await?;
    }
    // A clearly synthetic cluster (`demo-synthetic`): pods written here, not recorded from a real
    // cluster, running some of the demo's scanned images by digest, so running versus
    // registry-only and the container policies have something to show.
    let mut digests = std::collections::BTreeMap::new();
    for (file, bytes) in REPORTS {
        if let Some(d) = ingest::parse(bytes, None).ok().and_then(|r| r.image).and_then(|i| i.primary().map(|d| d.to_string())) {
            digests.insert(file, d);
        }
    }
    let synthetic = synthetic_pods(&digests);
    if let crate::k8s::Upload::Pods(p) =
        crate::k8s::parse(synthetic.to_string().as_bytes()).map_err(anyhow::Error::msg).context("demo synthetic pods")?
    {
        store.store_pods(&cluster("demo-synthetic")?, &p, actor, now).await?;
    }
    for (cluster, namespace, environment, production) in [
        ("demo-synthetic", "*-prod", "production", true),
        ("demo-synthetic", "*-staging", "staging", false),
        ("minikube", "*", "lab", false),
    ] {
        let rule = crate::store::EnvironmentRule {
            id: 0,
            cluster: cluster.into(),
            namespace: namespace.into(),
            environment: environment.into(),
            production,
            internet_facing: production,
            created_at: now,
            created_by: actor.0.clone(),
        };
        store.add_environment_rule(&rule, actor, now).await?;
    }
    Ok(())
}

/// Patch campaigns as security would start them: Spring4Shell (it runs in payments-prod) due in
/// five days, Debian's old OpenSSL by version range (deadlines from the SLA), and two late ones.
async fn start_campaigns(store: &Store, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    let security = Actor("demo:security".into());
    let ladder = crate::domain::campaign::Ladder::default_ladder();
    let spring = crate::domain::campaign::Selector::parse(&["CVE-2022-22965".into()], None, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let all = crate::domain::policy::Scope::All;
    let due = Some((now + chrono::Duration::days(5)).date_naive());
    crate::campaigns::create(store, "Spring4Shell (CVE-2022-22965)", &spring, &all, due, &ladder, &security, now).await?;
    let openssl = crate::domain::campaign::Selector::parse(&[], Some("pkg:deb/debian/openssl"), Some("vers:deb/<1.1.1n-0+deb10u1"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::campaigns::create(store, "OpenSSL older than 1.1.1n on Debian", &openssl, &all, None, &ladder, &security, now).await?;
    late_campaigns(store, &security, now).await
}

/// Two campaigns started weeks ago whose deadlines have passed, so the homes show late work as
/// an estate has it: libidn2 in payments (acknowledged, the fix planned for tomorrow) and
/// jsonwebtoken in the storefront (nobody has answered).
async fn late_campaigns(store: &Store, security: &Actor, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    let ladder = crate::domain::campaign::Ladder::default_ladder();
    let all = crate::domain::policy::Scope::All;
    let days = chrono::Duration::days;
    let cve = |id: &str| crate::domain::campaign::Selector::parse(&[id.into()], None, None).map_err(|e| anyhow::anyhow!("{e}"));
    let started = now - days(20);
    let (libidn2, _) = crate::campaigns::create(
        store,
        "libidn2 punycode overflow (CVE-2019-18224)",
        &cve("CVE-2019-18224")?,
        &all,
        Some((now - days(2)).date_naive()),
        &ladder,
        security,
        started,
    )
    .await?;
    let developer = Actor("demo:developer".into());
    for item in store.campaign_items(&[libidn2], None).await? {
        let planned = (now + days(1)).date_naive();
        store.acknowledge_item(libidn2, item.id, planned, "rebuild on the patched distroless base", &developer, now - days(3)).await?;
    }
    let jwt = cve("CVE-2015-9235")?;
    let due = Some((now - days(9)).date_naive());
    crate::campaigns::create(store, "jsonwebtoken signature bypass (CVE-2015-9235)", &jwt, &all, due, &ladder, security, now - days(30))
        .await?;
    Ok(())
}

/// A PodList for the synthetic demo cluster: (namespace, workload, report file, replicas, uid).
fn synthetic_pods(digests: &std::collections::BTreeMap<&str, String>) -> serde_json::Value {
    const PODS: [(&str, &str, &str, usize, Option<i64>); 6] = [
        ("storefront-prod", "juice-shop", "juice-shop-v10.2.0.json", 3, Some(1000)),
        ("payments-prod", "checkout", "distroless-base.json", 2, Some(65532)),
        ("payments-prod", "fraud-scoring", "spring4shell-jre11.json", 2, None),
        ("payments-staging", "ledger-api", "debian-buster.json", 1, Some(0)),
        ("data-prod", "etl-runner", "centos-7.json", 1, None),
        ("platform-prod", "build-agent", "amazon-2.json", 1, Some(1001)),
    ];
    let mut items = Vec::new();
    for (ns, app, file, replicas, uid) in PODS {
        let Some(digest) = digests.get(&file) else { continue };
        let image = format!("registry.demo.internal/{}/{app}@{digest}", ns.split('-').next().unwrap_or(ns));
        for i in 0..replicas {
            let mut ctx = serde_json::json!({});
            if let Some(u) = uid {
                ctx["runAsUser"] = u.into();
            }
            items.push(serde_json::json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{app}-7d9f8-{i}"), "namespace": ns, "uid": format!("demo-synthetic-{ns}-{app}-{i}"),
                             "labels": {"app": app, "drydock.demo/synthetic": "true"},
                             "ownerReferences": [{"kind": "ReplicaSet", "name": format!("{app}-7d9f8"), "controller": true}]},
                "spec": {"nodeName": "synthetic-node-1", "containers": [{"name": app, "image": image, "securityContext": ctx}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": app, "image": image, "imageID": format!("docker-pullable://{image}"),
                           "ready": true, "state": {"running": {"startedAt": "2026-11-01T00:00:00Z"}}}]}
            }));
        }
    }
    serde_json::json!({"apiVersion": "v1", "kind": "PodList", "items": items})
}
