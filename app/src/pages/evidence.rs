//! `/evidence`: pick a day and teams and download the signed evidence bundle (a plain GET form:
//! works without JavaScript), with the command and key that verify it offline and the exports
//! made so far.

use super::layout::LoadError;
use crate::server_fns::get_evidence_page;
use crate::types::EvidencePage;
use leptos::prelude::*;
use leptos_meta::Title;

fn download_form(p: &EvidencePage) -> AnyView {
    let latest = p.days.first().map(|d| d.to_string()).unwrap_or_default();
    let days = p.days.iter().map(|d| view! { <option value=d.to_string()></option> }).collect_view();
    let teams = p
        .teams
        .iter()
        .map(|t| view! { <label class="check"><input type="checkbox" name="team" value=t.clone()/>" "{t.clone()}</label> })
        .collect_view();
    view! {
        <form method="get" action="/evidence/bundle" class="stacked">
            <label for="ev-at">"Day (the bundle proves the state at its end)"</label>
            <input type="date" id="ev-at" name="at" required value=latest list="ev-days"/>
            <datalist id="ev-days">{days}</datalist>
            <fieldset class="teams">
                <legend>"Teams (none ticked: every team)"</legend>
                <div class="checks">{teams}</div>
            </fieldset>
            <button type="submit">"Download the bundle"</button>
        </form>
    }
    .into_any()
}

fn days_table(p: &EvidencePage) -> AnyView {
    if p.days.is_empty() {
        return view! { <p class="muted">"No day's snapshot content is recorded yet: the scorecard.snapshot job records one each day (or drydock snapshot)."</p> }.into_any();
    }
    let rows = p
        .days
        .iter()
        .take(14)
        .map(|d| view! { <tr><td>{d.to_string()}</td><td><a href=format!("/evidence/bundle?at={d}")>"Download (every team)"</a></td></tr> })
        .collect_view();
    view! {
        <table>
            <thead><tr><th>"Recorded day"</th><th>"Bundle"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

fn exports_table(p: &EvidencePage) -> AnyView {
    if p.exports.is_empty() {
        return view! { <p class="muted">"No bundle has been exported yet."</p> }.into_any();
    }
    let rows = p
        .exports
        .iter()
        .map(|e| {
            let teams = if e.teams.is_empty() { "every team".to_string() } else { e.teams.join(", ") };
            view! {
                <tr>
                    <td>{e.when.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                    <td>{e.by.clone()}</td>
                    <td>{e.at.clone()}</td>
                    <td>{teams}</td>
                    <td><code class="wrap" title=e.manifest_sha256.clone()>{e.manifest_sha256.chars().take(16).collect::<String>()}"…"</code></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table>
            <thead><tr><th>"When"</th><th>"By"</th><th>"Day"</th><th>"Teams"</th><th>"Manifest SHA-256"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

fn verify_help(p: &EvidencePage) -> AnyView {
    let key = p.verifier_key.clone().unwrap_or_else(|| "(this server cannot sign: no ledger key)".into());
    view! {
        <p>"A bundle is a gzip'd tar: the day's recorded scorecard snapshot, the scores per team and policy, the failing subjects, the campaigns with their acknowledgements and exceptions, the ledger entries recording them with their inclusion proofs, the signed checkpoints, REPORT.html, and a manifest of every file's SHA-256 signed with the ledger key. Anyone can check it without Drydock's server:"</p>
        <pre class="wrap"><code>"drydock evidence verify drydock-evidence-DAY.tar.gz --public-key '"{key.clone()}"'"</code></pre>
        <p class="muted">"Obtain the key from Drydock's operators through a channel you trust, not from the bundle itself."</p>
    }
    .into_any()
}

#[component]
pub fn EvidencePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_evidence_page());
    view! {
        <Title text="Evidence"/>
        <h1>"Evidence for auditors"</h1>
        <p class="muted">"The compliance state at the end of a day, as one signed bundle verifiable offline against the ledger. Every export is recorded in the ledger."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(p) => view! {
                        <section class="card"><h2>"Export"</h2>{download_form(&p)}</section>
                        <section class="card"><h2>"Recorded days"</h2>{days_table(&p)}</section>
                        <section class="card"><h2>"Checking a bundle"</h2>{verify_help(&p)}</section>
                        <section class="card"><h2>"Exports"</h2>{exports_table(&p)}</section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
