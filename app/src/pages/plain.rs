//! The pages a form handler answers with outside the app's router — a new token's secret, a
//! refused or failed form with the way back, sign-out, the demo role picker, a refused
//! cross-site request — as components: one frame, the pages' own notice, every text escaped by
//! the renderer. The server renders them with [`render`].

use leptos::prelude::*;

/// Drydock's top bar and stylesheet around `children`, under a heading of `title`.
#[component]
pub fn PlainPage(title: String, children: Children) -> impl IntoView {
    view! {
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{format!("{title} · Drydock")}</title>
                <link rel="stylesheet" href="/pkg/drydock.css"/>
                <link rel="icon" href="/favicon.svg"/>
            </head>
            <body>
                <header class="topbar">
                    <a class="brand" href="/">
                        <span class="brand-mark" aria-hidden="true">"⚓"</span>
                        "Drydock"
                    </a>
                </header>
                <main class="content narrow">
                    <h1>{title}</h1>
                    {children()}
                </main>
            </body>
        </html>
    }
}

/// What went wrong, as every page shows it (also the pages' failed loads).
#[component]
pub fn ErrorNotice(children: Children) -> impl IntoView {
    view! { <div class="notice notice-error" role="alert">{children()}</div> }
}

/// A refused or failed form: why, and the way back to the page it came from.
#[component]
pub fn Refusal(message: String, back_href: String, back_label: String) -> impl IntoView {
    view! {
        <PlainPage title="Not done".to_string()>
            <ErrorNotice><p>{message}</p></ErrorNotice>
            <p><a href=back_href>{format!("Back to {back_label}")}</a></p>
        </PlainPage>
    }
}

/// A sign-in that cannot go on (demo sign-in off, an unknown demo role).
#[component]
pub fn SignInRefused(message: String) -> impl IntoView {
    view! {
        <PlainPage title="Sign-in".to_string()>
            <ErrorNotice><p>{message}</p></ErrorNotice>
            <p><a href="/">"Back to Drydock"</a></p>
        </PlainPage>
    }
}

/// A new API token's secret, shown once.
#[component]
pub fn TokenCreated(secret: String) -> impl IntoView {
    view! {
        <PlainPage title="Token created".to_string()>
            <p>"Copy the token now: it is shown only this once and Drydock keeps only its hash."</p>
            <p><code id="new-token">{secret}</code></p>
            <p><a href="/admin/tokens">"Back to API tokens"</a></p>
        </PlainPage>
    }
}

/// After signing out.
#[component]
pub fn SignedOut() -> impl IntoView {
    view! {
        <PlainPage title="Signed out".to_string()>
            <p>"You are signed out of Drydock."</p>
            <p><a href="/auth/login">"Sign in again"</a></p>
        </PlainPage>
    }
}

/// A change that did not come from a Drydock page.
#[component]
pub fn CrossSiteRefused() -> impl IntoView {
    view! {
        <PlainPage title="Request refused".to_string()>
            <p>
                "This change did not come from a Drydock page (its Origin or Referer is missing or foreign), "
                "so it was refused to protect you from cross-site request forgery."
            </p>
        </PlainPage>
    }
}

/// The database does not answer (a signed-in page could not read its session): try again.
#[component]
pub fn DatabaseUnavailable(retry_after: u32) -> impl IntoView {
    view! {
        <PlainPage title="Drydock cannot reach its database".to_string()>
            <p>
                "Drydock's database is not answering right now, so this page cannot be shown. "
                "Nothing you sent was lost: try again in " {retry_after} " seconds."
            </p>
        </PlainPage>
    }
}

/// The demo's role picker: one button per (role, label); each signs in and returns to `return_to`.
#[component]
pub fn DemoPicker(roles: Vec<(String, String)>, return_to: String) -> impl IntoView {
    view! {
        <PlainPage title="Demo sign-in".to_string()>
            <div class="demo-banner" role="status">
                <strong>"Demo mode"</strong>
                " — no identity provider; pick a role to look around."
            </div>
            <p>"Choose who to be. Each role sees what the same role would see with real sign-in."</p>
            {roles
                .into_iter()
                .map(|(role, label)| {
                    let return_to = return_to.clone();
                    view! {
                        <form method="post" action="/auth/demo" class="demo-role">
                            <input type="hidden" name="role" value=role/>
                            <input type="hidden" name="return_to" value=return_to/>
                            <button type="submit">{format!("Sign in as {label}")}</button>
                        </form>
                    }
                })
                .collect_view()}
        </PlainPage>
    }
}

/// The document a component renders to (server only).
#[cfg(feature = "ssr")]
pub fn render<V: IntoView + 'static>(page: impl FnOnce() -> V) -> String {
    let owner = Owner::new();
    let html = owner.with(|| page().into_view().to_html());
    format!("<!DOCTYPE html>{html}")
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_in_the_title_the_body_and_attributes() {
        let html = render(|| view! { <Refusal message="<b>x</b>".into() back_href="/a\"b".into() back_label="<i>".into()/> });
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"), "{html}");
        assert!(html.contains("<title>Not done · Drydock</title>"), "{html}");
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;") && !html.contains("<b>x"), "{html}");
        assert!(!html.contains("href=\"/a\"b\""), "{html}");
        assert!(html.contains("Back to &lt;i&gt;"), "{html}");
        let page = render(|| view! { <PlainPage title="</title><script>".into()>"x"</PlainPage> });
        assert!(!page.contains("</title><script>"), "{page}");
    }

    #[test]
    fn the_demo_picker_offers_each_role_with_the_return_address() {
        let html = render(|| {
            view! { <DemoPicker roles=vec![("viewer".into(), "viewer".into()), ("developer".into(), "developer of team payments".into())] return_to="/x?a=1&b=2".into()/> }
        });
        assert_eq!(html.matches("class=\"demo-role\"").count(), 2, "{html}");
        assert!(html.contains("Sign in as developer of team payments"), "{html}");
        assert!(html.contains("value=\"/x?a=1&amp;b=2\""), "{html}");
    }
}
