//! Version orderings against the ecosystems' reference implementations, as oracles: dpkg itself
//! (`dpkg --compare-versions`), rpm's `labelCompare` (Debian's python3-rpm), PyPA `packaging`
//! (PEP 440) and `univers` (apk, semver, Maven), installed by `.ci/setup.sh --tests` into
//! `/var/tmp/drydock-oracles` (or `DRYDOCK_ORACLE_PYTHON`). Pairs are drawn from the versions in
//! the real scanner reports under `fixtures/`, plus each ecosystem's hard cases.

use super::helpers::fixture;
use drydock::domain::version::Scheme;
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

/// Versions per scheme, from every fixture report (Trivy, Grype, CycloneDX).
fn versions_from_fixtures() -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut out: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    let scheme_of_trivy = |t: &str| match t {
        "debian" | "ubuntu" => Some("deb"),
        "centos" | "rocky" | "amazon" | "redhat" | "oracle" | "alma" => Some("rpm"),
        "alpine" => Some("apk"),
        "node-pkg" | "npm" | "yarn" => Some("semver"),
        "jar" | "pom" => Some("maven"),
        "python-pkg" | "pip" | "pipenv" | "poetry" => Some("pypi"),
        _ => None,
    };
    let mut add = |scheme: &'static str, v: &str| {
        for v in v.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            out.entry(scheme).or_default().insert(v.to_string());
        }
    };
    for dir in ["trivy", "grype", "cyclonedx"] {
        let path = super::helpers::fixture_path(dir);
        for entry in std::fs::read_dir(&path).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let doc: Value = serde_json::from_slice(&fixture(&format!("{dir}/{name}"))).unwrap();
            for r in doc["Results"].as_array().into_iter().flatten() {
                let Some(scheme) = r["Type"].as_str().and_then(scheme_of_trivy) else { continue };
                for v in r["Vulnerabilities"].as_array().into_iter().flatten() {
                    add(scheme, v["InstalledVersion"].as_str().unwrap_or(""));
                    add(scheme, v["FixedVersion"].as_str().unwrap_or(""));
                }
                for p in r["Packages"].as_array().into_iter().flatten() {
                    add(scheme, p["Version"].as_str().unwrap_or(""));
                }
            }
            for m in doc["matches"].as_array().into_iter().flatten() {
                let scheme = match m["artifact"]["type"].as_str() {
                    Some("deb") => "deb",
                    Some("rpm") => "rpm",
                    Some("apk") => "apk",
                    Some("java-archive") => "maven",
                    Some("python") => "pypi",
                    Some("npm") => "semver",
                    _ => continue,
                };
                add(scheme, m["artifact"]["version"].as_str().unwrap_or(""));
                for f in m["vulnerability"]["fix"]["versions"].as_array().into_iter().flatten() {
                    add(scheme, f.as_str().unwrap_or(""));
                }
            }
            for c in doc["components"].as_array().into_iter().flatten() {
                let purl = c["purl"].as_str().unwrap_or("");
                let scheme = match purl.split('/').next() {
                    Some("pkg:apk") => "apk",
                    Some("pkg:npm") => "semver",
                    Some("pkg:pypi") => "pypi",
                    Some("pkg:deb") => "deb",
                    Some("pkg:rpm") => "rpm",
                    Some("pkg:maven") => "maven",
                    _ => continue,
                };
                add(scheme, c["version"].as_str().unwrap_or(""));
            }
        }
    }
    out
}

/// Each ecosystem's known traps.
fn hard_cases(scheme: &str) -> Vec<(&'static str, &'static str)> {
    match scheme {
        "deb" => vec![
            ("1.0~rc1", "1.0"),
            ("1.0~~", "1.0~"),
            ("1.0", "1.0+b1"),
            ("1:0.9", "2.0"),
            ("1.1.1n-0+deb11u4", "1.1.1n-0+deb11u3"),
            ("1.1.1d-0+deb10u7", "1.1.1n-0+deb11u4"),
            ("2.36-9+deb12u4", "2.36-9+deb12u10"),
            ("1.0a", "1.0-"),
            ("1.0", "a1.0"),
            ("1:", "1.0"),
            ("1.0.0", "1.0"),
            ("0:1.0", "1.0"),
            ("1.2.3-1ubuntu0.1", "1.2.3-1"),
            ("7.64.0-4+deb10u2", "7.64.0-4+deb10u10"),
            ("10", "9"),
            ("1.01", "1.1"),
            ("1.0-1", "1.0-1~bpo1"),
        ],
        "rpm" => vec![
            ("1.0~rc1", "1.0"),
            ("1.0^post1", "1.0"),
            ("1.0^post1", "1.0.1"),
            ("1:1.0.2k-26.el7", "1:1.0.2k-25.el7_9"),
            ("1.0.2k-26.el7", "1:1.0.2k-19.el7"),
            ("2.0a", "2.0"),
            ("2.0.1a", "2.0.1"),
            ("5.5p1", "5.5p10"),
            ("1.01", "1.1"),
            ("1.0", "1.0-1"),
            ("1.0_1", "1.0.1"),
            ("4.18.0-305.el8", "4.18.0-305.3.1.el8_4"),
            ("a", "1"),
            ("1.0.0", "1.0"),
            ("2.2.5-25.el8", "2.2.5-25.el8_4"),
        ],
        "apk" => vec![
            ("1.0_rc1", "1.0"),
            ("1.0_p1", "1.0"),
            ("1.0_alpha", "1.0_beta"),
            ("1.0-r1", "1.0-r10"),
            ("1.0a", "1.0"),
            ("1.0a", "1.0b"),
            ("1.2.3", "1.2.10"),
            ("1.01", "1.1"),
            ("1.0_pre1", "1.0_rc1"),
            ("3.1.4-r5", "3.1.4-r6"),
            ("2.6.5-r0", "2.6.5-r1"),
            ("1.1.1k-r0", "1.1.1l-r0"),
            ("1.2", "1.2.0"),
            ("1.0_rc1_p2", "1.0_rc1"),
        ],
        "semver" => vec![
            ("1.0.0-alpha", "1.0.0"),
            ("1.0.0-alpha", "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
            ("1.0.0-beta.2", "1.0.0-beta.11"),
            ("1.0.0-rc.1", "1.0.0"),
            ("1.0.0+build.1", "1.0.0"),
            ("2.0.0", "10.0.0"),
            ("0.9.99", "0.10.0"),
            ("v1.2.3", "1.2.4"),
        ],
        "pypi" => vec![
            ("1.0rc1", "1.0"),
            ("1.0.post1", "1.0"),
            ("1.0.dev1", "1.0a1"),
            ("1!0.5", "2.0"),
            ("1.0+local.1", "1.0"),
            ("1.0", "1.0.0"),
            ("2.0b3", "2.0rc1"),
            ("1.10", "1.9"),
            ("1.0.post1.dev2", "1.0.post1"),
            ("1.0a1.post2", "1.0a2"),
        ],
        "maven" => vec![
            ("1.0-alpha-1", "1.0"),
            ("1.0-SNAPSHOT", "1.0"),
            ("1.0-rc1", "1.0-cr1"),
            ("1.0-ga", "1.0"),
            ("1.0-final", "1.0.0"),
            ("1.0-sp1", "1.0"),
            ("1.0-sp1", "1.0-foo"),
            ("1.0.RELEASE", "1.0"),
            ("2.17.0", "2.14.1"),
            ("1.0a1", "1.0-alpha-1"),
            ("1.0b2", "1.0-beta-2"),
            ("1.0m3", "1.0-milestone-3"),
            ("1.0-1", "1.0.1"),
            ("5.3.17", "5.3.18"),
            ("1.0.0.Final", "1.0"),
            ("2.5.Final", "2.5.1"),
            ("1", "1.0.0.0"),
            ("1-1", "1.1"),
            ("1.0-alpha", "1.0-beta"),
            ("1.0-xyz", "1.0-abc"),
        ],
        _ => vec![],
    }
}

/// Pairs for a scheme: the hard cases, then consecutive and spread pairs over its sorted
/// versions (neighbours are the hard comparisons; spread ones cover the rest), at most `cap`.
fn pairs(scheme: &str, versions: &BTreeSet<String>, cap: usize) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = hard_cases(scheme).into_iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let v: Vec<&String> = versions.iter().collect();
    for step in [1usize, 2, 3, 7, 13, 31] {
        for i in 0..v.len() {
            if out.len() >= cap {
                return out;
            }
            if let Some(b) = v.get(i + step) {
                out.push((v[i].clone(), (*b).clone()));
            }
        }
    }
    out
}

fn oracle_python() -> String {
    std::env::var("DRYDOCK_ORACLE_PYTHON").unwrap_or_else(|_| "/var/tmp/drydock-oracles/bin/python".into())
}

/// The reference answers for (scheme, a, b) pairs, in order.
pub(crate) fn reference(scheme: &str, pairs: &[(String, String)]) -> Vec<Result<Ordering, String>> {
    if scheme == "deb" {
        return pairs
            .iter()
            .map(|(a, b)| {
                // Exit 0: true, 1: false, anything else: a version dpkg refuses.
                let ask = |op: &str| -> Result<bool, String> {
                    let out =
                        Command::new("dpkg").args(["--compare-versions", a, op, b]).output().expect("dpkg (the Debian reference) runs");
                    match out.status.code() {
                        Some(0) => Ok(true),
                        Some(1) => Ok(false),
                        _ => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
                    }
                };
                Ok(if ask("lt")? {
                    Ordering::Less
                } else if ask("eq")? {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                })
            })
            .collect();
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/compare.py");
    let python = oracle_python();
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("the oracle interpreter {python} (installed by .ci/setup.sh --tests): {e}"));
    let mut input = String::new();
    for (a, b) in pairs {
        input.push_str(&serde_json::json!({"scheme": scheme, "a": a, "b": b}).to_string());
        input.push('\n');
    }
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the oracle failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let answers: Vec<Result<Ordering, String>> = text
        .lines()
        .map(|l| match l {
            "-1" => Ok(Ordering::Less),
            "0" => Ok(Ordering::Equal),
            "1" => Ok(Ordering::Greater),
            e => Err(e.to_string()),
        })
        .collect();
    assert_eq!(answers.len(), pairs.len(), "one answer per pair");
    answers
}

#[test]
fn orderings_agree_with_the_reference_implementations() {
    let mut versions = versions_from_fixtures();
    let mut report = Vec::new();
    let mut total = 0;
    for scheme in ["deb", "rpm", "apk", "semver", "pypi", "maven"] {
        let set = versions.remove(scheme).unwrap_or_default();
        let pairs = pairs(scheme, &set, 400);
        let ours = Scheme::parse(scheme).unwrap();
        let expected = reference(scheme, &pairs);
        let (mut compared, mut refused) = (0, 0);
        for ((a, b), want) in pairs.iter().zip(expected) {
            match want {
                Ok(want) => {
                    let got = ours
                        .compare(a, b)
                        .unwrap_or_else(|e| panic!("{scheme}: {a} vs {b}: we refused a version the reference orders: {e}"));
                    assert_eq!(got, want, "{scheme}: {a} vs {b}");
                    assert_eq!(ours.compare(b, a).unwrap(), want.reverse(), "{scheme}: {b} vs {a} (antisymmetric)");
                    compared += 1;
                }
                Err(e) => {
                    // The reference refuses it: so must we (dpkg and rpm are exact grammars).
                    if matches!(scheme, "deb" | "rpm") {
                        assert!(ours.compare(a, b).is_err(), "{scheme}: {a} vs {b}: the reference refuses ({e}), we ordered it");
                    }
                    refused += 1
                }
            }
        }
        assert!(compared >= pairs.len() * 9 / 10, "{scheme}: the reference refused {refused} of {} pairs", pairs.len());
        total += compared;
        report.push(format!("{scheme}: {compared} pairs, {refused} refused by the reference ({} versions from the reports)", set.len()));
    }
    eprintln!("{}", report.join("; "));
    assert!(total >= 1000, "hundreds of pairs per ecosystem with data: {report:?}");
}
