//! Who manages access: API tokens (created once-shown, revoked by whom), role mappings, the
//! demo sign-in's limits, and the CSRF check a junk bearer header must not switch off.

use super::helpers::fixture;
use super::signin::{demo_app, demo_sign_in};
use drydock::domain::Role;
use drydock::store::capabilities::*;
use drydock::store::Actor;
use reqwest::StatusCode;

#[tokio::test]
async fn tokens_page_creates_once_shown_secrets_and_revokes() {
    let app = demo_app().await;
    demo_sign_in(&app, "security").await;
    let form = |name: &str, role: &str| {
        let c = app.client.post(app.url("/admin/tokens")).header("Origin", &app.base);
        c.form(&[("name", name.to_string()), ("role", role.to_string()), ("team", String::new())])
    };
    let r = form("scanner", "ingest").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let secret = html.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(secret.starts_with("ddk_"));
    // Security may not mint admin tokens.
    assert_eq!(form("root", "admin").send().await.unwrap().status(), StatusCode::FORBIDDEN);
    // The new token works, is listed without its secret, and stops working once revoked.
    let ok = app.client.post(app.url("/api/v1/scans")).bearer_auth(&secret).body(fixture("trivy/centos-7.json")).send().await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    let page = app.client.get(app.url("/admin/tokens")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("scanner") && !page.contains(&secret));
    let id = app.db.store.list_tokens().await.unwrap().into_iter().find(|t| t.name == "scanner").unwrap().id;
    let r = app.client.post(app.url(&format!("/admin/tokens/{id}/revoke"))).header("Origin", &app.base).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let gone = app.client.get(app.url("/api/v1/images")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
    let kinds: Vec<String> = app.db.store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"token.created".into()) && kinds.contains(&"token.revoked".into()));
    // Without Origin (a cross-site form), nothing is created.
    let before = app.db.store.list_tokens().await.unwrap().len();
    let r = app.client.post(app.url("/admin/tokens")).form(&[("name", "x"), ("role", "ingest")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.db.store.list_tokens().await.unwrap().len(), before);
}

#[tokio::test]
async fn demo_is_refused_on_https_and_postgres() {
    let https = drydock::config::Config { demo: true, public_url: Some("https://drydock.example".into()), ..Default::default() };
    assert!(https.check_demo().unwrap_err().to_string().contains("https"));
    let pg = drydock::config::Config { demo: true, database_url: "postgres://x@127.0.0.1/db".into(), ..Default::default() };
    assert!(pg.check_demo().unwrap_err().to_string().contains("PostgreSQL"));
}

#[tokio::test]
async fn role_mappings_are_admin_managed_and_audited() {
    let app = demo_app().await;
    demo_sign_in(&app, "security").await;
    let add = |group: &str, role: &str, team: &str| {
        app.client.post(app.url("/admin/roles")).header("Origin", &app.base).form(&[
            ("group", group.to_string()),
            ("role", role.to_string()),
            ("team", team.to_string()),
        ])
    };
    assert_eq!(add("g", "viewer", "").send().await.unwrap().status(), StatusCode::FORBIDDEN, "security may not");
    app.client.post(app.url("/auth/logout")).header("Origin", &app.base).send().await.unwrap();
    demo_sign_in(&app, "admin").await;
    assert_eq!(add("team-b-dev", "developer", "team-b").send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(add("x", "developer", "").send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY, "developer needs a team");
    assert_eq!(add("x", "ingest", "").send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY, "ingest is for tokens");
    assert_eq!(add("team-b-dev", "developer", "team-b").send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY, "duplicate");
    let page = app.client.get(app.url("/admin/roles")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("team-b-dev") && page.contains("team-b"));
    let rows = app.db.store.role_mapping_rows().await.unwrap();
    assert_eq!(rows.len(), 1);
    let id = rows[0].id;
    let r = app.client.post(app.url(&format!("/admin/roles/{id}/delete"))).header("Origin", &app.base).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.db.store.role_mapping_rows().await.unwrap().is_empty());
    let kinds: Vec<String> = app.db.store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"role_mapping.created".into()) && kinds.contains(&"role_mapping.deleted".into()), "{kinds:?}");
}

#[tokio::test]
async fn security_revokes_only_ingest_tokens() {
    let app = demo_app().await;
    let store = &app.db.store;
    let admin_secret = store.create_token("root", Role::Admin, None, &Default::default(), &Actor::cli(), chrono::Utc::now()).await.unwrap();
    store.create_token("scanner", Role::Ingest, None, &Default::default(), &Actor::cli(), chrono::Utc::now()).await.unwrap();
    let tokens = store.list_tokens().await.unwrap();
    let id = |name: &str| tokens.iter().find(|t| t.name == name).unwrap().id;
    demo_sign_in(&app, "security").await;
    let revoke = |id: i64| app.client.post(app.url(&format!("/admin/tokens/{id}/revoke"))).header("Origin", &app.base).send();
    let r = revoke(id("root")).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let ok = app.client.get(app.url("/api/v1/images")).bearer_auth(&admin_secret).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK, "the admin's token still works");
    // Security's tokens page lists ingest tokens only.
    let page = app.client.get(app.url("/admin/tokens")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("scanner") && !page.contains("Revoke root"), "security sees no admin token to revoke");
    assert_eq!(revoke(id("scanner")).await.unwrap().status(), StatusCode::SEE_OTHER);
    // An admin may revoke any.
    app.client.post(app.url("/auth/logout")).header("Origin", &app.base).send().await.unwrap();
    demo_sign_in(&app, "admin").await;
    assert_eq!(revoke(id("root")).await.unwrap().status(), StatusCode::SEE_OTHER);
    let gone = app.client.get(app.url("/api/v1/images")).bearer_auth(&admin_secret).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_junk_bearer_header_does_not_switch_off_the_csrf_check() {
    let app = demo_app().await;
    demo_sign_in(&app, "admin").await;
    let before = app.db.store.list_tokens().await.unwrap().len();
    for origin in [Some("http://evil.example"), None] {
        let mut req =
            app.client.post(app.url("/admin/tokens")).header("Authorization", "Bearer junk").form(&[("name", "x"), ("role", "admin")]);
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        assert_eq!(req.send().await.unwrap().status(), StatusCode::FORBIDDEN, "origin {origin:?}");
        // A server function the same way.
        let mut req = app.client.post(app.url("/api/tokens")).header("Authorization", "Bearer junk");
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        assert_eq!(req.send().await.unwrap().status(), StatusCode::FORBIDDEN, "server function, origin {origin:?}");
    }
    assert_eq!(app.db.store.list_tokens().await.unwrap().len(), before, "nothing was created");
}
