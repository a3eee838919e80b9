//! Signing in through the pages (the demo role picker, the OIDC callback's refusals), sessions
//! and their cookies, security headers, team-scoped pages, where a sign-in may return to.

use super::helpers::{fixture, TestApp, TestDb};
use super::http::{app, post_scan};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Signs in through the demo role picker, as a browser form post from our own origin would.
pub async fn demo_sign_in(app: &TestApp, role: &str) -> reqwest::Response {
    app.client.post(app.url("/auth/demo")).header("Origin", &app.base).form(&[("role", role), ("return_to", "/")]).send().await.unwrap()
}

pub async fn demo_app() -> TestApp {
    TestApp::process(TestDb::sqlite().await, &["--demo"], &[]).await
}

#[tokio::test]
async fn demo_sign_in_pages_cookies_and_headers() {
    let app = demo_app().await;
    // Without a session, pages send you to sign in.
    let r = app.client.get(app.url("/teams/payments")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/auth/login?return_to=%2Fteams%2Fpayments");
    let r = app.client.get(app.url("/auth/login?return_to=%2Fteams%2Fpayments")).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/auth/demo"));
    // A form post from another site is refused (CSRF), and signs nobody in.
    let r = app.client.post(app.url("/auth/demo")).header("Origin", "http://evil.example").form(&[("role", "admin")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = demo_sign_in(&app, "developer").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("drydock_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
    // The developer of payments sees the estate and their team…
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'nonce-") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    let html = r.text().await.unwrap();
    assert!(html.contains("Estate overview") && html.contains("demo-developer"));
    let r = app.client.get(app.url("/teams/payments")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Showing 1–3 of 3") && !html.contains("rel=\"next\""), "the team's three images on one page");
    // A later page says where it is and links back to the first.
    let html = app.client.get(app.url("/teams/payments?offset=1")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Showing 2–3 of 3") && html.contains("href=\"/teams/payments?offset=0\""), "{html}");
    // Any offset the address bar carries is answered, never a 500: past the end, the largest
    // number there is, a negative one (the first page).
    for (offset, says) in [("3", "Past the last of 3"), ("9223372036854775807", "Past the last of 3"), ("-5", "Showing 1–3 of 3")] {
        let r = app.client.get(app.url(&format!("/teams/payments?offset={offset}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "offset={offset}");
        let html = r.text().await.unwrap();
        assert!(html.contains(says) && html.contains("Payments"), "offset={offset}: {html}");
    }
    // …but not another team's details: a clear 403 page.
    let r = app.client.get(app.url("/teams/storefront")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("You may not see this page"));
    let r =
        app.client.get(app.url("/images/sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Sign out ends the session.
    let r = app.client.post(app.url("/auth/logout")).header("Origin", &app.base).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let kinds: Vec<String> = app.db.store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"auth.signed_in".to_string()) && kinds.contains(&"auth.signed_out".to_string()), "{kinds:?}");

    // A viewer sees every team's details, and the image page.
    demo_sign_in(&app, "viewer").await;
    let html = app
        .client
        .get(app.url("/images/sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("CVE-2021-36159"), "a finding of juice-shop is on its page");
    let r = app.client.get(app.url("/teams/no-such-team")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn developers_see_their_teams_details_only() {
    let app = app().await;
    let admin = app.token("admin").await;
    let dev_b = app
        .db
        .store
        .create_token(
            "dev-b",
            "developer".parse().unwrap(),
            Some(&drydock::domain::TeamName::parse("team-b").unwrap()),
            &Default::default(),
            &drydock::store::Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    for name in ["juice-shop-v10.2.0.json", "alpine-310.json"] {
        post_scan(&app, Some(&admin), "", fixture(&format!("trivy/{name}"))).await;
    }
    let rule = serde_json::json!({"kind": "repository_prefix", "pattern": "docker.io/bkimminich", "team": "team-a"});
    let r = app.client.post(app.url("/api/v1/ownership-rules")).bearer_auth(&admin).json(&rule).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Team B's developer sees the unowned image, not team A's.
    let list: Value = app.get_json("/api/v1/images", &dev_b).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["team"], Value::Null);
    let r = app
        .client
        .get(app.url("/api/v1/images/sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065"))
        .bearer_auth(&dev_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The refusal says why without naming the other team (it must not tell what exists).
    let error = r.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
    assert!(error.contains("this team's details") && !error.contains("team-a"), "{error}");
    let all: Value = app.get_json("/api/v1/images", &admin).await;
    assert_eq!(all["total"], 2);
}

#[tokio::test]
async fn a_callback_without_a_started_sign_in_is_refused() {
    // OIDC configured (the provider is never reached: the callback fails before the code exchange).
    let config = drydock::config::Config {
        oidc_issuer: Some("http://127.0.0.1:9/".into()),
        oidc_client_id: Some("drydock".into()),
        oidc_client_secret: Some("secret".into()),
        public_url: Some("http://127.0.0.1:3000".into()),
        // No background jobs: the day's snapshot they enter in the ledger is not these requests'.
        jobs_worker: false,
        ..Default::default()
    };
    let app = TestApp::start_with(TestDb::sqlite().await, config).await;
    // A forged or replayed callback: no pending sign-in in this browser.
    let r = app.client.get(app.url("/auth/callback?code=stolen&state=guess")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("no sign-in was started"));
    // The provider's error is shown, not swallowed.
    let r = app.client.get(app.url("/auth/callback?error=access_denied&error_description=no")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("access_denied"));
    // Anyone can send these: nothing lasting is written — no ledger entry, no session row — even
    // for a 60 KB error description sent again and again.
    let ledger_before = app.db.store.ledger_size().await.unwrap();
    let huge = "x".repeat(60_000);
    for _ in 0..5 {
        let r = app.client.get(app.url(&format!("/auth/callback?error=access_denied&error_description={huge}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body = r.text().await.unwrap();
        assert!(body.len() < 5_000, "the provider's text is cut, not echoed whole ({} bytes)", body.len());
    }
    assert_eq!(app.db.store.ledger_size().await.unwrap(), ledger_before);
    let failed = app.db.store.audit_events().await.unwrap().into_iter().filter(|e| e.kind == "auth.sign_in_failed").count();
    assert_eq!(failed, 0, "callbacks without a started sign-in record nothing");
    assert_eq!(session_rows(&app.db).await, 0, "no session row is left behind");
    // Nobody is signed in.
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// Rows in the sessions table.
async fn session_rows(db: &TestDb) -> i64 {
    db.store.table_counts().await.unwrap().0.iter().find(|(t, _)| t == "sessions").map(|(_, n)| *n).unwrap_or(-1)
}

#[tokio::test]
async fn expired_sessions_are_purged_on_the_clock() {
    let manual = drydock::clock::ManualClock::new(chrono::Utc::now());
    let config = drydock::config::Config { demo: true, jobs_worker: false, ..Default::default() };
    let app = TestApp::start_on(0, TestDb::sqlite().await, config, manual.clone()).await;
    let clock: drydock::clock::SharedClock = manual.clone();
    let form = [("role", "viewer"), ("return_to", "/")];
    let r = app.client.post(app.url("/auth/demo")).header("Origin", &app.base).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(session_rows(&app.db).await, 1);
    // Idle for less than the idle expiry (8 h): kept.
    manual.advance(chrono::Duration::hours(7));
    assert!(super::helpers::purged(&super::helpers::run_due_jobs(&app.db.store, &clock).await), "the purge job ran");
    assert_eq!(session_rows(&app.db).await, 1);
    // Past it: the purge job (due every five minutes) deletes the row, and the browser's cookie
    // no longer signs anyone in.
    manual.advance(chrono::Duration::hours(2));
    assert!(super::helpers::purged(&super::helpers::run_due_jobs(&app.db.store, &clock).await), "the purge job ran");
    assert_eq!(session_rows(&app.db).await, 0);
    let r = app.client.get(app.url("/api/v1/images")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn return_to_tricks_all_land_on_the_front_page() {
    let config = drydock::config::Config { demo: true, ..Default::default() };
    let app = TestApp::start_with(TestDb::sqlite().await, config).await;
    let tricks = [
        "/\t/evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%09/evil.example",
        "/%5C/evil.example",
        "https://evil.example/",
        "http:evil.example",
        "/ /evil.example",
    ];
    for t in tricks {
        let q: String = url::form_urlencoded::byte_serialize(t.as_bytes()).collect();
        let r = app.client.get(app.url(&format!("/auth/login?return_to={q}"))).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/auth/demo?return_to=%2F", "{t:?}");
        let r = app
            .client
            .post(app.url("/auth/demo"))
            .header("Origin", &app.base)
            .form(&[("role", "viewer"), ("return_to", t)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/", "{t:?}");
    }
    // A plain local path is kept.
    let r = app.client.get(app.url("/auth/login?return_to=%2Fteams%2Fpayments")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/auth/demo?return_to=%2Fteams%2Fpayments");
}
