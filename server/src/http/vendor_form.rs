//! The vendor register's form on the Admission page (`app::pages::admission`) read back into the
//! register: one table row a vendor image, its cells named `v:ROW:FIELD` (`repository`, `vendor`,
//! `owner` — a team, or an e-mail address for a person —, `licence`, and the lists
//! `allowed_teams`, `allowed_namespaces`, `environments`, `not_environments`, comma-separated);
//! a row with its `remove` box ticked, or with neither repository nor vendor, is left out. The
//! register's own checks then judge the entries.

use app::types::VendorImage;
use std::collections::BTreeMap;

/// The most rows the form may be sent with (the register holds at most 500).
const MAX_ROWS: usize = 1000;
/// The cells of a row.
const FIELDS: [&str; 9] =
    ["repository", "vendor", "owner", "licence", "allowed_teams", "allowed_namespaces", "environments", "not_environments", "remove"];

fn names(v: &str) -> Vec<String> {
    v.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The register the form's rows describe, in row order; a field not of the form is refused
/// naming it.
pub fn read(fields: &[(String, String)]) -> Result<Vec<VendorImage>, (String, String)> {
    let mut rows: BTreeMap<usize, BTreeMap<&str, &str>> = BTreeMap::new();
    for (name, value) in fields {
        let Some(rest) = name.strip_prefix("v:") else { continue };
        let (row, field) = rest.split_once(':').ok_or_else(|| (name.clone(), "not a register cell".to_string()))?;
        let row = row
            .parse::<usize>()
            .ok()
            .filter(|r| *r < MAX_ROWS)
            .ok_or_else(|| (name.clone(), format!("row {row:?} is not a row number below {MAX_ROWS}")))?;
        if !FIELDS.contains(&field) {
            return Err((name.clone(), format!("not a cell of the register (one of {})", FIELDS.join(", "))));
        }
        rows.entry(row).or_default().insert(field, value.as_str());
    }
    let mut out = Vec::new();
    for (_, cells) in rows {
        let cell = |f: &str| cells.get(f).map(|v| v.trim()).unwrap_or_default();
        if cells.contains_key("remove") || (cell("repository").is_empty() && cell("vendor").is_empty()) {
            continue;
        }
        let owner = cell("owner");
        let (owner_team, owner_person) = match owner {
            "" => (None, None),
            o if o.contains('@') => (None, Some(o.to_string())),
            o => (Some(o.to_string()), None),
        };
        out.push(VendorImage {
            repository: cell("repository").to_string(),
            vendor: cell("vendor").to_string(),
            owner_team,
            owner_person,
            licence: cell("licence").to_string(),
            allowed_teams: names(cell("allowed_teams")),
            allowed_namespaces: names(cell("allowed_namespaces")),
            environments: names(cell("environments")),
            not_environments: names(cell("not_environments")),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn rows_become_entries_blank_and_removed_rows_are_left_out() {
        let got = read(&f(&[
            ("v:1:repository", "quay.io/acme/agent"),
            ("v:1:vendor", "Acme"),
            ("v:1:owner", "ops@acme.example"),
            ("v:1:allowed_namespaces", "monitoring, kube-ops"),
            ("v:0:repository", "docker.io/library/nginx"),
            ("v:0:vendor", "F5"),
            ("v:0:owner", "platform"),
            ("v:0:not_environments", "dmz"),
            ("v:2:repository", "old.example/x"),
            ("v:2:vendor", "Old"),
            ("v:2:remove", "on"),
            ("v:3:repository", ""),
            ("v:3:vendor", " "),
            ("csrf", "ignored"),
        ]))
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].repository.as_str(), got[0].owner_team.as_deref(), got[0].owner_person.as_deref()),
            ("docker.io/library/nginx", Some("platform"), None)
        );
        assert_eq!(got[0].not_environments, vec!["dmz"]);
        assert_eq!((got[1].owner_team.as_deref(), got[1].owner_person.as_deref()), (None, Some("ops@acme.example")));
        assert_eq!(got[1].allowed_namespaces, vec!["monitoring", "kube-ops"]);
    }

    #[test]
    fn a_cell_not_of_the_form_is_named() {
        assert_eq!(read(&f(&[("v:x:vendor", "a")])).unwrap_err().0, "v:x:vendor");
        assert_eq!(read(&f(&[("v:5000:vendor", "a")])).unwrap_err().0, "v:5000:vendor");
        assert_eq!(read(&f(&[("v:1", "a")])).unwrap_err().0, "v:1");
        assert_eq!(read(&f(&[("v:1:owner_team", "a")])).unwrap_err().0, "v:1:owner_team", "a cell the form does not have");
    }
}
