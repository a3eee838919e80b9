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

/// The actions a route needs, each with its team scope.
type Needs = Vec<(Action, Option<&'static str>)>;

/// (method, path, body, the actions the route needs with their team scope).
fn api_routes() -> Vec<(Method, String, Option<Vec<u8>>, Needs)> {
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
        (Method::GET, "/api/v1/ledger/entries?start=0&end=5".into(), None, vec![(Action::ReadLedgerEntries, None)]),
        (Method::GET, "/api/v1/tokens".into(), None, vec![(Action::ManageTokens, None)]),
        (Method::DELETE, "/api/v1/users/demo%23matrix-user/sessions".into(), None, vec![(Action::ManageRoleMappings, None)]),
        (Method::GET, "/api/v1/ledger/proof/inclusion?index=0&size=2".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/ledger/proof/consistency?from=1&to=2".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/v1/audit/k8s?cluster=matrix".into(),
            Some(fixture("k8s-audit/audit2rbac-demo.log.jsonl")),
            vec![(Action::SendData, None)],
        ),
        (Method::GET, "/api/v1/workloads".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/unaccounted".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/v1/clusters/matrix/pods".into(),
            Some(fixture("k8s-pods/kubectl-neat-pod1-raw.json")),
            vec![(Action::SendData, None)],
        ),
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
    drydock::demo::load_if_empty(&app.db.store, &drydock::config::Config::default().promotion().unwrap()).await.unwrap();
    let mut matrix_registry = drydock::registry::NewRegistry {
        name: drydock::domain::RegistryName::parse("matrix").unwrap(),
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
    // A person whose sessions the admin route ends.
    let person =
        drydock::store::SignedInUser { subject: "demo#matrix-user".into(), login: Some("matrix-user".into()), name: None, email: None };
    app.db
        .store
        .record_auth_event(Some(&person), &Actor("demo:viewer".into()), "auth.signed_in", serde_json::json!({}), chrono::Utc::now())
        .await
        .unwrap();
    // The ingest token is bound to the cluster and registry the matrix posts for (an unbound one
    // is refused: see `ingest_tokens_post_only_for_their_clusters_and_registries`).
    let matrix_bindings = drydock::store::TokenBindings { clusters: vec!["matrix".into()], registries: vec!["matrix".into()] };
    let mut tokens = Vec::new();
    for (label, grant) in principals() {
        let token = match &grant {
            None => None,
            Some(g) => Some(
                app.db
                    .store
                    .create_token(
                        label,
                        g.role,
                        g.team.as_deref(),
                        &if g.role == Role::Ingest { matrix_bindings.clone() } else { Default::default() },
                        &Actor::cli(),
                        chrono::Utc::now(),
                    )
                    .await
                    .unwrap(),
            ),
        };
        tokens.push((label, grant, token));
    }
    let mut table = String::from("\nAPI route × role (✓ allowed, · refused)\n");
    let mut mismatches = Vec::new();
    let mut allowed_roles: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
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
            // Every answer, allowed or refused, must be one the OpenAPI document describes.
            let (status, _) = super::openapi::checked(method.as_str(), &path, req).await;
            let allowed = status.is_success();
            if allowed {
                let role = label.split('(').next().unwrap().to_string();
                allowed_roles.entry(path.split('?').next().unwrap().to_string() + " " + method.as_str()).or_default().insert(role);
            }
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
    // The roles the OpenAPI document names for each operation are exactly the roles it let in.
    for (key, roles) in &allowed_roles {
        let (path, method) = key.rsplit_once(' ').unwrap();
        let (_, op) = super::openapi::operation(method, path).unwrap();
        let documented: std::collections::BTreeSet<String> =
            op["x-roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
        assert_eq!(&documented, roles, "{method} {path}: x-roles against the roles that were allowed");
    }
    assert_eq!(allowed_roles.len(), api_routes().len(), "every route let someone in");
}

#[tokio::test]
async fn page_and_server_function_matrix_matches_the_specification() {
    // Pages (GET) and server functions (POST /api/<endpoint>, form-encoded arguments, as the
    // hydrated pages call them) with demo sessions (the picker gives developers and managers
    // team payments).
    let juice = format!("digest={JUICE}");
    let entries: Vec<(Method, &str, &str, Needs)> = vec![
        (Method::GET, "/", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/images", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/teams/payments", "", vec![(Action::ReadTeamDetails, Some("payments"))]),
        (Method::GET, "/teams/storefront", "", vec![(Action::ReadTeamDetails, Some("storefront"))]),
        (Method::GET, "/admin/ownership", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/admin/tokens", "", vec![(Action::ManageTokens, None)]),
        (Method::GET, "/admin/roles", "", vec![(Action::ManageRoleMappings, None)]),
        (Method::GET, "/admin/users", "", vec![(Action::ManageRoleMappings, None)]),
        (Method::POST, "/api/users", "", vec![(Action::ManageRoleMappings, None)]),
        (Method::GET, "/admin/jobs", "", vec![(Action::ManageEstateConfig, None)]),
        (Method::POST, "/api/jobs", "", vec![(Action::ManageEstateConfig, None)]),
        (Method::GET, "/registries", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/workloads", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/unaccounted", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/clusters", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/ledger", "", vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/workload-forensics",
            "cluster=minikube&namespace=scraper&workload=Deployment%2Fe2e-hpa",
            vec![(Action::ReadEstate, None)],
        ),
        (
            Method::GET,
            "/forensics/image/sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065",
            "",
            vec![(Action::ReadEstate, None), (Action::ReadTeamDetails, Some("storefront"))],
        ),
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
        // The viewer signs in first, so this person exists by the time any role tries.
        (Method::POST, "/admin/users/end-sessions", "subject=demo%23demo-viewer", vec![(Action::ManageRoleMappings, None)]),
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

/// Strings only storefront's rows carry: a pod of namespace `shop` (owned by storefront through a
/// namespace rule) running an unowned image, and the person who exec'd into it.
const STOREFRONT_MARKERS: [&str; 5] =
    ["checkout-web-5d8f9c-x2x7q", "Deployment/checkout-web", "mallory@storefront.example", "203.0.113.77", "storefront-sre"];

/// The demo estate plus storefront's namespace `shop` running an unowned image, with an exec into
/// its pod in the Kubernetes audit log. Answers the unowned image's digest.
async fn estate_with_storefront_shop(app: &TestApp) -> String {
    use drydock::store::NewRule;
    let store = &app.db.store;
    let now = chrono::Utc::now();
    store
        .add_ownership_rule(
            &NewRule { kind: app::types::RuleKind::Namespace, pattern: "shop".into(), team: "storefront".into() },
            &Actor::cli(),
            now,
        )
        .await
        .unwrap();
    let unowned =
        store.images(1000, 0, None).await.unwrap().items.into_iter().find(|i| i.team.is_none()).expect("the demo has an unowned image");
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "checkout-web-5d8f9c-x2x7q", "namespace": "shop", "uid": "6f1c1c5e-shop-0001",
            "labels": {"app": "checkout-web", "pod-template-hash": "5d8f9c"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "checkout-web-5d8f9c", "uid": "rs-1", "controller": true}]
        },
        "spec": {"nodeName": "node-a", "containers": [{"name": "web", "image": "shop/checkout-web:1.0"}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "web", "image": "shop/checkout-web:1.0", "imageID": format!("docker-pullable://shop/checkout-web@{}", unowned.digest),
            "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-11-01T00:00:00Z"}}
        }]}
    });
    let upload = match drydock::k8s::parse_value(&pod).unwrap() {
        drydock::k8s::Upload::Pods(p) => p,
        drydock::k8s::Upload::Nodes(_) => unreachable!(),
    };
    store.store_pods("minikube", &upload, &Actor::cli(), now).await.unwrap();
    let exec = serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "0b7e3a1c-shop-exec",
        "stage": "ResponseStarted", "requestURI": "/api/v1/namespaces/shop/pods/checkout-web-5d8f9c-x2x7q/exec?command=sh",
        "verb": "create", "user": {"username": "mallory@storefront.example", "groups": ["storefront-sre", "system:authenticated"]},
        "sourceIPs": ["203.0.113.77"], "userAgent": "kubectl/v1.35.0",
        "objectRef": {"resource": "pods", "namespace": "shop", "name": "checkout-web-5d8f9c-x2x7q", "apiVersion": "v1", "subresource": "exec"},
        "responseStatus": {"code": 101},
        "requestReceivedTimestamp": "2026-11-02T10:00:00.000000Z", "stageTimestamp": "2026-11-02T10:00:00.100000Z"
    });
    let facts = drydock::k8s::audit::parse(exec.to_string().as_bytes()).unwrap();
    store.record_k8s_audit("minikube", &facts, &Actor::cli(), now).await.unwrap();
    unowned.digest
}

/// Walks every read route, page and server function as `developer(payments)` and asserts that no
/// row of storefront's comes back; a viewer's walk over the same routes shows the rows exist.
#[tokio::test]
async fn a_team_scoped_role_sees_no_row_of_another_team_anywhere() {
    let app = demo_app().await;
    let digest = estate_with_storefront_shop(&app).await;
    let dev_token = app
        .db
        .store
        .create_token("dev-payments", Role::Developer, Some("payments"), &Default::default(), &Actor::cli(), chrono::Utc::now())
        .await
        .unwrap();
    let viewer_token =
        app.db.store.create_token("viewer", Role::Viewer, None, &Default::default(), &Actor::cli(), chrono::Utc::now()).await.unwrap();
    let size = app.db.store.ledger_size().await.unwrap();
    let workload = "cluster=minikube&namespace=shop&workload=Deployment%2Fcheckout-web";
    let api: Vec<String> = vec![
        "/api/v1/images?limit=1000".into(),
        format!("/api/v1/images/{digest}"),
        "/api/v1/workloads?limit=1000".into(),
        "/api/v1/workloads?namespace=shop".into(),
        "/api/v1/workloads?ended=true&limit=1000".into(),
        "/api/v1/unaccounted".into(),
        "/api/v1/clusters".into(),
        "/api/v1/registries".into(),
        "/api/v1/ownership-rules".into(),
        format!("/api/v1/ledger/entries?start=0&end={size}"),
        "/api/v1/ledger/checkpoint".into(),
        format!("/api/v1/ledger/proof/inclusion?index=0&size={size}"),
        format!("/api/v1/ledger/proof/consistency?from=1&to={size}"),
    ];
    let pages: Vec<String> = vec![
        "/".into(),
        "/teams".into(),
        "/images".into(),
        format!("/images/{digest}"),
        format!("/forensics/image/{digest}"),
        format!("/forensics/workload?{workload}"),
        "/workloads".into(),
        "/workloads?namespace=shop".into(),
        "/unaccounted".into(),
        "/clusters".into(),
        "/registries".into(),
        "/ledger".into(),
        "/teams/storefront".into(),
        "/teams/payments".into(),
        "/admin/ownership".into(),
        "/repository?name=registry.demo.internal/payments/api".into(),
    ];
    let fns: Vec<(&str, String)> = vec![
        ("/api/image", format!("digest={digest}")),
        ("/api/image-forensics", format!("digest={digest}")),
        ("/api/workload-forensics", workload.to_string()),
        ("/api/workloads", "query[cluster]=&query[namespace]=shop&query[team]=&query[state]=&query[limit]=1000&query[offset]=0".into()),
        ("/api/unaccounted", String::new()),
        ("/api/ledger", String::new()),
        ("/api/overview", String::new()),
        ("/api/team", "name=storefront".into()),
        ("/api/images", "limit=1000&offset=0".into()),
        ("/api/ownership-rules", String::new()),
        ("/api/registries", String::new()),
        ("/api/clusters", String::new()),
        ("/api/repository", "name=registry.demo.internal/payments/api".into()),
        ("/api/deployment", String::new()),
    ];
    // (what, status, leaked markers) for one principal's walk.
    async fn walk(
        app: &TestApp,
        token: &str,
        api: &[String],
        pages: &[String],
        fns: &[(&str, String)],
    ) -> Vec<(String, StatusCode, Vec<&'static str>)> {
        let mut out = Vec::new();
        let found = |body: &str| STOREFRONT_MARKERS.iter().copied().filter(|m| body.contains(m)).collect::<Vec<_>>();
        for path in api {
            let r = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            out.push((format!("GET  {path}"), status, found(&body)));
        }
        for path in pages {
            let r = app.client.get(app.url(path)).send().await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            if status == StatusCode::FORBIDDEN {
                assert!(!body.contains("storefront"), "a 403 must not name another team: {path}");
            }
            out.push((format!("page {path}"), status, found(&body)));
        }
        for (path, body) in fns {
            let r = app
                .client
                .post(app.url(path))
                .header("Origin", &app.base)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            if status == StatusCode::FORBIDDEN {
                assert!(!text.contains("storefront"), "a 403 must not name another team: {path} {body}");
            }
            out.push((format!("fn   {path} {body}"), status, found(&text)));
        }
        out
    }
    assert_eq!(demo_sign_in(&app, "viewer").await.status(), StatusCode::SEE_OTHER);
    let seen_by_viewer = walk(&app, &viewer_token, &api, &pages, &fns).await;
    app.client.post(app.url("/auth/logout")).header("Origin", &app.base).send().await.unwrap();
    assert_eq!(demo_sign_in(&app, "developer").await.status(), StatusCode::SEE_OTHER);
    let seen_by_dev = walk(&app, &dev_token, &api, &pages, &fns).await;
    let mut report = String::from("\nscoping walk as developer(payments) (status, storefront rows leaked)      viewer for comparison\n");
    for ((what, status, leaked), (_, vstatus, vfound)) in seen_by_dev.iter().zip(&seen_by_viewer) {
        assert!(!status.is_server_error(), "{what}: {status}");
        report.push_str(&format!(
            "{what:<90} {} {:<3}   viewer {} sees {}\n",
            status.as_u16(),
            leaked.len(),
            vstatus.as_u16(),
            vfound.len()
        ));
    }
    println!("{report}");
    let leaks: Vec<_> = seen_by_dev.iter().filter(|(_, _, l)| !l.is_empty()).collect();
    assert!(leaks.is_empty(), "storefront rows reached developer(payments): {leaks:#?}");
    // The markers are really there for an estate-wide reader: the walk could have found them.
    let viewer_saw: usize = seen_by_viewer.iter().map(|(_, _, f)| f.len()).sum();
    assert!(viewer_saw >= 12, "a viewer sees storefront's shop rows on several routes: {seen_by_viewer:#?}");
    // What the developer may see of it: the unowned image itself, without the shop pods.
    let image: serde_json::Value = app.get_json(&format!("/api/v1/images/{digest}"), &dev_token).await;
    assert_eq!(image["digest"], digest.as_str());
    assert!(image["runs_in"].as_array().unwrap().iter().all(|r| r["namespace"] != "shop"));
    // Raw ledger entries: 403 for team-scoped roles, checkpoints and proofs open.
    let r = app.client.get(app.url("/api/v1/ledger/entries")).bearer_auth(&dev_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.client.get(app.url("/api/v1/ledger/checkpoint")).bearer_auth(&dev_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
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
