//! The shell every page shares: top bar, navigation, main region.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

const NAV: [(&str, &str); 4] = [
    ("/", "Overview"),
    ("/teams", "Teams"),
    ("/images", "Images"),
    ("/admin/ownership", "Ownership"),
];

/// Top bar, left navigation and the page's main content.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let current = move |href: &'static str| {
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
        <DemoBanner/>
        <div class="frame">
            <nav class="sidenav" aria-label="Main">
                <ul>
                    {NAV
                        .into_iter()
                        .map(|(href, label)| {
                            view! {
                                <li>
                                    <a
                                        href=href
                                        aria-current=move || current(href).then_some("page")
                                    >
                                        {label}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <main id="main" class="content">
                {children()}
            </main>
        </div>
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

/// A message for a failed load, with what to do next.
#[component]
pub fn LoadError(message: String) -> impl IntoView {
    view! {
        <div class="notice notice-error" role="alert">
            <h2>"This page could not be loaded"</h2>
            <p>{message}</p>
            <p>"Reload the page; if it keeps failing, check the server log."</p>
        </div>
    }
}

/// A banner on every page when the server runs with `--demo`.
#[component]
fn DemoBanner() -> impl IntoView {
    let info = Resource::new(|| (), |_| crate::server_fns::get_deployment());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                info.await.ok().filter(|i| i.demo).map(|_| view! {
                    <div class="demo-banner" role="status">
                        <strong>"Demo mode"</strong>
                        " — this estate is built from public scanner test reports; do not use it for real data."
                    </div>
                })
            })}
        </Suspense>
    }
}
