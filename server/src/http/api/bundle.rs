//! `GET /api/v1/evidence?at=DATE[&team=T]…`: the signed evidence bundle of the end of a day.

use super::*;
use axum::http::header;

/// The query's day and teams (repeated `team`); a wrong day is a 422 naming `at`.
pub fn bundle_query(raw: Option<String>) -> Result<(chrono::NaiveDate, Option<Vec<String>>), crate::service::Error> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let at = pairs
        .iter()
        .find(|(k, _)| k == "at")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| crate::service::Error::invalid("at", "a day (YYYY-MM-DD) is required"))?;
    let at = crate::domain::dates::parse("at", at).map_err(|e| crate::service::Error::invalid("at", e))?;
    let teams: Vec<String> = pairs.into_iter().filter(|(k, v)| k == "team" && !v.is_empty()).map(|(_, v)| v).collect();
    Ok((at, (!teams.is_empty()).then_some(teams)))
}

/// The bundle as a download.
pub fn bundle_response(at: chrono::NaiveDate, bundle: crate::service::bundle::Bundle) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/gzip".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"drydock-evidence-{at}.tar.gz\"")),
            (header::HeaderName::from_static("x-manifest-sha256"), bundle.manifest_sha256),
        ],
        bundle.bytes,
    )
        .into_response()
}

#[utoipa::path(
    get, path = "/api/v1/evidence", tag = "ledger",
    description = "The evidence bundle of the compliance state at the end of `at` (a gzip'd tar): the day's recorded snapshot content (`snapshot.json`), `scorecards.json` (per team and policy: judged, failing, score, grade; the policies in force), `failing.json`, `campaigns.json` (items' states, deadlines, acknowledgements and exceptions as of that day), `entries.json` (the ledger entries recording those facts, each with its inclusion proof against `checkpoint.txt`), `latest-checkpoint.txt` and `consistency.json`, `REPORT.html`, `MANIFEST.json` (every file's SHA-256) and `MANIFEST.sig` (Ed25519, the ledger key). `drydock evidence verify FILE --public-key KEY` checks it offline. Each export is a ledger entry. 404 when no snapshot content was recorded for that day. Roles: auditor, security, admin.",
    params(
        ("at" = String, Query, description = "the day, YYYY-MM-DD (not after today)"),
        ("team" = Option<Vec<String>>, Query, description = "only these teams (repeat; default every team)"),
    ),
    responses(
        (status = 200, description = "the bundle", content_type = "application/gzip", body = Vec<u8>),
        (status = 404, description = "no snapshot content was recorded for that day, or no such team", body = ErrorBody),
        BadBody, Refused
    ),
    extensions(("x-roles" = json!(["auditor", "security", "admin"])))
)]
pub async fn evidence_bundle(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    caller.require(Action::ExportEvidence, None)?;
    let (at, teams) = bundle_query(raw).map_err(|e| ApiError::from(e.in_query()))?;
    let bundle = state.service.evidence_bundle(Some(&caller.principal()), at, teams).await.map_err(|e| ApiError::from(e.in_query()))?;
    Ok(bundle_response(at, bundle))
}
