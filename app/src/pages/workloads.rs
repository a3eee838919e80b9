//! What runs: `/clusters` (nodes and versions), `/workloads` (every container, filterable and
//! sortable through the URL, so it works without JavaScript) and `/unaccounted`.

use super::components::TeamLink;
use super::layout::LoadError;
use crate::format::{date, query_value, short_digest};
use crate::server_fns::{get_clusters, get_deployment, get_unaccounted, get_workloads};
use crate::types::{WorkloadQuery, WorkloadRow};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const PAGE: i64 = 100;

fn or_dash(s: Option<String>) -> String {
    s.unwrap_or_else(|| "—".into())
}

/// The Clusters page.
#[component]
pub fn ClustersPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_clusters());
    let who = Resource::new(|| (), |_| get_deployment());
    view! {
        <Title text="Clusters"/>
        <h1>"Clusters"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = who.await.map(|d| d.may_configure).unwrap_or(false);
                view! {
                {match data.await {
                    Ok(list) if list.is_empty() => view! {
                        <p>"No cluster has reported yet. Upload " <code>"kubectl get pods -A -o json"</code> " to "
                           <code>"POST /api/v1/clusters/NAME/pods"</code> " (or " <code>"drydock ingest --cluster NAME FILE"</code> ")."</p>
                    }.into_any(),
                    Ok(list) => list.into_iter().map(|c| {
                        let kind = if c.upload_only { "upload-only (no API server configured)".to_string() } else { format!("API server {}", c.server.clone().unwrap_or_default()) };
                        let href = format!("/workloads?cluster={}", query_value(&c.name));
                        view! {
                            <section class="card">
                                <h2>{c.name.clone()}</h2>
                                <dl class="facts">
                                    <dt>"Source"</dt><dd>{kind}</dd>
                                    <dt>"Last collection"</dt><dd>{c.last_success.as_ref().map(date).unwrap_or_else(|| "never".into())}</dd>
                                    <dt>"Last upload"</dt><dd>{c.last_upload.as_ref().map(date).unwrap_or_else(|| "never".into())}</dd>
                                    <dt>"Running now"</dt><dd><a href=href>{format!("{} pods, {} containers", c.pods, c.containers)}</a></dd>
                                </dl>
                                {c.last_error.map(|e| view! { <p class="error">"Last error: " {e}</p> })}
                                <table class="data">
                                    <caption>"Nodes"</caption>
                                    <thead><tr><th scope="col">"Node"</th><th scope="col">"Kubelet"</th><th scope="col">"Runtime"</th>
                                        <th scope="col">"OS image"</th><th scope="col">"Kernel"</th><th scope="col">"Arch"</th><th scope="col">"Last seen"</th></tr></thead>
                                    <tbody>
                                        {if c.nodes.is_empty() {
                                            view! { <tr><td colspan="7" class="muted">"No node list received (POST /api/v1/clusters/NAME/nodes)."</td></tr> }.into_any()
                                        } else {
                                            c.nodes.into_iter().map(|n| view! {
                                                <tr><th scope="row">{n.name}</th><td>{or_dash(n.kubelet_version)}</td><td>{or_dash(n.container_runtime)}</td>
                                                    <td>{or_dash(n.os_image)}</td><td>{or_dash(n.kernel)}</td><td>{or_dash(n.architecture)}</td>
                                                    <td>{date(&n.last_seen)}</td></tr>
                                            }).collect_view().into_any()
                                        }}
                                    </tbody>
                                </table>
                            </section>
                        }
                    }).collect_view().into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }}
                {admin.then(cluster_form)}
                }
            })}
        </Suspense>
    }
}

/// The admin's form to configure a cluster's API server (works without JavaScript).
fn cluster_form() -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Add a cluster"</h2>
            <form method="post" action="/admin/clusters" class="stacked" id="add-cluster">
                <label for="cl-name">"Name"</label>
                <input id="cl-name" name="name" required/>
                <label for="cl-server">"API server URL"</label>
                <input id="cl-server" name="server" type="url" required placeholder="https://10.0.0.1:6443"/>
                <label for="cl-token">"Environment variable holding the bearer token (the token is never stored)"</label>
                <input id="cl-token" name="token_env" required pattern="[A-Za-z0-9_]+"/>
                <label for="cl-ca">"CA certificates (PEM, optional)"</label>
                <textarea id="cl-ca" name="ca_pem" rows="3"></textarea>
                <button type="submit">"Add cluster"</button>
            </form>
        </section>
    }
}

/// Sorts rows by a column name from the URL (`sort=state`, `sort=-image` for descending).
fn sort_rows(rows: &mut [WorkloadRow], sort: &str) {
    let (desc, key) = match sort.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, sort),
    };
    let pick = |r: &WorkloadRow| -> String {
        match key {
            "state" => r.state.clone(),
            "image" => r.image.clone(),
            "team" => r.team.clone().unwrap_or_default(),
            "pod" => r.pod.clone(),
            "workload" => r.workload.clone().unwrap_or_default(),
            _ => format!("{}/{}", r.namespace, r.workload.clone().unwrap_or_default()),
        }
    };
    rows.sort_by_key(|r| pick(r));
    if desc {
        rows.reverse();
    }
}

/// The Workloads page.
#[component]
pub fn WorkloadsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || {
        let m = query.read();
        WorkloadQuery {
            cluster: m.get("cluster").unwrap_or_default(),
            namespace: m.get("namespace").unwrap_or_default(),
            team: m.get("team").unwrap_or_default(),
            state: m.get("state").unwrap_or_default(),
            limit: PAGE,
            offset: m.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0),
        }
    };
    let sort = move || query.read().get("sort").unwrap_or_default();
    let data = Resource::new(q, get_workloads);
    view! {
        <Title text="Workloads"/>
        <h1>"Workloads"</h1>
        <p class="muted">"Every container of every pod that runs now, with the image it runs by digest."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let current = q();
                let sort_by = sort();
                match data.await {
                    Ok(page) => {
                        let mut rows = page.items;
                        sort_rows(&mut rows, &sort_by);
                        let link = move |key: &str| {
                            let next = if sort_by == key { format!("-{key}") } else { key.to_string() };
                            format!("/workloads?cluster={}&namespace={}&team={}&state={}&sort={next}",
                                query_value(&current.cluster), query_value(&current.namespace), query_value(&current.team), query_value(&current.state))
                        };
                        view! {
                            <WorkloadFilterForm q=q()/>
                            <p class="muted" id="workload-count">{format!("{} containers", page.total)}</p>
                            <table class="data" id="workloads">
                                <thead><tr>
                                    <th scope="col"><a href=link("namespace")>"Namespace / workload"</a></th>
                                    <th scope="col"><a href=link("pod")>"Pod"</a></th>
                                    <th scope="col">"Container"</th>
                                    <th scope="col"><a href=link("image")>"Image"</a></th>
                                    <th scope="col"><a href=link("team")>"Team"</a></th>
                                    <th scope="col"><a href=link("state")>"State"</a></th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| view! { <WorkloadLine r/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The filters, as a plain GET form (works without JavaScript).
#[component]
fn WorkloadFilterForm(q: WorkloadQuery) -> impl IntoView {
    view! {
        <form method="get" class="filter" role="search">
            <label for="wl-cluster">"Cluster"</label>
            <input id="wl-cluster" name="cluster" value=q.cluster.clone()/>
            <label for="wl-namespace">"Namespace"</label>
            <input id="wl-namespace" name="namespace" value=q.namespace.clone()/>
            <label for="wl-team">"Team"</label>
            <input id="wl-team" name="team" value=q.team.clone()/>
            <label for="wl-state">"State"</label>
            <select id="wl-state" name="state">
                {["", "running", "waiting", "terminated", "unknown"].into_iter().map(|s| view! {
                    <option value=s selected=q.state == s>{if s.is_empty() { "any" } else { s }}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="button-secondary">"Filter"</button>
        </form>
    }
}

/// One container: where it runs, the image it runs (by digest when known), its team and state.
#[component]
fn WorkloadLine(r: WorkloadRow) -> impl IntoView {
    let image = match (&r.image_digest, &r.digest) {
        (Some(d), _) => view! { <a href=format!("/images/{}", crate::format::path_segment(d))>{r.image.clone()}</a> }.into_any(),
        (None, Some(d)) => view! { <span>{r.image.clone()}<br/><code class="small">{short_digest(d)}</code>" (unknown image)"</span> }.into_any(),
        (None, None) => view! { <span>{r.image.clone()}<br/><span class="small muted">"no digest: "{if r.image_id.is_empty() { "the pull failed or has not happened".to_string() } else { r.image_id.clone() }}</span></span> }.into_any(),
    };
    let state = match &r.reason {
        Some(why) => format!("{} ({why})", r.state),
        None => r.state.clone(),
    };
    view! {
        <tr>
            <td>{r.namespace.clone()} " / " {match &r.workload {
                Some(w) => view! { <a href=format!("/forensics/workload?cluster={}&namespace={}&workload={}", query_value(&r.cluster), query_value(&r.namespace), query_value(w))>{w.clone()}</a> }.into_any(),
                None => view! { <span>"—"</span> }.into_any(),
            }}<br/><span class="small muted">{r.cluster.clone()}</span></td>
            <td>{r.pod.clone()}</td>
            <td>{r.container.clone()}{(r.container_kind != "container").then(|| format!(" ({})", r.container_kind))}</td>
            <td>{image}</td>
            <td><TeamLink team=r.team.clone()/></td>
            <td class=format!("state-{}", r.state)>{state}</td>
        </tr>
    }
}

fn reason_text(r: &str) -> &'static str {
    match r {
        "not_in_registry" => "not in any configured registry",
        "unapproved_registry" => "registry not approved",
        "never_scanned" => "never scanned",
        "stale_scan" => "scan too old",
        _ => "other",
    }
}

/// The Unaccounted page.
#[component]
pub fn UnaccountedPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_unaccounted());
    view! {
        <Title text="Unaccounted"/>
        <h1>"Unaccounted"</h1>
        <p class="muted">"Images running now that are not in any configured registry, come from a registry not on the approved list, were never scanned, or whose newest scan is too old."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) if list.is_empty() => view! { <p class="ok">"Every running image is accounted for."</p> }.into_any(),
                    Ok(list) => view! {
                        <p id="unaccounted-count">{format!("{} running images in {} places", list.len(), list.iter().map(|e| e.containers).sum::<i64>())}</p>
                        <table class="data" id="unaccounted">
                            <thead><tr>
                                <th scope="col">"Image"</th><th scope="col">"Why"</th><th scope="col">"Cluster / namespace"</th>
                                <th scope="col">"Workload"</th><th scope="col">"Team"</th><th scope="col">"Containers"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| view! {
                                    <tr>
                                        <td>{e.image.clone()}<br/><code class="small">{match &e.digest { Some(d) => short_digest(d), None => format!("imageID {:?}", e.image_id) }}</code></td>
                                        <td><ul class="plain">{e.reasons.iter().map(|r| view! { <li>{reason_text(r)}</li> }).collect_view()}</ul></td>
                                        <td>{format!("{} / {}", e.cluster, e.namespace)}</td>
                                        <td>{e.workload.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td><TeamLink team=e.team.clone()/></td>
                                        <td class="num">{e.containers}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
