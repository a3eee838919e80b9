//! The estate overview (compliance first: teams ranked by score, campaigns, deadlines; the
//! inventory's totals below) and the teams list by findings.

use super::campaigns::progress_bar;
use super::components::{change_text, score_attr, score_text, trend_text, GradeBadge, SeverityBar, SeverityCells, SeverityHeaders, Stat};
use super::layout::LoadError;
use crate::format::{count, path_segment};
use crate::server_fns::{get_compliance_overview, get_overview};
use crate::types::{CampaignLine, ComplianceOverviewPage, TeamCompliance, TeamSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/`: the estate's compliance first — teams ranked by score, the estate's trend, campaigns and
/// what falls due — and the inventory's totals below.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_compliance_overview());
    view! {
        <Title text="Overview"/>
        <h1>"Estate overview"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <OverviewBody page/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewBody(page: ComplianceOverviewPage) -> impl IntoView {
    let o = page.overview;
    let inv = o.inventory;
    let empty = inv.images == 0 && inv.scans == 0;
    let trend = trend_text(&o.trend);
    view! {
        <section class="stats" aria-label="Headline numbers">
            <div class="stat" id="estate-score" data-score=score_attr(o.score)>
                <span class="stat-value">{score_text(o.score)}" "<GradeBadge grade=o.grade.clone()/></span>
                <span class="stat-label">{format!("estate score · {} in 7 days · {} in 30", change_text(o.change_7_days), change_text(o.change_30_days))}</span>
            </div>
            <Stat label="overdue items" value=o.items.overdue href="/overdue".into() tone={if o.items.overdue > 0 { "stat-critical" } else { "" }}/>
            <Stat label="active campaigns" value=o.campaigns_active href="/campaigns".into()/>
            <Stat label="unaccounted running images" value=o.unaccounted href="/unaccounted".into() tone={if o.unaccounted > 0 { "stat-warn" } else { "" }}/>
            <Stat label="images" value=inv.images href="/images".into()/>
        </section>
        <figure class="spark spark-wide">
            {page.trend_svg.map(|svg| view! { <div role="img" aria-label=trend.clone() inner_html=svg></div> })}
            <figcaption>{format!("Estate score, last 30 days. {trend}")}</figcaption>
        </figure>
        {empty.then(|| view! {
            <div class="notice">
                <h2>"No reports yet"</h2>
                <p>"Send a Trivy JSON report with "<code>"drydock ingest report.json"</code>" or POST it to "<code>"/api/v1/scans"</code>"."</p>
            </div>
        })}
        <div class="overview-grid">
            <section aria-labelledby="ranked">
                <h2 id="ranked">"Teams by score, worst first"</h2>
                <TeamScores teams=o.teams/>
            </section>
            <section aria-labelledby="campaigns">
                <h2 id="campaigns">"Campaigns"</h2>
                <CampaignLines lines=o.campaigns active=o.campaigns_active/>
                <h3>"Next deadlines"</h3>
                {if o.next_deadlines.is_empty() {
                    view! { <p class="muted">"No outstanding item has a coming deadline."</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain" id="next-deadlines">
                            {o.next_deadlines.into_iter().map(|d| view! {
                                <li><strong>{d.deadline.to_string()}</strong>" · "<a href=format!("/campaigns/{}", d.campaign)>{d.title.clone()}</a>
                                    " · "{count(d.items, "item", "items")}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
        <p class="muted small">{o.formula}</p>
        <section aria-labelledby="mix">
            <h2 id="mix">"Open findings by severity"</h2>
            <SeverityBar counts=inv.findings/>
            <table class="data compact">
                <thead><tr><SeverityHeaders/><th class="num" scope="col">"Total"</th></tr></thead>
                <tbody><tr><SeverityCells counts=inv.findings/><td class="num">{inv.findings.total()}</td></tr></tbody>
            </table>
            <p>
                <a href="/teams">{count(inv.teams.len() as i64, "team", "teams")}" by findings"</a>
                " · "<a href="/admin/ownership">{count(inv.unowned_images, "image of no team", "images of no team")}</a>
                " · "{count(inv.unmatched_reports, "report without an image", "reports without an image")}
            </p>
        </section>
    }
}

/// Teams ranked by score with grade, changes and items (each row carries `data-team`, `data-score`).
#[component]
fn TeamScores(teams: Vec<TeamCompliance>) -> impl IntoView {
    view! {
        <table class="data" id="team-scores">
            <thead><tr>
                <th scope="col">"Team"</th><th scope="col" class="num">"Score"</th><th scope="col">"Grade"</th>
                <th scope="col" class="num">"7 days"</th><th scope="col" class="num">"30 days"</th>
                <th scope="col" class="num">"Open items"</th><th scope="col" class="num">"Overdue"</th>
            </tr></thead>
            <tbody>
                {teams.into_iter().map(|t| {
                    let key = t.team.clone().unwrap_or_else(|| "-".into());
                    let name = t.team.clone().unwrap_or_else(|| "no team".into());
                    view! {
                        <tr data-team=key.clone() data-score=score_attr(t.score) data-overdue=t.overdue.to_string()>
                            <th scope="row"><a href=format!("/scorecards/{}", path_segment(&key))>{name}</a></th>
                            <td class="num">{score_text(t.score)}</td>
                            <td><GradeBadge grade=t.grade.clone()/></td>
                            <td class="num">{change_text(t.change_7_days)}</td>
                            <td class="num">{change_text(t.change_30_days)}</td>
                            <td class="num">{t.outstanding}</td>
                            <td class={if t.overdue > 0 { "num bad" } else { "num zero" }}>{t.overdue}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn CampaignLines(lines: Vec<CampaignLine>, active: i64) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="muted">"No campaign has outstanding items."</p> }.into_any();
    }
    let more = active - lines.len() as i64;
    view! {
        <ul class="plain campaign-lines">
            {lines.into_iter().map(|c| view! {
                <li><a href=format!("/campaigns/{}", c.id)>{c.title.clone()}</a><br/>{progress_bar(&c.progress)}</li>
            }).collect_view()}
        </ul>
        {(more > 0).then(|| view! { <p><a href="/campaigns">{format!("{} more", count(more, "active campaign", "active campaigns"))}</a></p> })}
    }
    .into_any()
}

/// `/teams`: every team with its findings, and the images of no team.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Teams"/>
        <h1>"Teams"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => view! { <TeamsTable teams=o.teams unowned=Some((o.unowned_images, o.unowned_findings))/> }.into_any(),
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
