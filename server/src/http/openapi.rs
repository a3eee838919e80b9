//! The OpenAPI document of `/api/v1`, generated from the handlers' `#[utoipa::path]` attributes
//! and the types they answer with; served at `GET /api/v1/openapi.json` without authentication.
//! Each operation names the roles that may call it (`x-roles`, and in its description).

use super::answers::ErrorBody;
use super::api;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An API token (`drydock token create`)")).build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Drydock API",
        description = "What runs in the container estate, who owns it, what must be patched. Every call but this document's takes `Authorization: Bearer TOKEN`; errors answer `{\"error\": \"…\"}`; lists answer `{\"items\": […], \"total\": n}`. `x-roles` names the roles that may call each operation (developers and managers see their teams' rows only)."
    ),
    paths(
        openapi_json,
        api::post_scan,
        api::list_images,
        api::get_image,
        api::list_rules,
        api::create_rule,
        api::list_registries,
        api::create_registry,
        api::registry_events,
        api::list_clusters,
        api::create_cluster,
        api::upload_pods,
        api::upload_nodes,
        api::list_workloads,
        api::list_unaccounted,
        api::list_secrets,
        api::list_pushes,
        api::list_pod_access,
        api::list_outdated_libraries,
        api::list_overdue_items,
        api::list_team_notices,
        api::evidence_bundle,
        api::admission_validate,
        api::get_admission_settings,
        api::put_admission_settings,
        api::get_vendor_images,
        api::put_vendor_images,
        api::k8s_audit,
        api::ledger_checkpoint,
        api::ledger_entries,
        api::ledger_inclusion,
        api::ledger_consistency,
        api::list_tokens,
        api::end_user_sessions,
        api::search,
        api::risk,
        api::upload_kev,
        api::list_policies,
        api::put_policies,
        api::list_environment_rules,
        api::create_environment_rule,
        api::scorecards,
        api::overview,
        api::checklist,
        api::policy_results,
        api::my_teams,
        api::team_scorecard,
        api::team_scorecard_csv,
        api::create_campaign,
        api::list_campaigns,
        api::get_campaign,
        api::change_deadline,
        api::ack_item,
        api::request_exception,
        api::decide_exception,
        api::list_contacts,
        api::put_global_contacts,
        api::put_team_contacts,
        api::list_deliveries,
    ),
    components(schemas(ErrorBody)),
    security(("bearer" = [])),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI document (no token needed).
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta",
    description = "This document. Roles: anyone (no token).",
    responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json", body = serde_json::Value)),
    security(()), extensions(("x-roles" = json!(["anonymous"])))
)]
pub async fn openapi_json() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(|| document().to_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")));
    ([(axum::http::header::CONTENT_TYPE, "application/json")], doc.as_str()).into_response()
}
