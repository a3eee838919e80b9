//! Sign-in against the real npm `oidc-provider` (end2end/oidc/provider.mjs, started here on
//! loopback), driven without a browser: the good path, key rotation, and every way a sign-in
//! response can be wrong — each refused with a message naming the check, recorded, and with no
//! session afterwards.

use super::helpers::{free_port, TestApp, TestDb};
use base64::Engine as _;
use drydock::auth::oidc::{Oidc, OidcSettings};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use sha2::Digest as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const CLIENT: (&str, &str) = ("drydock", "drydock-test-secret");
const OTHER_CLIENT: (&str, &str) = ("other-client", "other-test-secret");

/// A running provider; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    async fn start(port: u16, rp: &str, env: &[(&str, &str)]) -> Provider {
        let end2end = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end");
        assert!(
            end2end.join("node_modules/oidc-provider").is_dir(),
            "end2end/node_modules is missing: run .ci/setup.sh (the README's test command does)"
        );
        let mut cmd = Command::new("node");
        cmd.arg("oidc/provider.mjs")
            .current_dir(&end2end)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_RP", rp)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("node must be installed");
        let issuer = format!("http://127.0.0.1:{port}");
        let provider = Provider { child, issuer };
        let http = reqwest::Client::new();
        for _ in 0..200 {
            let url = format!("{}/.well-known/openid-configuration", provider.issuer);
            if http.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
                return provider;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("oidc-provider did not come up on {}", provider.issuer);
    }
}

/// Drydock signing in with `provider`, listening on `rp_port`.
async fn drydock(rp_port: u16, provider: &Provider) -> TestApp {
    let rp = format!("http://127.0.0.1:{rp_port}");
    TestApp::process_at(
        rp_port,
        TestDb::sqlite().await,
        &[],
        &[
            ("DRYDOCK_OIDC_ISSUER", provider.issuer.as_str()),
            ("DRYDOCK_OIDC_CLIENT_ID", CLIENT.0),
            ("DRYDOCK_OIDC_CLIENT_SECRET", CLIENT.1),
            ("DRYDOCK_PUBLIC_URL", rp.as_str()),
            ("DRYDOCK_GROUP_ROLES", "team-a-dev=developer:team-a,security-team=security"),
        ],
    )
    .await
}

/// A provider and a Drydock using it.
async fn setup(provider_env: &[(&str, &str)]) -> (Provider, TestApp) {
    let (op_port, rp_port) = (free_port(), free_port());
    let provider = Provider::start(op_port, &format!("http://127.0.0.1:{rp_port}"), provider_env).await;
    let app = drydock(rp_port, &provider).await;
    (provider, app)
}

fn location(resp: &reqwest::Response) -> url::Url {
    let loc = resp.headers().get("location").unwrap_or_else(|| panic!("no Location on {} {}", resp.status(), resp.url()));
    resp.url().join(loc.to_str().unwrap()).unwrap()
}

/// `GET /auth/login` on Drydock with `client`: the provider's authorization URL it redirects to.
async fn start_sign_in(app: &TestApp, client: &reqwest::Client) -> url::Url {
    let resp = client.get(app.url("/auth/login?return_to=/teams/team-a")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    location(&resp)
}

/// Signs `login` in at the provider (its login and consent forms) from an authorization URL and
/// returns where the provider sends the browser back: the relying party's callback URL.
async fn authorize(client: &reqwest::Client, auth_url: &url::Url, login: &str) -> url::Url {
    let mut next = auth_url.clone();
    for _ in 0..12 {
        let resp = client.get(next.clone()).send().await.unwrap();
        assert!(resp.status().is_redirection(), "provider answered {} at {next}: {}", resp.status(), resp.text().await.unwrap());
        let loc = location(&resp);
        if loc.path() == "/auth/callback" {
            return loc;
        }
        if loc.path().starts_with("/interaction/") {
            let page = client.get(loc.clone()).send().await.unwrap().text().await.unwrap();
            let form: Vec<(&str, &str)> = if page.contains(r#"name="prompt" value="login""#) {
                vec![("prompt", "login"), ("login", login), ("password", "any-password")]
            } else {
                assert!(page.contains(r#"name="prompt" value="consent""#), "unexpected interaction page: {page}");
                vec![("prompt", "consent")]
            };
            let resp = client.post(loc.clone()).form(&form).send().await.unwrap();
            assert!(resp.status().is_redirection(), "interaction answered {}", resp.status());
            next = location(&resp);
        } else {
            next = loc;
        }
    }
    panic!("the provider never redirected back to the relying party");
}

fn with_param(url: &url::Url, name: &str, value: &str) -> url::Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| if k == name { (k.into_owned(), value.to_string()) } else { (k.into_owned(), v.into_owned()) })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Recorded sign-in failures' reasons.
async fn failures(app: &TestApp) -> Vec<String> {
    app.db
        .store
        .audit_events()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "auth.sign_in_failed")
        .map(|e| e.payload["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Sends the callback to Drydock and asserts the refusal: 400, the message names `reason`, no
/// session afterwards (a page request is sent to sign in), and the failure of a started sign-in
/// is recorded — while a callback no sign-in was started for (anyone can send one) records nothing.
async fn assert_refused(app: &TestApp, client: &reqwest::Client, callback: &url::Url, reason: &str) {
    let before = failures(app).await.len();
    let path = format!("{}?{}", callback.path(), callback.query().unwrap_or(""));
    let resp = client.get(app.url(&path)).send().await.unwrap();
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("Sign-in failed") && body.contains(reason), "expected {reason:?} in: {body}");
    let page = client.get(app.url("/teams/team-a")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "a refused sign-in must leave no session");
    assert!(location(&page).path().starts_with("/auth/login"));
    let recorded = failures(app).await;
    if reason.contains("no sign-in was started") {
        assert_eq!(recorded.len(), before, "a callback without a started sign-in must write no ledger entry: {recorded:?}");
    } else {
        assert_eq!(recorded.len(), before + 1, "{recorded:?}");
        assert!(recorded.iter().any(|r| r.contains(reason)), "failure not recorded with {reason:?}: {recorded:?}");
    }
}

/// Signs in through Drydock and asserts the session works: the team page of dev-a's team renders.
async fn sign_in_ok(app: &TestApp, client: &reqwest::Client, login: &str) {
    let auth = start_sign_in(app, client).await;
    for p in ["code_challenge", "state", "nonce"] {
        assert!(param(&auth, p).is_some(), "{p} missing from {auth}");
    }
    assert_eq!(param(&auth, "code_challenge_method").as_deref(), Some("S256"));
    let callback = authorize(client, &auth, login).await;
    let resp = client.get(callback.as_str()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{}", resp.text().await.unwrap());
    assert_eq!(location(&resp).path(), "/teams/team-a");
    let page = client.get(app.url("/teams/team-a")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(login));
}

#[tokio::test]
async fn signs_in_and_follows_a_key_rotation() {
    let (provider, app) = setup(&[]).await;
    sign_in_ok(&app, &new_client(), "dev-a").await;
    // The provider restarts with a new signing key: Drydock's cached JWKS lacks its kid, so the
    // id_token verifies only after Drydock fetches the keys again.
    let port: u16 = provider.issuer.rsplit(':').next().unwrap().parse().unwrap();
    let rp = app.base.clone();
    drop(provider);
    let _rotated = Provider::start(port, &rp, &[("OIDC_FRESH_KEY", "1")]).await;
    sign_in_ok(&app, &new_client(), "dev-a").await;
    let signed_in = app.db.store.audit_events().await.unwrap().into_iter().filter(|e| e.kind == "auth.signed_in").count();
    assert_eq!(signed_in, 2);
}

#[tokio::test]
async fn a_wrong_state_is_refused() {
    let (_provider, app) = setup(&[]).await;
    let client = new_client();
    let auth = start_sign_in(&app, &client).await;
    let callback = authorize(&client, &auth, "dev-a").await;
    assert_refused(&app, &client, &with_param(&callback, "state", "forged-state"), "state does not match").await;
    // The started sign-in was used up by the refused attempt: the genuine response is refused too.
    assert_refused(&app, &client, &callback, "no sign-in was started").await;
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let (_provider, app) = setup(&[]).await;
    let victim = new_client();
    let auth = start_sign_in(&app, &victim).await;
    let callback = authorize(&victim, &auth, "dev-a").await;
    let resp = victim.get(callback.as_str()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    // The same response again, from another browser: no sign-in was started there.
    let again = new_client();
    assert_refused(&app, &again, &callback, "no sign-in was started").await;
    // An attacker with the used code and a sign-in of their own (so the state matches theirs):
    // the provider refuses the code, and nobody is signed in.
    let attacker = new_client();
    let own = start_sign_in(&app, &attacker).await;
    let replay = with_param(&callback, "state", &param(&own, "state").unwrap());
    assert_refused(&app, &attacker, &replay, "the provider refused the authorization code").await;
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let (_provider, app) = setup(&[]).await;
    let client = new_client();
    // An authorization response injected into this browser's sign-in: the same state and PKCE
    // challenge, but a nonce this browser never chose.
    let auth = start_sign_in(&app, &client).await;
    let callback = authorize(&client, &with_param(&auth, "nonce", "attacker-chosen-nonce"), "dev-a").await;
    assert_refused(&app, &client, &callback, "nonce").await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    // A provider whose clock is ten minutes slow issues id_tokens that expired nine minutes ago.
    let (_provider, app) = setup(&[("OIDC_CLOCK_BEHIND_SECONDS", "600"), ("OIDC_IDTOKEN_TTL", "60")]).await;
    let client = new_client();
    let auth = start_sign_in(&app, &client).await;
    let callback = authorize(&client, &auth, "dev-a").await;
    assert_refused(&app, &client, &callback, "expired").await;
}

#[tokio::test]
async fn a_response_for_another_client_is_refused() {
    let (_provider, app) = setup(&[]).await;
    let client = new_client();
    // The provider issues the code to another application of the same provider; Drydock's
    // exchange with its own credentials fails.
    let auth = start_sign_in(&app, &client).await;
    let callback = authorize(&client, &with_param(&auth, "client_id", OTHER_CLIENT.0), "dev-a").await;
    assert_refused(&app, &client, &callback, "the provider refused the authorization code").await;
}

#[tokio::test]
async fn a_response_from_another_issuer_is_refused() {
    let (_provider, app) = setup(&[]).await;
    let other = Provider::start(free_port(), &app.base, &[]).await;
    let client = new_client();
    let auth = start_sign_in(&app, &client).await;
    let callback = authorize(&client, &auth, "dev-a").await;
    // RFC 9207: the response names the issuer that sent it (a mix-up attack names another).
    assert_refused(&app, &client, &with_param(&callback, "iss", &other.issuer), "not the configured one").await;
}

/// An id_token the provider at `issuer` really issues to `client` for `login`, obtained as that
/// client would (code flow with PKCE, the code exchanged at the token endpoint).
async fn issued_id_token(issuer: &str, rp: &str, client: (&str, &str), login: &str, nonce: &str) -> String {
    let verifier = "a-test-pkce-verifier-that-is-long-enough-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = format!("{rp}/auth/callback");
    let mut auth = url::Url::parse(&format!("{issuer}/auth")).unwrap();
    auth.query_pairs_mut()
        .append_pair("client_id", client.0)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email groups")
        .append_pair("redirect_uri", &redirect)
        .append_pair("state", "test-state")
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let browser = new_client();
    let callback = authorize(&browser, &auth, login).await;
    let code = param(&callback, "code").expect("code");
    let resp = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth(client.0, Some(client.1))
        .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &redirect), ("code_verifier", verifier)])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "token endpoint: {}", resp.status());
    let body: serde_json::Value = resp.json().await.unwrap();
    body["id_token"].as_str().expect("id_token").to_string()
}

/// Drydock's id_token check on tokens the real provider issued: the right one passes; one for
/// another audience, from another issuer (same signing key), or with another nonce does not.
#[tokio::test]
async fn id_tokens_are_checked_for_issuer_audience_and_nonce() {
    let rp = format!("http://127.0.0.1:{}", free_port());
    let ours = Provider::start(free_port(), &rp, &[]).await;
    let theirs = Provider::start(free_port(), &rp, &[]).await;
    let oidc = Oidc::new(OidcSettings {
        issuer: ours.issuer.clone(),
        client_id: CLIENT.0.into(),
        client_secret: Some(CLIENT.1.into()),
        redirect_url: format!("{rp}/auth/callback"),
        scopes: vec!["openid".into(), "groups".into()],
        groups_claim: "groups".into(),
    })
    .unwrap();

    let good = issued_id_token(&ours.issuer, &rp, CLIENT, "dev-a", "n-1").await;
    let who = oidc.verify_id_token(&good, "n-1").await.expect("a genuine id_token verifies");
    assert_eq!((who.subject.as_str(), who.login.as_deref()), ("dev-a", Some("dev-a")));
    assert_eq!(who.groups, vec!["team-a-dev".to_string()]);
    assert_eq!(who.issuer, ours.issuer);

    let e = oidc.verify_id_token(&good, "another-nonce").await.unwrap_err().to_string();
    assert!(e.contains("nonce"), "{e}");

    let other_audience = issued_id_token(&ours.issuer, &rp, OTHER_CLIENT, "dev-a", "n-2").await;
    let e = oidc.verify_id_token(&other_audience, "n-2").await.unwrap_err().to_string();
    assert!(e.to_lowercase().contains("audience"), "{e}");

    let other_issuer = issued_id_token(&theirs.issuer, &rp, CLIENT, "dev-a", "n-3").await;
    let e = oidc.verify_id_token(&other_issuer, "n-3").await.unwrap_err().to_string();
    assert!(e.to_lowercase().contains("issuer"), "{e}");

    // A token whose signature does not verify (payload altered) is refused too.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["groups"] = serde_json::json!(["platform-admins"]);
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let e = oidc.verify_id_token(&parts.join("."), "n-1").await.unwrap_err().to_string();
    assert!(e.to_lowercase().contains("signature"), "{e}");
}

/// Rows in the sessions table.
async fn session_rows(app: &TestApp) -> i64 {
    app.db.store.table_counts().await.unwrap().0.iter().find(|(t, _)| t == "sessions").map(|(_, n)| *n).unwrap()
}

#[tokio::test]
async fn a_started_sign_in_expires_after_ten_minutes_and_its_session_is_purged() {
    // Drydock in process on a clock the test moves, signing in with the real provider.
    let (op_port, rp_port) = (free_port(), free_port());
    let rp = format!("http://127.0.0.1:{rp_port}");
    let provider = Provider::start(op_port, &rp, &[]).await;
    let clock = drydock::clock::ManualClock::new(chrono::Utc::now());
    let config = drydock::config::Config {
        oidc_issuer: Some(provider.issuer.clone()),
        oidc_client_id: Some(CLIENT.0.into()),
        oidc_client_secret: Some(CLIENT.1.into()),
        public_url: Some(rp.clone()),
        group_roles: Some("team-a-dev=developer:team-a".into()),
        jobs_worker: false,
        ..Default::default()
    };
    let app = TestApp::start_on(rp_port, TestDb::sqlite().await, config, clock.clone()).await;
    let shared: drydock::clock::SharedClock = clock.clone();
    // An abandoned sign-in leaves a session row that lives ten minutes, then the purge job takes it.
    let abandoned = new_client();
    start_sign_in(&app, &abandoned).await;
    assert_eq!(session_rows(&app).await, 1);
    clock.advance(chrono::Duration::minutes(9));
    assert!(super::helpers::purged(&super::helpers::run_due_jobs(&app.db.store, &shared).await));
    assert_eq!(session_rows(&app).await, 1, "kept at nine minutes");
    // The purge runs every five minutes: its next run, at fourteen minutes, takes the row.
    clock.advance(chrono::Duration::minutes(5));
    assert!(super::helpers::purged(&super::helpers::run_due_jobs(&app.db.store, &shared).await));
    assert_eq!(session_rows(&app).await, 0, "purged by the first run after ten minutes");
    // A sign-in that comes back after more than ten minutes is refused (and recorded).
    clock.set(chrono::Utc::now());
    let slow = new_client();
    let auth = start_sign_in(&app, &slow).await;
    let callback = authorize(&slow, &auth, "dev-a").await;
    clock.advance(chrono::Duration::minutes(11));
    let resp = slow.get(callback.as_str()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = resp.text().await.unwrap();
    // The session row may already be gone with the clock moved; either way nobody signs in.
    assert!(body.contains("expired") || body.contains("no sign-in was started"), "{body}");
    // One within the ten minutes still works.
    clock.set(chrono::Utc::now());
    let quick = new_client();
    let auth = start_sign_in(&app, &quick).await;
    let callback = authorize(&quick, &auth, "dev-a").await;
    clock.advance(chrono::Duration::minutes(9));
    let resp = quick.get(callback.as_str()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{}", resp.text().await.unwrap());
}

#[tokio::test]
async fn grants_follow_the_role_mappings_and_an_admin_ends_sessions() {
    let (op_port, rp_port) = (free_port(), free_port());
    let rp = format!("http://127.0.0.1:{rp_port}");
    let provider = Provider::start(op_port, &rp, &[]).await;
    let db = TestDb::sqlite().await;
    // The mapping is stored (an admin's), not configured: it can be removed.
    let mapping = drydock::auth::mapping::parse("team-a-dev=developer:team-a").unwrap().remove(0);
    db.store.add_role_mapping(&mapping, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
    let app = TestApp::process_at(
        rp_port,
        db,
        &[],
        &[
            ("DRYDOCK_OIDC_ISSUER", provider.issuer.as_str()),
            ("DRYDOCK_OIDC_CLIENT_ID", CLIENT.0),
            ("DRYDOCK_OIDC_CLIENT_SECRET", CLIENT.1),
            ("DRYDOCK_PUBLIC_URL", rp.as_str()),
            // Derived again on every request here (the default is every minute).
            ("DRYDOCK_GRANTS_REFRESH_SECONDS", "0"),
        ],
    )
    .await;
    let client = new_client();
    sign_in_ok(&app, &client, "dev-a").await;
    // The admin removes the mapping: the signed-in developer loses the team at once.
    let id = app.db.store.role_mapping_rows().await.unwrap()[0].id;
    app.db.store.delete_role_mapping(id, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
    let page = client.get(app.url("/teams/team-a")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN, "grants re-derived from the current mappings");
    assert!(page.text().await.unwrap().contains("no role"));
    // Mapped again, and then the admin ends the person's sessions.
    app.db.store.add_role_mapping(&mapping, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
    assert_eq!(client.get(app.url("/teams/team-a")).send().await.unwrap().status(), StatusCode::OK);
    let users = app.db.store.users(chrono::Utc::now().timestamp()).await.unwrap();
    let dev = users.iter().find(|u| u.login.as_deref() == Some("dev-a")).unwrap();
    assert_eq!(dev.sessions, 1);
    let admin = app
        .db
        .store
        .create_token("admin", "admin".parse().unwrap(), None, &Default::default(), &drydock::store::Actor::cli(), chrono::Utc::now())
        .await
        .unwrap();
    let subject: String = url::form_urlencoded::byte_serialize(dev.subject.as_bytes()).collect();
    let r = new_client().delete(app.url(&format!("/api/v1/users/{subject}/sessions"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let page = client.get(app.url("/teams/team-a")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "signed out everywhere");
    assert!(location(&page).path().starts_with("/auth/login"));
    let r = new_client().delete(app.url("/api/v1/users/nobody%23x/sessions")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let kinds: Vec<String> = app.db.store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"user.sessions_ended".to_string()));
}

/// A store failure while a session's grants are derived again keeps the grants the person had
/// (it never shrinks them to the configured mappings alone) and the next request tries again.
#[tokio::test]
async fn a_failed_grant_refresh_keeps_the_grants() {
    let (op_port, rp_port) = (free_port(), free_port());
    let rp = format!("http://127.0.0.1:{rp_port}");
    let provider = Provider::start(op_port, &rp, &[]).await;
    let db = TestDb::sqlite().await;
    let mapping = drydock::auth::mapping::parse("team-a-dev=developer:team-a").unwrap().remove(0);
    db.store.add_role_mapping(&mapping, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
    let app = TestApp::process_at(
        rp_port,
        db,
        &[],
        &[
            ("DRYDOCK_OIDC_ISSUER", provider.issuer.as_str()),
            ("DRYDOCK_OIDC_CLIENT_ID", CLIENT.0),
            ("DRYDOCK_OIDC_CLIENT_SECRET", CLIENT.1),
            ("DRYDOCK_PUBLIC_URL", rp.as_str()),
            ("DRYDOCK_GRANTS_REFRESH_SECONDS", "0"),
        ],
    )
    .await;
    let client = new_client();
    sign_in_ok(&app, &client, "dev-a").await;
    assert_eq!(client.get(app.url("/teams/team-a")).send().await.unwrap().status(), StatusCode::OK);
    // The stored mappings cannot be read (the table is gone for a moment).
    let drydock::store::Store::Sqlite(pool) = &app.db.store else { unreachable!("a SQLite test database") };
    sqlx::query("ALTER TABLE role_mappings RENAME TO role_mappings_away").execute(pool).await.unwrap();
    let page = client.get(app.url("/teams/team-a")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the grants the person had are kept, not shrunk to the configured mappings");
    // Readable again: derived again from what is stored (the mapping removed: refused).
    sqlx::query("ALTER TABLE role_mappings_away RENAME TO role_mappings").execute(pool).await.unwrap();
    let id = app.db.store.role_mapping_rows().await.unwrap()[0].id;
    app.db.store.delete_role_mapping(id, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
    assert_eq!(client.get(app.url("/teams/team-a")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}
