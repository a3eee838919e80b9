//! Browser sessions: who is signed in (OIDC or the demo role picker), the sign-in routes, the
//! page gate, CSRF protection for cookie-authenticated changes, and security headers.

use super::page::plain;
use super::redirect::safe_return;
use super::AppState;
use crate::auth::mapping::grants_for;
use crate::auth::oidc::{PendingLogin, VerifiedIdentity};
use crate::auth::{Grant, Principal};
use crate::domain::Role;
use crate::store::{Actor, SignedInUser};
use app::pages::plain::{CrossSiteRefused, DatabaseUnavailable, DemoPicker, SignInRefused, SignedOut};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use leptos::view;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const USER_KEY: &str = "drydock.user";
const PENDING_KEY: &str = "drydock.oidc_pending";
/// When the pending sign-in started (unix seconds, the application's clock).
const PENDING_AT_KEY: &str = "drydock.oidc_pending_at";
/// A started sign-in must come back within this many seconds.
pub const PENDING_SIGN_IN_SECONDS: i64 = 10 * 60;
/// Most characters of an identity provider's error text kept in the ledger.
const PROVIDER_TEXT_MAX: usize = 256;

/// What the session remembers about the signed-in person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub principal: Principal,
    pub user: SignedInUser,
    pub groups: Vec<String>,
    /// Unix seconds; the absolute expiry counts from here.
    pub signed_in_at: i64,
    /// Unix seconds of the last recorded activity (refreshes the idle expiry).
    pub active_at: i64,
    /// Unix seconds when the grants were last derived from the groups and the mappings in force.
    #[serde(default)]
    pub grants_at: i64,
    /// A demo sign-in keeps the role it chose (it has no groups to derive grants from).
    #[serde(default)]
    pub demo: bool,
}

/// The person behind a request, put into the request's extensions for pages and server functions.
#[derive(Debug, Clone, Default)]
pub struct CurrentUser {
    pub principal: Option<Principal>,
}

/// Reads the session's user (ending the session past its absolute lifetime) into `CurrentUser`.
/// Grants are derived again from the stored groups and the mappings in force once they are older
/// than `grants_refresh_seconds` (a minute), so a removed mapping stops granting within a minute.
pub async fn identify(State(state): State<AppState>, session: Session, mut req: Request, next: Next) -> Response {
    let mut current = CurrentUser::default();
    let loaded = session.get::<SessionUser>(USER_KEY).await;
    if let Err(tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Backend(e))) = &loaded {
        // The session store is the database: it does not answer. Not "signed out": say so.
        tracing::warn!(error = %e, "the session could not be read: the database is not answering");
        return unavailable();
    }
    if let Ok(Some(mut u)) = loaded {
        let now = state.clock.now().timestamp();
        if now - u.signed_in_at > state.config.session_absolute_hours * 3600 {
            let _ = session.flush().await;
        } else {
            let mut dirty = false;
            // Demo sessions (also those written before the flag existed) keep the chosen role.
            let demo = u.demo || u.user.subject.starts_with("demo#");
            if !demo && now - u.grants_at >= state.config.grants_refresh_seconds {
                dirty |= refresh_grants(&state, &mut u, now).await;
            }
            // Reading is not activity for tower-sessions; rewrite at most every 5 minutes so the
            // idle expiry moves without a database write on every request.
            if now - u.active_at > 300 {
                u.active_at = now;
                dirty = true;
            }
            if dirty {
                let _ = session.insert(USER_KEY, &u).await;
            }
            current.principal = Some(u.principal);
        }
    }
    req.extensions_mut().insert(current);
    next.run(req).await
}

/// 503 with `Retry-After`: a page saying the database is not answering.
fn unavailable() -> Response {
    let seconds = crate::service::RETRY_AFTER_SECONDS;
    let mut resp = plain(StatusCode::SERVICE_UNAVAILABLE, move || view! { <DatabaseUnavailable retry_after=seconds/> });
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    resp
}

/// Recomputes a session's grants from the mappings in force; true when the session changed. When
/// the mappings cannot be read the grants stay as they were (never fewer because a read failed)
/// and the next request tries again.
async fn refresh_grants(state: &AppState, u: &mut SessionUser, now: i64) -> bool {
    match state.service.mappings_in_force().await {
        Ok(mappings) => {
            let grants = grants_for(&u.groups, &mappings);
            if grants != u.principal.grants {
                tracing::info!(actor = %u.principal.actor, "grants changed with the role mappings");
            }
            u.principal.grants = grants;
            u.grants_at = now;
            true
        }
        Err(e) => {
            tracing::warn!(actor = %u.principal.actor, error = %e, "the role mappings could not be read; the session keeps its grants");
            false
        }
    }
}

fn is_page_path(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || path == "/healthz"
        || path == "/favicon.svg"
        || path == "/signed-out")
}

/// Pages need a session when sign-in is configured (OIDC or demo): without one, go sign in.
pub async fn page_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let signed_in = req.extensions().get::<CurrentUser>().is_some_and(|c| c.principal.is_some());
    let path = req.uri().path().to_string();
    if !signed_in && req.method() == Method::GET && is_page_path(&path) && (state.oidc.is_some() || state.config.demo) {
        let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let to = format!("/auth/login?return_to={}", url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>());
        return Redirect::to(&to).into_response();
    }
    next.run(req).await
}

/// CSRF defence for cookie-authenticated changes: besides SameSite=Lax cookies, a state-changing
/// request must come from our own origin (Origin, else Referer) unless a valid bearer token
/// authenticates it (a browser never sends one by itself; a junk `Authorization` header does
/// not switch the check off).
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The REST API under /api/v1 authenticates by bearer token only, never by cookie.
    let token_api = req.uri().path().starts_with("/api/v1/");
    if safe || token_api || same_origin(req.headers(), &state) || valid_bearer(&state, req.headers()).await {
        return next.run(req).await;
    }
    plain(StatusCode::FORBIDDEN, || view! { <CrossSiteRefused/> })
}

/// Does a valid, live API token authenticate this request?
async fn valid_bearer(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(secret) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(super::auth::bearer_secret) else {
        return false;
    };
    matches!(state.service.verify_token(secret).await, Ok(Some(_)))
}

fn same_origin(headers: &HeaderMap, state: &AppState) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string).or_else(|| {
        let r = headers.get(header::REFERER)?.to_str().ok()?;
        let u = url::Url::parse(r).ok()?;
        Some(u.origin().ascii_serialization())
    });
    let Some(origin) = origin else { return false };
    let mut allowed: Vec<String> = Vec::new();
    if let Some(p) = &state.config.public_url {
        if let Ok(u) = url::Url::parse(p) {
            allowed.push(u.origin().ascii_serialization());
        }
    }
    if let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        allowed.push(format!("http://{host}"));
        allowed.push(format!("https://{host}"));
    }
    allowed.iter().any(|a| a == &origin)
}

/// Security headers on every response. Pages set their own CSP (the shell adds a per-page nonce
/// for the hydration scripts Leptos inlines); everything else gets one with no inline script.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        );
    }
    resp
}

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// `GET /auth/login`: starts the OIDC flow (or shows the demo role picker).
pub async fn login(State(state): State<AppState>, session: Session, Query(q): Query<LoginQuery>) -> Response {
    let return_to = safe_return(q.return_to.as_deref());
    if let Some(oidc) = &state.oidc {
        return match oidc.begin(&return_to).await {
            Ok((url, pending)) => {
                // An anonymous browser's session lives only as long as a sign-in may take (a
                // signed-in one keeps its own expiry until the new sign-in replaces it).
                let now = state.clock.now().timestamp();
                if !matches!(session.get::<SessionUser>(USER_KEY).await, Ok(Some(_))) {
                    let until = time::OffsetDateTime::from_unix_timestamp(now + PENDING_SIGN_IN_SECONDS)
                        .unwrap_or_else(|_| time::OffsetDateTime::now_utc() + time::Duration::seconds(PENDING_SIGN_IN_SECONDS));
                    session.set_expiry(Some(tower_sessions::Expiry::AtDateTime(until)));
                }
                if session.insert(PENDING_KEY, &pending).await.is_err() || session.insert(PENDING_AT_KEY, now).await.is_err() {
                    return error_page(StatusCode::INTERNAL_SERVER_ERROR, "The session could not be saved.");
                }
                Redirect::to(&url).into_response()
            }
            Err(e) => {
                tracing::error!(error = %e, "sign-in could not start");
                error_page(StatusCode::BAD_GATEWAY, &format!("Sign-in could not start: {e}"))
            }
        };
    }
    if state.config.demo {
        return Redirect::to(&format!(
            "/auth/demo?return_to={}",
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        ))
        .into_response();
    }
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is not configured. Set DRYDOCK_OIDC_ISSUER, DRYDOCK_OIDC_CLIENT_ID, DRYDOCK_OIDC_CLIENT_SECRET and DRYDOCK_PUBLIC_URL, or run with --demo.",
    )
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl CallbackQuery {
    /// The callback's query string as the handler reads it (anyone can send any).
    pub fn parse(query: &str) -> Result<CallbackQuery, String> {
        let uri: axum::http::Uri = format!("/auth/callback?{query}").parse().map_err(|e| format!("not a query: {e}"))?;
        Query::<CallbackQuery>::try_from_uri(&uri).map(|q| q.0).map_err(|e| e.to_string())
    }

    /// The identity provider's refusal, as shown and recorded: bounded in length.
    pub fn refusal(&self) -> Option<String> {
        let e = self.error.as_ref()?;
        let text = format!("{e} {}", self.error_description.as_deref().unwrap_or(""));
        Some(format!("the identity provider refused: {}", cut(text.trim(), PROVIDER_TEXT_MAX)))
    }
}

/// `GET /auth/callback`: finishes the OIDC flow, maps groups to roles, rotates the session id.
pub async fn callback(State(state): State<AppState>, session: Session, Query(q): Query<CallbackQuery>) -> Response {
    let Some(oidc) = &state.oidc else { return error_page(StatusCode::NOT_FOUND, "Sign-in is not configured.") };
    // The pending login is single-use: removed before anything else, so a replay finds nothing.
    let pending: Option<PendingLogin> = session.remove(PENDING_KEY).await.ok().flatten();
    let started_at: Option<i64> = session.remove(PENDING_AT_KEY).await.ok().flatten();
    let now = state.clock.now();
    let Some(pending) = pending else {
        // Nothing was started here: anyone can send this request, so it writes nothing lasting
        // (a log line only) and the anonymous session it may have made goes.
        let reason = q.refusal().unwrap_or_else(|| "no sign-in was started in this browser (or it was already used)".to_string());
        tracing::warn!(%reason, "sign-in callback without a started sign-in refused");
        let _ = session.flush().await;
        return error_page(StatusCode::BAD_REQUEST, &format!("Sign-in failed: {reason}. Nothing was signed in; try again from the start."));
    };
    let result: Result<VerifiedIdentity, String> = async {
        if started_at.is_none_or(|t| now.timestamp() - t > PENDING_SIGN_IN_SECONDS) {
            return Err(format!("the sign-in took longer than {} minutes and expired", PENDING_SIGN_IN_SECONDS / 60));
        }
        if let Some(refusal) = q.refusal() {
            return Err(refusal);
        }
        let code = q.code.as_deref().ok_or("the response carries no code")?;
        let st = q.state.as_deref().ok_or("the response carries no state")?;
        oidc.complete(&pending, code, st, q.iss.as_deref()).await.map_err(|e| e.to_string())
    }
    .await;
    let identity = match result {
        Ok(i) => i,
        Err(reason) => {
            tracing::warn!(%reason, "sign-in failed");
            let reason = cut(&reason, 2 * PROVIDER_TEXT_MAX);
            let _ = state
                .service
                .record_auth_event(None, &Actor("anonymous".into()), "auth.sign_in_failed", serde_json::json!({ "reason": reason }), now)
                .await;
            let _ = session.flush().await;
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("Sign-in failed: {reason}. Nothing was signed in; try again from the start."),
            );
        }
    };
    let grants = match state.service.mappings_in_force().await {
        Ok(mappings) => grants_for(&identity.groups, &mappings),
        Err(e) => return super::page::failure(("/", "the overview"), e, "sign-in"),
    };
    let user = SignedInUser {
        subject: format!("{}#{}", identity.issuer, identity.subject),
        login: identity.login.clone(),
        name: identity.name.clone(),
        email: identity.email.clone(),
    };
    let display = identity.login.clone().or(identity.name.clone()).or(identity.email.clone()).unwrap_or(identity.subject.clone());
    let principal = Principal { actor: format!("user:{display}"), display, grants, bindings: None };
    establish(&state, &session, principal, user, identity.groups, pending.return_to, false).await
}

/// At most `max` characters of `s` (an ellipsis marks the cut).
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

async fn establish(
    state: &AppState,
    session: &Session,
    principal: Principal,
    user: SignedInUser,
    groups: Vec<String>,
    return_to: String,
    demo: bool,
) -> Response {
    let now = state.clock.now();
    // A new session id at sign-in: a session fixed before sign-in is worth nothing after.
    if session.cycle_id().await.is_err() {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "The session could not be renewed.");
    }
    session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(time::Duration::minutes(state.config.session_idle_minutes))));
    let roles: Vec<&Grant> = principal.grants.iter().collect();
    if let Err(e) = state
        .service
        .record_auth_event(
            Some(&user),
            &Actor(principal.actor.clone()),
            "auth.signed_in",
            serde_json::json!({ "groups": groups, "grants": roles }),
            now,
        )
        .await
    {
        tracing::error!(error = %e, "sign-in could not be recorded");
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "The sign-in could not be recorded, so it was refused.");
    }
    let u = SessionUser {
        principal,
        user,
        groups,
        signed_in_at: now.timestamp(),
        active_at: now.timestamp(),
        grants_at: now.timestamp(),
        demo,
    };
    // Signing in without a page to return to lands on the role's home.
    let target = match safe_return(Some(&return_to)) {
        r if r == "/" => super::navigation::home_for(&u.principal).to_string(),
        r => r,
    };
    if session.insert(USER_KEY, &u).await.is_err() {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "The session could not be saved.");
    }
    Redirect::to(&target).into_response()
}

/// `POST /auth/logout`: ends the session, then the provider's session when it has an end-session endpoint.
pub async fn logout(State(state): State<AppState>, session: Session) -> Response {
    if let Ok(Some(u)) = session.get::<SessionUser>(USER_KEY).await {
        let _ = state
            .service
            .record_auth_event(
                Some(&u.user),
                &Actor(u.principal.actor.clone()),
                "auth.signed_out",
                serde_json::json!({}),
                state.clock.now(),
            )
            .await;
    }
    let _ = session.flush().await;
    if let (Some(oidc), Some(public)) = (&state.oidc, &state.config.public_url) {
        if let Some(url) = oidc.end_session_url(public).await {
            return Redirect::to(&url).into_response();
        }
    }
    Redirect::to("/signed-out").into_response()
}

/// `GET /signed-out`.
pub async fn signed_out() -> Response {
    plain(StatusCode::OK, || view! { <SignedOut/> })
}

/// The roles the demo picker offers: (role, team).
const DEMO_ROLES: [(&str, Option<&str>); 6] = [
    ("viewer", None),
    ("developer", Some("payments")),
    ("manager", Some("payments")),
    ("security", None),
    ("auditor", None),
    ("admin", None),
];

/// `GET /auth/demo`: the demo sign-in page (only with `--demo`).
pub async fn demo_page(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    if !state.config.demo {
        return error_page(StatusCode::NOT_FOUND, "Demo sign-in exists only when Drydock runs with --demo.");
    }
    let return_to = safe_return(q.return_to.as_deref());
    let roles: Vec<(String, String)> = DEMO_ROLES
        .iter()
        .map(|(role, team)| {
            let label = match team {
                Some(t) => format!("{role} of team {t}"),
                None => role.to_string(),
            };
            (role.to_string(), label)
        })
        .collect();
    plain(StatusCode::OK, move || view! { <DemoPicker roles return_to/> })
}

#[derive(Deserialize)]
pub struct DemoForm {
    role: String,
    return_to: Option<String>,
}

/// `POST /auth/demo`: signs in as the chosen demo role.
pub async fn demo_sign_in(State(state): State<AppState>, session: Session, Form(f): Form<DemoForm>) -> Response {
    if !state.config.demo {
        return error_page(StatusCode::NOT_FOUND, "Demo sign-in exists only when Drydock runs with --demo.");
    }
    let Some((role, team)) = DEMO_ROLES.iter().find(|(r, _)| *r == f.role) else {
        return error_page(StatusCode::BAD_REQUEST, &format!("{:?} is not one of the demo roles", f.role));
    };
    let role: Role = match role.parse() {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let display = format!("demo-{}", role.as_str());
    let principal = Principal {
        actor: format!("demo:{}", role.as_str()),
        display: display.clone(),
        grants: vec![Grant { role, team: team.and_then(|t| crate::domain::TeamName::parse(t).ok()) }],
        bindings: None,
    };
    let user = SignedInUser { subject: format!("demo#{display}"), login: Some(display), name: None, email: None };
    establish(&state, &session, principal, user, vec![], f.return_to.unwrap_or_else(|| "/".into()), true).await
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let message = message.to_string();
    plain(status, move || view! { <SignInRefused message/> })
}
