//! `/admin/roles`: which identity-provider groups give which role (and team). Admins add and
//! remove stored mappings with plain forms; configured ones (`DRYDOCK_GROUP_ROLES`) are listed too.

use super::components::RoleOptions;
use super::layout::LoadError;
use crate::server_fns::get_role_mappings;
use leptos::prelude::*;
use leptos_meta::Title;

/// The role-mapping page.
#[component]
pub fn RolesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_role_mappings());
    view! {
        <Title text="Role mapping"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(rows) => view! {
                        <h1>"Role mapping"</h1>
                        <p>"People get roles from their identity provider's groups. Developers and managers need a team. Changes apply to signed-in people within a minute and are recorded in the audit log; to sign someone out at once, end their sessions on the Users page."</p>
                        <h2>"Add a mapping"</h2>
                        <form method="post" action="/admin/roles" class="stacked" id="add-mapping">
                            <label for="map-group">"Group"</label>
                            <input id="map-group" name="group" required/>
                            <label for="map-role">"Role"</label>
                            <select id="map-role" name="role"><RoleOptions with_ingest=false/></select>
                            <label for="map-team">"Team"</label>
                            <input id="map-team" name="team"/>
                            <button type="submit">"Add mapping"</button>
                        </form>
                        <h2>"Mappings"</h2>
                        <table class="data" id="mappings">
                            <thead><tr>
                                <th scope="col">"Group"</th><th scope="col">"Role"</th><th scope="col">"Team"</th>
                                <th scope="col">"Source"</th><th scope="col">""</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|m| view! {
                                    <tr>
                                        <td><code>{m.group.clone()}</code></td>
                                        <td>{m.role.clone()}</td>
                                        <td>{m.team.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td class="small">{m.source.clone()}</td>
                                        <td>{m.id.map(|id| view! {
                                            <form method="post" action=format!("/admin/roles/{id}/delete") class="inline">
                                                <button type="submit" class="button-secondary">{format!("Remove {}", m.group)}</button>
                                            </form>
                                        })}</td>
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
