//! `drydock ingest …`: reports and Kubernetes files, into the database or to a running server.

use super::*;
use crate::domain::ClusterName;
use crate::ingest;

/// Where a Kubernetes file goes.
enum KubeTarget<'a> {
    Db(&'a crate::service::Service),
    Server { client: &'a reqwest::Client, base: &'a str, token: &'a str },
}

/// `--cluster`, parsed once here (the service and the store take the parsed name).
fn cluster_arg(name: &str) -> anyhow::Result<ClusterName> {
    ClusterName::parse(name).map_err(|e| anyhow::anyhow!("--cluster: {e}"))
}

/// Sends a pod or node list for `cluster`; one summary line.
async fn ingest_kubernetes(
    target: &KubeTarget<'_>,
    cluster: &ClusterName,
    file: &std::path::Path,
    bytes: &[u8],
    v: &serde_json::Value,
) -> anyhow::Result<String> {
    let upload = crate::k8s::parse_value(v).map_err(anyhow::Error::msg)?;
    match (target, upload) {
        (KubeTarget::Db(service), crate::k8s::Upload::Pods(p)) => {
            let (pods, containers, ended, _) = service.upload_pods(Some(&crate::auth::Principal::cli()), cluster, &p).await?;
            Ok(format!("{}: cluster {cluster}: {pods} pods, {containers} containers recorded, {ended} pods ended", file.display()))
        }
        (KubeTarget::Db(service), crate::k8s::Upload::Nodes(n)) => {
            let n = service.upload_nodes(Some(&crate::auth::Principal::cli()), cluster, &n).await?;
            Ok(format!("{}: cluster {cluster}: {n} nodes recorded", file.display()))
        }
        (KubeTarget::Server { client, base, token }, upload) => {
            let what = if matches!(upload, crate::k8s::Upload::Pods(_)) { "pods" } else { "nodes" };
            let url = format!("{base}/api/v1/clusters/{cluster}/{what}");
            let (_, body) = post(client, &url, token, bytes.to_vec(), file).await?;
            Ok(format!("{}: cluster {cluster}: {body}", file.display()))
        }
    }
}

/// One line per file on stdout.
fn describe(file: &std::path::Path, status: &str, s: &app::types::IngestSummary) -> String {
    let f = &s.findings;
    format!(
        "{}: {status} {} ({}), {} findings: critical {}, high {}, medium {}, low {}, negligible {}, unknown {}",
        file.display(),
        s.image.as_deref().unwrap_or("no image digest (unmatched)"),
        s.artifact,
        f.total(),
        f.critical,
        f.high,
        f.medium,
        f.low,
        f.negligible,
        f.unknown
    )
}

/// Where the files go: this database (through the service), or a running Drydock's API.
enum Target {
    Db(crate::service::Service),
    Server { client: reqwest::Client, url: String, token: String },
}

fn target_ref(t: &Target) -> KubeTarget<'_> {
    match t {
        Target::Db(s) => KubeTarget::Db(s),
        Target::Server { client, url, token } => KubeTarget::Server { client, base: url.trim_end_matches("/api/v1/scans"), token },
    }
}

pub(super) async fn ingest_files(cli_config: Option<&PathBuf>, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let bar = indicatif::ProgressBar::new(args.files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let target = match &args.server {
        Some(server) => Target::Server {
            client: reqwest::Client::new(),
            url: format!("{}/api/v1/scans", server.trim_end_matches('/')),
            token: args.token.clone().context("--server needs --token")?,
        },
        None => {
            let config = load_config(cli_config, &args.db)?;
            let store = open_store(&config).await?;
            Target::Db(service(&config, store)?)
        }
    };
    let mut failed = 0;
    for file in &args.files {
        bar.set_message(file.display().to_string());
        match ingest_one(&target, args.cluster.as_deref(), file).await {
            Ok(line) => bar.suspend(|| println!("{line}")),
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {}: {e:#}", file.display()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if failed > 0 {
        eprintln!("{failed} of {} files failed", args.files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends one file where it belongs (audit log, pod or node list, scanner report); one line.
async fn ingest_one(target: &Target, cluster: Option<&str>, file: &std::path::Path) -> anyhow::Result<String> {
    let bytes = tokio::fs::read(file).await.with_context(|| format!("cannot read {}", file.display()))?;
    // Kubernetes audit logs (JSON lines or an EventList).
    if crate::k8s::audit::looks_like_audit(&bytes) {
        let cluster = cluster_arg(cluster.unwrap_or("default"))?;
        return ingest_audit(target, &cluster, file, bytes).await;
    }
    // Kubernetes pod and node lists go to the cluster named by --cluster.
    let kube = serde_json::from_slice::<serde_json::Value>(&bytes).ok().filter(crate::k8s::is_kubernetes);
    if let Some(v) = kube {
        let cluster = cluster.context("this is a Kubernetes pod or node list: name its cluster with --cluster NAME")?;
        return ingest_kubernetes(&target_ref(target), &cluster_arg(cluster)?, file, &bytes, &v).await;
    }
    match target {
        Target::Db(service) => {
            let report = ingest::parse(&bytes, None)?;
            let outcome = service.ingest_report(Some(&crate::auth::Principal::cli()), &report, &sha256_hex(&bytes)).await?;
            Ok(match &outcome {
                IngestOutcome::Created(s) => describe(file, "stored", s),
                IngestOutcome::Duplicate(s) => describe(file, "already stored", s),
            })
        }
        Target::Server { client, url, token } => {
            let (status, body) = post(client, url, token, bytes, file).await?;
            let s: app::types::IngestSummary = serde_json::from_value(body)
                .map_err(|e| anyhow::anyhow!("{}: the server's answer is not a report summary: {e}", file.display()))?;
            Ok(describe(file, if status.as_u16() == 201 { "stored" } else { "already stored" }, &s))
        }
    }
}

/// A Kubernetes audit log for `cluster`.
async fn ingest_audit(target: &Target, cluster: &ClusterName, file: &std::path::Path, bytes: Vec<u8>) -> anyhow::Result<String> {
    let facts = crate::k8s::audit::parse(&bytes).map_err(anyhow::Error::msg)?;
    match target {
        Target::Db(service) => {
            let new = service.record_audit(Some(&crate::auth::Principal::cli()), cluster, &facts).await?;
            Ok(format!("{}: cluster {cluster}: {} audit events, {new} new", file.display(), facts.len()))
        }
        Target::Server { client, url, token } => {
            let url = format!("{}/api/v1/audit/k8s?cluster={cluster}", url.trim_end_matches("/api/v1/scans"));
            let (_, body) = post(client, &url, token, bytes, file).await?;
            Ok(format!("{}: cluster {cluster}: {body}", file.display()))
        }
    }
}

/// Attempts at one upload while the server answers 503 (its database not answering).
const ATTEMPTS: u32 = 5;

/// Posts `bytes` to a running Drydock; a refusal is an error naming the file and the server's
/// reason. A 503 is tried again after the server's `Retry-After` (1 to 60 s), up to `ATTEMPTS`
/// times, each retry said on standard error.
async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    bytes: Vec<u8>,
    file: &std::path::Path,
) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
    let bytes = bytes::Bytes::from(bytes);
    let mut attempt = 1;
    loop {
        let resp = client.post(url).bearer_auth(token).body(bytes.clone()).send().await?;
        let status = resp.status();
        let wait = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
        let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        let reason = body["error"].as_str().unwrap_or("no error message");
        if status == reqwest::StatusCode::SERVICE_UNAVAILABLE && attempt < ATTEMPTS {
            let wait = wait.unwrap_or(5).clamp(1, 60);
            eprintln!("{}: HTTP {status}: {reason}; trying again in {wait} s (attempt {} of {ATTEMPTS})", file.display(), attempt + 1);
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            attempt += 1;
            continue;
        }
        if !status.is_success() {
            bail!("{}: HTTP {status}: {reason}", file.display());
        }
        return Ok((status, body));
    }
}
