//! `/admin/jobs`: every background job with its next run, last success and last failure, and the
//! most recent runs (which worker, for which due time, how it ended).

use super::layout::LoadError;
use crate::format::date;
use crate::server_fns::get_jobs;
use crate::types::JobStatus;
use leptos::prelude::*;
use leptos_meta::Title;

fn when(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.as_ref().map(date).unwrap_or_else(|| "never".into())
}

fn every(seconds: Option<i64>) -> String {
    match seconds {
        None => "once".into(),
        Some(s) if s % 3600 == 0 => format!("every {} h", s / 3600),
        Some(s) if s % 60 == 0 => format!("every {} min", s / 60),
        Some(s) => format!("every {s} s"),
    }
}

fn state(j: &JobStatus) -> (&'static str, String) {
    match (&j.running_by, j.failures) {
        (Some(w), _) => ("warn", format!("running on {w}")),
        (None, 0) => ("ok", "ok".into()),
        (None, n) => ("bad", format!("failing ({n} in a row)")),
    }
}

/// The jobs page (admin).
#[component]
pub fn JobsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_jobs());
    view! {
        <Title text="Jobs"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! {
                        <h1>"Jobs"</h1>
                        <p>"Background work: collections, push refreshes, ledger verification and checkpoints, purges. Each due job is run by one worker, whatever the number of replicas; a failing job backs off (5, 10, 20… minutes, at most 6 hours) and returns to its schedule after a success."</p>
                        <table class="data" id="jobs">
                            <thead><tr>
                                <th scope="col">"Job"</th><th scope="col">"For"</th><th scope="col">"Schedule"</th><th scope="col">"State"</th>
                                <th scope="col">"Next run"</th><th scope="col">"Last success"</th><th scope="col">"Last failure"</th>
                            </tr></thead>
                            <tbody>
                                {v.jobs.into_iter().map(|j| {
                                    let (class, label) = state(&j);
                                    view! {
                                        <tr>
                                            <td><code>{j.kind.clone()}</code></td>
                                            <td>{j.key.clone()}</td>
                                            <td>{every(j.every_seconds)}</td>
                                            <td class=class>{label}</td>
                                            <td>{date(&j.next_run)}</td>
                                            <td>{when(&j.last_success)}</td>
                                            <td>
                                                {when(&j.last_failure)}
                                                {j.last_error.clone().map(|e| view! { <div class="small error-text">{e}</div> })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <h2>"Recent runs"</h2>
                        <table class="data" id="job-runs">
                            <thead><tr>
                                <th scope="col">"Started"</th><th scope="col">"Job"</th><th scope="col">"For"</th><th scope="col">"Due"</th>
                                <th scope="col">"Outcome"</th><th scope="col">"Seconds"</th><th scope="col">"Worker"</th>
                            </tr></thead>
                            <tbody>
                                {v.runs.into_iter().map(|r| {
                                    let secs = r.finished_at.map(|f| format!("{:.1}", (f - r.started_at).num_milliseconds() as f64 / 1000.0)).unwrap_or_default();
                                    view! {
                                        <tr>
                                            <td>{date(&r.started_at)}</td>
                                            <td><code>{r.kind.clone()}</code></td>
                                            <td>{r.key.clone()}</td>
                                            <td>{date(&r.due_at)}</td>
                                            <td>
                                                {r.outcome.clone()}
                                                {r.error.clone().map(|e| view! { <div class="small error-text">{e}</div> })}
                                            </td>
                                            <td class="num">{secs}</td>
                                            <td><code class="small">{r.worker.clone()}</code></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
