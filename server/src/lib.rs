//! Drydock's server: configuration, the estate store, report ingestion, the HTTP API and the
//! engine behind the UI's ports. `main.rs` only parses the command line.

pub mod admission;
pub mod auth;
pub mod bundle;
pub mod campaigns;
pub mod charts;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod domain;
pub mod generator;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod k8s;
pub mod ledger;
pub mod metrics;
pub mod panics;
pub mod policy;
pub mod registry;
pub mod risk;
pub mod service;
pub mod startup;
pub mod store;
