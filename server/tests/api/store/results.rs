//! What pages and the evaluation read and write: a team's images a page at a time, and stored
//! policy results replaced by only what changed.

use super::*;
use crate::helpers::trivy_fixtures;
use crate::helpers::TestDb;
use app::types::{FindingCounts, RuleKind};
use drydock::domain::ownership::RuleSpec;
use drydock::domain::TeamName;

on_both_backends!(a_team_page_lists_its_images_worst_first_a_page_at_a_time, an_evaluation_writes_only_the_results_that_changed,);

/// Every fixture image owned by one team; the team's pages of two, put together, are all of its
/// images in the order worked out here from the image list (most criticals first, then highs…).
async fn a_team_page_lists_its_images_worst_first_a_page_at_a_time(store: &Store) {
    let now = Utc::now();
    for name in trivy_fixtures() {
        ingest_bytes(store, &fixture(&format!("trivy/{name}")), now).await;
    }
    for image in store.images(1000, 0, None).await.unwrap().items {
        for repo in &image.repositories {
            let rule = RuleSpec::parse(RuleKind::RepositoryPrefix, &repo.repository, "everyone").unwrap();
            let _ = store.add_ownership_rule(&rule, &actor(), now).await;
        }
    }
    let mut expected: Vec<(FindingCounts, String)> = store
        .images(1000, 0, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|i| i.team.as_deref() == Some("everyone"))
        .map(|i| (i.findings, i.digest))
        .collect();
    assert!(expected.len() >= 5, "the fixtures hold several images: {}", expected.len());
    expected.sort_by(|a, b| (a.0.worst_first_key(), &a.1).cmp(&(b.0.worst_first_key(), &b.1)));
    let team = TeamName::parse("everyone").unwrap();
    let mut paged = Vec::new();
    for offset in (0..expected.len() as i64 + 2).step_by(2) {
        let page = store.team_view(&team, 2, offset).await.unwrap().unwrap();
        assert_eq!(page.total, expected.len() as i64);
        assert!(page.images.len() <= 2);
        paged.extend(page.images.into_iter().map(|i| (i.findings, i.digest)));
    }
    assert_eq!(paged, expected);
}

/// `replace_policy_results` writes what differs from the stored results, deletes what is no
/// longer judged and leaves the rest: the stored state always equals the last evaluation's.
async fn an_evaluation_writes_only_the_results_that_changed(store: &Store) {
    use drydock::store::{PolicyResultRecord, PolicyScoreRecord};
    // Microseconds: what both databases keep of a time.
    let t0 = DateTime::from_timestamp_micros(1_780_000_000_123_456).unwrap();
    let result = |i: usize, passed: bool| PolicyResultRecord {
        policy: "non-root".into(),
        subject_kind: "container".into(),
        subject: format!("c/ns/pod-{i}/app"),
        team: Some(format!("team-{}", i % 3)),
        environment: None,
        passed,
        reason: if passed { "runs as 1000".into() } else { "runs as root".into() },
        failing_since: (!passed).then_some(t0),
    };
    let scores = |rs: &[PolicyResultRecord]| -> Vec<PolicyScoreRecord> {
        let mut by = std::collections::BTreeMap::<String, (i64, i64)>::new();
        for r in rs {
            let e = by.entry(r.team.clone().unwrap_or_default()).or_default();
            e.0 += 1;
            e.1 += i64::from(!r.passed);
        }
        by.into_iter()
            .map(|(team, (subjects, failing))| PolicyScoreRecord { team, policy: "non-root".into(), subjects, failing, evaluated_at: t0 })
            .collect()
    };
    let first: Vec<PolicyResultRecord> = (0..1500).map(|i| result(i, i % 4 != 0)).collect();
    assert_eq!(store.replace_policy_results(&first, &scores(&first), t0).await.unwrap(), (1500, 0));
    assert_eq!(store.replace_policy_results(&first, &scores(&first), t0).await.unwrap(), (0, 0), "nothing changed");
    // One result starts failing, one passes again, 400 subjects (a hundred of them failing) are
    // gone, one is new.
    let mut second: Vec<PolicyResultRecord> =
        first.iter().filter(|r| !(1000..1400).any(|i| r.subject == format!("c/ns/pod-{i}/app"))).cloned().collect();
    second[5] = result(5, false);
    second[4] = result(4, true);
    second.push(result(2000, false));
    assert_eq!(store.replace_policy_results(&second, &scores(&second), t0).await.unwrap(), (3, 400));
    for team in ["team-0", "team-1", "team-2"] {
        let mut stored = store.failing_results(team, None, 10_000, 0).await.unwrap();
        let mut want: Vec<PolicyResultRecord> = second.iter().filter(|r| !r.passed && r.team.as_deref() == Some(team)).cloned().collect();
        stored.sort_by(|a, b| a.subject.cmp(&b.subject));
        want.sort_by(|a, b| a.subject.cmp(&b.subject));
        assert_eq!(stored, want, "{team}");
    }
    assert_eq!(store.policy_scores().await.unwrap(), scores(&second));
    // A day later the rule cannot tell since when (no failing_since): the failing results keep
    // their stored start (nothing to write), one that passed before starts failing then.
    let t1 = t0 + chrono::Duration::days(1);
    let mut third: Vec<PolicyResultRecord> = second.iter().cloned().map(|r| PolicyResultRecord { failing_since: None, ..r }).collect();
    third[4] = PolicyResultRecord { failing_since: None, ..result(4, false) };
    assert_eq!(store.replace_policy_results(&third, &scores(&third), t1).await.unwrap(), (1, 0));
    let all_failing: Vec<PolicyResultRecord> =
        futures_util::future::try_join_all(["team-0", "team-1", "team-2"].map(|t| store.failing_results(t, None, 10_000, 0)))
            .await
            .unwrap()
            .concat();
    assert_eq!(all_failing.len(), third.iter().filter(|r| !r.passed).count());
    for r in &all_failing {
        let want = if r.subject == "c/ns/pod-4/app" { t1 } else { t0 };
        assert_eq!(r.failing_since, Some(want), "{}", r.subject);
    }
}
