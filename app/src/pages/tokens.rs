//! `/admin/tokens`: API tokens for security and admin. Creating and revoking are plain forms
//! (they work without JavaScript); a new token's secret is shown once, on the page that follows.

use super::components::RoleOptions;
use super::layout::LoadError;
use crate::format::date;
use crate::server_fns::get_tokens;
use leptos::prelude::*;
use leptos_meta::Title;

/// What an ingest token may post besides scans, in words.
fn bindings(t: &crate::types::ApiToken) -> String {
    if t.role != "ingest" {
        return "—".into();
    }
    let mut parts = vec!["scans".to_string()];
    if !t.clusters.is_empty() {
        parts.push(format!("clusters {}", t.clusters.join(", ")));
    }
    if !t.registries.is_empty() {
        parts.push(format!("registries {}", t.registries.join(", ")));
    }
    parts.join("; ")
}

/// The tokens page.
#[component]
pub fn TokensPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_tokens());
    view! {
        <Title text="API tokens"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(tokens) => view! {
                        <h1>"API tokens"</h1>
                        <p>"Scanners, collectors and scripts authenticate with a bearer token. Only a hash is stored; the secret is shown once, when the token is created. Security creates ingest tokens; admins create any role."</p>
                        <h2>"Create a token"</h2>
                        <form method="post" action="/admin/tokens" class="stacked" id="create-token">
                            <label for="token-name">"Name"</label>
                            <input id="token-name" name="name" required maxlength="100"/>
                            <label for="token-role">"Role"</label>
                            <select id="token-role" name="role"><RoleOptions with_ingest=true/></select>
                            <label for="token-team">"Team (optional)"</label>
                            <input id="token-team" name="team"/>
                            <label for="token-clusters">"Ingest: clusters it may post pods, nodes and audit events for (comma separated)"</label>
                            <input id="token-clusters" name="clusters" placeholder="prod-eu, staging"/>
                            <label for="token-registries">"Ingest: registries whose notifications it may post (comma separated)"</label>
                            <input id="token-registries" name="registries"/>
                            <button type="submit">"Create token"</button>
                        </form>
                        <h2>"Tokens"</h2>
                        <table class="data" id="tokens">
                            <thead><tr>
                                <th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Team"</th><th scope="col">"May post for"</th>
                                <th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"State"</th>
                            </tr></thead>
                            <tbody>
                                {tokens.into_iter().map(|t| view! {
                                    <tr>
                                        <td>{t.name.clone()}</td>
                                        <td>{t.role.clone()}</td>
                                        <td>{t.team.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{bindings(&t)}</td>
                                        <td>{date(&t.created_at)} " by " {t.created_by.clone()}</td>
                                        <td>{t.last_used_at.as_ref().map(date).unwrap_or_else(|| "never".into())}</td>
                                        <td>{match t.revoked_at {
                                            Some(r) => view! { <span class="label">{format!("revoked {}", date(&r))}</span> }.into_any(),
                                            None => view! {
                                                <form method="post" action=format!("/admin/tokens/{}/revoke", t.id) class="inline">
                                                    <button type="submit" class="button-secondary">{format!("Revoke {}", t.name)}</button>
                                                </form>
                                            }.into_any(),
                                        }}</td>
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
