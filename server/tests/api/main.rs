//! Integration tests: one binary (linking the server once), one module per concern.

mod cli;
mod helpers;
mod http;
mod rbac;
mod store;
mod trivy_parser;
