//! The HTTP surface: REST API, health check, and the Leptos pages with their server functions.

pub mod api;
pub mod auth;
pub mod error;

use crate::config::Config;
use crate::store::Store;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::{HeaderValue, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> LeptosOptions {
        s.leptos_options.clone()
    }
}

/// `GET /healthz`: 200 while the database answers, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "error": "the database does not answer" })),
            )
        }
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    use axum::routing::post;
    use leptos_axum::{generate_route_list, LeptosRoutes};

    let api = Router::new()
        .route("/scans", post(api::post_scan))
        .route("/images", get(api::list_images))
        .route("/images/{digest}", get(api::get_image))
        .route("/ownership-rules", get(api::list_rules).post(api::create_rule))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes));

    let estate: app::ports::Estate = Arc::new(crate::estate::StoreEstate(state.store.clone()));
    let deployment = app::types::DeploymentInfo {
        demo: state.config.demo,
        backend: state.store.backend().to_string(),
    };
    let context = move || {
        leptos::prelude::provide_context(estate.clone());
        leptos::prelude::provide_context(deployment.clone());
    };
    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();

    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api)
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, app::shell))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
