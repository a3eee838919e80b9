//! `/my-teams`: the manager's home. A card per team answers "is my team getting better, and what
//! is late?" above the fold: score, grade and 30-day trend first, then the items overdue and due
//! in the next seven days, the policies failing most, and links to act.

use super::campaigns::progress_bar;
use super::components::{change_text, score_attr, score_text, trend_text, GradeBadge};
use super::layout::LoadError;
use crate::format::{count, path_segment, query_value, short_digest};
use crate::server_fns::get_my_teams;
use crate::types::{CampaignItem, TeamCard};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MyTeamsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_my_teams());
    view! {
        <Title text="My teams"/>
        <h1>"My teams"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) => {
                        let home = page.home;
                        let intro = if home.estate_wide {
                            format!(
                                "Your role covers every team ({}); these are the {} lowest-scoring. Every team is on the Scorecards page.",
                                home.teams_total,
                                home.cards.len()
                            )
                        } else if home.cards.is_empty() {
                            "Your roles name no team. Ask whoever manages access in Drydock to map your identity provider group to a team.".into()
                        } else {
                            "Each card: your team's score and its last 30 days, what is late and what falls due this week.".into()
                        };
                        view! {
                            <p class="muted">{intro}" "<a href="/scorecards">"All scorecards"</a></p>
                            <div class="team-cards">
                                {home.cards.into_iter().zip(page.trend_svgs).map(|(c, svg)| view! { <Card c svg/> }).collect_view()}
                            </div>
                            <p class="muted small">{home.formula}</p>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Card(c: TeamCard, svg: Option<String>) -> impl IntoView {
    let key = path_segment(&c.team);
    let id = format!("card-{}", c.team);
    let labelled_by = id.clone();
    let change = c.score.zip(c.score_30_days_ago).map(|(now, then)| now - then);
    let trend = trend_text(&c.trend);
    let grade = c.grade.clone().unwrap_or_default();
    let failing = c.failing_policies.clone();
    view! {
        <article class="team-card" data-team=c.team.clone() data-score=score_attr(c.score) data-grade=grade data-overdue=c.items.overdue.to_string() aria-labelledby=labelled_by>
            <header class="team-card-head">
                <h2 id=id><a href=format!("/scorecards/{key}")>{c.team.clone()}</a></h2>
                <span class="card-score" title="score now">{score_text(c.score)}</span>
                <GradeBadge grade=c.grade.clone()/>
                <span class="muted" title="change in 30 days">{format!("{} in 30 days", change_text(change))}</span>
            </header>
            <figure class="spark">
                {svg.map(|svg| view! { <div role="img" aria-label=trend.clone() inner_html=svg></div> })}
                <figcaption class="sr-only">{trend.clone()}</figcaption>
            </figure>
            <p class="card-late">
                <a href="/overdue" class={if c.items.overdue > 0 { "late" } else { "" }}>{count(c.items.overdue, "item overdue", "items overdue")}</a>
                " · "{count(c.due_soon_total, "item due in 7 days", "items due in 7 days")}
                " · "{count(c.exceptions_pending, "exception request waits", "exception requests wait")}
            </p>
            <p class="small">"Campaign items: "{progress_bar(&c.items)}</p>
            <ItemTable caption="Overdue" items=c.overdue empty="Nothing is overdue."/>
            <ItemTable caption="Due in the next 7 days" items=c.due_soon empty="Nothing falls due this week."/>
            <h3>"Failing most"</h3>
            {if failing.is_empty() {
                view! { <p class="muted">"No policy fails."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {failing.into_iter().map(|p| view! {
                            <li>
                                <a href=format!("/scorecards/{key}?policy={}#failing", query_value(&p.policy))>{p.title.clone()}</a>
                                " — "{format!("{} of {} failing", p.failing, p.subjects)}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <footer class="card-links">
                <a href=format!("/scorecards/{key}")>"Scorecard"</a>
                <a href="/updates">"Required updates"</a>
                <a href=format!("/teams/{key}")>"Images"</a>
            </footer>
        </article>
    }
}

/// Items with image, campaign, deadline and the acknowledged plan.
#[component]
fn ItemTable(caption: &'static str, items: Vec<CampaignItem>, empty: &'static str) -> impl IntoView {
    if items.is_empty() {
        return view! { <h3>{caption}</h3><p class="muted">{empty}</p> }.into_any();
    }
    view! {
        <table class="data compact card-items">
            <caption>{caption}</caption>
            <thead><tr><th scope="col">"Image"</th><th scope="col">"Campaign"</th><th scope="col">"Deadline"</th><th scope="col">"Plan"</th></tr></thead>
            <tbody>
                {items.into_iter().map(|i| view! {
                    <tr>
                        <td><a href=format!("/images/{}", path_segment(&i.image)) title=i.image.clone()><code>{short_digest(&i.image)}</code></a></td>
                        <td><a href=format!("/campaigns/{}", i.campaign)>{i.campaign_title.clone()}</a></td>
                        <td class={if i.overdue { "bad" } else { "" }}>{i.deadline.clone()}</td>
                        <td>{match (i.planned.clone(), i.acknowledged_by.clone()) {
                            (Some(p), Some(by)) => format!("{p} ({by})"),
                            (Some(p), None) => p,
                            _ => "not acknowledged".into(),
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
