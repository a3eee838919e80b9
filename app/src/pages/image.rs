//! `/images/:digest`: one image, its identities, its scans and its findings.

use super::components::{SeverityBadge, SeverityBar, SeverityCells, SeverityHeaders, TeamLink};
use super::layout::{LoadError, NotFound};
use crate::format::date;
use crate::server_fns::get_image;
use crate::types::{FindingRow, ImageSummary, ImageView, PackageRow, RunsIn, ScanSummary, SecretRow};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The image page.
#[component]
pub fn ImagePage() -> impl IntoView {
    let params = use_params_map();
    let digest = move || params.read().get("digest").unwrap_or_default();
    let data = Resource::new(digest, get_image);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(v)) => view! { <ImageBody v/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImageBody(v: ImageView) -> impl IntoView {
    let s = v.image.summary;
    let name = s.display_name();
    let open: Vec<FindingRow> = v.findings.iter().filter(|f| f.resolved_at.is_none()).cloned().collect();
    let resolved: Vec<FindingRow> = v.findings.into_iter().filter(|f| f.resolved_at.is_some()).collect();
    let packages = v.packages;
    let counts = s.findings;
    view! {
        <Title text=name.clone()/>
        <p class="breadcrumb"><a href="/images">"Images"</a> " / "</p>
        <h1 class="image-title">{name}</h1>
        <p><a href=format!("/forensics/image/{}", crate::format::path_segment(&s.digest)) id="forensics-link">"Forensics: who built, pushed, ran and touched it"</a></p>
        <ImageFacts s/>
        <h2>"Open findings"</h2>
        <SeverityBar counts/>
        <table class="data compact">
            <thead><tr><SeverityHeaders/></tr></thead>
            <tbody><tr><SeverityCells counts/></tr></tbody>
        </table>
        <FindingsTable findings=open/>
        <h2 id="secrets">"Secrets in its files"</h2>
        <SecretsTable secrets=v.secrets/>
        <h2>"Scans"</h2>
        <ScansTable scans=v.image.scans/>
        <h2>"Runs in"</h2>
        <RunsInTable runs=v.image.runs_in/>
        <h2>"Packages"</h2>
        <PackagesTable packages/>
        {(!resolved.is_empty()).then(|| view! {
            <h2>"Resolved findings"</h2>
            <p class="muted">"Findings a newer scan no longer reports; the time to fix is measured from these."</p>
            <ResolvedTable findings=resolved/>
        })}
    }
}

/// Secrets the newest Trivy report found: where and what kind, never the secret itself.
#[component]
fn SecretsTable(secrets: Vec<SecretRow>) -> impl IntoView {
    if secrets.is_empty() {
        return view! { <p class="muted">"No secret found (by the newest Trivy report; other scanners do not look)."</p> }.into_any();
    }
    view! {
        <p class="muted">"Where the scanner found each secret; Drydock never stores the secret itself. Rotate it, then rebuild without it."</p>
        <table class="data" id="image-secrets">
            <thead><tr><th scope="col">"File"</th><th scope="col">"Lines"</th><th scope="col">"What"</th><th scope="col">"Severity"</th><th scope="col">"Rule"</th></tr></thead>
            <tbody>
                {secrets.into_iter().map(|x| view! {
                    <tr>
                        <td class="small"><code>{x.file.clone()}</code></td>
                        <td class="num">{match (x.start_line, x.end_line) {
                            (Some(a), Some(b)) if a != b => format!("{a}–{b}"),
                            (Some(a), _) => a.to_string(),
                            _ => "—".into(),
                        }}</td>
                        <td>{x.title.clone()}<br/><span class="muted small">{x.category.clone()}</span></td>
                        <td><SeverityBadge severity=x.severity/></td>
                        <td><code>{x.rule.clone()}</code></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Which scanners reported vulnerabilities, and when last; else the scan state's label.
fn scan_state_text(s: &ImageSummary) -> String {
    match s.scan_state {
        crate::types::ScanState::Scanned => format!(
            "scanned by {}",
            s.scanners
                .iter()
                .filter(|x| x.vulnerability_data)
                .map(|x| format!("{} ({})", x.scanner, date(&x.last_report)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.label().to_string(),
    }
}

fn base_text(s: &ImageSummary) -> String {
    match (&s.base_name, &s.base_digest) {
        (Some(n), Some(d)) => format!("{n}@{d}"),
        (Some(n), None) => n.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => "not declared".into(),
    }
}

/// Who the image runs as, root named as such.
fn user_text(s: &ImageSummary) -> String {
    match s.user.as_deref() {
        None => "unknown (config not read)".to_string(),
        Some("") | Some("root") | Some("0") => "root (no USER set)".to_string(),
        Some(u) if u.starts_with("0:") || u.starts_with("root:") => format!("{u} (root)"),
        Some(u) => u.to_string(),
    }
}

fn promotion_text(s: &ImageSummary) -> String {
    match (&s.promotion.value, s.promotion.mode.as_str()) {
        (Some(v), "label") => format!("{v} (label)"),
        (Some(v), _) => format!("promoted: in {v}"),
        (None, "repository") => "not in a promoted repository".to_string(),
        (None, _) => "no promotion label".to_string(),
    }
}

fn signature_text(s: &ImageSummary) -> String {
    match s.signed {
        crate::types::SignatureState::Verified => format!("verified with {}", s.signature_detail.clone().unwrap_or_default()),
        crate::types::SignatureState::Present => format!("present, not verified: {}", s.signature_detail.clone().unwrap_or_default()),
        crate::types::SignatureState::None => "not signed".to_string(),
    }
}

/// What is known about the image: owner, digests, where it is, how it is built and signed.
#[component]
fn ImageFacts(s: ImageSummary) -> impl IntoView {
    let (platform, scan_state, signature) = (super::registries::platform_text(&s), scan_state_text(&s), signature_text(&s));
    let (promotion, user, base) = (promotion_text(&s), user_text(&s), base_text(&s));
    let labels: Vec<(String, String)> = s.labels.clone().into_iter().collect();
    view! {
        <dl class="facts">
            <dt>"Owner"</dt>
            <dd><TeamLink team=s.team.clone()/></dd>
            <dt>"Operating system"</dt>
            <dd>{s.os.clone().unwrap_or_else(|| "unknown".into())}</dd>
            <dt>"Digests"</dt>
            <dd>
                <ul class="plain">
                    {s.aliases.iter().map(|a| view! {
                        <li><code class="digest">{a.digest.clone()}</code> " " <span class="label">{a.kind.as_str()}</span></li>
                    }).collect_view()}
                </ul>
            </dd>
            <dt>"Repositories"</dt>
            <dd>
                {if s.repositories.is_empty() {
                    view! { <span class="muted">"not seen in any repository"</span> }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {s.repositories.iter().map(|r| view! {
                                <li><code>{r.repository.clone()}</code> " "
                                    {r.tags.iter().map(|t| view! { <span class="label">{t.clone()}</span> " " }).collect_view()}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </dd>
            <dt>"First seen"</dt>
            <dd>{date(&s.first_seen)}</dd>
            <dt>"Platform"</dt>
            <dd>{platform}</dd>
            <dt>"Scan state"</dt>
            <dd id="scan-state">{scan_state}</dd>
            <dt>"Signature"</dt>
            <dd id="signature">{signature}</dd>
            <dt>"Promotion"</dt>
            <dd>{promotion}</dd>
            <dt>"Runs as"</dt>
            <dd>{user}</dd>
            <dt>"Base image"</dt>
            <dd><code>{base}</code></dd>
            <dt>"Labels"</dt>
            <dd>
                {if labels.is_empty() {
                    view! { <span class="muted">"none known"</span> }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {labels.into_iter().map(|(k, v)| view! { <li><code>{k}</code> " = " <code>{v}</code></li> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </dd>
        </dl>
    }
}

#[component]
fn ScansTable(scans: Vec<ScanSummary>) -> impl IntoView {
    view! {
        <table class="data" id="scans">
            <thead>
                <tr>
                    <th scope="col">"Scanner"</th>
                    <th scope="col">"Artifact"</th>
                    <th scope="col">"Scanned"</th>
                    <th scope="col">"Received"</th>
                    <SeverityHeaders/>
                </tr>
            </thead>
            <tbody>
                {scans.into_iter().map(|sc| view! {
                    <tr>
                        <td>{sc.scanner}</td>
                        <td><code>{sc.artifact}</code></td>
                        <td>{date(&sc.scanned_at)}</td>
                        <td>{date(&sc.received_at)}</td>
                        <SeverityCells counts=sc.findings/>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Where the image is seen running.
#[component]
fn RunsInTable(runs: Vec<RunsIn>) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="muted" id="runs-in">"Not seen running in any cluster."</p> }.into_any();
    }
    view! {
        <table class="data" id="runs-in">
            <thead><tr><th scope="col">"Cluster"</th><th scope="col">"Namespace"</th><th scope="col">"Workload"</th>
                <th scope="col">"Container"</th><th scope="col">"State"</th><th scope="col">"Pods"</th></tr></thead>
            <tbody>
                {runs.into_iter().map(|r| view! {
                    <tr><td>{r.cluster}</td><td>{r.namespace}</td><td>{r.workload.unwrap_or_else(|| "—".into())}</td>
                        <td>{r.container}</td><td>{r.state}</td><td class="num">{r.pods}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The open findings with a filter: plain GET form without JavaScript, live once hydrated.
#[component]
fn FindingsTable(findings: Vec<FindingRow>) -> impl IntoView {
    let query = use_query_map();
    let filter = RwSignal::new(query.read_untracked().get("q").unwrap_or_default());
    let fixable = RwSignal::new(query.read_untracked().get("fixable").is_some_and(|v| v == "1"));
    let total = findings.len();
    let findings = StoredValue::new(findings);
    let rows = move || {
        let f = filter.get().trim().to_lowercase();
        let only_fixable = fixable.get();
        findings.with_value(|all| {
            all.iter()
                .filter(|r| !only_fixable || r.fixed.is_some())
                .filter(|r| f.is_empty() || r.vulnerability.to_lowercase().contains(&f) || r.package.to_lowercase().contains(&f))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <form method="get" class="filter" role="search">
            <label for="finding-filter">"Filter by vulnerability or package"</label>
            <input
                id="finding-filter"
                name="q"
                type="search"
                autocomplete="off"
                prop:value=filter
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
            <label class="check">
                <input
                    type="checkbox"
                    name="fixable"
                    value="1"
                    prop:checked=fixable
                    on:change=move |ev| fixable.set(event_target_checked(&ev))
                />
                " only with a fix"
            </label>
            <button type="submit" class="button-secondary">"Filter"</button>
        </form>
        <p class="muted" id="finding-count">
            {move || format!("Showing {} of {} open findings", rows().len(), total)}
        </p>
        <table class="data" id="findings">
            <thead>
                <tr>
                    <th scope="col">"Vulnerability"</th>
                    <th scope="col">"Package"</th>
                    <th scope="col">"Installed"</th>
                    <th scope="col">"Fixed in"</th>
                    <th scope="col">"Severity"</th>
                    <th scope="col">"Path"</th>
                </tr>
            </thead>
            <tbody>
                {move || rows().into_iter().map(|f| view! { <FindingTr f/> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn FindingTr(f: FindingRow) -> impl IntoView {
    let vuln = match f.url.clone() {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => view! {
            <a href=u rel="noopener noreferrer" target="_blank">{f.vulnerability.clone()}</a>
        }
        .into_any(),
        _ => view! { <span>{f.vulnerability.clone()}</span> }.into_any(),
    };
    view! {
        <tr>
            <td>{vuln}<br/><span class="muted small">{f.title.clone().unwrap_or_default()}</span></td>
            <td><code>{f.package.clone()}</code></td>
            <td><code>{f.installed.clone()}</code></td>
            <td>{match f.fixed.clone() {
                Some(v) => view! { <code class="fixed">{v}</code> }.into_any(),
                None => view! { <span class="muted">"no fix yet"</span> }.into_any(),
            }}</td>
            <td><SeverityBadge severity=f.severity/></td>
            <td class="small">{f.package_path.clone()}</td>
        </tr>
    }
}

#[component]
fn ResolvedTable(findings: Vec<FindingRow>) -> impl IntoView {
    view! {
        <table class="data" id="resolved">
            <thead>
                <tr>
                    <th scope="col">"Vulnerability"</th>
                    <th scope="col">"Package"</th>
                    <th scope="col">"Severity"</th>
                    <th scope="col">"First seen"</th>
                    <th scope="col">"Resolved"</th>
                </tr>
            </thead>
            <tbody>
                {findings.into_iter().map(|f| view! {
                    <tr>
                        <td>{f.vulnerability}</td>
                        <td><code>{f.package}</code> " " <code>{f.installed}</code></td>
                        <td><SeverityBadge severity=f.severity/></td>
                        <td>{date(&f.first_seen)}</td>
                        <td>{f.resolved_at.as_ref().map(date)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The package inventory with a search: plain GET form without JavaScript, live once hydrated.
#[component]
fn PackagesTable(packages: Vec<PackageRow>) -> impl IntoView {
    let query = use_query_map();
    let filter = RwSignal::new(query.read_untracked().get("pkg").unwrap_or_default());
    let total = packages.len();
    let packages = StoredValue::new(packages);
    let rows = move || {
        let f = filter.get().trim().to_lowercase();
        packages.with_value(|all| {
            all.iter()
                .filter(|p| f.is_empty() || p.name.to_lowercase().contains(&f) || p.version.to_lowercase().contains(&f))
                .take(500)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <form method="get" class="filter" role="search">
            <label for="package-filter">"Search packages"</label>
            <input id="package-filter" name="pkg" type="search" autocomplete="off"
                prop:value=filter on:input=move |ev| filter.set(event_target_value(&ev))/>
            <button type="submit" class="button-secondary">"Search"</button>
        </form>
        <p class="muted" id="package-count">
            {move || {
                let n = rows().len();
                if total == 0 { "No package inventory: no scanner or SBOM has listed this image's packages.".to_string() }
                else if n == 500 { format!("Showing the first 500 matches of {total} packages") }
                else { format!("Showing {n} of {total} packages") }
            }}
        </p>
        <table class="data" id="packages">
            <thead><tr>
                <th scope="col">"Package"</th><th scope="col">"Version"</th><th scope="col">"Type"</th><th scope="col">"Path"</th>
            </tr></thead>
            <tbody>
                {move || rows().into_iter().map(|p| view! {
                    <tr><td><code>{p.name}</code></td><td><code>{p.version}</code></td><td>{p.pkg_type}</td><td class="small">{p.path}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
