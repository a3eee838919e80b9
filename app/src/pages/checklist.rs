//! `/checklist`: the enterprise Docker checklist answered from live data, by section, each answer
//! with its figures and links to the rows behind it; a CSV export; prints to PDF from the browser.

use super::layout::LoadError;
use crate::server_fns::get_checklist;
use crate::types::{ChecklistItem, Evidence};
use leptos::prelude::*;
use leptos_meta::Title;

/// The page showing an API list's rows, where there is one (else the list itself).
fn page_of(href: &str) -> String {
    for (api, page) in [
        ("/api/v1/search?", "/search?"),
        ("/api/v1/unaccounted", "/unaccounted"),
        ("/api/v1/workloads", "/workloads"),
        ("/api/v1/risk", "/risk"),
        ("/api/v1/overdue-items", "/overdue"),
        ("/api/v1/campaigns", "/campaigns"),
        ("/api/v1/registries", "/registries"),
        ("/api/v1/vendor-images", "/admission"),
    ] {
        if let Some(rest) = href.strip_prefix(api) {
            return format!("{page}{rest}");
        }
    }
    if let Some(q) = href.strip_prefix("/api/v1/policy-results?policy=") {
        return format!("/policies#policy-{}", q.split('&').next().unwrap_or_default());
    }
    href.to_string()
}

fn status_class(s: &str) -> &'static str {
    match s {
        "ok" => "check-status check-ok",
        "attention" => "check-status check-attention",
        _ => "check-status check-unknown",
    }
}

#[component]
pub fn ChecklistPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_checklist());
    view! {
        <Title text="Checklist"/>
        <h1>"The enterprise Docker checklist"</h1>
        <p class="muted">"Each question answered from what Drydock has stored now, with the rows behind each figure. "
            <a href="/checklist.csv">"Download as CSV"</a>" · print this page to keep it as a PDF."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(c) => {
                        let mut sections: Vec<(String, Vec<ChecklistItem>)> = Vec::new();
                        for i in c.items {
                            match sections.iter_mut().find(|(s, _)| *s == i.section) {
                                Some((_, v)) => v.push(i),
                                None => sections.push((i.section.clone(), vec![i])),
                            }
                        }
                        sections.into_iter().map(|(section, items)| view! { <Section section items/> }).collect_view().into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Section(section: String, items: Vec<ChecklistItem>) -> impl IntoView {
    view! {
        <section class="checklist-section">
            <h2>{section.clone()}</h2>
            <table class="data checklist">
                <thead><tr><th scope="col">"Question"</th><th scope="col">"Status"</th><th scope="col">"Answer"</th><th scope="col">"Evidence"</th></tr></thead>
                <tbody>
                    {items.into_iter().map(|i| view! {
                        <tr id=format!("check-{}", i.id) data-status=i.status.clone()>
                            <th scope="row">{i.question.clone()}</th>
                            <td><span class=status_class(&i.status)>{i.status.clone()}</span></td>
                            <td>{i.answer.clone()}</td>
                            <td><EvidenceLinks evidence=i.evidence/></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn EvidenceLinks(evidence: Vec<Evidence>) -> impl IntoView {
    if evidence.is_empty() {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    view! {
        <ul class="plain">
            {evidence.into_iter().map(|e| view! {
                <li><a href=page_of(&e.href)>{crate::format::count(e.count, "row", "rows")}</a>" "<span class="muted small print-only">{e.href.clone()}</span></li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
