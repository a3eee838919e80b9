//! The typed answers of `/api/v1` that are not shared with the pages (those live in
//! `app::types`): each derives its OpenAPI schema.

use serde::Serialize;
use utoipa::ToSchema;

/// Every error: a message naming what is wrong (internal causes stay in the server log).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    /// The input field to blame, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The answer to a registry's notification envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsRecorded {
    /// Events recorded now (each event once, whatever the retries).
    pub recorded: usize,
    /// Events recorded before.
    pub duplicates: usize,
    /// Events that are not manifest pushes or deletions.
    pub ignored: usize,
}

/// The answer to a pod upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct PodsStored {
    pub cluster: String,
    /// `cluster` (a whole cluster's list), `node NAME` (a kubelet's) or `pod` (one pod).
    pub scope: String,
    pub pods: usize,
    pub containers: usize,
    /// Pods of the stated scope that are gone since the last upload.
    pub ended: u64,
}

/// The answer to a node upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodesStored {
    pub cluster: String,
    pub nodes: usize,
}

/// A configured cluster (the token is only named by its environment variable).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterCreated {
    pub name: String,
    pub server: String,
    pub token_env: String,
}

/// The answer to a Kubernetes audit upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecorded {
    pub cluster: String,
    /// Events in the body.
    pub events: usize,
    /// Events new to the ledger.
    pub recorded: usize,
}

/// One ledger entry with its exact bytes (`leaf`, base64): outside verifiers hash these.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub index: i64,
    /// RFC 3339 with microseconds, as in the entry's bytes.
    pub time: String,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub payload: serde_json::Value,
    pub leaf: String,
}

/// An RFC 6962 inclusion proof (hashes base64).
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: i64,
    pub size: i64,
    pub hashes: Vec<String>,
}

/// An RFC 6962 consistency proof (hashes base64).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: i64,
    pub to: i64,
    pub hashes: Vec<String>,
}

/// An API token, never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub team: Option<String>,
    pub clusters: Vec<String>,
    pub registries: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The refusals of every authenticated operation (documented once, listed by each).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Refused {
    #[response(status = 401, description = "no or an unknown token")]
    Unauthenticated(ErrorBody),
    #[response(status = 403, description = "the role (or the token's bindings) does not allow this")]
    Forbidden(ErrorBody),
}

/// The answers to a JSON body that is not JSON (400) or not valid (422, naming the field).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BadBody {
    #[response(status = 400, description = "a parameter or the body is malformed")]
    Malformed(ErrorBody),
    #[response(status = 422, description = "the body is JSON but not valid: `field` names the field")]
    Invalid(ErrorBody),
}

/// The answer to a body over `max_body_bytes`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum TooLarge {
    #[response(status = 413, description = "the body is larger than max_body_bytes")]
    TooLarge(ErrorBody),
}
