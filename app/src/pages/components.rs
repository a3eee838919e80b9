//! Small pieces several pages use: severity counts, severity bars, digests.

use crate::format::{path_segment, short_digest};
use crate::types::{FindingCounts, ImageSummary, Severity};
use leptos::prelude::*;

/// A severity label in its colour.
#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! { <span class=format!("sev sev-{}", severity.as_str())>{severity.as_str()}</span> }
}

/// Table header cells for the six severity buckets.
#[component]
pub fn SeverityHeaders() -> impl IntoView {
    Severity::ALL.into_iter().map(|s| view! { <th scope="col" class="num">{short_label(s)}</th> }).collect_view()
}

fn short_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Negligible => "Negl.",
        Severity::Unknown => "Unknown",
    }
}

/// Table cells for the six buckets; zero is shown faint so the eye finds the real numbers.
#[component]
pub fn SeverityCells(counts: FindingCounts) -> impl IntoView {
    Severity::ALL
        .into_iter()
        .map(|s| {
            let n = counts.get(s);
            let class = if n == 0 { "num zero".to_string() } else { format!("num count-{}", s.as_str()) };
            view! { <td class=class>{n}</td> }
        })
        .collect_view()
}

/// A horizontal bar of the findings mix, drawn as SVG (no inline styles, so CSP stays strict).
#[component]
pub fn SeverityBar(counts: FindingCounts) -> impl IntoView {
    let total = counts.total();
    let mut x = 0.0f64;
    let rects = Severity::ALL
        .into_iter()
        .filter(|s| counts.get(*s) > 0)
        .map(|s| {
            let w = counts.get(s) as f64 * 100.0 / total as f64;
            let r = view! {
                <rect x=format!("{x:.3}") y="0" width=format!("{w:.3}") height="10" class=format!("fill-{}", s.as_str())>
                    <title>{format!("{}: {}", s.as_str(), counts.get(s))}</title>
                </rect>
            };
            x += w;
            r
        })
        .collect_view();
    let label = Severity::ALL.into_iter().map(|s| format!("{} {}", counts.get(s), s.as_str())).collect::<Vec<_>>().join(", ");
    view! {
        <svg class="sevbar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=label>
            <rect x="0" y="0" width="100" height="10" class="fill-empty"/>
            {rects}
        </svg>
    }
}

/// A big number with its label, linking to the rows behind it.
#[component]
pub fn Stat(label: &'static str, value: i64, href: String, #[prop(optional)] tone: &'static str) -> impl IntoView {
    view! {
        <a class=format!("stat {tone}") href=href>
            <span class="stat-value">{value}</span>
            <span class="stat-label">{label}</span>
        </a>
    }
}

/// A link to an image page showing its readable name and short digest.
#[component]
pub fn ImageLink(image: ImageSummary) -> impl IntoView {
    let href = format!("/images/{}", path_segment(&image.digest));
    view! {
        <a href=href class="image-link">{image.display_name()}</a>
        <br/>
        <code class="digest">{short_digest(&image.digest)}</code>
    }
}

/// A team name linking to its page, or the "unowned" label.
#[component]
pub fn TeamLink(team: Option<String>) -> impl IntoView {
    match team {
        Some(t) => {
            let href = format!("/teams/{}", path_segment(&t));
            view! { <a href=href>{t}</a> }.into_any()
        }
        None => view! { <span class="label label-warn">"unowned"</span> }.into_any(),
    }
}

/// The `<option>`s of a role picker; `ingest` only where tokens are made (people never get it).
#[component]
pub fn RoleOptions(with_ingest: bool) -> impl IntoView {
    let roles: &[(&str, &str)] = &[
        ("ingest", "ingest — send reports in, read nothing"),
        ("admission", "admission — the Kubernetes API server asking the admission webhook"),
        ("viewer", "viewer"),
        ("auditor", "auditor — reads everything and exports evidence, changes nothing"),
        ("developer", "developer (needs a team)"),
        ("manager", "manager (needs a team)"),
        ("security", "security"),
        ("admin", "admin"),
    ];
    roles
        .iter()
        .filter(|(r, _)| with_ingest || !matches!(*r, "ingest" | "admission"))
        .map(|(r, label)| view! { <option value=*r>{*label}</option> })
        .collect_view()
}

/// "Showing 51–100 of 1,203" with links to the pages before and after; `link(offset)` is the URL
/// of the page starting at `offset`, `page` the rows a page holds.
#[component]
pub fn Pager(id: &'static str, offset: i64, shown: usize, total: i64, page: i64, link: impl Fn(i64) -> String) -> impl IntoView {
    // An offset comes from the address bar: any number, so no arithmetic on it may overflow.
    let end = offset.saturating_add(shown as i64);
    let prev = (offset > 0).then(|| link(offset.saturating_sub(page).max(0)));
    let next = (end < total).then(|| link(end));
    view! {
        <nav class="pager" aria-label="Result pages" id=id>
            <span class="muted">{if total == 0 { String::new() } else if shown == 0 { format!("Past the last of {total}") } else { format!("Showing {}–{end} of {total}", offset.saturating_add(1)) }}</span>
            {prev.map(|h| view! { " " <a href=h rel="prev">"← Previous"</a> })}
            {next.map(|h| view! { " " <a href=h rel="next">"Next →"</a> })}
        </nav>
    }
}

/// A score as a whole number, halves away from zero (— when nothing is judged); the same number
/// pages carry in `data-score`.
pub fn score_text(s: Option<f64>) -> String {
    s.map(|s| (s.round() as i64).to_string()).unwrap_or_else(|| "—".into())
}

/// A score for a `data-score` attribute: the whole number, empty when nothing is judged.
pub fn score_attr(s: Option<f64>) -> String {
    s.map(|s| (s.round() as i64).to_string()).unwrap_or_default()
}

/// A change of score as a signed whole number (— without a past score).
pub fn change_text(c: Option<f64>) -> String {
    c.map(|c| format!("{c:+.0}")).unwrap_or_else(|| "—".into())
}

/// The CSS class of a grade's badge.
pub fn grade_class(g: &str) -> &'static str {
    match g {
        "A" => "grade grade-a",
        "B" => "grade grade-b",
        "C" => "grade grade-c",
        "D" => "grade grade-d",
        _ => "grade grade-f",
    }
}

/// A grade in its badge (nothing without a grade).
#[component]
pub fn GradeBadge(grade: Option<String>) -> impl IntoView {
    grade.map(|g| view! { <span class=grade_class(&g)>{g.clone()}</span> })
}

/// "Score by day from … to …" for a trend chart's text alternative.
pub fn trend_text(trend: &[crate::types::TrendPoint]) -> String {
    match (trend.first(), trend.last()) {
        (Some(f), Some(l)) => format!(
            "Score by day from {} ({:.0}) to {} ({:.0}), {}.",
            f.day,
            f.score,
            l.day,
            l.score,
            crate::format::count(trend.len() as i64, "day recorded", "days recorded")
        ),
        _ => "No daily snapshot yet.".into(),
    }
}
