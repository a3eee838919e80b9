//! The RBAC matrix: every API route and page × every role (plus anonymous and a wrong-team
//! developer), compared with the written specification (`drydock::auth::rbac`). Run with
//! `--nocapture` to see the table.

use super::helpers::{TestApp, TestDb};
use super::rbac_routes::{api_routes, Needs};
use super::signin::{demo_app, demo_sign_in};
use drydock::auth::{rbac, Action, Grant};
use drydock::domain::Role;
use drydock::store::capabilities::*;
use drydock::store::Actor;
use reqwest::{Method, StatusCode};

pub(super) const JUICE: &str = "sha256:b1802758946aa40549b98ee6b8f93e9b92d0a6bf7aed139284893466be9c5065";

/// (label, grant) of every principal the matrix tries; `None` is anonymous.
fn principals() -> Vec<(&'static str, Option<Grant>)> {
    let g = |role: Role, team: Option<&str>| Some(Grant { role, team: team.map(|t| drydock::domain::TeamName::parse(t).unwrap()) });
    vec![
        ("anonymous", None),
        ("ingest", g(Role::Ingest, None)),
        ("admission", g(Role::Admission, None)),
        ("viewer", g(Role::Viewer, None)),
        ("auditor", g(Role::Auditor, None)),
        ("developer(storefront)", g(Role::Developer, Some("storefront"))),
        ("developer(payments)", g(Role::Developer, Some("payments"))),
        ("manager(storefront)", g(Role::Manager, Some("storefront"))),
        ("security", g(Role::Security, None)),
        ("admin", g(Role::Admin, None)),
    ]
}

fn expected(grant: &Option<Grant>, needs: &[(Action, Option<&str>)]) -> bool {
    match grant {
        None => false,
        Some(g) => needs.iter().all(|(a, t)| rbac::allows(std::slice::from_ref(g), *a, *t)),
    }
}

fn token_of<'a>(tokens: &'a [(&str, Option<Grant>, Option<String>)], label: &str) -> &'a str {
    tokens.iter().find(|(l, _, _)| *l == label).and_then(|(_, _, t)| t.as_deref()).unwrap()
}

/// Rejects the exception request waiting on the item, if one waits (as security: never the asker).
async fn settle_exception(app: &TestApp, item_path: &str, item: i64, campaign: i64, tokens: &[(&str, Option<Grant>, Option<String>)]) {
    let it = app.db.store.campaign_item(campaign, item).await.unwrap().unwrap();
    if it.exception_state.as_deref() != Some("requested") {
        return;
    }
    let body = serde_json::json!({"approve": false, "note": "settled", "request_id": it.exception_request_id});
    let r = app
        .client
        .post(app.url(&format!("{item_path}/exception/decision")))
        .bearer_auth(token_of(tokens, "security"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
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
                        g.team.as_ref(),
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
    // Campaign 1 with an item of storefront's (Juice Shop's jsonwebtoken), as security would make it.
    let now = chrono::Utc::now();
    let selector = drydock::domain::campaign::Selector::parse(&[], Some("pkg:npm/jsonwebtoken"), None).unwrap();
    let ladder = drydock::domain::campaign::Ladder::default_ladder();
    let all = drydock::domain::policy::Scope::All;
    let (id, _) = drydock::campaigns::create(&app.db.store, "matrix", &selector, &all, None, &ladder, &Actor::cli(), now).await.unwrap();
    let item =
        app.db.store.campaign_items(&[id], None).await.unwrap().into_iter().find(|i| i.team.as_deref() == Some("storefront")).unwrap();
    let item_path = format!("/api/v1/campaigns/{id}/items/{}", item.id);
    let until = (now + chrono::Duration::days(30)).date_naive().to_string();
    let mut table = String::from("\nAPI route × role (✓ allowed, · refused)\n");
    let mut mismatches = Vec::new();
    let mut allowed_roles: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for (i, (method, path, body, needs)) in api_routes(&item_path).into_iter().enumerate() {
        let mut row = format!("{:<6} {:<40}", method.as_str(), if path.len() > 40 { &path[..40] } else { &path });
        for (j, (label, grant, token)) in tokens.iter().enumerate() {
            let mut req = app.client.request(method.clone(), app.url(&path));
            // A request must not be waiting before a new one; a decision needs one waiting, asked
            // by a storefront developer (whoever asks never decides).
            if path.ends_with("/exception") {
                settle_exception(&app, &item_path, item.id, id, &tokens).await;
            }
            let mut request_id = 0;
            if path.ends_with("/exception/decision") {
                settle_exception(&app, &item_path, item.id, id, &tokens).await;
                let dev = token_of(&tokens, "developer(storefront)");
                let r = app
                    .client
                    .post(app.url(&format!("{item_path}/exception")))
                    .bearer_auth(dev)
                    .json(&serde_json::json!({"reason": "matrix", "until": until}))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap());
                request_id = r.json::<serde_json::Value>().await.unwrap()["exception"]["request_id"].as_i64().unwrap();
            }
            if let Some(b) = &body {
                // Distinct bodies so "allowed" is never a duplicate-content 200 or a duplicate rule.
                let distinct = if path == "/api/v1/registries" || path == "/api/v1/environment-rules" {
                    format!("matrix-{i}-{j}")
                } else {
                    format!("matrix/{i}/{j}")
                };
                let b = String::from_utf8(b.clone())
                    .unwrap()
                    .replace("PATTERN", &distinct)
                    .replace("UNTIL", &until)
                    .replace("REQUEST", &request_id.to_string());
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
            // An item of a team outside the caller's is answered as a missing one (no oracle).
            let hidden = status == StatusCode::NOT_FOUND && path.starts_with(&item_path) && *label == "developer(payments)";
            let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN || hidden;
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
    let routes: std::collections::BTreeSet<String> =
        api_routes(&item_path).iter().map(|(m, p, _, _)| format!("{} {m}", p.split('?').next().unwrap())).collect();
    assert_eq!(allowed_roles.len(), routes.len(), "every route let someone in");
}

#[tokio::test]
async fn page_and_server_function_matrix_matches_the_specification() {
    // Pages (GET) and server functions (POST /api/<endpoint>, form-encoded arguments, as the
    // hydrated pages call them) with demo sessions (the picker gives developers and managers
    // team payments).
    let juice = format!("digest={JUICE}");
    let bundle = format!("/evidence/bundle?at={}", chrono::Utc::now().date_naive());
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
        (Method::POST, "/api/compliance-overview", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/my-teams", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/my-teams", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/risk", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/checklist", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/admission", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/admission-settings", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/evidence", "", vec![(Action::ExportEvidence, None)]),
        (Method::POST, "/api/evidence", "", vec![(Action::ExportEvidence, None)]),
        (Method::GET, &bundle, "", vec![(Action::ExportEvidence, None)]),
        (Method::GET, "/checklist.csv", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/checklist", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/risk", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/risk", "team=storefront", vec![(Action::ReadTeamDetails, Some("storefront"))]),
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
        (Method::GET, "/search?cve=CVE-2022-22965", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/search", "query[cve]=CVE-2022-22965", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/scorecards", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/scorecards", "", vec![(Action::ReadEstate, None)]),
        (Method::GET, "/scorecards/payments", "", vec![(Action::ReadTeamDetails, Some("payments"))]),
        (Method::GET, "/scorecards/storefront", "", vec![(Action::ReadTeamDetails, Some("storefront"))]),
        (Method::GET, "/scorecards/storefront/export.csv?table=failing", "", vec![(Action::ReadTeamDetails, Some("storefront"))]),
        (Method::POST, "/api/team-scorecard", "team=storefront", vec![(Action::ReadTeamDetails, Some("storefront"))]),
        (Method::GET, "/policies", "", vec![(Action::ReadEstate, None)]),
        (Method::POST, "/api/policies", "", vec![(Action::ReadEstate, None)]),
        // The admin forms (ROLE makes each attempt distinct, so an allowed one is never a duplicate).
        (Method::POST, "/admin/tokens", "name=t-ROLE&role=ingest&team=", vec![(Action::ManageTokens, None)]),
        (Method::POST, "/admin/roles", "group=g-ROLE&role=viewer&team=", vec![(Action::ManageRoleMappings, None)]),
        (Method::POST, "/admin/registries", "name=r-ROLE&url=http%3A%2F%2F127.0.0.1%3A9", vec![(Action::ManageEstateConfig, None)]),
        (Method::POST, "/admin/policies/signed", "enabled=on&scope=all", vec![(Action::ManagePolicies, None)]),
        (
            Method::POST,
            "/admin/admission",
            "default_mode=warn&unknown_images=allow&namespaces=&environments=&seen=SETTINGSV",
            vec![(Action::ManagePolicies, None)],
        ),
        (Method::POST, "/admin/environments", "cluster=*&namespace=n-ROLE&environment=e", vec![(Action::ManageEstateConfig, None)]),
        (
            Method::POST,
            "/admin/vendor-images",
            "v%3A0%3Arepository=r-ROLE.example%2Fx&v%3A0%3Avendor=V&v%3A0%3Aowner=platform&seen=SEEN",
            vec![(Action::ManagePolicies, None)],
        ),
        // The viewer signs in first, so this person exists by the time any role tries.
        (Method::POST, "/admin/users/end-sessions", "subject=demo%23demo-viewer", vec![(Action::ManageRoleMappings, None)]),
    ];
    let roles: [(&str, Grant); 6] = [
        ("viewer", Grant { role: Role::Viewer, team: None }),
        ("developer", Grant { role: Role::Developer, team: Some(drydock::domain::TeamName::parse("payments").unwrap()) }),
        ("manager", Grant { role: Role::Manager, team: Some(drydock::domain::TeamName::parse("payments").unwrap()) }),
        ("security", Grant { role: Role::Security, team: None }),
        ("auditor", Grant { role: Role::Auditor, team: None }),
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
            // SEEN, SETTINGSV: the register's and the admission settings' versions as their forms
            // show them (the SHA-256 of the stored document).
            let register = app.db.store.vendor_register().await.unwrap();
            let seen = drydock::store::sha256_hex(register.as_deref().unwrap_or("[]").as_bytes());
            let settings = app.db.store.admission_settings().await.unwrap();
            let settings = drydock::store::sha256_hex(settings.as_deref().unwrap_or("[]").as_bytes());
            let body = body.replace("ROLE", label).replace("SEEN", &seen).replace("SETTINGSV", &settings);
            let status = send(method, path, &body).send().await.unwrap().status();
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
