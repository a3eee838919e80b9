//! `/risk`: "fix these first" — vulnerabilities ranked by exposure (running instances weighted by
//! environment, KEV, EPSS, severity), with the formula on the page. A GET form picks one team.

use super::layout::LoadError;
use crate::format::{count, date, query_value};
use crate::server_fns::get_risk;
use crate::types::RiskItem;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn RiskPage() -> impl IntoView {
    let query = use_query_map();
    let team = move || query.read().get("team").filter(|t| !t.is_empty());
    let data = Resource::new(team, get_risk);
    view! {
        <Title text="Fix these first"/>
        <h1>"Fix these first"</h1>
        <form method="get" class="filter" role="search">
            <label for="risk-team">"Team"</label>
            <input id="risk-team" name="team" type="search" placeholder="every team you may see" prop:value=move || team().unwrap_or_default()/>
            <button type="submit" class="button-secondary">"Show"</button>
        </form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) => {
                        let scope = if list.teams.is_empty() { "the estate".to_string() } else { list.teams.join(", ") };
                        let when = list.ranked_at.as_ref().map(|t| format!("Ranked {}.", date(t))).unwrap_or_else(|| "Not ranked yet: the ranking job runs within a minute of a change.".into());
                        view! {
                            <p>{format!("{} of {scope}, the highest score first. {when}", count(list.total, "ranked vulnerability", "ranked vulnerabilities"))}</p>
                            <details class="formula" open>
                                <summary>"How the score is computed"</summary>
                                <p id="risk-formula">{list.formula.clone()}</p>
                            </details>
                            <RiskTable items=list.items/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn RiskTable(items: Vec<RiskItem>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted">"No open vulnerability is ranked."</p> }.into_any();
    }
    view! {
        <table class="data" id="risk">
            <thead><tr>
                <th scope="col" class="num">"#"</th><th scope="col">"Vulnerability"</th><th scope="col" class="num">"Score"</th>
                <th scope="col">"Severity"</th><th scope="col">"KEV"</th><th scope="col" class="num">"EPSS"</th>
                <th scope="col" class="num">"Images"</th><th scope="col" class="num">"Running"</th>
                <th scope="col">"Where"</th><th scope="col">"Teams"</th>
            </tr></thead>
            <tbody>
                {items.into_iter().enumerate().map(|(i, r)| view! {
                    <tr data-vulnerability=r.vulnerability.clone() data-score=format!("{:.2}", r.score)>
                        <td class="num">{i + 1}</td>
                        <th scope="row"><a href=format!("/search?cve={}", query_value(&r.vulnerability))>{r.vulnerability.clone()}</a></th>
                        <td class="num">{format!("{:.1}", r.score)}</td>
                        <td><span class=format!("sev sev-{}", r.severity)>{r.severity.clone()}</span></td>
                        <td>{r.kev.then(|| view! { <span class="sev sev-critical" title="In CISA's Known Exploited Vulnerabilities catalogue">"KEV"</span> })}</td>
                        <td class="num">{r.epss.map(|e| format!("{:.1}%", e * 100.0)).unwrap_or_else(|| "—".into())}</td>
                        <td class="num">{r.images}</td>
                        <td class="num">{r.instances}</td>
                        <td class="small">{r.environments.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ")}</td>
                        <td class="small">{r.teams.join(", ")}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
