//! The RBAC matrix's specification of the API: every route with a request that reaches it and the
//! actions (with their team scope) it needs.

use super::helpers::fixture;
use super::rbac::JUICE;
use drydock::auth::Action;
use reqwest::Method;

/// The actions a route needs, each with its team scope.
pub(super) type Needs = Vec<(Action, Option<&'static str>)>;

/// (method, path, body, the actions the route needs with their team scope).
pub(super) fn api_routes(item: &str) -> Vec<(Method, String, Option<Vec<u8>>, Needs)> {
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
        (
            Method::GET,
            format!("/api/v1/evidence?at={}", chrono::Utc::now().date_naive()),
            None,
            vec![(Action::ExportEvidence, None)],
        ),
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
        (Method::GET, "/api/v1/search?cve=CVE-2022-22965".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/v1/kev".into(),
            Some(fixture("kev/known_exploited_vulnerabilities.json")),
            vec![(Action::ManagePolicies, None)],
        ),
        (Method::GET, "/api/v1/policies".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::PUT,
            "/api/v1/policies".into(),
            Some(br#"[{"id":"signed","enabled":true}]"#.to_vec()),
            vec![(Action::ManagePolicies, None)],
        ),
        (Method::GET, "/api/v1/environment-rules".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/v1/environment-rules".into(),
            Some(br#"{"cluster":"matrix","namespace":"PATTERN","environment":"matrix","production":true}"#.to_vec()),
            vec![(Action::ManageEstateConfig, None)],
        ),
        (Method::GET, "/api/v1/scorecards".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/overview".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/my-teams".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/risk".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/secrets".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/checklist".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::POST,
            "/api/v1/admission/validate".into(),
            Some(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"matrix","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"matrix","object":{"spec":{"containers":[{"name":"c","image":"nginx:1.25"}]}}}}"#.to_vec()),
            vec![(Action::ReviewAdmission, None)],
        ),
        (Method::GET, "/api/v1/admission/settings".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/vendor-images".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::PUT,
            "/api/v1/vendor-images".into(),
            Some(br#"[{"repository":"quay.io/matrix/app","vendor":"Matrix","owner_team":"platform"}]"#.to_vec()),
            vec![(Action::ManagePolicies, None)],
        ),
        (Method::PUT, "/api/v1/admission/settings".into(), Some(br#"{"default_mode":"warn"}"#.to_vec()), vec![(Action::ManagePolicies, None)]),
        (Method::GET, "/api/v1/pushes".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/pod-access?exec=true".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/outdated-libraries".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/overdue-items".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/team-notices".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/images?owner=none".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/policy-results?policy=non-root".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::GET,
            "/api/v1/risk?team=storefront".into(),
            None,
            vec![(Action::ReadEstate, None), (Action::ReadTeamDetails, Some("storefront"))],
        ),
        (
            Method::GET,
            "/api/v1/teams/storefront/scorecard".into(),
            None,
            vec![(Action::ReadEstate, None), (Action::ReadTeamDetails, Some("storefront"))],
        ),
        (
            Method::GET,
            "/api/v1/teams/storefront/scorecard.csv?table=failing".into(),
            None,
            vec![(Action::ReadEstate, None), (Action::ReadTeamDetails, Some("storefront"))],
        ),
        (
            Method::POST,
            "/api/v1/campaigns".into(),
            Some(br#"{"title":"PATTERN","cves":["CVE-2022-22965"],"deadline":"UNTIL"}"#.to_vec()),
            vec![(Action::ManagePolicies, None)],
        ),
        (Method::GET, "/api/v1/campaigns".into(), None, vec![(Action::ReadEstate, None)]),
        (Method::GET, "/api/v1/campaigns/1".into(), None, vec![(Action::ReadEstate, None)]),
        (
            Method::PUT,
            "/api/v1/campaigns/1/deadline".into(),
            Some(br#"{"deadline":"UNTIL"}"#.to_vec()),
            vec![(Action::ManagePolicies, None)],
        ),
        (
            Method::POST,
            format!("{item}/ack"),
            Some(br#"{"planned":"UNTIL","note":"PATTERN"}"#.to_vec()),
            vec![(Action::Acknowledge, Some("storefront"))],
        ),
        (
            Method::POST,
            format!("{item}/exception"),
            Some(br#"{"reason":"PATTERN","until":"UNTIL"}"#.to_vec()),
            vec![(Action::RequestException, Some("storefront"))],
        ),
        (
            Method::POST,
            format!("{item}/exception/decision"),
            Some(br#"{"approve":false,"note":"PATTERN","request_id":REQUEST}"#.to_vec()),
            vec![(Action::ManagePolicies, None)],
        ),
        (Method::GET, "/api/v1/contacts".into(), None, vec![(Action::ManagePolicies, None)]),
        (
            Method::PUT,
            "/api/v1/contacts".into(),
            Some(br#"[{"level":3,"email":"ciso@corp.example"}]"#.to_vec()),
            vec![(Action::ManageEstateConfig, None)],
        ),
        (
            Method::PUT,
            "/api/v1/teams/storefront/contacts".into(),
            Some(br#"[{"level":0,"email":"storefront@corp.example"}]"#.to_vec()),
            vec![(Action::ManageEstateConfig, None)],
        ),
        (Method::GET, "/api/v1/deliveries".into(), None, vec![(Action::ManagePolicies, None)]),
        (
            Method::POST,
            "/api/v1/clusters/matrix/nodes".into(),
            Some(br#"{"apiVersion":"v1","kind":"NodeList","items":[{"metadata":{"name":"n1"},"status":{"nodeInfo":{}}}]}"#.to_vec()),
            vec![(Action::SendData, None)],
        ),
    ]
}
