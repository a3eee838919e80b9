//! Cookie-authenticated form handlers for admin pages (CSRF-checked by `session::csrf_guard`).

use super::page::{failure, plain, refuse};
use super::session::CurrentUser;
use super::AppState;
use crate::service::Error;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use leptos::view;
use serde::Deserialize;

const TOKENS: (&str, &str) = ("/admin/tokens", "API tokens");
const ROLES: (&str, &str) = ("/admin/roles", "role mapping");

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    role: String,
    team: Option<String>,
    /// Ingest tokens: clusters they may post for (comma, space or line separated).
    clusters: Option<String>,
    /// Ingest tokens: registries whose notifications they may post.
    registries: Option<String>,
}

/// A comma, space or line separated list field.
fn list_field(v: Option<String>) -> Vec<String> {
    v.unwrap_or_default().split([',', ' ', '\n', '\r']).map(str::trim).filter(|h| !h.is_empty()).map(str::to_string).collect()
}

/// `POST /admin/tokens`: security creates ingest tokens, admin any role. The secret is shown once.
pub async fn create_token(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<NewToken>) -> Response {
    let team = f.team.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let bindings = crate::store::TokenBindings { clusters: list_field(f.clusters), registries: list_field(f.registries) };
    let parsed = f.role.parse::<crate::domain::Role>().map_err(|e| Error::invalid("role", e)).and_then(|role| {
        let team = team.map(crate::domain::TeamName::parse).transpose().map_err(|e| Error::invalid("team", e))?;
        Ok((role, team))
    });
    let created = match parsed {
        Ok((role, team)) => state.service.create_token(user.principal.as_ref(), &f.name, role, team.as_ref(), &bindings).await,
        // A refusal comes before what is wrong with the input, as on every form.
        Err(e) => crate::service::require(user.principal.as_ref(), crate::auth::Action::ManageTokens, None).and(Err(e)),
    };
    match created {
        Ok(secret) => plain(StatusCode::OK, move || view! { <app::pages::plain::TokenCreated secret/> }),
        Err(e) => failure(TOKENS, e, "token creation"),
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke_token(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Path(id): Path<i64>) -> Response {
    match state.service.revoke_token(user.principal.as_ref(), id).await {
        Ok(()) => Redirect::to(TOKENS.0).into_response(),
        Err(e) => failure(TOKENS, e, "token revocation"),
    }
}

#[derive(Deserialize)]
pub struct NewMapping {
    group: String,
    role: String,
    team: Option<String>,
}

impl NewMapping {
    /// The form's fields as a mapping, or the field at fault.
    fn mapping(&self) -> Result<crate::auth::mapping::GroupMapping, Error> {
        let role: crate::domain::Role = self.role.trim().parse().map_err(|e| Error::invalid("role", e))?;
        let team = self.team.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let team = team.map(crate::domain::TeamName::parse).transpose().map_err(|e| Error::invalid("team", e))?;
        Ok(crate::auth::mapping::GroupMapping::new(&self.group, role, team)?)
    }
}

/// `POST /admin/roles` (admin): maps an identity-provider group to a role (and team).
pub async fn add_role_mapping(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(f): Form<NewMapping>,
) -> Response {
    let who = user.principal.as_ref();
    let done = match f.mapping() {
        Ok(m) => state.service.add_role_mapping(who, &m).await,
        // A refusal comes before what is wrong with the input, as on every form.
        Err(e) => crate::service::require(who, crate::auth::Action::ManageRoleMappings, None).and(Err(e)),
    };
    match done {
        Ok(()) => Redirect::to(ROLES.0).into_response(),
        Err(e) => failure(ROLES, e, "role mapping"),
    }
}

/// `POST /admin/roles/{id}/delete` (admin).
pub async fn delete_role_mapping(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Path(id): Path<i64>) -> Response {
    match state.service.delete_role_mapping(user.principal.as_ref(), id).await {
        Ok(()) => Redirect::to(ROLES.0).into_response(),
        Err(e) => failure(ROLES, e, "role mapping removal"),
    }
}

const USERS: (&str, &str) = ("/admin/users", "users");

#[derive(Deserialize)]
pub struct EndSessionsForm {
    subject: String,
}

/// `POST /admin/users/end-sessions` (admin): signs a person out everywhere.
pub async fn end_user_sessions(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(f): Form<EndSessionsForm>,
) -> Response {
    match state.service.end_user_sessions(user.principal.as_ref(), &f.subject).await {
        Ok(_) => Redirect::to(USERS.0).into_response(),
        Err(e) => failure(USERS, e, "ending the sessions"),
    }
}

const REGISTRIES: (&str, &str) = ("/registries", "registries");

#[derive(Deserialize)]
pub struct RegistryForm {
    name: String,
    url: String,
    username: Option<String>,
    password_env: Option<String>,
    ca_pem: Option<String>,
    insecure: Option<String>,
    /// Token-realm hosts that may receive the credentials (comma, space or line separated).
    auth_hosts: Option<String>,
    approved: Option<String>,
    /// One repository per line.
    repositories: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `POST /admin/registries` (admin): adds a registry; its first collection starts at once.
pub async fn add_registry(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<RegistryForm>) -> Response {
    let name = match crate::domain::RegistryName::parse(f.name.trim()) {
        Ok(n) => n,
        Err(e) => return refuse(REGISTRIES, StatusCode::UNPROCESSABLE_ENTITY, &format!("The registry change was not done: name: {e}")),
    };
    let new = crate::domain::registry::NewRegistry {
        name,
        url: f.url,
        username: non_empty(f.username),
        password_env: non_empty(f.password_env),
        ca_pem: non_empty(f.ca_pem),
        insecure: f.insecure.is_some(),
        auth_hosts: list_field(f.auth_hosts),
        approved: f.approved.is_some(),
        repositories: f.repositories.unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
    };
    match state.service.add_registry(user.principal.as_ref(), new).await {
        Ok(_) => Redirect::to(REGISTRIES.0).into_response(),
        Err(e) => failure(REGISTRIES, e, "registry change"),
    }
}

#[derive(Deserialize)]
pub struct ApprovalForm {
    approved: String,
}

/// `POST /admin/registries/{name}/approval` (admin): puts a registry on or off the approved list.
pub async fn set_registry_approval(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(name): Path<String>,
    Form(f): Form<ApprovalForm>,
) -> Response {
    let approved = match f.approved.as_str() {
        "1" | "true" => true,
        "0" | "false" => false,
        other => return refuse(REGISTRIES, StatusCode::BAD_REQUEST, &format!("approved must be 1 or 0, not {other:?}")),
    };
    match state.service.set_registry_approval(user.principal.as_ref(), &name, approved).await {
        Ok(()) => Redirect::to(REGISTRIES.0).into_response(),
        Err(e) => failure(REGISTRIES, e, "registry change"),
    }
}

const CLUSTERS: (&str, &str) = ("/clusters", "clusters");

#[derive(Deserialize)]
pub struct ClusterForm {
    name: String,
    server: String,
    token_env: String,
    ca_pem: Option<String>,
    insecure: Option<String>,
}

/// `POST /admin/clusters` (admin): configures a cluster's API server; a first collection starts.
pub async fn add_cluster(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<ClusterForm>) -> Response {
    let name = match crate::domain::ClusterName::parse(f.name.trim()) {
        Ok(n) => n,
        Err(e) => return refuse(CLUSTERS, StatusCode::UNPROCESSABLE_ENTITY, &format!("The cluster change was not done: name: {e}")),
    };
    let new = crate::domain::cluster::NewCluster {
        name,
        server: f.server,
        token_env: f.token_env,
        ca_pem: non_empty(f.ca_pem),
        insecure: f.insecure.is_some(),
    };
    match state.service.add_cluster(user.principal.as_ref(), new).await {
        Ok(_) => Redirect::to(CLUSTERS.0).into_response(),
        Err(e) => failure(CLUSTERS, e, "cluster change"),
    }
}

/// `POST /admin/policies/{id}` (security, admin): one policy's settings from the Policies page.
pub async fn save_policy(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = ("/policies", "the policies");
    let f = match super::policy_form::read(&fields) {
        Ok(f) => f,
        Err((field, what)) => return refuse(back, StatusCode::UNPROCESSABLE_ENTITY, &format!("The policy was not saved: {field}: {what}")),
    };
    let input = app::types::PolicyInput { id, enabled: f.enabled, scope: f.scope, params: f.params };
    match state.service.save_policies(user.principal.as_ref(), &[input]).await {
        Ok(_) => Redirect::to("/policies").into_response(),
        Err(e) => failure(back, e, "policy change"),
    }
}

#[derive(Deserialize)]
pub struct EnvironmentForm {
    cluster: String,
    namespace: String,
    environment: String,
    production: Option<String>,
    internet_facing: Option<String>,
}

/// `POST /admin/environments` (admin): a new environment rule.
pub async fn add_environment(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(f): Form<EnvironmentForm>,
) -> Response {
    let rule = app::types::NewEnvironmentRule {
        cluster: f.cluster,
        namespace: f.namespace,
        environment: f.environment,
        production: f.production.is_some(),
        internet_facing: f.internet_facing.is_some(),
    };
    match state.service.add_environment_rule(user.principal.as_ref(), &rule).await {
        Ok(_) => Redirect::to("/policies#environments").into_response(),
        Err(e) => failure(("/policies", "the policies"), e, "environment rule"),
    }
}

/// The admission form's fields as a settings patch: `default_mode`, `unknown_images`,
/// `namespaces`/`environments` as `NAME=mode` lines, `enforce:ID` boxes and `grace:ID` numbers.
fn admission_patch(fields: &[(String, String)]) -> Result<serde_json::Value, String> {
    let mut patch = serde_json::Map::new();
    let mut policies = serde_json::Map::new();
    for (k, v) in fields {
        match k.as_str() {
            "default_mode" | "unknown_images" => {
                patch.insert(k.clone(), serde_json::json!(v));
            }
            "namespaces" | "environments" => {
                let mut m = serde_json::Map::new();
                for line in v.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    let (name, mode) = line.split_once('=').ok_or_else(|| format!("{k}: {line:?} is not NAME=mode"))?;
                    m.insert(name.trim().to_string(), serde_json::json!(mode.trim()));
                }
                patch.insert(k.clone(), serde_json::Value::Object(m));
            }
            _ => {
                if let Some(id) = k.strip_prefix("enforce:") {
                    let e = policies.entry(id.to_string()).or_insert_with(|| serde_json::json!({"enforce": false, "grace_days": 0}));
                    e["enforce"] = serde_json::json!(true);
                } else if let Some(id) = k.strip_prefix("grace:") {
                    let days: i64 = v.trim().parse().map_err(|_| format!("{id}: grace {v:?} is not a number of days"))?;
                    let e = policies.entry(id.to_string()).or_insert_with(|| serde_json::json!({"enforce": false, "grace_days": 0}));
                    e["grace_days"] = serde_json::json!(days);
                }
            }
        }
    }
    patch.insert("policies".into(), serde_json::Value::Object(policies));
    Ok(serde_json::Value::Object(patch))
}

/// `POST /admin/admission` (security, admin): the admission settings from the Admission page.
pub async fn save_admission(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = ("/admission", "the admission settings");
    // Who may change them is told before what is wrong with the form.
    if let Err(e) = crate::service::require(user.principal.as_ref(), crate::auth::Action::ManagePolicies, None) {
        return failure(back, e, "admission settings change");
    }
    let patch = match admission_patch(&fields) {
        Ok(p) => p,
        Err(what) => return refuse(back, StatusCode::UNPROCESSABLE_ENTITY, &format!("The settings were not saved: {what}")),
    };
    let Some(seen) = fields.iter().find(|(k, _)| k == "seen").map(|(_, v)| v.as_str()) else {
        return refuse(
            back,
            StatusCode::UNPROCESSABLE_ENTITY,
            "The settings were not saved: seen: the version of the settings the form showed is missing",
        );
    };
    match state.service.put_admission_settings(user.principal.as_ref(), &patch, Some(seen)).await {
        Ok(_) => Redirect::to("/admission").into_response(),
        Err(e) => failure(back, e, "admission settings change"),
    }
}

/// `POST /admin/vendor-images` (security, admin): the vendor register from the Admission page's table.
pub async fn save_vendor_images(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = ("/admission", "the admission settings");
    // Who may change it is told before what is wrong with the form.
    if let Err(e) = crate::service::require(user.principal.as_ref(), crate::auth::Action::ManagePolicies, None) {
        return failure(back, e, "vendor register change");
    }
    let entries = match super::vendor_form::read(&fields) {
        Ok(e) => e,
        Err((field, what)) => {
            return refuse(back, StatusCode::UNPROCESSABLE_ENTITY, &format!("The register was not saved: {field}: {what}"))
        }
    };
    let Some(seen) = fields.iter().find(|(k, _)| k == "seen").map(|(_, v)| v.as_str()) else {
        return refuse(
            back,
            StatusCode::UNPROCESSABLE_ENTITY,
            "The register was not saved: seen: the version of the register the form showed is missing",
        );
    };
    match state.service.put_vendor_images(user.principal.as_ref(), entries, Some(seen)).await {
        Ok(_) => Redirect::to("/admission#vendor-images").into_response(),
        Err(e) => failure(back, e, "vendor register change"),
    }
}
