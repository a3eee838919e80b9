//! `/admin/users`: the people who signed in, with their live sessions; an admin ends a person's
//! sessions with a plain form (e.g. after removing them from a group).

use super::layout::LoadError;
use crate::format::date;
use crate::server_fns::get_users;
use leptos::prelude::*;
use leptos_meta::Title;

/// The users page (admin).
#[component]
pub fn UsersPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_users());
    view! {
        <Title text="Users"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(users) => view! {
                        <h1>"Users"</h1>
                        <p>"Everyone who signed in. Roles come from identity-provider groups and follow changes to the role mapping within a minute; ending a person's sessions signs them out everywhere at once. Each end is recorded in the ledger."</p>
                        <table class="data" id="users">
                            <thead><tr>
                                <th scope="col">"Person"</th><th scope="col">"Subject"</th><th scope="col">"First seen"</th>
                                <th scope="col">"Last seen"</th><th scope="col">"Live sessions"</th><th scope="col">""</th>
                            </tr></thead>
                            <tbody>
                                {users.into_iter().map(|u| {
                                    let who = u.login.clone().or(u.name.clone()).or(u.email.clone()).unwrap_or_else(|| u.subject.clone());
                                    view! {
                                        <tr>
                                            <td>{who.clone()}</td>
                                            <td><code class="small">{u.subject.clone()}</code></td>
                                            <td>{date(&u.first_seen)}</td>
                                            <td>{date(&u.last_seen)}</td>
                                            <td class="num">{u.sessions}</td>
                                            <td>{(u.sessions > 0).then(|| view! {
                                                <form method="post" action="/admin/users/end-sessions" class="inline">
                                                    <input type="hidden" name="subject" value=u.subject.clone()/>
                                                    <button type="submit" class="button-secondary">{format!("End {who}'s sessions")}</button>
                                                </form>
                                            })}</td>
                                        </tr>
                                    }
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
