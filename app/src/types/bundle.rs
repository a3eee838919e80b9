//! The evidence page (`/evidence`): the days whose snapshot content the ledger recorded, the
//! teams to pick, the key to verify with, and the exports made so far.

use super::*;

/// One export, as its ledger entry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceExport {
    pub at: String,
    /// Empty: every team.
    pub teams: Vec<String>,
    pub by: String,
    pub when: DateTime<Utc>,
    pub manifest_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidencePage {
    /// Days with recorded snapshot content, newest first.
    pub days: Vec<chrono::NaiveDate>,
    pub teams: Vec<String>,
    /// The ledger's public key (C2SP verifier-key form), when the server can sign.
    pub verifier_key: Option<String>,
    /// The latest exports, newest first.
    pub exports: Vec<EvidenceExport>,
}
