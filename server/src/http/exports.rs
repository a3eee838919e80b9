//! CSV exports of scorecard tables and the checklist: for the API (bearer tokens) and for
//! signed-in pages (`/scorecards/{team}/export.csv`, `/checklist.csv`, the session's principal).

use super::session::CurrentUser;
use super::AppState;
use crate::service::policies::FailingWindow;
use app::types::TeamScorecard;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;

fn csv_field(s: &str) -> String {
    // A leading = + - @ would be a formula in a spreadsheet: quote it with a leading apostrophe.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A scorecard table as a CSV download: `policies` or `failing`; an unknown table names itself.
pub fn scorecard_csv(card: &TeamScorecard, table: &str) -> Result<Response, crate::service::Error> {
    let mut out = String::new();
    match table {
        "policies" => {
            out.push_str("policy,title,subjects,failing,score,grade\r\n");
            for p in &card.policies {
                out.push_str(&format!(
                    "{},{},{},{},{:.1},{}\r\n",
                    csv_field(&p.policy),
                    csv_field(&p.title),
                    p.subjects,
                    p.failing,
                    p.score,
                    p.grade
                ));
            }
        }
        "failing" => {
            out.push_str("policy,subject_kind,subject,environment,reason,failing_since\r\n");
            for f in &card.failing {
                out.push_str(&format!(
                    "{},{},{},{},{},{}\r\n",
                    csv_field(&f.policy),
                    csv_field(&f.subject_kind),
                    csv_field(&f.subject),
                    csv_field(f.environment.as_deref().unwrap_or("")),
                    csv_field(&f.reason),
                    f.failing_since.map(|t| t.to_rfc3339()).unwrap_or_default()
                ));
            }
        }
        other => return Err(crate::service::Error::invalid("table", format!("{other:?} is not policies or failing"))),
    }
    let name = format!(
        "attachment; filename=\"scorecard-{}-{table}.csv\"",
        card.team.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    );
    Ok(([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (axum::http::header::CONTENT_DISPOSITION, name)], out)
        .into_response())
}

/// The checklist as CSV: one row per question, its evidence as `href (count)` joined by spaces.
pub fn checklist_csv(c: &app::types::Checklist) -> Response {
    let mut out = String::from("id,section,question,status,answer,figures,evidence\r\n");
    for i in &c.items {
        let evidence: Vec<String> = i.evidence.iter().map(|e| format!("{} ({})", e.href, e.count)).collect();
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            csv_field(&i.id),
            csv_field(&i.section),
            csv_field(&i.question),
            csv_field(&i.status),
            csv_field(&i.answer),
            csv_field(&i.figures.to_string()),
            csv_field(&evidence.join(" "))
        ));
    }
    let name = "attachment; filename=\"drydock-checklist.csv\"".to_string();
    ([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (axum::http::header::CONTENT_DISPOSITION, name)], out)
        .into_response()
}

/// `GET /checklist.csv`: the signed-in person's checklist as CSV.
pub async fn checklist_export(State(state): State<AppState>, Extension(user): Extension<CurrentUser>) -> Response {
    match state.service.checklist(user.principal.as_ref()).await {
        Ok(c) => checklist_csv(&c),
        Err(e) => super::page::failure(("/checklist", "the checklist"), e, "export"),
    }
}

/// `GET /evidence/bundle?at=DATE[&team=T]…`: the signed-in person's evidence bundle download.
pub async fn evidence_download(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let made = match super::api::bundle_query(raw) {
        Ok((at, teams)) => state.service.evidence_bundle(user.principal.as_ref(), at, teams).await.map(|b| (at, b)),
        Err(e) => Err(e),
    };
    match made {
        Ok((at, bundle)) => super::api::bundle_response(at, bundle),
        Err(e) => super::page::failure(("/evidence", "the evidence page"), e, "export"),
    }
}

#[derive(serde::Deserialize)]
pub struct TableQuery {
    table: Option<String>,
}

/// `GET /scorecards/{team}/export.csv?table=`: the signed-in person's export of a scorecard table.
pub async fn scorecard_export(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(team): Path<String>,
    Query(q): Query<TableQuery>,
) -> Response {
    let card = match state.service.team_scorecard(user.principal.as_ref(), &team, FailingWindow::FIRST_500).await {
        Ok(c) => c,
        Err(e) => return super::page::failure(("/scorecards", "the scorecards"), e, "export"),
    };
    scorecard_csv(&card, q.table.as_deref().unwrap_or("policies"))
        .unwrap_or_else(|e| super::page::failure(("/scorecards", "the scorecards"), e, "export"))
}
