//! Grants follow the identity provider's groups through the role mappings in force, derived
//! again as a session goes on: a removed mapping takes the team away at once, an admin ends a
//! person's sessions, and a store failure while deriving them keeps what the person had.

use super::helpers::{free_port, TestApp, TestDb};
use super::oidc_support::{location, new_client, sign_in_ok, Provider, CLIENT};
use drydock::store::capabilities::*;
use reqwest::StatusCode;

/// A developer of team-a signed in through the provider, their team given by a stored (an
/// admin's, removable) mapping, grants derived again on every request (the default is every
/// minute). Answers the provider (it must outlive the app), the app, the signed-in client and
/// the mapping.
async fn developer_of_a_stored_mapping() -> (Provider, TestApp, reqwest::Client, drydock::auth::mapping::GroupMapping) {
    let (op_port, rp_port) = (free_port(), free_port());
    let rp = format!("http://127.0.0.1:{rp_port}");
    let provider = Provider::start(op_port, &rp, &[]).await;
    let db = TestDb::sqlite().await;
    let mapping = drydock::auth::mapping::parse("team-a-dev=developer:team-a").unwrap().remove(0);
    db.store.add_role_mapping(&mapping, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
    let env = [
        ("DRYDOCK_OIDC_ISSUER", provider.issuer.as_str()),
        ("DRYDOCK_OIDC_CLIENT_ID", CLIENT.0),
        ("DRYDOCK_OIDC_CLIENT_SECRET", CLIENT.1),
        ("DRYDOCK_PUBLIC_URL", rp.as_str()),
        ("DRYDOCK_GRANTS_REFRESH_SECONDS", "0"),
    ];
    let app = TestApp::process_at(rp_port, db, &[], &env).await;
    let client = new_client();
    sign_in_ok(&app, &client, "dev-a").await;
    (provider, app, client, mapping)
}

#[tokio::test]
async fn grants_follow_the_role_mappings_and_an_admin_ends_sessions() {
    let (_provider, app, client, mapping) = developer_of_a_stored_mapping().await;
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
    let (_provider, app, client, _) = developer_of_a_stored_mapping().await;
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
