//! Sign-in against the real npm `oidc-provider` (end2end/oidc/provider.mjs, started here on
//! loopback), driven without a browser: the good path, key rotation, and every way a sign-in
//! response can be wrong — each refused with a message naming the check, recorded, and with no
//! session afterwards.

use super::helpers::{free_port, TestApp, TestDb};
use super::oidc_support::*;
use base64::Engine as _;
use drydock::auth::oidc::{Oidc, OidcSettings};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use sha2::Digest as _;

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
