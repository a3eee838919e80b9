//! Integration tests: one binary (linking the server once), one module per concern.

/// For each `async fn name(db: TestDb)`, a test on SQLite and one on PostgreSQL
/// (`name::sqlite`, `name::postgres`).
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(super::TestDb::sqlite().await).await;
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name(super::TestDb::postgres().await).await;
                }
            }
        )*
    };
}

mod access_admin;
mod admission;
mod admission_tls;
mod admission_versions;
mod backup;
mod campaigns;
mod checklist;
mod cli;
mod escalation;
mod evidence_bundle;
mod faults;
mod grants;
mod hardening;
mod helpers;
mod homes;
mod hostile;
mod http;
mod input_consistency;
mod jobs;
mod k8s;
mod k8s_collect;
mod ledger;
mod ledger_scale;
mod ledger_verify;
mod oidc;
mod oidc_support;
mod openapi;
mod operations;
mod outages;
mod pg_outage;
mod policies;
mod policy_form;
mod rbac;
mod rbac_routes;
mod registry;
mod registry_support;
mod risk;
mod sbom_parsers;
mod scale;
mod scoping;
mod scorecards;
mod search;
mod signin;
mod store;
mod trivy_parser;
mod upkeep;
mod vendor;
mod versions;
