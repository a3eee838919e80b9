//! Evidence bundles: the compliance state at the end of a day as one gzip'd tar that a third
//! party checks offline against the ledger (`verify.rs`), without trusting Drydock's server.
//!
//! Files: `snapshot.json` (the day's snapshot content, the exact bytes whose SHA-256 the day's
//! `scorecard.snapshot` ledger entry holds), `scorecards.json` (per team and policy: judged,
//! failing, score, grade; the policies in force), `failing.json` (the failing subjects with
//! reasons and since when), `campaigns.json` (campaigns with their items' states, deadlines,
//! acknowledgements and exceptions as of that day), `entries.json` (the ledger entries recording
//! those facts, each with its RFC 6962 inclusion proof against `checkpoint.txt`),
//! `latest-checkpoint.txt` and `consistency.json` (the proof that the latest signed checkpoint
//! extends the first), `REPORT.html` (for people), `MANIFEST.json` (every file's SHA-256) and
//! `MANIFEST.sig` (Ed25519 over the manifest's bytes with the ledger key, base64).

mod campaigns;
pub mod pack;
mod report;
pub mod verify;

use crate::domain::snapshot::{Document, Failure, PolicyInForce};
use serde::{Deserialize, Serialize};

pub use campaigns::{campaigns_at, entries_used};
pub use pack::{pack, unpack};
pub use report::report_html;

/// The bundle format named in its manifest.
pub const FORMAT: &str = "drydock-evidence/v1";
pub const MANIFEST: &str = "MANIFEST.json";
pub const SIGNATURE: &str = "MANIFEST.sig";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The day whose end the bundle describes.
    pub at: chrono::NaiveDate,
    /// The teams asked for (none: every team).
    pub teams: Option<Vec<String>>,
    pub generated_at: String,
    pub generated_by: String,
    /// The ledger's public key (C2SP verifier-key form); the verifier is given its own copy.
    pub verifier_key: String,
    pub files: Vec<FileHash>,
}

/// A ledger entry (its canonical bytes as text) with its inclusion proof (hex) in the tree of
/// `Entries::checkpoint_size` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenEntry {
    pub index: u64,
    pub entry: String,
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entries {
    pub checkpoint_size: u64,
    pub entries: Vec<ProvenEntry>,
}

/// The consistency proof (hex) from the tree of `from` entries to that of `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consistency {
    pub from: u64,
    pub to: u64,
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyCard {
    pub policy: String,
    pub judged: i64,
    pub failing: i64,
    pub score: Option<f64>,
    pub grade: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamCard {
    /// Empty: subjects of no team.
    pub team: String,
    pub score: Option<f64>,
    pub grade: Option<String>,
    pub policies: Vec<PolicyCard>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecards {
    pub at: chrono::NaiveDate,
    /// The ledger index of the snapshot entry these numbers come from.
    pub snapshot_entry: u64,
    pub formula: String,
    pub teams: Vec<TeamCard>,
    pub policies: Vec<PolicyInForce>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub planned: Option<String>,
    pub note: Option<String>,
    pub by: String,
    pub at: String,
    pub entry: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    /// `requested`, `approved` or `rejected` as of the day.
    pub state: String,
    pub reason: String,
    pub until: Option<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub requested_entry: u64,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decided_entry: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemAt {
    pub id: i64,
    pub image: String,
    pub team: Option<String>,
    /// As of the day: `fixed`/`retired` when closed by then, `excepted` under an approved
    /// exception in force, `acknowledged`, else `open`.
    pub state: String,
    pub deadline: chrono::NaiveDate,
    pub acknowledgement: Option<Acknowledgement>,
    pub exception: Option<Exception>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignAt {
    pub id: i64,
    pub title: String,
    pub deadline: Option<chrono::NaiveDate>,
    pub created_by: String,
    pub created_at: String,
    /// The entries recording the campaign: its creation, then deadline changes up to the day.
    pub entries: Vec<u64>,
    pub items: Vec<ItemAt>,
}

/// Is `team` (empty: no team) among `teams` (none: every team)?
pub fn wanted(teams: Option<&[String]>, team: &str) -> bool {
    teams.is_none_or(|t| t.iter().any(|x| x == team))
}

/// The scorecards of `doc` for `teams` (none: every team), scores and grades computed by the
/// policy engine's formula.
pub fn scorecards(doc: &Document, teams: Option<&[String]>, snapshot_entry: u64) -> Scorecards {
    let mut cards: Vec<TeamCard> = Vec::new();
    for s in doc.scores.iter().filter(|s| wanted(teams, &s.team)) {
        if cards.last().is_none_or(|c| c.team != s.team) {
            cards.push(TeamCard { team: s.team.clone(), score: None, grade: None, policies: vec![] });
        }
        let score = crate::policy::score(s.judged, s.failing);
        let card = cards.last_mut().expect("pushed above");
        card.policies.push(PolicyCard {
            policy: s.policy.clone(),
            judged: s.judged,
            failing: s.failing,
            score,
            grade: score.map(|x| crate::policy::grade(x).to_string()),
        });
    }
    for card in &mut cards {
        card.score = crate::policy::overall(card.policies.iter().map(|p| (p.judged, p.failing)));
        card.grade = card.score.map(|x| crate::policy::grade(x).to_string());
    }
    Scorecards { at: doc.day, snapshot_entry, formula: crate::policy::FORMULA.into(), teams: cards, policies: doc.policies.clone() }
}

/// The failing subjects of `doc` for `teams`.
pub fn failing(doc: &Document, teams: Option<&[String]>) -> Vec<Failure> {
    doc.failing.iter().filter(|f| wanted(teams, f.team.as_deref().unwrap_or(""))).cloned().collect()
}
