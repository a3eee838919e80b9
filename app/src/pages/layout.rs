//! The shell every page shares: top bar, navigation, main region.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

/// Top bar, left navigation and the page's main content.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let current = move |href: &str| {
        let path = location.pathname.get();
        if href == "/" {
            path == "/"
        } else {
            path == href || path.starts_with(&format!("{href}/"))
        }
    };
    // Runs only in the browser, once hydration has attached the page: end-to-end tests and
    // styles can tell a live page from server-rendered HTML.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"⚓"</span>
                "Drydock"
            </a>
            <span class="tagline">"what runs, who owns it, what must be patched"</span>
        </header>
        <SessionBar/>
        <div class="frame">
            <nav class="sidenav" aria-label="Main">
                <NavLinks current/>
            </nav>
            <main id="main" class="content">
                {children()}
            </main>
        </div>
    }
}

/// The links the viewer's roles may use (the server decides them from the RBAC specification).
#[component]
fn NavLinks(current: impl Fn(&str) -> bool + Copy + Send + Sync + 'static) -> impl IntoView {
    let info = Resource::new(|| (), |_| crate::server_fns::get_deployment());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let nav = info.await.map(|i| i.nav).unwrap_or_default();
                view! {
                    <ul>
                        {nav.into_iter().map(|(href, label)| {
                            let here = href.clone();
                            view! { <li><a href=href aria-current=move || current(&here).then_some("page")>{label}</a></li> }
                        }).collect_view()}
                    </ul>
                }
            })}
        </Suspense>
    }
}

/// The page for an unknown URL.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <h1>"Page not found"</h1>
        <p>"Nothing lives at this address. Start from the " <a href="/">"overview"</a> "."</p>
    }
}

fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(resp), Ok(code)) = (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(_code)) {
        resp.set_status(code);
    }
}

/// A failed load: a refusal (403), a missing sign-in (401) or a failure, each with what to do.
#[component]
pub fn LoadError(error: crate::error::Error) -> impl IntoView {
    use crate::error::Error;
    let message = error.to_string();
    if matches!(error, Error::Forbidden(_)) {
        set_status(403);
        view! {
            <Title text="Not allowed"/>
            <div class="notice notice-error" role="alert" id="forbidden">
                <h1>"You may not see this page"</h1>
                <p>{message}</p>
                <p>"Your role comes from your identity provider's groups; ask a Drydock admin if you need more access. "
                   <a href="/">"Back to the overview"</a></p>
            </div>
        }
        .into_any()
    } else if matches!(error, Error::Unauthenticated(_)) {
        set_status(401);
        view! {
            <Title text="Sign in"/>
            <div class="notice" role="alert">
                <h1>"Sign in to see this page"</h1>
                <p><a href="/auth/login">"Sign in"</a></p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <super::plain::ErrorNotice>
                <h2>"This page could not be loaded"</h2>
                <p>{message}</p>
                <p>"Reload the page; if it keeps failing, check the server log."</p>
            </super::plain::ErrorNotice>
        }
        .into_any()
    }
}

/// Who is signed in, the demo banner, and the messages for "no role" and "sign-in not
/// configured", on every page.
#[component]
fn SessionBar() -> impl IntoView {
    use crate::types::SignInMode;
    let info = Resource::new(|| (), |_| crate::server_fns::get_deployment());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(i) = info.await else { return ().into_any() };
                let demo = i.demo.then(|| view! {
                    <div class="demo-banner" role="status">
                        <strong>"Demo mode"</strong>
                        " — this estate is built from public scanner test reports; sign-in is a role picker. Do not use it for real data."
                    </div>
                });
                let who = match (&i.user, i.sign_in) {
                    (Some(u), _) => view! {
                        <div class="whoami">
                            <span>"Signed in as " <strong id="whoami-user">{u.clone()}</strong>
                                {(!i.roles.is_empty()).then(|| format!(" · {}", i.roles.join(", ")))}
                            </span>
                            <form method="post" action="/auth/logout" class="inline">
                                <button type="submit" class="button-secondary">"Sign out"</button>
                            </form>
                        </div>
                    }.into_any(),
                    (None, SignInMode::None) => ().into_any(),
                    (None, _) => view! { <div class="whoami"><a href="/auth/login">"Sign in"</a></div> }.into_any(),
                };
                let no_role = (i.user.is_some() && i.roles.is_empty()).then(|| view! {
                    <div class="notice" role="status" id="no-role">
                        <strong>{format!("{}, you are signed in but have no role in Drydock yet.", i.user.clone().unwrap_or_default())}</strong>
                        " Your identity provider's groups map to no role. Ask " {i.access_contact.clone()}
                        " to add one of your groups to Drydock's group mapping."
                    </div>
                });
                let not_configured = (i.sign_in == SignInMode::None).then(|| view! {
                    <div class="notice" role="status" id="sign-in-not-configured">
                        <strong>"Sign-in is not configured."</strong>
                        " Set DRYDOCK_OIDC_ISSUER, DRYDOCK_OIDC_CLIENT_ID, DRYDOCK_OIDC_CLIENT_SECRET and DRYDOCK_PUBLIC_URL"
                        " (and DRYDOCK_GROUP_ROLES), or run with --demo to try Drydock. The API works with tokens meanwhile."
                    </div>
                });
                view! { {demo} {who} {no_role} {not_configured} }.into_any()
            })}
        </Suspense>
    }
}
