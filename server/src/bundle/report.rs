//! `REPORT.html`: the bundle summarised for people — the scores per team, the exceptions in
//! force and the campaigns' progress, and how to check it all. Self-contained (no script, no
//! outside resource); every value is escaped.

use super::{CampaignAt, Manifest, Scorecards};
use crate::domain::snapshot::Failure;
use std::fmt::Write as _;

fn esc(s: &str) -> String {
    app::format::escape_html(s)
}

fn number(score: Option<f64>) -> String {
    score.map_or("–".into(), |s| format!("{s:.1}"))
}

/// The report for a bundle's manifest and contents.
pub fn report_html(m: &Manifest, cards: &Scorecards, failing: &[Failure], campaigns: &[CampaignAt]) -> String {
    let mut h = String::new();
    let teams = m.teams.as_ref().map_or("every team".to_string(), |t| t.join(", "));
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Drydock evidence: {at}</title>\
         <style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}}\
         table{{border-collapse:collapse;width:100%;margin:1rem 0}}th,td{{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left}}\
         td.num{{text-align:right;font-variant-numeric:tabular-nums}}code{{font-size:13px}}</style></head><body>\
         <h1>Compliance at the end of {at}</h1><p>Teams: {teams}. Generated {gen} by {by}. {failing} failing subjects \
         (<code>failing.json</code>).</p>",
        at = m.at,
        teams = esc(&teams),
        gen = esc(&m.generated_at),
        by = esc(&m.generated_by),
        failing = failing.len(),
    );
    h.push_str("<h2>Scores</h2><table><thead><tr><th>Team</th><th>Score</th><th>Grade</th><th>Policies failing</th></tr></thead><tbody>");
    for t in &cards.teams {
        let worst: Vec<String> =
            t.policies.iter().filter(|p| p.failing > 0).map(|p| format!("{} ({})", esc(&p.policy), p.failing)).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            if t.team.is_empty() { "(no team)".into() } else { esc(&t.team) },
            number(t.score),
            esc(t.grade.as_deref().unwrap_or("–")),
            worst.join(", ")
        );
    }
    h.push_str("</tbody></table><h2>Exceptions</h2>");
    if campaigns.iter().all(|c| c.items.iter().all(|i| i.exception.is_none())) {
        h.push_str("<p>No exception was asked for or in force.</p><table hidden><tbody>");
    } else {
        h.push_str("<table><thead><tr><th>Campaign</th><th>Item</th><th>Team</th><th>State</th><th>Reason</th><th>Until</th><th>Requested by</th><th>Decided by</th></tr></thead><tbody>");
    }
    for c in campaigns {
        for it in &c.items {
            let Some(x) = &it.exception else { continue };
            let _ = write!(
                h,
                "<tr><td>{}</td><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.title),
                it.id,
                esc(it.team.as_deref().unwrap_or("(no team)")),
                esc(&x.state),
                esc(&x.reason),
                esc(x.until.as_deref().unwrap_or("–")),
                esc(&x.requested_by),
                esc(x.decided_by.as_deref().unwrap_or("–"))
            );
        }
    }
    h.push_str("</tbody></table><h2>Campaigns</h2><table><thead><tr><th>Campaign</th><th>Deadline</th><th>Items</th><th>Closed</th><th>Open or acknowledged</th></tr></thead><tbody>");
    for c in campaigns {
        let closed = c.items.iter().filter(|i| matches!(i.state.as_str(), "fixed" | "retired")).count();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{closed}</td><td class=\"num\">{}</td></tr>",
            esc(&c.title),
            c.deadline.map_or("–".into(), |d| d.to_string()),
            c.items.len(),
            c.items.iter().filter(|i| matches!(i.state.as_str(), "open" | "acknowledged")).count()
        );
    }
    let _ = writeln!(
        h,
        "</tbody></table><h2>Checking this bundle</h2><p>Run <code>drydock evidence verify BUNDLE --public-key KEY</code> with the \
         ledger's public key obtained from Drydock's operators (this bundle names <code>{}</code>). It checks the signed manifest, \
         every file's hash, each ledger entry's inclusion proof against the signed checkpoint, the consistency proof to the latest \
         checkpoint, and that these numbers are those of the snapshot the ledger recorded.</p></body></html>",
        esc(&m.verifier_key)
    );
    h
}
