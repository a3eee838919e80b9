//! Integration tests: one binary (linking the server once), one module per concern.

mod cli;
mod helpers;
mod http;
mod store;
mod trivy_parser;
