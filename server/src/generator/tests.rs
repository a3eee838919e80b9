//! The generator's output counted again from the bytes it produced (serde_json only, not
//! Drydock's parsers) against what it says it holds.

use super::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn estate() -> Estate {
    Estate::new(Preset::tiny(60, 6_001, 333), 42)
}

#[test]
fn reports_hold_exactly_the_findings_and_severities_it_counts() {
    let e = estate();
    let expected = e.expected();
    let (mut findings, mut by_severity, mut digests) = (0, BTreeMap::<String, usize>::new(), BTreeSet::new());
    for i in 0..e.preset.images {
        let v: Value = serde_json::from_slice(&e.report(i)).unwrap();
        assert_eq!(v["SchemaVersion"], 2);
        for d in v["Metadata"]["RepoDigests"].as_array().unwrap() {
            digests.insert(d.as_str().unwrap().rsplit('@').next().unwrap().to_string());
        }
        let mut seen = BTreeSet::new();
        for r in v["Results"].as_array().unwrap() {
            for f in r["Vulnerabilities"].as_array().unwrap() {
                findings += 1;
                *by_severity.entry(f["Severity"].as_str().unwrap().to_string()).or_default() += 1;
                let key = (
                    f["VulnerabilityID"].to_string(),
                    f["PkgName"].to_string(),
                    f["InstalledVersion"].to_string(),
                    f["PkgPath"].to_string(),
                );
                assert!(seen.insert(key), "image {i} lists a finding twice");
            }
        }
    }
    assert_eq!(findings, 6_001, "the preset's findings, exactly");
    assert_eq!(expected.findings, findings);
    assert_eq!(expected.by_severity, by_severity);
    assert_eq!(digests.len(), 60, "one distinct digest per image");
    assert!(by_severity.len() >= 3, "several severities: {by_severity:?}");
}

#[test]
fn pod_lists_hold_exactly_the_containers_it_counts_and_run_known_images() {
    let e = estate();
    let expected = e.expected();
    let known: BTreeSet<String> = (0..e.preset.images).map(|i| e.digest_of(i)).collect();
    let (mut pods, mut containers, mut clusters_of) = (0, 0, BTreeMap::<String, BTreeSet<String>>::new());
    for c in 0..e.preset.clusters {
        let (name, bytes, summary) = e.pod_list(c);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["kind"], "PodList");
        let items = v["items"].as_array().unwrap();
        let n: usize = items.iter().map(|p| p["status"]["containerStatuses"].as_array().unwrap().len()).sum();
        assert_eq!((summary.pods, summary.containers), (items.len(), n));
        for p in items {
            for s in p["status"]["containerStatuses"].as_array().unwrap() {
                let digest = s["imageID"].as_str().unwrap().rsplit('@').next().unwrap().to_string();
                assert!(known.contains(&digest), "a container runs an image the estate scanned");
                clusters_of.entry(digest).or_default().insert(name.clone());
            }
        }
        pods += items.len();
        containers += n;
    }
    assert_eq!(containers, 333, "the preset's containers, exactly");
    assert_eq!((expected.pods, expected.containers), (pods, containers));
    assert!(clusters_of.values().any(|c| c.len() > 1), "some image runs in several clusters");
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let (a, b, c) = (estate(), estate(), Estate::new(Preset::tiny(60, 6_001, 333), 43));
    assert_eq!(a.report(7), b.report(7));
    assert_eq!(a.pod_list(1).1, b.pod_list(1).1);
    assert_ne!(a.report(7), c.report(7));
}

#[test]
fn some_images_are_in_two_registries_and_teams_differ_in_size() {
    let e = Estate::new(Preset::SMALL, 1);
    let mirrored = (0..200).filter(|&i| String::from_utf8(e.report(i)).unwrap().contains(Estate::MIRROR)).count();
    assert!((5..60).contains(&mirrored), "about one in ten mirrored: {mirrored} of 200");
    let mut sizes = BTreeMap::<&str, usize>::new();
    for i in 0..e.preset.images {
        *sizes.entry(e.team_of(i)).or_default() += 1;
    }
    let (min, max) = (sizes.values().min().unwrap(), sizes.values().max().unwrap());
    assert!(max > &(2 * min), "a few large teams, many small: {sizes:?}");
    assert!(e.teams.iter().all(|t| crate::domain::TeamName::parse(t).is_ok()));
}

#[test]
fn a_large_report_holds_exactly_the_findings_asked_for_each_once() {
    let e = estate();
    let v: Value = serde_json::from_slice(&e.large_report(3, 1000)).unwrap();
    let mut seen = BTreeSet::new();
    for r in v["Results"].as_array().unwrap() {
        for f in r["Vulnerabilities"].as_array().unwrap() {
            seen.insert((
                f["VulnerabilityID"].to_string(),
                f["PkgName"].to_string(),
                f["InstalledVersion"].to_string(),
                f["PkgPath"].to_string(),
            ));
        }
    }
    assert_eq!(seen.len(), 1000);
    let digest = v["Metadata"]["RepoDigests"][0].as_str().unwrap().rsplit('@').next().unwrap().to_string();
    assert!((0..e.preset.images).all(|i| e.digest_of(i) != digest), "a new image, not one of the estate's");
    let parsed = crate::ingest::parse(&e.large_report(3, 1000), None).unwrap();
    assert_eq!(parsed.findings.len(), 1000, "Drydock's parser reads the same thousand");
}
