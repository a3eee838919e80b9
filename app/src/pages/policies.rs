//! `/policies`: what the estate is judged by, each policy with its parameters, scope and how many
//! subjects fail it; security edits them with plain forms; admins add environment rules.

use super::layout::LoadError;
use super::policy_form::ParamFields;
use crate::format::date;
use crate::server_fns::get_policies;
use crate::types::PolicyView;
use leptos::prelude::*;
use leptos_meta::Title;

fn policy_row(p: PolicyView, may_edit: bool) -> impl IntoView {
    let params = if p.params.is_null() { String::new() } else { serde_json::to_string_pretty(&p.params).unwrap_or_default() };
    let id = p.id.clone();
    view! {
        <section class="card" id=format!("policy-{}", p.id)>
            <h2>{p.title.clone()}</h2>
            <dl class="facts">
                <dt>"Judges"</dt><dd>{format!("{}s", p.subject)}</dd>
                <dt>"In force"</dt><dd>{if p.enabled { format!("yes, scope {}", p.scope) } else { "no".into() }}</dd>
                <dt>"Last evaluation"</dt><dd>{format!("{} judged, {} failing", p.subjects, p.failing)}</dd>
                <dt>"Changed"</dt><dd>{match (&p.updated_at, &p.updated_by) { (Some(t), Some(by)) => format!("{} by {by}", date(t)), _ => "defaults".into() }}</dd>
            </dl>
            {if may_edit {
                view! {
                    <form method="post" action=format!("/admin/policies/{id}") class="stacked policy-form">
                        <label class="span"><input type="checkbox" name="enabled" checked=p.enabled/>" in force"</label>
                        <label for=format!("scope-{id}")>"Scope (all, team:NAME, namespace:NAME, environment:NAME)"</label>
                        <input id=format!("scope-{id}") name="scope" value=p.scope.clone()/>
                        <ParamFields id=id.clone() params=p.params.clone()/>
                        <button type="submit">"Save"</button>
                    </form>
                }.into_any()
            } else {
                view! { {(!p.params.is_null()).then(|| view! { <pre class="small">{params.clone()}</pre> })} }.into_any()
            }}
        </section>
    }
}

/// The Policies page.
#[component]
pub fn PoliciesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_policies());
    view! {
        <Title text="Policies"/>
        <h1>"Policies"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) => {
                        let may_edit = page.may_edit;
                        view! {
                            <p class="muted">"Every change is recorded in the ledger; the estate is judged again at once."</p>
                            {page.policies.into_iter().map(|p| policy_row(p, may_edit)).collect_view()}
                            <section class="card" id="environments">
                                <h2>"Environments"</h2>
                                <table class="data">
                                    <thead><tr><th scope="col">"Cluster"</th><th scope="col">"Namespace"</th><th scope="col">"Environment"</th>
                                        <th scope="col">"Production"</th><th scope="col">"Internet-facing"</th></tr></thead>
                                    <tbody>
                                        {page.environments.into_iter().map(|e| view! {
                                            <tr><td>{e.cluster}</td><td><code>{e.namespace}</code></td><td>{e.environment}</td>
                                                <td>{if e.production { "yes" } else { "no" }}</td><td>{if e.internet_facing { "yes" } else { "no" }}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {page.may_edit_environments.then(|| view! {
                                    <form method="post" action="/admin/environments" class="stacked">
                                        <label for="env-cluster">"Cluster (* for every cluster)"</label>
                                        <input id="env-cluster" name="cluster" required/>
                                        <label for="env-namespace">"Namespace (a name or a pattern with *)"</label>
                                        <input id="env-namespace" name="namespace" required/>
                                        <label for="env-name">"Environment"</label>
                                        <input id="env-name" name="environment" required/>
                                        <label><input type="checkbox" name="production"/>" production"</label>
                                        <label><input type="checkbox" name="internet_facing"/>" internet-facing"</label>
                                        <button type="submit">"Add environment rule"</button>
                                    </form>
                                })}
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
