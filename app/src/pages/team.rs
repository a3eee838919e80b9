//! `/teams/:name`: one team's images, worst first.

use super::components::{ImageLink, Pager, SeverityBar, SeverityCells, SeverityHeaders, Stat};
use super::layout::{LoadError, NotFound};
use crate::format::path_segment;
use crate::server_fns::get_team;
use crate::types::TeamView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Images per page.
const PAGE: i64 = 50;

/// The team page.
#[component]
pub fn TeamPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let asked = move || {
        let offset = query.read().get("offset").and_then(|o| o.parse::<i64>().ok()).unwrap_or(0).max(0);
        (params.read().get("name").unwrap_or_default(), offset)
    };
    let data = Resource::new(asked, |(name, offset)| get_team(name, Some(PAGE), Some(offset)));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(t)) => view! { <TeamBody t/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TeamBody(t: TeamView) -> impl IntoView {
    let team = t.team;
    let href = format!("/teams/{}", path_segment(&team.name));
    view! {
        <Title text=team.display_name.clone()/>
        <p class="breadcrumb"><a href="/teams">"Teams"</a> " / "</p>
        <h1>{team.display_name.clone()}</h1>
        <section class="stats" aria-label="Team numbers">
            <Stat label="images" value=team.images href=href.clone()/>
            <Stat label="open critical" value=team.findings.critical href=href.clone() tone="stat-critical"/>
            <Stat label="open high" value=team.findings.high href=href.clone() tone="stat-high"/>
            <Stat label="open findings" value=team.findings.total() href=href.clone()/>
        </section>
        <SeverityBar counts=team.findings/>
        <h2>"Images, worst first"</h2>
        {if t.total == 0 {
            view! {
                <p class="empty">
                    "No image is owned by this team yet. Ownership comes from the rules on the "
                    <a href="/admin/ownership">"ownership page"</a> "."
                </p>
            }
                .into_any()
        } else {
            let base = href.clone();
            let link = move |o: i64| format!("{base}?offset={o}");
            let shown = t.images.len();
            view! {
                <Pager id="team-pager" offset=t.offset shown total=t.total page=PAGE link/>
                <table class="data" id="team-images">
                    <thead>
                        <tr>
                            <th scope="col">"Image"</th>
                            <th scope="col">"OS"</th>
                            <SeverityHeaders/>
                            <th scope="col">"Last scanned"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {t.images
                            .into_iter()
                            .map(|i| {
                                let os = i.os.clone().unwrap_or_else(|| "—".into());
                                let scanned = i.scan_status_text();
                                let counts = i.findings;
                                view! {
                                    <tr>
                                        <td><ImageLink image=i/></td>
                                        <td>{os}</td>
                                        <SeverityCells counts/>
                                        <td>{scanned}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
                .into_any()
        }}
    }
}
