//! One module per page, plus the shared layout and small components.

pub mod admission;
pub mod campaigns;
pub mod checklist;
pub mod components;
pub mod evidence;
pub mod forensics;
pub mod image;
pub mod images;
pub mod jobs;
pub mod layout;
pub mod my_teams;
pub mod overview;
pub mod ownership;
pub mod plain;
pub mod policies;
pub mod policy_form;
pub mod registries;
pub mod risk;
pub mod roles;
pub mod scorecards;
pub mod search;
pub mod team;
pub mod tokens;
pub mod users;
pub mod workloads;
