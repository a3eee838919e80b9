//! The RBAC matrix: every API route and page × every role (plus anonymous and a wrong-team
//! developer), compared with the written specification (`drydock::auth::rbac`). Run with
//! `--nocapture` to see the table.

use super::helpers::{fixture, TestApp, TestDb};
use super::http::{demo_app, demo_sign_in};
use drydock::auth::{rbac, Action, Grant};
use drydock::domain::Role;
use drydock::store::Actor;
use reqwest::{Method, StatusCode};

const JUICE: &str = "sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065";

/// (label, grant) of every principal the matrix tries; `None` is anonymous.
fn principals() -> Vec<(&'static str, Option<Grant>)> {
    let g = |role: Role, team: Option<&str>| Some(Grant { role, team: team.map(str::to_string) });
    vec![
        ("anonymous", None),
        ("ingest", g(Role::Ingest, None)),
        ("viewer", g(Role::Viewer, None)),
        ("developer(storefront)", g(Role::Developer, Some("storefront"))),
        ("developer(payments)", g(Role::Developer, Some("payments"))),
        ("manager(storefront)", g(Role::Manager, Some("storefront"))),
        ("security", g(Role::Security, None)),
        ("admin", g(Role::Admin, None)),
    ]
}

/// (method, path, body, the actions the route needs with their team scope).
fn api_routes() -> Vec<(Method, String, Option<Vec<u8>>, Vec<(Action, Option<&'static str>)>)> {
    vec![
        (Method::POST, "/api/v1/scans".into(), Some(fixture("trivy/alpine-310.json")), vec![(Action::SendData, None)]),
        (Method::GET, "/api/v1/images".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::GET,
            format!("/api/v1/images/{JUICE}"),
            None,
            vec![(Action::ReadEstate, None), (Action::ReadTeamDetails, Some("storefront"))],
        ),
        (Method::GET, "/api/v1/ownership-rules".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/v1/ownership-rules".into(),
            Some(br#"{"kind":"repository_prefix","pattern":"PATTERN","team":"platform"}"#.to_vec()),
            vec![(Action::ManageEstateConfig, None)],
        ),
        (Method::GET, "/api/v1/registries".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/v1/registries".into(),
            Some(br#"{"name":"PATTERN","url":"http://127.0.0.1:9"}"#.to_vec()),
            vec![(Action::ManageEstateConfig, None)],
        ),
        (Method::POST, "/api/v1/registries/matrix/events".into(), Some(br#"{"events":[]}"#.to_vec()), vec![(Action::SendData, None)]),
        (Method::GET, "/api/v1/clusters".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/ledger/checkpoint".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/ledger/entries?start=0&end=5".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/ledger/proof/inclusion?index=0&size=2".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/ledger/proof/consistency?from=1&to=2".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/v1/audit/k8s?cluster=matrix".into(), Some(fixture("k8s-audit/audit2rbac-demo.log.jsonl")), vec![(Action::SendData, None)]),
        (Method::GET, "/api/v1/workloads".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/unaccounted".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/v1/clusters/matrix/pods".into(), Some(fixture("k8s-pods/kubectl-neat-pod1-raw.json")), vec![(Action::SendData, None)]),
        (
            Method::POST,
            "/api/v1/clusters/matrix/nodes".into(),
            Some(br#"{"apiVersion":"v1","kind":"NodeList","items":[{"metadata":{"name":"n1"},"status":{"nodeInfo":{}}}]}"#.to_vec()),
            vec![(Action::SendData, None)],
        ),
    ]
}

fn expected(grant: &Option<Grant>, needs: &[(Action, Option<&str>)]) -> bool {
    match grant {
        None => false,
        Some(g) => needs.iter().all(|(a, t)| rbac::allows(std::slice::from_ref(g), *a, *t)),
    }
}

#[tokio::test]
async fn api_matrix_matches_the_specification() {
    let app = TestApp::start(TestDb::sqlite().await, 10_000_000).await;
    drydock::demo::load_if_empty(&app.db.store).await.unwrap();
    let mut matrix_registry = drydock::registry::NewRegistry {
        name: "matrix".into(),
        url: "http://127.0.0.1:9".into(),
        username: None,
        password_env: None,
        ca_pem: None,
        insecure: false,
        auth_hosts: vec![],
        approved: false,
        repositories: vec![],
    };
    matrix_registry.validate().unwrap();
    app.db.store.add_registry(&matrix_registry, &Actor::cli(), chrono::Utc::now()).await.unwrap();
    let mut tokens = Vec::new();
    for (label, grant) in principals() {
        let token = match &grant {
            None => None,
            Some(g) => Some(
                app.db
                    .store
                    .create_token(label, g.role, g.team.as_deref(), &Default::default(), &Actor::cli(), chrono::Utc::now())
                    .await
                    .unwrap(),
            ),
        };
        tokens.push((label, grant, token));
    }
    let mut table = String::from("\nAPI route × role (✓ allowed, · refused)\n");
    let mut mismatches = Vec::new();
    for (i, (method, path, body, needs)) in api_routes().into_iter().enumerate() {
        let mut row = format!("{:<6} {:<40}", method.as_str(), if path.len() > 40 { &path[..40] } else { &path });
        for (j, (label, grant, token)) in tokens.iter().enumerate() {
            let mut req = app.client.request(method.clone(), app.url(&path));
            if let Some(b) = &body {
                // Distinct bodies so "allowed" is never a duplicate-content 200 or a duplicate rule.
                let distinct = if path == "/api/v1/registries" { format!("matrix-{i}-{j}") } else { format!("matrix/{i}/{j}") };
                let b = String::from_utf8(b.clone()).unwrap().replace("PATTERN", &distinct);
                let b = if path == "/api/v1/scans" { b.replacen("{", &format!("{{\"_matrix\": {j},"), 1) } else { b };
                req = req.body(b);
            }
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let status = req.send().await.unwrap().status();
            let allowed = status.is_success();
            let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
            assert!(allowed || refused, "{method} {path} as {label}: unexpected {status}");
            if allowed != expected(grant, &needs) {
                mismatches.push(format!("{method} {path} as {label}: got {status}"));
            }
            if grant.is_none() {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous gets 401 on {path}");
            }
            row.push_str(if allowed { " ✓" } else { " ·" });
        }
        table.push_str(&row);
        table.push('\n');
    }
    table.push_str("columns: ");
    table.push_str(&tokens.iter().map(|(l, _, _)| *l).collect::<Vec<_>>().join(", "));
    println!("{table}");
    assert!(mismatches.is_empty(), "differs from the specification: {mismatches:#?}");
}

#[tokio::test]
async fn page_and_server_function_matrix_matches_the_specification() {
    // Pages (GET) and server functions (POST /api/<endpoint>, form-encoded arguments, as the
    // hydrated pages call them) with demo sessions (the picker gives developers and managers
    // team payments).
    let juice = format!("digest={JUICE}");
    let entries: Vec<(Method, &str, &str, Vec<(Action, Option<&str>)>)> = vec![
        (Method::GET, "/", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/images", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/teams/payments", "", vec![(Action::ReadTeamDetails, Some("payments"))]),
        (Method::GET, "/teams/storefront", "", vec![(Action::ReadTeamDetails, Some("storefront"))]),
        (Method::GET, "/admin/ownership", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/admin/tokens", "", vec![(Action::ManageTokens, None)]),
        (Method::GET, "/admin/roles", "", vec![(Action::ManageRoleMappings, None)]),
        (Method::GET, "/registries", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/workloads", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/unaccounted", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/clusters", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/ledger", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/workload-forensics", "cluster=minikube&namespace=scraper&workload=Deployment%2Fe2e-hpa", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/forensics/image/sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065", "", vec![(Action::ReadEstate, None), (Action::ReadTeamDetails, Some("storefront"))]),
        (Method::POST, "/api/overview", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/team", "name=payments", vec![(Action::ReadTeamDetails, Some("payments"))]),
        (Method::POST, "/api/team", "name=storefront", vec![(Action::ReadTeamDetails, Some("storefront"))]),
        (Method::POST, "/api/image", &juice, vec![(Action::ReadEstate, None), (Action::ReadTeamDetails, Some("storefront"))]),
        (Method::POST, "/api/images", "limit=10&offset=0", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/ownership-rules", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/tokens", "", vec![(Action::ManageTokens, None)]),
        (Method::POST, "/api/role-mappings", "", vec![(Action::ManageRoleMappings, None)]),
        (Method::POST, "/api/registries", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/clusters", "", vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/workloads",
            "query[cluster]=&query[namespace]=&query[team]=&query[state]=&query[limit]=10&query[offset]=0",
            vec![(Action::ReadEstate, None)],
        ),
        (Method::POST, "/api/unaccounted", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/ledger", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/image-forensics", &juice, vec![(Action::ReadEstate, None), (Action::ReadTeamDetails, Some("storefront"))]),
        (Method::POST, "/api/repository", "name=registry.demo.internal/payments/api", vec![(Action::ReadEstate, None)]),
        // The admin forms (ROLE makes each attempt distinct, so an allowed one is never a duplicate).
        (Method::POST, "/admin/tokens", "name=t-ROLE&role=ingest&team=", vec![(Action::ManageTokens, None)]),
        (Method::POST, "/admin/roles", "group=g-ROLE&role=viewer&team=", vec![(Action::ManageRoleMappings, None)]),
        (Method::POST, "/admin/registries", "name=r-ROLE&url=http%3A%2F%2F127.0.0.1%3A9", vec![(Action::ManageEstateConfig, None)]),
    ];
    let roles: [(&str, Grant); 5] = [
        ("viewer", Grant { role: Role::Viewer, team: None }),
        ("developer", Grant { role: Role::Developer, team: Some("payments".into()) }),
        ("manager", Grant { role: Role::Manager, team: Some("payments".into()) }),
        ("security", Grant { role: Role::Security, team: None }),
        ("admin", Grant { role: Role::Admin, team: None }),
    ];
    let app = demo_app().await;
    let send = |method: &Method, path: &str, body: &str| {
        let req = app.client.request(method.clone(), app.url(path));
        if *method == Method::POST {
            req.header("Origin", &app.base).header("Content-Type", "application/x-www-form-urlencoded").body(body.to_string())
        } else {
            req
        }
    };
    // Anonymous: pages are sent to sign in, server functions answer 401.
    for (method, path, body, _) in &entries {
        let status = send(method, path, body).send().await.unwrap().status();
        let want = match (method, path.starts_with("/api/")) {
            (&Method::GET, _) => [StatusCode::SEE_OTHER; 2],
            (_, true) => [StatusCode::UNAUTHORIZED; 2],
            // A form post without a session: refused (401 or 403), never performed.
            _ => [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN],
        };
        assert!(want.contains(&status), "anonymous {method} {path}: {status}");
    }
    let mut table = String::from("\npage / server function × demo role (✓ 200, · 403; anonymous: pages 303 to sign-in, functions 401)\n");
    let mut mismatches = Vec::new();
    let mut cells: Vec<Vec<bool>> = vec![vec![]; entries.len()];
    for (label, grant) in &roles {
        assert_eq!(demo_sign_in(&app, label).await.status(), StatusCode::SEE_OTHER);
        for (k, (method, path, body, needs)) in entries.iter().enumerate() {
            let status = send(method, path, &body.replace("ROLE", label)).send().await.unwrap().status();
            // A form that worked answers 200 (a page) or 303 (back to the list).
            let allowed = status == StatusCode::OK || (status == StatusCode::SEE_OTHER && path.starts_with("/admin/"));
            assert!(allowed || status == StatusCode::FORBIDDEN, "{method} {path} {body} as {label}: {status}");
            let want = needs.iter().all(|(a, t)| rbac::allows(std::slice::from_ref(grant), *a, *t));
            if allowed != want {
                mismatches.push(format!("{method} {path} {body} as {label}: got {status}"));
            }
            cells[k].push(allowed);
        }
        app.client.post(app.url("/auth/logout")).header("Origin", &app.base).send().await.unwrap();
    }
    for (k, (method, path, body, _)) in entries.iter().enumerate() {
        let body = if body.len() > 14 { &body[..14] } else { body };
        table.push_str(&format!("{:<5}{:<22}{:<15}", method.as_str(), path, body));
        for ok in &cells[k] {
            table.push_str(if *ok { " ✓" } else { " ·" });
        }
        table.push('\n');
    }
    table.push_str("columns: viewer, developer(payments), manager(payments), security, admin");
    println!("{table}");
    assert!(mismatches.is_empty(), "differs from the specification: {mismatches:#?}");
}

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
        app.client
            .post(app.url("/admin/roles"))
            .header("Origin", &app.base)
            .form(&[("group", group.to_string()), ("role", role.to_string()), ("team", team.to_string())])
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
    let id = rows[0].id.unwrap();
    let r = app.client.post(app.url(&format!("/admin/roles/{id}/delete"))).header("Origin", &app.base).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.db.store.role_mapping_rows().await.unwrap().is_empty());
    let kinds: Vec<String> = app.db.store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"role_mapping.created".into()) && kinds.contains(&"role_mapping.deleted".into()), "{kinds:?}");
}
