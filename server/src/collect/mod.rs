//! Collectors that read a system Drydock watches and store what they found. The registry
//! collector lives with its client in `crate::registry`; clusters are read here.

pub mod cluster;
