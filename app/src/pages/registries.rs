//! `/registries`: every configured registry with its collection status and repositories, and
//! `/repository?name=HOST/NAME`: a repository's tags, what each points at, and who pushed.

use super::components::{ImageLink, TeamLink};
use super::layout::{LoadError, NotFound};
use crate::format::date;
use crate::server_fns::{get_deployment, get_registries, get_repository};
use crate::types::{ImageSummary, RegistryOverview, RepositoryView, SignatureState};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.as_ref().map(date).unwrap_or_else(|| "never".into())
}

/// "verified (team.pub)", "present: why", "none".
#[component]
pub fn SignatureCell(image: ImageSummary) -> impl IntoView {
    let (class, text) = match image.signed {
        SignatureState::Verified => ("ok", format!("verified ({})", image.signature_detail.unwrap_or_default())),
        SignatureState::Present => ("warn", format!("not verified: {}", image.signature_detail.unwrap_or_default())),
        SignatureState::None => ("muted", "not signed".to_string()),
    };
    view! { <td class=class>{text}</td> }
}

/// The platform, or an index's platforms.
pub fn platform_text(i: &ImageSummary) -> String {
    if i.is_index {
        let ps: Vec<&str> = i.platforms.iter().map(|p| p.platform.as_str()).collect();
        format!("index: {}", ps.join(", "))
    } else {
        i.platform.clone().unwrap_or_else(|| "—".into())
    }
}

fn promotion_text(i: &ImageSummary) -> String {
    match (&i.promotion.value, i.promotion.mode.as_str()) {
        (Some(v), "label") => v.clone(),
        (Some(_), _) => "promoted (repository)".into(),
        (None, _) => "—".into(),
    }
}

fn registry_card(o: RegistryOverview, admin: bool) -> impl IntoView {
    let r = o.registry;
    let s = r.status;
    let failing = s.last_error.is_some();
    let state = if failing {
        format!("failing ({} in a row), next try {}", s.failures, when(s.next_attempt))
    } else if s.last_success.is_some() {
        "ok".to_string()
    } else {
        "not collected yet".to_string()
    };
    let auth = match (&r.username, &r.password_env) {
        (Some(u), Some(v)) => format!("user {u}, password from ${v}"),
        (Some(u), None) => format!("user {u}"),
        _ => "anonymous or token".into(),
    };
    view! {
        <section class="card" aria-labelledby=format!("reg-{}", r.name)>
            <h2 id=format!("reg-{}", r.name)>{r.name.clone()}</h2>
            <dl class="facts">
                <dt>"URL"</dt><dd><code>{r.url.clone()}</code></dd>
                <dt>"Approved"</dt><dd>{if r.approved { "yes: on the approved list" } else { "no" }}</dd>
                <dt>"Authentication"</dt><dd>{auth}{r.has_ca.then_some(", custom CA")}{r.insecure.then_some(", insecure http allowed")}</dd>
                <dt>"Status"</dt><dd class=if failing { "bad" } else { "ok" }>{state}</dd>
                <dt>"Last success"</dt><dd>{when(s.last_success)}</dd>
                <dt>"Counts"</dt><dd>{format!("{} repositories, {} tags, {} manifests", s.repositories, s.tags, s.manifests)}</dd>
            </dl>
            {s.last_error.map(|e| view! { <p class="error" role="status">"Last error: " {e}</p> })}
            {admin.then(|| view! {
                <form method="post" action=format!("/admin/registries/{}/approval", r.name) class="inline">
                    <input type="hidden" name="approved" value=if r.approved { "0" } else { "1" }/>
                    <button type="submit" class="button-secondary">
                        {if r.approved { format!("Remove {} from the approved list", r.name) } else { format!("Approve {}", r.name) }}
                    </button>
                </form>
            })}
            <table class="data">
                <caption>"Repositories"</caption>
                <thead><tr>
                    <th scope="col">"Repository"</th><th scope="col">"Tags"</th><th scope="col">"Images"</th>
                    <th scope="col">"Last push"</th><th scope="col">"Collected"</th>
                </tr></thead>
                <tbody>
                    {o.repositories.into_iter().map(|repo| {
                        let href = format!("/repository?name={}", crate::format::query_value(&repo.repository));
                        let push = match (repo.last_push, repo.last_push_by) {
                            (Some(t), Some(by)) => format!("{} by {by}", date(&t)),
                            (Some(t), None) => format!("{} (anonymous)", date(&t)),
                            _ => "—".into(),
                        };
                        view! {
                            <tr>
                                <td><a href=href>{repo.repository}</a></td>
                                <td class="num">{repo.tags}</td>
                                <td class="num">{repo.images}</td>
                                <td>{push}</td>
                                <td>{when(repo.collected_at)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The Registries page.
#[component]
pub fn RegistriesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_registries());
    let who = Resource::new(|| (), |_| get_deployment());
    view! {
        <Title text="Registries"/>
        <h1>"Registries"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = who.await.map(|d| d.may_configure).unwrap_or(false);
                match data.await {
                    Ok(list) => view! {
                        {if list.is_empty() {
                            view! { <p>"No registry is configured. An admin adds one here, with "
                                <code>"drydock registry add NAME URL"</code> " or with " <code>"POST /api/v1/registries"</code> "."</p> }.into_any()
                        } else {
                            view! { <p class="muted">{format!("{} registries; {} approved", list.len(), list.iter().filter(|o| o.registry.approved).count())}</p> }.into_any()
                        }}
                        {list.into_iter().map(|o| registry_card(o, admin)).collect_view()}
                        {admin.then(add_form)}
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The admin's form to add a registry (works without JavaScript).
fn add_form() -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Add a registry"</h2>
            <form method="post" action="/admin/registries" class="stacked" id="add-registry">
                <label for="reg-name">"Name"</label>
                <input id="reg-name" name="name" required pattern="[A-Za-z0-9._-]{1,64}"/>
                <label for="reg-url">"Base URL"</label>
                <input id="reg-url" name="url" type="url" required placeholder="https://registry.example.com"/>
                <label for="reg-user">"User name (optional)"</label>
                <input id="reg-user" name="username" autocomplete="off"/>
                <label for="reg-pw">"Environment variable holding the password or token (optional; the secret is never stored)"</label>
                <input id="reg-pw" name="password_env" autocomplete="off" pattern="[A-Za-z0-9_]+"/>
                <label for="reg-repos">"Repositories to read if the registry has no catalog (one per line)"</label>
                <textarea id="reg-repos" name="repositories" rows="3"></textarea>
                <label for="reg-ca">"CA certificates (PEM, optional)"</label>
                <textarea id="reg-ca" name="ca_pem" rows="3"></textarea>
                <label class="check"><input type="checkbox" name="approved" value="1"/>" Approved registry"</label>
                <label class="check"><input type="checkbox" name="insecure" value="1"/>" Allow plain http:// (not loopback)"</label>
                <button type="submit">"Add registry"</button>
            </form>
        </section>
    }
}

fn repository_body(v: RepositoryView) -> impl IntoView {
    view! {
        <Title text=v.repository.clone()/>
        <h1>{v.repository.clone()}</h1>
        <p class="muted">{match &v.registry {
            Some(r) => format!("Collected from registry {r}; {} tags", v.tags.len()),
            None => format!("Known from scanner reports only; {} tags", v.tags.len()),
        }}</p>
        <table class="data" id="tags">
            <thead><tr>
                <th scope="col">"Tag"</th><th scope="col">"Image"</th><th scope="col">"Platform"</th>
                <th scope="col">"Team"</th><th scope="col">"Promotion"</th><th scope="col">"Signature"</th>
                <th scope="col">"Scan"</th><th scope="col">"Last push"</th>
            </tr></thead>
            <tbody>
                {v.tags.into_iter().map(|t| {
                    let platform = platform_text(&t.image);
                    let promotion = promotion_text(&t.image);
                    let scan = t.image.scan_status_text();
                    let team = t.image.team.clone();
                    let push = match (t.last_push, t.last_push_by) {
                        (Some(at), Some(by)) => format!("{} by {by}", date(&at)),
                        (Some(at), None) => format!("{} (anonymous)", date(&at)),
                        _ => format!("tag seen {}", date(&t.updated_at)),
                    };
                    view! {
                        <tr>
                            <th scope="row">{t.tag}</th>
                            <td><ImageLink image=t.image.clone()/></td>
                            <td>{platform}</td>
                            <td><TeamLink team/></td>
                            <td>{promotion}</td>
                            <SignatureCell image=t.image/>
                            <td>{scan}</td>
                            <td>{push}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {(!v.events.is_empty()).then(|| view! {
            <h2>"Pushes and deletions"</h2>
            <table class="data" id="pushes">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Action"</th><th scope="col">"Tag"</th>
                    <th scope="col">"Digest"</th><th scope="col">"Who"</th><th scope="col">"From"</th></tr></thead>
                <tbody>
                    {v.events.into_iter().map(|e| view! {
                        <tr>
                            <td>{date(&e.happened_at)}</td>
                            <td>{e.action}</td>
                            <td>{e.tag.unwrap_or_else(|| "—".into())}</td>
                            <td><code>{e.digest.as_deref().map(crate::format::short_digest).unwrap_or_else(|| "—".into())}</code></td>
                            <td>{e.actor.unwrap_or_else(|| "anonymous".into())}</td>
                            <td>{e.source_addr.unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

/// The Repository page.
#[component]
pub fn RepositoryPage() -> impl IntoView {
    let query = use_query_map();
    let name = move || query.read().get("name").unwrap_or_default();
    let data = Resource::new(name, get_repository);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(v)) => repository_body(v).into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
