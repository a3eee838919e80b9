//! Integration tests: one binary (linking the server once), one module per concern.

mod access_admin;
mod cli;
mod hardening;
mod helpers;
mod http;
mod input_consistency;
mod jobs;
mod k8s;
mod k8s_collect;
mod ledger;
mod ledger_scale;
mod oidc;
mod openapi;
mod policies;
mod rbac;
mod registry;
mod registry_support;
mod sbom_parsers;
mod scoping;
mod search;
mod store;
mod trivy_parser;
mod versions;
