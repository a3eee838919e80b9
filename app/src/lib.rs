//! Drydock's user interface: pages, shared types (what crosses the wire), the ports the server
//! implements, and the server functions that connect the two.

pub mod error;
pub mod format;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod server_fns;
pub mod types;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app; the server renders it for every page request.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // A fresh nonce per page: the CSP then allows exactly the hydration scripts Leptos inlines.
    #[cfg(feature = "ssr")]
    {
        leptos::nonce::provide_nonce();
        if let (Some(nonce), Some(resp)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
            if let Ok(v) = http::HeaderValue::from_str(&format!(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
            )) {
                resp.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
            }
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: layout and routes. Every route renders completely on the server
/// (`SsrMode::Async`), so pages are readable without JavaScript; hydration adds interactivity.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/drydock.css"/>
        <Title formatter=|text: String| format::document_title(&text)/>
        <Router>
            <pages::layout::Layout>
                <Routes fallback=|| view! { <pages::layout::NotFound/> }>
                    <Route path=path!("/") view=pages::overview::OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/my-teams") view=pages::my_teams::MyTeamsPage ssr=SsrMode::Async/>
                    <Route path=path!("/teams") view=pages::overview::TeamsPage ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:name") view=pages::team::TeamPage ssr=SsrMode::Async/>
                    <Route path=path!("/images") view=pages::images::ImagesPage ssr=SsrMode::Async/>
                    <Route path=path!("/images/:digest") view=pages::image::ImagePage ssr=SsrMode::Async/>
                    <Route path=path!("/forensics/image/:digest") view=pages::forensics::ImageForensicsPage ssr=SsrMode::Async/>
                    <Route path=path!("/forensics/workload") view=pages::forensics::WorkloadForensicsPage ssr=SsrMode::Async/>
                    <Route path=path!("/ledger") view=pages::forensics::LedgerPage ssr=SsrMode::Async/>
                    <Route path=path!("/workloads") view=pages::workloads::WorkloadsPage ssr=SsrMode::Async/>
                    <Route path=path!("/checklist") view=pages::checklist::ChecklistPage ssr=SsrMode::Async/>
                    <Route path=path!("/admission") view=pages::admission::AdmissionSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/evidence") view=pages::evidence::EvidencePage ssr=SsrMode::Async/>
                    <Route path=path!("/risk") view=pages::risk::RiskPage ssr=SsrMode::Async/>
                    <Route path=path!("/search") view=pages::search::SearchPage ssr=SsrMode::Async/>
                    <Route path=path!("/scorecards") view=pages::scorecards::ScorecardsPage ssr=SsrMode::Async/>
                    <Route path=path!("/scorecards/:team") view=pages::scorecards::TeamScorecardPage ssr=SsrMode::Async/>
                    <Route path=path!("/policies") view=pages::policies::PoliciesPage ssr=SsrMode::Async/>
                    <Route path=path!("/campaigns") view=pages::campaigns::CampaignsPage ssr=SsrMode::Async/>
                    <Route path=path!("/campaigns/:id") view=pages::campaigns::CampaignPage ssr=SsrMode::Async/>
                    <Route path=path!("/updates") view=pages::campaigns::UpdatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/overdue") view=pages::campaigns::OverduePage ssr=SsrMode::Async/>
                    <Route path=path!("/exceptions") view=pages::campaigns::ExceptionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/inbox") view=pages::campaigns::InboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/deliveries") view=pages::campaigns::DeliveriesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/contacts") view=pages::campaigns::ContactsPage ssr=SsrMode::Async/>
                    <Route path=path!("/unaccounted") view=pages::workloads::UnaccountedPage ssr=SsrMode::Async/>
                    <Route path=path!("/clusters") view=pages::workloads::ClustersPage ssr=SsrMode::Async/>
                    <Route path=path!("/registries") view=pages::registries::RegistriesPage ssr=SsrMode::Async/>
                    <Route path=path!("/repository") view=pages::registries::RepositoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/roles") view=pages::roles::RolesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tokens") view=pages::tokens::TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=pages::users::UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/jobs") view=pages::jobs::JobsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/ownership") view=pages::ownership::OwnershipPage ssr=SsrMode::Async/>
                </Routes>
            </pages::layout::Layout>
        </Router>
    }
}
