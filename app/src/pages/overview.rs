//! The estate overview (headline numbers, teams ranked worst first) and the teams list.

use super::components::{SeverityBar, SeverityCells, SeverityHeaders, Stat};
use super::layout::LoadError;
use crate::format::path_segment;
use crate::server_fns::get_overview;
use crate::types::{Overview, TeamSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/`: what the estate holds and which teams carry the most risk.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview"/>
        <h1>"Estate overview"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => view! { <OverviewBody o/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewBody(o: Overview) -> impl IntoView {
    let empty = o.images == 0 && o.scans == 0;
    view! {
        <section class="stats" aria-label="Headline numbers">
            <Stat label="images" value=o.images href="/images".into()/>
            <Stat label="open critical" value=o.findings.critical href="/images".into() tone="stat-critical"/>
            <Stat label="open high" value=o.findings.high href="/images".into() tone="stat-high"/>
            <Stat label="teams" value=o.teams.len() as i64 href="/teams".into()/>
            <Stat label="unowned images" value=o.unowned_images href="/admin/ownership".into() tone="stat-warn"/>
            <Stat label="reports without an image" value=o.unmatched_reports href="/images".into()/>
        </section>
        {empty.then(|| view! {
            <div class="notice">
                <h2>"No reports yet"</h2>
                <p>
                    "Send a Trivy JSON report with "
                    <code>"drydock ingest report.json"</code>
                    " or POST it to "
                    <code>"/api/v1/scans"</code>
                    "."
                </p>
            </div>
        })}
        <section aria-labelledby="mix">
            <h2 id="mix">"Open findings by severity"</h2>
            <SeverityBar counts=o.findings/>
            <table class="data compact">
                <thead><tr><SeverityHeaders/><th class="num" scope="col">"Total"</th></tr></thead>
                <tbody><tr><SeverityCells counts=o.findings/><td class="num">{o.findings.total()}</td></tr></tbody>
            </table>
        </section>
        <section aria-labelledby="teams">
            <h2 id="teams">"Teams, worst first"</h2>
            <TeamsTable teams=o.teams unowned=Some((o.unowned_images, o.unowned_findings))/>
        </section>
    }
}

/// `/teams`: every team with its totals.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Teams"/>
        <h1>"Teams"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => view! { <TeamsTable teams=o.teams unowned=None/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Teams with a filter box: the filter works as a plain GET form without JavaScript and
/// narrows the rows as you type once the page is hydrated.
#[component]
fn TeamsTable(teams: Vec<TeamSummary>, unowned: Option<(i64, crate::types::FindingCounts)>) -> impl IntoView {
    let query = use_query_map();
    let filter = RwSignal::new(query.read_untracked().get("q").unwrap_or_default());
    let teams = StoredValue::new(teams);
    let rows = move || {
        let f = filter.get().trim().to_lowercase();
        teams.with_value(|all| {
            all.iter()
                .filter(|t| f.is_empty() || t.name.to_lowercase().contains(&f) || t.display_name.to_lowercase().contains(&f))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <form method="get" class="filter" role="search">
            <label for="team-filter">"Filter teams"</label>
            <input
                id="team-filter"
                name="q"
                type="search"
                autocomplete="off"
                prop:value=filter
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
            <button type="submit" class="button-secondary">"Filter"</button>
        </form>
        <table class="data" id="teams-table">
            <thead>
                <tr>
                    <th scope="col">"Team"</th>
                    <th scope="col" class="num">"Images"</th>
                    <SeverityHeaders/>
                    <th scope="col" class="bar-col">"Mix"</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let rows = rows();
                    if rows.is_empty() {
                        view! {
                            <tr><td colspan="9" class="empty">"No team matches this filter."</td></tr>
                        }
                            .into_any()
                    } else {
                        rows.into_iter()
                            .map(|t| {
                                view! {
                                    <tr class="team-row">
                                        <th scope="row">
                                            <a href=format!("/teams/{}", path_segment(&t.name))>{t.display_name.clone()}</a>
                                        </th>
                                        <td class="num">{t.images}</td>
                                        <SeverityCells counts=t.findings/>
                                        <td class="bar-col"><SeverityBar counts=t.findings/></td>
                                    </tr>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }
                }}
                {unowned.filter(|(n, _)| *n > 0).map(|(n, counts)| view! {
                    <tr class="unowned-row">
                        <th scope="row"><span class="label label-warn">"unowned"</span></th>
                        <td class="num">{n}</td>
                        <SeverityCells counts/>
                        <td class="bar-col"><SeverityBar counts/></td>
                    </tr>
                })}
            </tbody>
        </table>
    }
}
