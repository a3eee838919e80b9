//! `/scorecards`: every team ranked by its policy score (the managers' overview), and
//! `/scorecards/{team}`: a team's scores per policy, trend, and the failing subjects with why.

use super::components::{grade_class, score_text, trend_text, Pager};
use super::layout::LoadError;
use crate::format::{date, path_segment, query_value, short_digest};
use crate::server_fns::{get_scorecards, get_team_scorecard};
use crate::types::{ScorecardPage, FAILING_PAGE};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The team name in paths (`-`: subjects of no team).
fn team_key(team: &Option<String>) -> String {
    team.clone().unwrap_or_else(|| "-".into())
}

/// The managers' overview.
#[component]
pub fn ScorecardsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_scorecards());
    view! {
        <Title text="Scorecards"/>
        <h1>"Scorecards"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(s) => view! {
                        <p class="muted">{s.formula.clone()}" "{s.evaluated_at.as_ref().map(|t| format!("Judged {}.", date(t))).unwrap_or_else(|| "Not judged yet.".into())}</p>
                        <table class="data" id="scorecards">
                            <caption class="sr-only">"Teams ranked by score, worst first"</caption>
                            <thead><tr><th scope="col">"Team"</th><th scope="col">"Score"</th><th scope="col">"Grade"</th>
                                <th scope="col">"Change in 7 days"</th><th scope="col">"Subjects judged"</th><th scope="col">"Failing"</th></tr></thead>
                            <tbody>
                                {s.teams.into_iter().map(|t| {
                                    let key = team_key(&t.team);
                                    let name = t.team.clone().unwrap_or_else(|| "no team".into());
                                    let change = match (t.score, t.score_last_week) {
                                        (Some(now), Some(then)) => format!("{:+.0}", now - then),
                                        _ => "—".into(),
                                    };
                                    let grade = t.grade.clone().unwrap_or_default();
                                    view! {
                                        <tr>
                                            <th scope="row"><a href=format!("/scorecards/{}", path_segment(&key))>{name}</a></th>
                                            <td class="num">{score_text(t.score)}</td>
                                            <td><span class=grade_class(&grade)>{grade.clone()}</span></td>
                                            <td class="num">{change}</td>
                                            <td class="num">{t.subjects}</td>
                                            <td class="num"><a href=format!("/scorecards/{}#failing", path_segment(&key))>{t.failing}</a></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One team's scorecard: `?policy=` keeps one policy's failing subjects, `?offset=` pages them.
#[component]
pub fn TeamScorecardPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let asked = move || {
        let q = query.read();
        let policy = q.get("policy").map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
        // Any number may come from the address bar: a negative or unreadable one is the first page.
        let offset = q.get("offset").and_then(|o| o.trim().parse::<i64>().ok()).filter(|o| *o > 0);
        (params.read().get("team").unwrap_or_default(), policy, offset)
    };
    let data = Resource::new(asked, |(team, policy, offset)| get_team_scorecard(team, policy, offset));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (_, only, offset) = asked();
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) => view! { <Card page only=only.unwrap_or_default() offset=offset.unwrap_or(0)/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The link to the failing subjects from `offset` on, of `only` (a policy) or all.
fn failing_link(only: &str, offset: i64) -> String {
    let policy = if only.is_empty() { String::new() } else { format!("policy={}&", query_value(only)) };
    format!("?{policy}offset={offset}#failing")
}

#[component]
fn Card(page: ScorecardPage, only: String, offset: i64) -> impl IntoView {
    let c = page.card;
    let key = c.team.clone();
    let name = if key == "-" { "no team".to_string() } else { key.clone() };
    let grade = c.grade.clone().unwrap_or_default();
    let export = move |table: &str| format!("/scorecards/{}/export.csv?table={table}", path_segment(&key));
    let trend_text = trend_text(&c.trend);
    let (failing, total) = (c.failing, c.failing_total);
    let shown = failing.len();
    let pager = |id: &'static str| {
        let only = only.clone();
        view! { <Pager id offset shown total page=FAILING_PAGE link=move |o| failing_link(&only, o)/> }
    };
    view! {
        <Title text=format!("Scorecard: {name}")/>
        <p class="breadcrumb"><a href="/scorecards">"Scorecards"</a> " / "</p>
        <h1>"Scorecard: "{name.clone()}</h1>
        <section class="stats" aria-label="Team score">
            <div class="stat"><span class="stat-value" id="team-score">{score_text(c.score)}</span><span class="stat-label">"score"</span></div>
            <div class="stat"><span class=grade_class(&grade) id="team-grade">{grade.clone()}</span><span class="stat-label">"grade"</span></div>
        </section>
        <p class="muted">{c.formula.clone()}</p>
        <figure class="chart" id="trend">
            {page.trend_svg.map(|svg| view! { <div role="img" aria-label=trend_text.clone() inner_html=svg></div> })}
            <figcaption>{trend_text.clone()}</figcaption>
        </figure>
        <h2>"By policy"</h2>
        <p><a href=export("policies")>"Export this table (CSV)"</a></p>
        <table class="data" id="policy-scores">
            <thead><tr><th scope="col">"Policy"</th><th scope="col">"Judged"</th><th scope="col">"Failing"</th><th scope="col">"Score"</th><th scope="col">"Grade"</th></tr></thead>
            <tbody>
                {c.policies.into_iter().map(|p| view! {
                    <tr>
                        <th scope="row">{p.title.clone()}</th>
                        <td class="num">{p.subjects}</td>
                        <td class="num"><a href=format!("?policy={}#failing", query_value(&p.policy))>{p.failing}</a></td>
                        <td class="num">{format!("{:.0}", p.score)}</td>
                        <td><span class=grade_class(&p.grade)>{p.grade.clone()}</span></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2 id="failing">{if only.is_empty() { "Failing".to_string() } else { format!("Failing: {only}") }}</h2>
        <p><a href=export("failing")>"Export the failing subjects (CSV)"</a>{(!only.is_empty()).then(|| view! { " · " <a href="?#failing">"all policies"</a> })}</p>
        {pager("failing-pager")}
        <table class="data" id="failing-subjects">
            <thead><tr><th scope="col">"Policy"</th><th scope="col">"Subject"</th><th scope="col">"Why"</th><th scope="col">"Failing since"</th></tr></thead>
            <tbody>
                {if failing.is_empty() {
                    view! { <tr><td colspan="4" class="muted">"Nothing fails."</td></tr> }.into_any()
                } else {
                    failing.into_iter().map(|f| {
                        let subject = match f.subject_kind.as_str() {
                            "image" => view! { <a href=format!("/images/{}", path_segment(&f.subject)) title=f.subject.clone()><code>{short_digest(&f.subject)}</code></a> }.into_any(),
                            kind => {
                                // cluster/namespace/pod/container (containers), cluster/node (nodes)
                                let parts: Vec<String> = f.subject.split('/').map(str::to_string).collect();
                                view! { <span title=f.subject.clone()>{kind.to_string()}" "{parts.last().cloned().unwrap_or_default()}
                                    <br/><span class="muted">{parts[..parts.len().saturating_sub(1)].join(" / ")}</span></span> }.into_any()
                            }
                        };
                        view! {
                            <tr>
                                <td>{f.policy.clone()}</td>
                                <td class="subject">{subject}{f.environment.clone().map(|e| view! { <br/><span class="muted">{format!("environment {e}")}</span> })}</td>
                                <td>{f.reason.clone()}</td>
                                <td>{f.failing_since.as_ref().map(date).unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view().into_any()
                }}
            </tbody>
        </table>
        {(shown > 0 && total > FAILING_PAGE).then(|| pager("failing-pager-end"))}
    }
}
