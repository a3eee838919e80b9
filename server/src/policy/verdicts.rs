//! Each policy's verdict on one subject (an image, a container, a node), from the facts the
//! evaluation read: pure functions, one per rule, and the SLA's deadlines.

use super::Context;
use crate::domain::policy::Rule;
use crate::domain::purl::PackageCoordinates;
use crate::domain::version::{Scheme, VersionRange};
use crate::store::{PolicyImage, RunFact};
use app::types::{Severity, SignatureState};
use chrono::{DateTime, Utc};

/// A subject's verdict: pass, or fail with why and (when the rule knows) since when.
pub(super) enum Verdict {
    Pass(String),
    Fail(String, Option<DateTime<Utc>>),
}

pub(super) fn sla_days(p: &crate::domain::policy::SlaParams, severity: Severity) -> Option<i64> {
    match severity {
        Severity::Critical => Some(p.critical_days),
        Severity::High => Some(p.high_days),
        Severity::Medium => Some(p.medium_days),
        Severity::Low => Some(p.low_days),
        Severity::Negligible | Severity::Unknown => None,
    }
}

/// A denylist entry, parsed: (label, package, range).
pub(super) type Deny = (String, PackageCoordinates, VersionRange);

pub(super) fn image_verdict(
    rule: &Rule,
    img: &PolicyImage,
    vulns: &[&crate::store::OpenVulnRecord],
    packages: Option<&Vec<(PackageCoordinates, &str)>>,
    deny: &[Deny],
    cx: &Context<'_>,
) -> Option<Verdict> {
    let r = &img.row;
    Some(match rule {
        Rule::VulnerabilitySla(p) => sla_verdict(p, vulns, cx.now),
        Rule::ApprovedRegistry => registry_verdict(r, cx.approved_hosts),
        Rule::ApprovedBase(p) if p.approved.is_empty() => return None,
        Rule::ApprovedBase(p) => base_verdict(&p.approved, img),
        Rule::Signed => match r.signed {
            SignatureState::Verified => Verdict::Pass("signature verified".into()),
            SignatureState::Present => Verdict::Fail(
                format!("signed, but not by a trusted key{}", r.signature_detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()),
                None,
            ),
            SignatureState::None => Verdict::Fail("not signed".into(), None),
        },
        Rule::Denylist(_) => denylist_verdict(packages, deny),
        Rule::OsEndOfLife => match img.eosl {
            Some(true) => Verdict::Fail(format!("{} is past its end of life", r.os.as_deref().unwrap_or("its operating system")), None),
            Some(false) => Verdict::Pass(format!("{} is supported", r.os.as_deref().unwrap_or("the operating system"))),
            None => Verdict::Pass("no end of life stated by its scanner".into()),
        },
        Rule::ScanFreshness(p) => match r.last_scanned {
            None => Verdict::Fail("never scanned".into(), Some(r.first_seen)),
            Some(t) if crate::domain::dates::add_days_at(t, p.max_age_days) < cx.now => Verdict::Fail(
                format!("last scanned {} (older than {} days)", t.format("%Y-%m-%d"), p.max_age_days),
                Some(crate::domain::dates::add_days_at(t, p.max_age_days)),
            ),
            Some(t) => Verdict::Pass(format!("scanned {}", t.format("%Y-%m-%d"))),
        },
        _ => return None,
    })
}

/// The findings the SLA can find overdue at `now`: of each severity with an SLA, those first seen
/// before `now` minus its days, or minus the KEV days when known exploited, or minus the EPSS days
/// when likely exploited (each with a day's margin). Any other finding is within its deadline, so
/// the evaluation does not read it; `sla_verdict` still decides each finding read.
pub fn overdue_cutoffs(p: &crate::domain::policy::SlaParams, now: DateTime<Utc>) -> crate::store::OverdueCutoffs {
    let cutoff = |days: i64| crate::domain::dates::add_days_at(now, 1i64.saturating_sub(days));
    crate::store::OverdueCutoffs {
        before: Severity::ALL.into_iter().filter_map(|s| Some((s, cutoff(sla_days(p, s)?)))).collect(),
        kev_before: p.kev_days.map(cutoff),
        epss_before: p.epss_threshold.map(|t| (t, cutoff(p.epss_days))),
        only_fixable: p.only_fixable,
    }
}

/// Each open finding's deadline: first sighting plus the tightest days that apply (its
/// severity's SLA, KEV, EPSS); failing since the earliest deadline passed.
fn sla_verdict(p: &crate::domain::policy::SlaParams, vulns: &[&crate::store::OpenVulnRecord], now: DateTime<Utc>) -> Verdict {
    let mut overdue: Vec<(DateTime<Utc>, String)> = Vec::new();
    for v in vulns {
        if p.only_fixable && v.fixed.is_none() {
            continue;
        }
        let Some((days, why)) = finding_days(p, v) else { continue };
        let deadline = crate::domain::dates::add_days_at(v.first_seen, days);
        if deadline < now {
            let fix = v.fixed.as_deref().map(|f| format!(", fixed in {f}")).unwrap_or_default();
            overdue.push((
                deadline,
                format!("{} in {} {}{fix} ({why}, due {})", v.vulnerability, v.package, v.installed, deadline.format("%Y-%m-%d")),
            ));
        }
    }
    overdue.sort();
    match overdue.first() {
        None => Verdict::Pass("no finding past its deadline".into()),
        Some((since, first)) => {
            let more = if overdue.len() > 1 { format!("; {} more past their deadline", overdue.len() - 1) } else { String::new() };
            Verdict::Fail(format!("{first}{more}"), Some(*since))
        }
    }
}

/// The days a finding may stay open and why: its severity's SLA, shortened when it is known
/// exploited (KEV) or likely to be (EPSS at or above the threshold). None: no SLA applies.
fn finding_days(p: &crate::domain::policy::SlaParams, v: &crate::store::OpenVulnRecord) -> Option<(i64, String)> {
    let mut days = sla_days(p, v.severity)?;
    let mut why = format!("{} SLA {days} days", v.severity);
    if let (true, Some(k)) = (v.kev, p.kev_days) {
        if k < days {
            days = k;
            why = format!("known exploited (KEV): {k} days");
        }
    }
    if let (Some(e), Some(t)) = (v.epss, p.epss_threshold) {
        if e >= t && p.epss_days < days {
            days = p.epss_days;
            why = format!("EPSS {:.0}%: {days} days", e * 100.0);
        }
    }
    Some((days, why))
}

fn registry_verdict(r: &crate::store::ImageRow, approved_hosts: &[String]) -> Verdict {
    let hosts: Vec<&str> = r.repositories.iter().filter_map(|t| t.repository.split('/').next()).collect();
    match hosts.iter().find(|h| approved_hosts.iter().any(|a| a == *h)) {
        Some(h) => Verdict::Pass(format!("in the approved registry {h}")),
        None if hosts.is_empty() => Verdict::Fail("in no registry Drydock knows (seen only in reports)".into(), None),
        None => Verdict::Fail(format!("only in registries not approved: {}", hosts.join(", ")), None),
    }
}

/// Built on an approved base: by its base-name annotation, or its first layer being one.
fn base_verdict(approved: &[String], img: &PolicyImage) -> Verdict {
    let r = &img.row;
    let by_name = r
        .base_name
        .as_deref()
        .filter(|b| approved.iter().any(|a| b == a || b.starts_with(&format!("{a}:")) || b.starts_with(&format!("{a}@"))));
    let by_layers = approved.iter().find(|a| a.starts_with("sha256:") && img.diff_ids.first() == Some(*a));
    match (by_name, by_layers) {
        (Some(b), _) => Verdict::Pass(format!("built on {b}")),
        (None, Some(a)) => Verdict::Pass(format!("its first layer is the approved base's ({a})")),
        (None, None) => Verdict::Fail(
            match &r.base_name {
                Some(b) => format!("built on {b}, which is not an approved base"),
                None => "no base image annotation and no approved base's layers".into(),
            },
            None,
        ),
    }
}

fn denylist_verdict(packages: Option<&Vec<(PackageCoordinates, &str)>>, deny: &[Deny]) -> Verdict {
    let found: Vec<String> = deny
        .iter()
        .filter_map(|(label, c, range)| {
            let hit = packages?.iter().find(|(pc, v)| {
                pc.ptype() == c.ptype()
                    && pc.name() == c.name()
                    && (c.namespace().is_empty() || pc.namespace() == c.namespace())
                    && range.contains(v)
            })?;
            Some(format!("{label} ({c} {})", hit.1))
        })
        .collect();
    if found.is_empty() {
        Verdict::Pass("no denylisted package".into())
    } else {
        Verdict::Fail(found.join("; "), None)
    }
}

pub(super) fn non_root(w: &RunFact) -> Verdict {
    match (w.run_as_user, w.image_user.as_deref().map(str::trim)) {
        (Some(0), _) => Verdict::Fail("runs as uid 0".into(), None),
        (Some(uid), _) => Verdict::Pass(format!("runs as uid {uid}")),
        (None, None | Some("")) => Verdict::Fail("no runAsUser, and the image sets no user (root)".into(), None),
        (None, Some(u)) if u == "root" || u == "0" || u.starts_with("root:") || u.starts_with("0:") => {
            Verdict::Fail(format!("no runAsUser, and the image's user is {u}"), None)
        }
        (None, Some(u)) => Verdict::Pass(format!("the image's user {u}")),
    }
}

pub(super) fn promoted(w: &RunFact, img: Option<&PolicyImage>, cx: &Context<'_>) -> Verdict {
    let Some(img) = img else { return Verdict::Fail(format!("runs {}, an image Drydock does not know", w.image), None) };
    let p = cx.promotion.for_image(&img.row.labels, &img.row.repositories);
    if p.promoted {
        Verdict::Pass(format!("promoted ({})", p.value.unwrap_or_default()))
    } else {
        Verdict::Fail(format!("runs {} in production without promotion ({})", w.image, p.mode), None)
    }
}

pub(super) fn node_verdict(p: &crate::domain::policy::NodeParams, n: &crate::store::NodeVersions) -> Verdict {
    let below = |have: &str, min: &str| Scheme::Semver.compare(have, min).map(|o| o.is_lt()).unwrap_or(false);
    let kubelet = n.kubelet_version.as_deref().unwrap_or("");
    let runtime = n.container_runtime.as_deref().unwrap_or("");
    let containerd = runtime.strip_prefix("containerd://").map(|v| v.split(['+', '-']).next().unwrap_or(v));
    let mut problems = Vec::new();
    if !kubelet.is_empty() && below(kubelet, &p.kubelet_min) {
        problems.push(format!("kubelet {kubelet} is below {}", p.kubelet_min));
    }
    if let Some(c) = containerd.filter(|c| below(c, &p.containerd_min)) {
        problems.push(format!("containerd {c} is below {}", p.containerd_min));
    }
    if problems.is_empty() {
        Verdict::Pass(format!("kubelet {kubelet}, {runtime}"))
    } else {
        Verdict::Fail(problems.join("; "), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::SlaParams;
    use crate::store::{OpenVulnRecord, OverdueCutoffs};

    /// What the evaluation's query keeps of a finding, as `push_may_be_overdue` writes it in SQL.
    fn read(o: &OverdueCutoffs, v: &OpenVulnRecord) -> bool {
        let Some((_, before)) = o.before.iter().find(|(s, _)| *s == v.severity) else { return false };
        let fixable = !o.only_fixable || v.fixed.is_some();
        let kev = v.kev && o.kev_before.is_some_and(|b| v.first_seen < b);
        let epss = matches!((v.epss, o.epss_before), (Some(e), Some((t, b))) if e >= t && v.first_seen < b);
        fixable && (v.first_seen < *before || kev || epss)
    }

    /// Every finding the SLA finds overdue is read; a plain finding well within its days is not.
    #[test]
    fn the_findings_left_unread_are_never_overdue() {
        let now: DateTime<Utc> = "2026-06-01T12:00:00Z".parse().unwrap();
        let params = [
            SlaParams::default(),
            SlaParams { kev_days: None, epss_threshold: None, only_fixable: false, ..SlaParams::default() },
            SlaParams { critical_days: 1, kev_days: Some(10), epss_days: 40, ..SlaParams::default() },
        ];
        for p in &params {
            let o = overdue_cutoffs(p, now);
            for severity in Severity::ALL {
                for (kev, epss, fixed) in [(false, None, true), (true, None, true), (false, Some(0.9), true), (false, Some(0.1), false)] {
                    for age_hours in (0..200 * 24).step_by(7) {
                        let v = OpenVulnRecord {
                            image_id: 1,
                            vulnerability: "CVE-1".into(),
                            package: "p".into(),
                            installed: "1".into(),
                            severity,
                            fixed: fixed.then(|| "2".to_string()),
                            epss,
                            kev,
                            first_seen: now - chrono::Duration::hours(age_hours),
                        };
                        let overdue = matches!(sla_verdict(p, &[&v], now), Verdict::Fail(..));
                        assert!(!overdue || read(&o, &v), "{p:?} {v:?}: overdue but not read");
                        if let (false, None, Some(days)) = (kev, epss, sla_days(p, severity)) {
                            if age_hours < (days - 1) * 24 {
                                assert!(!read(&o, &v), "{p:?} {v:?}: within its days, read anyway");
                            }
                        }
                    }
                }
            }
        }
    }
}
