//! The sign-in harness the OIDC and grants tests share: the real npm `oidc-provider`
//! (end2end/oidc/provider.mjs) started on loopback, a Drydock signing in with it, and the steps of
//! a browser's sign-in driven without a browser.

use super::helpers::{free_port, TestApp, TestDb};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub(super) const CLIENT: (&str, &str) = ("drydock", "drydock-test-secret");
pub(super) const OTHER_CLIENT: (&str, &str) = ("other-client", "other-test-secret");

/// A running provider; killed when dropped.
pub(super) struct Provider {
    child: Child,
    pub(super) issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    pub(super) async fn start(port: u16, rp: &str, env: &[(&str, &str)]) -> Provider {
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
pub(super) async fn drydock(rp_port: u16, provider: &Provider) -> TestApp {
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
pub(super) async fn setup(provider_env: &[(&str, &str)]) -> (Provider, TestApp) {
    let (op_port, rp_port) = (free_port(), free_port());
    let provider = Provider::start(op_port, &format!("http://127.0.0.1:{rp_port}"), provider_env).await;
    let app = drydock(rp_port, &provider).await;
    (provider, app)
}

pub(super) fn location(resp: &reqwest::Response) -> url::Url {
    let loc = resp.headers().get("location").unwrap_or_else(|| panic!("no Location on {} {}", resp.status(), resp.url()));
    resp.url().join(loc.to_str().unwrap()).unwrap()
}

/// `GET /auth/login` on Drydock with `client`: the provider's authorization URL it redirects to.
pub(super) async fn start_sign_in(app: &TestApp, client: &reqwest::Client) -> url::Url {
    let resp = client.get(app.url("/auth/login?return_to=/teams/team-a")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    location(&resp)
}

/// Signs `login` in at the provider (its login and consent forms) from an authorization URL and
/// returns where the provider sends the browser back: the relying party's callback URL.
pub(super) async fn authorize(client: &reqwest::Client, auth_url: &url::Url, login: &str) -> url::Url {
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

pub(super) fn with_param(url: &url::Url, name: &str, value: &str) -> url::Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| if k == name { (k.into_owned(), value.to_string()) } else { (k.into_owned(), v.into_owned()) })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

pub(super) fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

pub(super) use crate::helpers::test_client as new_client;

/// Recorded sign-in failures' reasons.
pub(super) async fn failures(app: &TestApp) -> Vec<String> {
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
pub(super) async fn assert_refused(app: &TestApp, client: &reqwest::Client, callback: &url::Url, reason: &str) {
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
pub(super) async fn sign_in_ok(app: &TestApp, client: &reqwest::Client, login: &str) {
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
