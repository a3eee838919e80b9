//! A new image's findings across scanners, grouped from its first report in Drydock instead of
//! by the database (`INSERT … SELECT … GROUP BY` over the findings just written cost PostgreSQL
//! 1.86 ms a 100-finding report against 1.03 ms for a plain insert of the same rows: BENCHMARKS.md,
//! session 32). The grouping is the one a known image's rebuild does in SQL
//! (`rebuild_image_vulnerabilities`), for the findings of one report: one row per
//! (vulnerability, package coordinates, installed version, path for language packages), with the
//! smallest package name, the worst severity, the largest fixed version and EPSS. Text is compared
//! by its bytes, as the rebuild compares it on both databases; a test compares the two paths
//! column for column.

use crate::ingest::Finding;
use app::types::{FindingCounts, Severity};
use std::collections::BTreeMap;

/// One of an image's findings across scanners, as a new image's first report gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupedFinding<'a> {
    pub vulnerability_id: &'a str,
    pub purl_type: &'a str,
    pub purl_namespace: &'a str,
    pub purl_name: &'a str,
    pub installed_version: &'a str,
    /// The package's path for language packages (without leading `/`), empty for OS packages.
    pub path_key: &'a str,
    pub package_name: &'a str,
    pub severity: Severity,
    pub fixed_version: Option<&'a str>,
    pub epss: Option<f64>,
}

/// The key the findings are grouped by, in the order of the table's primary key.
type Key<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str);

/// Where a package was found counts for language packages only: an OS package is one per image.
fn path_key<'a>(purl_type: &str, package_path: &'a str) -> &'a str {
    if matches!(purl_type, "deb" | "rpm" | "apk") {
        ""
    } else {
        package_path.trim_start_matches('/')
    }
}

/// The findings of a new image's first report grouped across their packages' paths and names,
/// in primary-key order (what the table's index takes fastest), with their counts by severity.
pub(crate) fn group(findings: &[Finding]) -> (Vec<GroupedFinding<'_>>, FindingCounts) {
    let mut groups: BTreeMap<Key<'_>, GroupedFinding<'_>> = BTreeMap::new();
    for f in findings {
        let c = &f.coordinates;
        let path = path_key(c.ptype(), &f.package_path);
        let key = (f.vulnerability_id.as_str(), c.ptype(), c.namespace(), c.name(), f.installed_version.as_str(), path);
        groups
            .entry(key)
            .and_modify(|g| {
                g.package_name = g.package_name.min(f.package_name.as_str());
                g.severity = g.severity.min(f.severity);
                g.fixed_version = g.fixed_version.max(f.fixed_version.as_deref());
                g.epss = larger(g.epss, f.epss);
            })
            .or_insert_with(|| GroupedFinding {
                vulnerability_id: key.0,
                purl_type: key.1,
                purl_namespace: key.2,
                purl_name: key.3,
                installed_version: key.4,
                path_key: key.5,
                package_name: &f.package_name,
                severity: f.severity,
                fixed_version: f.fixed_version.as_deref(),
                epss: f.epss,
            });
    }
    let mut counts = FindingCounts::default();
    let rows: Vec<GroupedFinding<'_>> = groups.into_values().inspect(|g| counts.add(g.severity, 1)).collect();
    (rows, counts)
}

/// SQL's `MAX`: the larger of two values, an absent one ignored.
fn larger(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::purl::PackageCoordinates;

    fn finding(vuln: &str, ptype: &str, name: &str, path: &str, severity: Severity, fixed: Option<&str>, epss: Option<f64>) -> Finding {
        Finding {
            vulnerability_id: vuln.into(),
            package_name: name.into(),
            installed_version: "1.0".into(),
            package_path: path.into(),
            package_type: ptype.into(),
            purl: None,
            severity,
            fixed_version: fixed.map(String::from),
            title: None,
            url: None,
            cvss_score: None,
            published: None,
            coordinates: PackageCoordinates::new(ptype, "", name),
            epss,
        }
    }

    #[test]
    fn findings_of_one_package_group_with_the_worst_and_largest_values() {
        let findings = vec![
            // One pypi package under two spellings and two paths naming one place.
            finding("CVE-1", "pypi", "PyYAML", "/usr/lib/site.py", Severity::Medium, Some("5.4"), Some(0.2)),
            finding("CVE-1", "pypi", "pyyaml", "usr/lib/site.py", Severity::High, None, None),
            finding("CVE-1", "pypi", "PYYAML", "usr/lib/site.py", Severity::Low, Some("5.10"), Some(0.1)),
            // Another path: another row.
            finding("CVE-1", "pypi", "pyyaml", "/opt/other.py", Severity::Low, None, None),
            // OS packages are one per image whatever their paths.
            finding("CVE-2", "deb", "openssl", "/a", Severity::Critical, None, Some(0.5)),
            finding("CVE-2", "deb", "openssl", "/b", Severity::Unknown, Some("3.0.7"), Some(0.9)),
        ];
        let (rows, counts) = group(&findings);
        let keys: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r.vulnerability_id, r.purl_name, r.path_key)).collect();
        assert_eq!(keys, [("CVE-1", "pyyaml", "opt/other.py"), ("CVE-1", "pyyaml", "usr/lib/site.py"), ("CVE-2", "openssl", "")]);
        // Text by its bytes: upper case first, "5.4" after "5.10".
        let site = &rows[1];
        assert_eq!((site.package_name, site.severity, site.fixed_version, site.epss), ("PYYAML", Severity::High, Some("5.4"), Some(0.2)));
        let openssl = &rows[2];
        assert_eq!((openssl.severity, openssl.fixed_version, openssl.epss), (Severity::Critical, Some("3.0.7"), Some(0.9)));
        assert_eq!((counts.critical, counts.high, counts.low, counts.total()), (1, 1, 1, 3));
    }
}
