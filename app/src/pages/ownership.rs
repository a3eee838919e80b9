//! `/admin/ownership`: the rules that decide which team owns which image.

use super::layout::LoadError;
use crate::format::{date, path_segment};
use crate::server_fns::get_ownership_rules;
use leptos::prelude::*;
use leptos_meta::Title;

/// The ownership rules, with how many images each one decides.
#[component]
pub fn OwnershipPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_ownership_rules());
    view! {
        <Title text="Ownership rules"/>
        <h1>"Ownership rules"</h1>
        <p>
            "A rule gives a team every image in a repository under a path prefix (whole path segments: "
            <code>"docker.io/acme"</code> " matches " <code>"docker.io/acme/api"</code> ", not "
            <code>"docker.io/acme-labs/api"</code>
            "). The longest matching prefix wins. Images no rule matches are shown as unowned, never hidden. "
            "What runs in a cluster belongs to the team of a matching pod-label rule (" <code>"team=payments"</code>
            "), else of a namespace rule, else to its image's owner. "
            "Admins add rules with " <code>"POST /api/v1/ownership-rules"</code> "."
        </p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(rules) if rules.is_empty() => view! {
                        <p class="empty">"No rules yet: every image is unowned."</p>
                    }.into_any(),
                    Ok(rules) => view! {
                        <table class="data" id="rules">
                            <thead>
                                <tr>
                                    <th scope="col">"Kind"</th>
                                    <th scope="col">"Pattern"</th>
                                    <th scope="col">"Team"</th>
                                    <th scope="col" class="num">"Images or containers decided"</th>
                                    <th scope="col">"Created"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rules.into_iter().map(|r| view! {
                                    <tr>
                                        <td>{match r.kind {
                                            crate::types::RuleKind::RepositoryPrefix => "repository prefix",
                                            crate::types::RuleKind::Namespace => "namespace",
                                            crate::types::RuleKind::Label => "pod label",
                                        }}</td>
                                        <td><code>{r.pattern}</code></td>
                                        <td><a href=format!("/teams/{}", path_segment(&r.team))>{r.team.clone()}</a></td>
                                        <td class="num">{r.images}</td>
                                        <td>{date(&r.created_at)} " by " {r.created_by}</td>
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
