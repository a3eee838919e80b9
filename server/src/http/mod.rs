//! The HTTP surface: REST API, health check, and the Leptos pages with their server functions.

pub mod admin;
pub mod answers;
pub mod api;
pub mod auth;
pub mod campaign_forms;
pub mod connections;
pub mod error;
pub mod estate;
pub mod exports;
pub mod navigation;
pub mod openapi;
pub mod operations;
pub mod page;
pub mod page_cache;
pub mod policy_form;
pub mod redirect;
pub mod session;
pub mod session_store;
pub mod static_files;
pub mod tls;
pub mod upload_budget;
pub mod vendor_form;

use crate::config::Config;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::get;
use axum::Router;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// Behind an `Arc`: the state is cloned into every layer of every request, and cloning and
    /// dropping the options' strings took about 3% of a kept page's CPU besides their allocations
    /// (perf, 64 connections).
    pub leptos_options: Arc<LeptosOptions>,
    /// Sign-in, when OIDC is configured.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
    /// The application layer every adapter (REST, forms, server functions) calls.
    pub service: Arc<crate::service::Service>,
    /// Where "now" comes from (tests move it).
    pub clock: crate::clock::SharedClock,
    /// Rendered pages kept for the data version they were rendered at (`page_cache.rs`).
    pub pages: Arc<page_cache::PageCache>,
    /// Memory reserved by the uploads being read and parsed (`upload_budget.rs`).
    pub uploads: Arc<upload_budget::UploadBudget>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> LeptosOptions {
        LeptosOptions::clone(&s.leptos_options)
    }
}

/// The `/api/v1` router and the (method, path) of every route in it, built from one list: the
/// OpenAPI completeness test compares the list with the document.
pub struct ApiRoutes {
    pub router: Router<AppState>,
    pub routes: Vec<(&'static str, String)>,
}

impl ApiRoutes {
    fn route(mut self, method: &'static str, path: &'static str, handler: axum::routing::MethodRouter<AppState>) -> ApiRoutes {
        self.routes.push((method, format!("/api/v1{path}")));
        self.router = self.router.route(path, handler);
        self
    }
}

/// Every `/api/v1` route (paths relative to `/api/v1`).
pub fn api_routes() -> ApiRoutes {
    use axum::routing::{delete, post};
    ApiRoutes { router: Router::new(), routes: Vec::new() }
        .route("get", "/openapi.json", get(openapi::openapi_json))
        .route("post", "/scans", post(api::post_scan))
        .route("get", "/images", get(api::list_images))
        .route("get", "/images/{digest}", get(api::get_image))
        .route("get", "/ownership-rules", get(api::list_rules))
        .route("post", "/ownership-rules", post(api::create_rule))
        .route("get", "/registries", get(api::list_registries))
        .route("post", "/registries", post(api::create_registry))
        .route("post", "/registries/{name}/events", post(api::registry_events))
        .route("get", "/clusters", get(api::list_clusters))
        .route("post", "/clusters", post(api::create_cluster))
        .route("post", "/clusters/{name}/pods", post(api::upload_pods))
        .route("post", "/clusters/{name}/nodes", post(api::upload_nodes))
        .route("get", "/workloads", get(api::list_workloads))
        .route("get", "/unaccounted", get(api::list_unaccounted))
        .route("get", "/secrets", get(api::list_secrets))
        .route("get", "/pushes", get(api::list_pushes))
        .route("get", "/pod-access", get(api::list_pod_access))
        .route("get", "/outdated-libraries", get(api::list_outdated_libraries))
        .route("get", "/overdue-items", get(api::list_overdue_items))
        .route("get", "/team-notices", get(api::list_team_notices))
        .route("post", "/admission/validate", post(api::admission_validate))
        .route("get", "/admission/settings", get(api::get_admission_settings))
        .route("put", "/admission/settings", axum::routing::put(api::put_admission_settings))
        .route("get", "/vendor-images", get(api::get_vendor_images))
        .route("put", "/vendor-images", axum::routing::put(api::put_vendor_images))
        .route("post", "/audit/k8s", post(api::k8s_audit))
        .route("get", "/ledger/checkpoint", get(api::ledger_checkpoint))
        .route("get", "/ledger/entries", get(api::ledger_entries))
        .route("get", "/ledger/proof/inclusion", get(api::ledger_inclusion))
        .route("get", "/ledger/proof/consistency", get(api::ledger_consistency))
        .route("get", "/evidence", get(api::evidence_bundle))
        .route("get", "/tokens", get(api::list_tokens))
        .route("delete", "/users/{subject}/sessions", delete(api::end_user_sessions))
        .route("get", "/search", get(api::search))
        .route("get", "/risk", get(api::risk))
        .route("post", "/kev", post(api::upload_kev))
        .route("get", "/policies", get(api::list_policies))
        .route("put", "/policies", axum::routing::put(api::put_policies))
        .route("get", "/environment-rules", get(api::list_environment_rules))
        .route("post", "/environment-rules", post(api::create_environment_rule))
        .route("get", "/scorecards", get(api::scorecards))
        .route("get", "/overview", get(api::overview))
        .route("get", "/checklist", get(api::checklist))
        .route("get", "/policy-results", get(api::policy_results))
        .route("get", "/my-teams", get(api::my_teams))
        .route("get", "/teams/{team}/scorecard", get(api::team_scorecard))
        .route("get", "/teams/{team}/scorecard.csv", get(api::team_scorecard_csv))
        .route("post", "/campaigns", post(api::create_campaign))
        .route("get", "/campaigns", get(api::list_campaigns))
        .route("get", "/campaigns/{id}", get(api::get_campaign))
        .route("put", "/campaigns/{id}/deadline", axum::routing::put(api::change_deadline))
        .route("post", "/campaigns/{id}/items/{item}/ack", post(api::ack_item))
        .route("post", "/campaigns/{id}/items/{item}/exception", post(api::request_exception))
        .route("post", "/campaigns/{id}/items/{item}/exception/decision", post(api::decide_exception))
        .route("get", "/contacts", get(api::list_contacts))
        .route("put", "/contacts", axum::routing::put(api::put_global_contacts))
        .route("put", "/teams/{team}/contacts", axum::routing::put(api::put_team_contacts))
        .route("get", "/deliveries", get(api::list_deliveries))
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    use axum::middleware::from_fn_with_state;
    use axum::routing::post;
    use leptos_axum::{generate_route_list, LeptosRoutes};

    let pkg = Arc::new(static_files::SiteFiles::new(std::path::Path::new(&state.config.site_root).join("pkg")));
    let api = api_routes()
        .router
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(from_fn_with_state(state.clone(), upload_budget::admit));

    let sign_in = if state.oidc.is_some() {
        app::types::SignInMode::Oidc
    } else if state.config.demo {
        app::types::SignInMode::Demo
    } else {
        app::types::SignInMode::None
    };
    let estate: app::ports::Estate = Arc::new(estate::ServiceEstate {
        service: state.service.clone(),
        sign_in,
        demo: state.config.demo,
        access_contact: state.config.access_contact.clone(),
    });
    let context = move || leptos::prelude::provide_context(estate.clone());
    let routes = generate_route_list(app::App);
    let options = LeptosOptions::clone(&state.leptos_options);

    let sessions = tower_sessions::SessionManagerLayer::new(crate::http::session_store::DbSessionStore::new(
        state.service.sessions(),
        state.clock.clone(),
    ))
    .with_name("drydock_session")
    .with_http_only(true)
    .with_same_site(tower_sessions::cookie::SameSite::Lax)
    .with_secure(state.config.is_https())
    .with_expiry(tower_sessions::Expiry::OnInactivity(time::Duration::minutes(state.config.session_idle_minutes)));

    let app = Router::new()
        .route("/auth/login", get(session::login))
        .route("/auth/callback", get(session::callback))
        .route("/auth/logout", post(session::logout))
        .route("/auth/demo", get(session::demo_page).post(session::demo_sign_in))
        .route("/signed-out", get(session::signed_out))
        .route("/admin/tokens", post(admin::create_token))
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/admin/roles", post(admin::add_role_mapping))
        .route("/admin/roles/{id}/delete", post(admin::delete_role_mapping))
        .route("/admin/users/end-sessions", post(admin::end_user_sessions))
        .route("/admin/registries", post(admin::add_registry))
        .route("/admin/clusters", post(admin::add_cluster))
        .route("/admin/registries/{name}/approval", post(admin::set_registry_approval))
        .route("/admin/policies/{id}", post(admin::save_policy))
        .route("/admin/admission", post(admin::save_admission))
        .route("/admin/vendor-images", post(admin::save_vendor_images))
        .route("/admin/environments", post(admin::add_environment))
        .route("/scorecards/{team}/export.csv", get(exports::scorecard_export))
        .route("/checklist.csv", get(exports::checklist_export))
        .route("/evidence/bundle", get(exports::evidence_download))
        .route("/campaigns", post(campaign_forms::create_campaign))
        .route("/campaigns/{id}/deadline", post(campaign_forms::change_deadline))
        .route("/campaigns/{id}/items/{item}/ack", post(campaign_forms::acknowledge))
        .route("/campaigns/{id}/items/{item}/exception", post(campaign_forms::request_exception))
        .route("/campaigns/{id}/items/{item}/exception/decision", post(campaign_forms::decide_exception))
        .route("/admin/contacts", post(campaign_forms::add_contact))
        .route("/admin/contacts/clear", post(campaign_forms::clear_contacts))
        .nest("/api/v1", api)
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, app::shell))
        .layer(from_fn_with_state(state.clone(), page_cache::kept))
        .layer(from_fn_with_state(state.clone(), session::page_gate))
        .layer(from_fn_with_state(state.clone(), session::csrf_guard))
        .layer(from_fn_with_state(state.clone(), session::identify))
        .layer(sessions)
        .layer(axum::middleware::from_fn(crate::http::session_store::remember_version))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(from_fn_with_state(state.config.request_timeout(), operations::time_limit))
        .with_state(state.clone());
    // What an operator's probes and scrapers ask: no session, no sign-in, no page cache.
    let probes = Router::new()
        .route("/healthz", get(operations::healthz))
        .route("/readyz", get(operations::readyz))
        .route("/metrics", get(operations::metrics))
        .with_state(state);
    // The site's static files need no session, sign-in or request span: served beside the
    // application's layers (a stylesheet cost five times `/healthz` through them).
    Router::new()
        .route("/pkg/{*file}", get(static_files::serve))
        .with_state(pkg)
        .merge(probes)
        .merge(app)
        .layer(axum::middleware::from_fn(session::security_headers))
        .layer(axum::middleware::from_fn(operations::observe))
}
