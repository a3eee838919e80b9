//! Forensics: `/forensics/image/:digest` (built from what, pushed by whom, where and when it ran,
//! who exec'd into it, every ledger entry about it) and `/ledger` (the signed checkpoint, the
//! size, a verification run, the newest entries).

use super::components::TeamLink;
use super::layout::{LoadError, NotFound};
use crate::format::{date, short_digest};
use crate::server_fns::{get_image_forensics, get_ledger, get_workload_forensics};
use crate::types::{ImageForensics, LedgerRow};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn ledger_table(rows: Vec<LedgerRow>, id: &'static str) -> impl IntoView {
    view! {
        <table class="data" id=id>
            <thead><tr><th scope="col">"#"</th><th scope="col">"When"</th><th scope="col">"Who"</th>
                <th scope="col">"What"</th><th scope="col">"Subject"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr><td class="num">{r.index}</td><td>{date(&r.time)}</td><td>{r.actor}</td>
                        <td><code>{r.kind}</code></td><td class="small">{r.subject}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn body(f: ImageForensics) -> impl IntoView {
    let name = f.image.display_name();
    let digest = f.image.digest.clone();
    view! {
        <Title text=format!("Forensics: {name}")/>
        <p class="breadcrumb"><a href=format!("/images/{}", crate::format::path_segment(&digest))>{name.clone()}</a> " / forensics"</p>
        <h1>"Forensics: " {name}</h1>
        <dl class="facts">
            <dt>"Digest"</dt><dd><code>{digest.clone()}</code></dd>
            <dt>"Owner"</dt><dd><TeamLink team=f.image.team.clone()/></dd>
            <dt>"Built from"</dt><dd id="built-from">{match (&f.source, &f.revision) {
                (Some(s), Some(r)) => format!("{s} at {r}"),
                (Some(s), None) => s.clone(),
                (None, Some(r)) => format!("revision {r}"),
                (None, None) => "not declared (no org.opencontainers.image.source label)".into(),
            }}</dd>
        </dl>
        <h2>"Pushed"</h2>
        {if f.pushes.is_empty() {
            view! { <p class="muted">"No push of this image was notified by a registry."</p> }.into_any()
        } else {
            view! {
                <table class="data" id="pushes">
                    <thead><tr><th scope="col">"When"</th><th scope="col">"Action"</th><th scope="col">"Tag"</th><th scope="col">"Who"</th><th scope="col">"From"</th></tr></thead>
                    <tbody>{f.pushes.into_iter().map(|p| view! {
                        <tr><td>{date(&p.happened_at)}</td><td>{p.action}</td><td>{p.tag.unwrap_or_else(|| "—".into())}</td>
                            <td>{p.actor.unwrap_or_else(|| "anonymous".into())}</td><td>{p.source_addr.unwrap_or_else(|| "—".into())}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
        <h2>"Ran"</h2>
        {if f.runs.is_empty() {
            view! { <p class="muted">"Not seen running in any cluster."</p> }.into_any()
        } else {
            view! {
                <table class="data" id="runs">
                    <thead><tr><th scope="col">"Cluster / namespace"</th><th scope="col">"Workload"</th><th scope="col">"Pod / container"</th>
                        <th scope="col">"First seen"</th><th scope="col">"Last seen"</th><th scope="col">"Ended"</th></tr></thead>
                    <tbody>{f.runs.into_iter().map(|r| view! {
                        <tr><td>{format!("{} / {}", r.cluster, r.namespace)}</td><td>{r.workload.unwrap_or_else(|| "—".into())}</td>
                            <td>{format!("{} / {}", r.pod, r.container)}</td><td>{date(&r.first_seen)}</td><td>{date(&r.last_seen)}</td>
                            <td>{r.ended_at.as_ref().map(date).unwrap_or_else(|| "running".into())}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
        <h2>"People in its pods"</h2>
        {if f.access.is_empty() {
            view! { <p class="muted" id="access">"No audited action (exec, attach, create, delete…) on the pods that ran it."</p> }.into_any()
        } else {
            view! {
                <table class="data" id="access">
                    <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Did"</th><th scope="col">"Pod"</th>
                        <th scope="col">"From"</th><th scope="col">"Verdict"</th></tr></thead>
                    <tbody>{f.access.into_iter().map(|a| view! {
                        <tr><td>{date(&a.time)}</td><td>{a.user.unwrap_or_else(|| "—".into())}</td>
                            <td>{match a.subresource { Some(s) => format!("{} {s}", a.verb), None => a.verb }}</td>
                            <td>{format!("{} / {}", a.namespace.unwrap_or_default(), a.pod.unwrap_or_default())}</td>
                            <td>{a.source_ips.join(", ")}</td><td>{a.code.map(|c| c.to_string()).unwrap_or_default()}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
        <h2>"Every recorded action"</h2>
        <p class="muted">"Entries of the tamper-evident ledger that name this image; " <a href="/ledger">"verify the ledger"</a> "."</p>
        {ledger_table(f.ledger, "image-ledger")}
    }
}

/// The image forensics page.
#[component]
pub fn ImageForensicsPage() -> impl IntoView {
    let params = use_params_map();
    let digest = move || params.read().get("digest").unwrap_or_default();
    let data = Resource::new(digest, get_image_forensics);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(f)) => body(f).into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The workload forensics page: `/forensics/workload?cluster=&namespace=&workload=Kind/name`.
#[component]
pub fn WorkloadForensicsPage() -> impl IntoView {
    let query = use_query_map();
    let key = move || {
        let q = query.read();
        (q.get("cluster").unwrap_or_default(), q.get("namespace").unwrap_or_default(), q.get("workload").unwrap_or_default())
    };
    let data = Resource::new(key, |(c, n, w)| get_workload_forensics(c, n, w));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(f)) => view! {
                        <Title text=format!("Forensics: {}", f.workload)/>
                        <h1>"Forensics: " {f.workload.clone()}</h1>
                        <p class="muted">{format!("{} / {}", f.cluster, f.namespace)}</p>
                        <h2>"Images over time"</h2>
                        <table class="data" id="workload-images">
                            <thead><tr><th scope="col">"Image"</th><th scope="col">"First seen"</th><th scope="col">"Last seen"</th><th scope="col">"Running now"</th></tr></thead>
                            <tbody>{f.images.into_iter().map(|i| view! {
                                <tr>
                                    <td>{match &i.image_digest {
                                        Some(d) => view! { <a href=format!("/forensics/image/{}", crate::format::path_segment(d))>{i.image.clone()}</a> }.into_any(),
                                        None => view! { <span>{i.image.clone()}</span> }.into_any(),
                                    }}<br/><code class="small">{i.digest.as_deref().map(short_digest).unwrap_or_else(|| "no digest".into())}</code></td>
                                    <td>{date(&i.first_seen)}</td><td>{date(&i.last_seen)}</td><td class="num">{i.running}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                        <h2>"People who touched it"</h2>
                        {if f.access.is_empty() {
                            view! { <p class="muted" id="workload-access">"No audited action on its pods or on the object."</p> }.into_any()
                        } else {
                            view! {
                                <table class="data" id="workload-access">
                                    <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Did"</th><th scope="col">"On"</th><th scope="col">"From"</th><th scope="col">"Verdict"</th></tr></thead>
                                    <tbody>{f.access.into_iter().map(|a| view! {
                                        <tr><td>{date(&a.time)}</td><td>{a.user.unwrap_or_else(|| "—".into())}</td>
                                            <td>{match a.subresource { Some(s) => format!("{} {s}", a.verb), None => a.verb }}</td>
                                            <td>{a.pod.unwrap_or_default()}</td><td>{a.source_ips.join(", ")}</td>
                                            <td>{a.code.map(|c| c.to_string()).unwrap_or_default()}</td></tr>
                                    }).collect_view()}</tbody>
                                </table>
                            }.into_any()
                        }}
                    }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The ledger page.
#[component]
pub fn LedgerPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_ledger());
    view! {
        <Title text="Ledger"/>
        <h1>"Audit ledger"</h1>
        <p class="muted">"Every change Drydock makes and every event it receives is an entry of an append-only Merkle log (RFC 6962); signed checkpoints commit to its size and root, so an edited, deleted or inserted entry is detected."</p>
        <Suspense fallback=|| view! { <p>"Verifying…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(s) => view! {
                        {match (&s.verified_at, &s.problem) {
                            (None, _) => view! { <p class="muted" id="verify-result" role="status">"Not verified yet: the scheduled verification has not run."</p> }.into_any(),
                            (Some(at), None) => view! { <p class="verified" id="verify-result" role="status">
                                {format!("Verified: all {} entries recomputed, {} signed checkpoints match (scheduled run, {}).", s.verified_size, s.checkpoints_checked, crate::format::date(at))}
                                {(s.size > s.verified_size).then(|| format!(" {} newer entries are checked by the next run.", s.size - s.verified_size))}
                            </p> }.into_any(),
                            (Some(at), Some(p)) => view! { <p class="error" id="verify-result" role="alert">
                                {format!("Verification FAILED ({}): ", crate::format::date(at))} {p.clone()}</p> }.into_any(),
                        }}
                        <dl class="facts">
                            <dt>"Entries"</dt><dd id="ledger-size">{s.size}</dd>
                            <dt>"Root"</dt><dd><code>{short_digest(&format!("sha256:{}", s.root))}</code></dd>
                            <dt>"Verifier key"</dt><dd><code class="small">{s.verifier_key.clone().unwrap_or_else(|| "no signing key configured".into())}</code></dd>
                        </dl>
                        <h2>"Latest checkpoint"</h2>
                        <pre id="checkpoint">{s.checkpoint.clone().unwrap_or_else(|| "No checkpoint: set DRYDOCK_LEDGER_KEY.".into())}</pre>
                        <h2>"Newest entries"</h2>
                        {if s.entries_visible {
                            ledger_table(s.recent, "ledger-entries").into_any()
                        } else {
                            view! { <p class="muted" id="ledger-entries-hidden">"Raw entries name every team's subjects and people: viewers, security and admins read them. The checkpoint and proofs above are open to you."</p> }.into_any()
                        }}
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
