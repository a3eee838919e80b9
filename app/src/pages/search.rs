//! `/search`: where does a vulnerability, or a package in a version range, exist and run, and who
//! owns it. A GET form, so the answer has a URL to share and works without JavaScript.

use super::components::{Pager, TeamLink};
use super::layout::LoadError;
use crate::format::{path_segment, query_value, short_digest};
use crate::server_fns::search_estate;
use crate::types::{SearchItem, SearchQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Images per page: the estate-wide figures above count every match; the table pages through.
const PAGE: i64 = 50;

/// The link to the page starting at `offset` with the same question.
fn page_link(q: &SearchQuery, offset: i64) -> String {
    let mut parts = Vec::new();
    for (k, v) in [("cve", &q.cve), ("package", &q.package), ("range", &q.range)] {
        if let Some(v) = v {
            parts.push(format!("{k}={}", query_value(v)));
        }
    }
    parts.push(format!("offset={offset}"));
    format!("/search?{}", parts.join("&"))
}

/// The pager of the search answer.
fn pager(q: &SearchQuery, offset: i64, shown: usize, total: i64) -> impl IntoView {
    let q = q.clone();
    view! { <Pager id="search-pager" offset shown total page=PAGE link=move |o| page_link(&q, o)/> }
}

fn item_row(item: SearchItem) -> impl IntoView {
    let image = item.repositories.first().cloned().unwrap_or_else(|| short_digest(&item.image));
    let kev = item.matches.iter().any(|m| m.kev);
    let epss = item.matches.iter().filter_map(|m| m.epss).fold(None, |a: Option<f64>, e| Some(a.map_or(e, |a| a.max(e))));
    view! {
        <tr>
            <td><a href=format!("/images/{}", path_segment(&item.image))>{image}</a><br/><code class="small">{short_digest(&item.image)}</code></td>
            <td><TeamLink team=item.team.clone()/></td>
            <td>
                <ul class="plain">
                    {item.matches.into_iter().map(|m| view! {
                        <li>
                            <strong>{m.vulnerability}</strong>" in "<code>{m.package}</code>" "{m.installed}
                            {(m.locations > 1).then(|| view! { <span class="muted">{format!(" at {} paths", m.locations)}</span> })}
                            {m.fixed.map(|f| view! { <span class="muted">" → fixed in "{f}</span> })}
                            {m.kev.then(|| view! { " " <span class="sev sev-critical" title="In CISA's Known Exploited Vulnerabilities catalogue">"KEV"</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            </td>
            <td>{if kev { "yes" } else { "no" }}</td>
            <td>{epss.map(|e| format!("{:.1}%", e * 100.0)).unwrap_or_else(|| "—".into())}</td>
            <td>
                {if item.running.is_empty() {
                    view! { <span class="muted">"runs nowhere (registry or report only)"</span> }.into_any()
                } else {
                    view! { <ul class="plain">{item.running.into_iter().map(|w| view! {
                        <li><a href=format!("/forensics/workload?cluster={}&namespace={}&workload={}", query_value(&w.cluster), query_value(&w.namespace), query_value(&w.workload))>
                            {format!("{}/{} {}", w.cluster, w.namespace, w.workload)}</a>
                            <span class="muted">{format!(" ({} containers)", w.containers)}</span></li>
                    }).collect_view()}</ul> }.into_any()
                }}
            </td>
        </tr>
    }
}

/// The Search page.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || {
        let m = query.read();
        let offset = m.get("offset").and_then(|o| o.trim().parse::<i64>().ok()).filter(|o| *o >= 0);
        SearchQuery { cve: text(m.get("cve")), package: text(m.get("package")), range: text(m.get("range")), limit: Some(PAGE), offset }
    };
    let data = Resource::new(q, |q| async move {
        if q.cve.is_none() && q.package.is_none() && q.range.is_none() {
            return None;
        }
        let asked = q.clone();
        Some(search_estate(q).await.map(|r| (asked, r)))
    });
    view! {
        <Title text="Search the estate"/>
        <h1>"Search the estate"</h1>
        <p class="muted">"Every image a vulnerability or a package version range affects, who owns it and where it runs now."</p>
        {move || {
            let current = q();
            view! {
                <form method="get" class="filter" role="search" id="search-form">
                    <label for="s-cve">"Vulnerability"</label>
                    <input id="s-cve" name="cve" placeholder="CVE-2022-22965" value=current.cve.clone().unwrap_or_default()/>
                    <span class="muted">"or"</span>
                    <label for="s-package">"Package"</label>
                    <input id="s-package" name="package" placeholder="pkg:deb/debian/openssl" value=current.package.clone().unwrap_or_default()/>
                    <label for="s-range">"Versions"</label>
                    <input id="s-range" name="range" placeholder="vers:deb/<1.1.1n-0+deb11u4" value=current.range.clone().unwrap_or_default()/>
                    <button type="submit">"Search"</button>
                </form>
            }
        }}
        <Suspense fallback=|| view! { <p>"Searching…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    None => view! {
                        <section class="card">
                            <h2>"How to ask"</h2>
                            <p>"By vulnerability id (CVE or GHSA), or by package URL without version and a range in the purl "
                               <code>"vers"</code>" syntax, compared with the ecosystem's own ordering (dpkg, rpm, apk, semver, PEP 440, Maven):"</p>
                            <ul>
                                <li><code>"pkg:deb/debian/openssl"</code>" with "<code>"vers:deb/<1.1.1n-0+deb11u4"</code></li>
                                <li><code>"pkg:rpm/centos/openssl-libs"</code>" with "<code>"vers:rpm/>=1:1.0.2k|<1:1.0.2k-26.el7"</code></li>
                                <li><code>"pkg:maven/org.springframework/spring-beans"</code>" with "<code>"vers:maven/<5.3.18"</code></li>
                            </ul>
                        </section>
                    }.into_any(),
                    Some(Err(e)) => view! { <LoadError error=e/> }.into_any(),
                    Some(Ok((asked, r))) => { let (shown, offset) = (r.items.len(), asked.offset.unwrap_or(0)); view! {
                        <dl class="facts" id="search-totals">
                            <dt>"Affected images (estate)"</dt><dd>{r.running_images + r.registry_only_images}</dd>
                            <dt>"Running now"</dt><dd>{r.running_images}</dd>
                            <dt>"In registries or reports only"</dt><dd>{r.registry_only_images}</dd>
                            <dt>"Vulnerabilities"</dt><dd>{r.unique_vulnerabilities}</dd>
                            <dt>"Findings"</dt><dd>{r.instances}</dd>
                        </dl>
                        <p class="muted" id="search-count">{format!("{} image{} you may see", r.total, if r.total == 1 { "" } else { "s" })}</p>
                        {pager(&asked, offset, shown, r.total)}
                        <table class="data" id="search-results">
                            <caption class="sr-only">"Affected images"</caption>
                            <thead><tr>
                                <th scope="col">"Image"</th><th scope="col">"Team"</th><th scope="col">"Matches"</th>
                                <th scope="col">"KEV"</th><th scope="col">"EPSS"</th><th scope="col">"Runs in"</th>
                            </tr></thead>
                            <tbody>
                                {if r.items.is_empty() {
                                    view! { <tr><td colspan="6" class="muted">"Nothing you may see is affected."</td></tr> }.into_any()
                                } else {
                                    r.items.into_iter().map(item_row).collect_view().into_any()
                                }}
                            </tbody>
                        </table>
                        {pager(&asked, offset, shown, r.total)}
                    }.into_any() }
                }
            })}
        </Suspense>
    }
}
