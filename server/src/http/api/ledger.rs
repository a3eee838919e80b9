//! The audit ledger for outside verifiers: the signed checkpoint, entries with their exact
//! bytes, inclusion and consistency proofs.

#[allow(unused_imports)]
use super::*;

/// `GET /api/v1/ledger/checkpoint`: the signed checkpoint covering every committed entry (text/plain).
#[utoipa::path(
    get, path = "/api/v1/ledger/checkpoint", tag = "ledger",
    description = "The signed checkpoint (a signed note) covering every committed entry. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, description = "the signed note", content_type = "text/plain", body = String), Refused, (status = 503, description = "the ledger has no signing key", body = ErrorBody)),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn ledger_checkpoint(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let note = state.service.checkpoint(Some(&caller.principal())).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

/// `GET /api/v1/ledger/entries?start=S&end=E` (end exclusive, at most 10,000 a call).
#[utoipa::path(
    get, path = "/api/v1/ledger/entries", tag = "ledger",
    description = "Entries start..end (end exclusive, at most 10,000 a call) with their exact bytes; a bare array (outside verifiers read it). Roles: viewer, auditor, security, admin.",
    params(("start" = Option<i64>, Query, description = "(0)"), ("end" = Option<i64>, Query, description = "(the log's size)")),
    responses((status = 200, body = Vec<LedgerEntry>), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "security", "admin"])))
)]
pub async fn ledger_entries(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    use base64::Engine as _;
    let q = query_map(raw);
    let start = int_param(&q, "start", 0)?;
    let end = q.contains_key("end").then(|| int_param(&q, "end", 0)).transpose()?;
    let rows = state.service.ledger_entries(Some(&caller.principal()), start, end).await.map_err(in_query)?;
    let items: Vec<LedgerEntry> = rows
        .into_iter()
        .filter_map(|r| {
            let entry = r.entry?;
            Some(LedgerEntry {
                index: r.index?,
                time: crate::ledger::entry_time(&r.time),
                actor: r.actor,
                kind: r.kind,
                subject: r.subject,
                payload: serde_json::from_str::<serde_json::Value>(&r.payload).unwrap_or(serde_json::Value::Null),
                leaf: base64::engine::general_purpose::STANDARD.encode(entry.as_bytes()),
            })
        })
        .collect();
    Ok(Json(items).into_response())
}

fn b64_hashes(h: &[crate::ledger::merkle::Hash]) -> Vec<String> {
    use base64::Engine as _;
    h.iter().map(|x| base64::engine::general_purpose::STANDARD.encode(x)).collect()
}

/// `GET /api/v1/ledger/proof/inclusion?index=I&size=N`.
#[utoipa::path(
    get, path = "/api/v1/ledger/proof/inclusion", tag = "ledger",
    description = "The inclusion proof of entry `index` in the tree of `size` entries. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("index" = i64, Query,), ("size" = Option<i64>, Query, description = "(the log's size)")),
    responses((status = 200, body = InclusionProof), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn ledger_inclusion(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q = query_map(raw);
    let index = q.get("index").ok_or_else(|| ApiError::bad_request("index is required"))?;
    let index: i64 = index.parse().ok().filter(|i| *i >= 0).ok_or_else(|| ApiError::bad_request("index must be a non-negative integer"))?;
    let size = q.contains_key("size").then(|| int_param(&q, "size", 0)).transpose()?;
    let (size, proof) = state.service.inclusion_proof(Some(&caller.principal()), index, size).await.map_err(in_query)?;
    Ok(Json(InclusionProof { index, size, hashes: b64_hashes(&proof) }).into_response())
}

/// `GET /api/v1/ledger/proof/consistency?from=M&to=N`.
#[utoipa::path(
    get, path = "/api/v1/ledger/proof/consistency", tag = "ledger",
    description = "The consistency proof from the tree of `from` entries to that of `to`. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("from" = i64, Query,), ("to" = Option<i64>, Query, description = "(the log's size)")),
    responses((status = 200, body = ConsistencyProof), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn ledger_consistency(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q = query_map(raw);
    let from = q.get("from").and_then(|v| v.parse::<i64>().ok()).ok_or_else(|| ApiError::bad_request("from must be an integer"))?;
    let to = q.contains_key("to").then(|| int_param(&q, "to", 0)).transpose()?;
    let (to, proof) = state.service.consistency_proof(Some(&caller.principal()), from, to).await.map_err(in_query)?;
    Ok(Json(ConsistencyProof { from, to, hashes: b64_hashes(&proof) }).into_response())
}
