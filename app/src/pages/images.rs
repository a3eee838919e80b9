//! `/images`: every image in a stable order, paginated through the URL.

use super::components::{ImageLink, SeverityCells, SeverityHeaders, TeamLink};
use super::layout::LoadError;
use crate::server_fns::get_images;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const PAGE: i64 = 50;

/// The image list.
#[component]
pub fn ImagesPage() -> impl IntoView {
    let query = use_query_map();
    let offset = move || query.read().get("offset").and_then(|o| o.parse::<i64>().ok()).unwrap_or(0).max(0);
    let data = Resource::new(offset, |o| get_images(PAGE, o));
    view! {
        <Title text="Images"/>
        <h1>"Images"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let off = offset();
                match data.await {
                    Ok(page) => view! {
                        <p class="muted">{format!("{} images", page.total)}</p>
                        <table class="data" id="images">
                            <thead>
                                <tr>
                                    <th scope="col">"Image"</th>
                                    <th scope="col">"Team"</th>
                                    <th scope="col">"OS"</th>
                                    <SeverityHeaders/>
                                    <th scope="col">"Last scanned"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {page.items.into_iter().map(|i| {
                                    let team = i.team.clone();
                                    let os = i.os.clone().unwrap_or_else(|| "—".into());
                                    let counts = i.findings;
                                    let scanned = i.scan_status_text();
                                    view! {
                                        <tr>
                                            <td><ImageLink image=i/></td>
                                            <td><TeamLink team/></td>
                                            <td>{os}</td>
                                            <SeverityCells counts/>
                                            <td>{scanned}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <nav class="pager" aria-label="Pages">
                            {(off > 0).then(|| view! { <a href=format!("/images?offset={}", (off - PAGE).max(0))>"← Previous"</a> })}
                            {(off + PAGE < page.total).then(|| view! { <a href=format!("/images?offset={}", off + PAGE)>"Next →"</a> })}
                        </nav>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
