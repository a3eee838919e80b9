//! The CISA Known Exploited Vulnerabilities catalogue, as CISA publishes it
//! (`known_exploited_vulnerabilities.json`): valid by construction, every entry checked.

use crate::domain::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

/// One catalogued vulnerability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    pub cve_id: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub date_added: NaiveDate,
    /// The remediation date CISA set for federal agencies.
    pub due_date: Option<NaiveDate>,
    /// `Known` or `Unknown`.
    pub known_ransomware: String,
}

/// A whole catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevCatalog {
    pub version: String,
    pub released: DateTime<Utc>,
    pub entries: Vec<KevEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: String,
    date_released: DateTime<Utc>,
    #[serde(default)]
    count: Option<usize>,
    vulnerabilities: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    date_added: NaiveDate,
    #[serde(default)]
    due_date: Option<NaiveDate>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
}

/// Most entries a catalogue may list (CISA's lists about 1,500).
pub const MAX_ENTRIES: usize = 100_000;
/// Longest catalogue version, vendor and product names, vulnerability name and ransomware use, in
/// bytes (the scanner fields' limits: names 512, identifiers 256).
const MAX_VERSION: usize = 256;
const MAX_NAME: usize = 512;
const MAX_TITLE: usize = 1024;
const MAX_RANSOMWARE: usize = 64;

/// Refuses an entry's text field that is too long or holds control characters, naming both.
fn check_text(i: usize, field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    super::check_len(&format!("vulnerabilities[{i}].{field}"), value, max)?;
    if value.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(format!("vulnerabilities[{i}].{field}"), "holds control characters"));
    }
    Ok(())
}

/// `CVE-YYYY-NNNN…` (four or more digits).
pub fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else { return false };
    let Some((year, num)) = rest.split_once('-') else { return false };
    year.len() == 4 && year.bytes().all(|c| c.is_ascii_digit()) && (4..=19).contains(&num.len()) && num.bytes().all(|c| c.is_ascii_digit())
}

impl KevCatalog {
    /// Parses a catalogue; the error names the JSON path or the entry that is wrong.
    pub fn parse(body: &[u8]) -> Result<KevCatalog, FieldError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let raw: RawCatalog = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            // The field is the JSON path; a document of the wrong shape altogether is the body.
            let path = e.path().to_string();
            FieldError::new(if path == "." { "body".to_string() } else { path }, format!("not a KEV catalogue: {}", e.inner()))
        })?;
        if raw.catalog_version.trim().is_empty() {
            return Err(FieldError::new("catalogVersion", "empty"));
        }
        super::check_len("catalogVersion", &raw.catalog_version, MAX_VERSION)?;
        if raw.vulnerabilities.len() > MAX_ENTRIES {
            return Err(FieldError::new("vulnerabilities", format!("{} entries, at most {MAX_ENTRIES}", raw.vulnerabilities.len())));
        }
        if raw.count.is_some_and(|n| n != raw.vulnerabilities.len()) {
            return Err(FieldError::new(
                "count",
                format!("{} but the catalogue lists {}", raw.count.unwrap_or(0), raw.vulnerabilities.len()),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let mut entries = Vec::with_capacity(raw.vulnerabilities.len());
        for (i, v) in raw.vulnerabilities.into_iter().enumerate() {
            if !is_cve_id(&v.cve_id) {
                return Err(FieldError::new(format!("vulnerabilities[{i}].cveID"), format!("{:?} is not a CVE id", v.cve_id)));
            }
            if !seen.insert(v.cve_id.clone()) {
                return Err(FieldError::new(format!("vulnerabilities[{i}].cveID"), format!("{} is listed twice", v.cve_id)));
            }
            check_text(i, "vendorProject", &v.vendor_project, MAX_NAME)?;
            check_text(i, "product", &v.product, MAX_NAME)?;
            check_text(i, "vulnerabilityName", &v.vulnerability_name, MAX_TITLE)?;
            check_text(i, "knownRansomwareCampaignUse", v.known_ransomware_campaign_use.as_deref().unwrap_or(""), MAX_RANSOMWARE)?;
            entries.push(KevEntry {
                cve_id: v.cve_id,
                vendor: v.vendor_project,
                product: v.product,
                name: v.vulnerability_name,
                date_added: v.date_added,
                due_date: v.due_date,
                known_ransomware: v.known_ransomware_campaign_use.unwrap_or_else(|| "Unknown".into()),
            });
        }
        Ok(KevCatalog { version: raw.catalog_version, released: raw.date_released, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_catalogues_are_refused_with_the_reason() {
        let ok = r#"{"catalogVersion":"1","dateReleased":"2025-08-25T17:04:19Z","count":1,"vulnerabilities":[{"cveID":"CVE-2022-22965","dateAdded":"2022-04-04"}]}"#;
        assert_eq!(KevCatalog::parse(ok.as_bytes()).unwrap().entries.len(), 1);
        for (bad, says) in [
            (ok.replace("CVE-2022-22965", "CVE-22-1"), "is not a CVE id"),
            (ok.replace("\"count\":1", "\"count\":2"), "count: 2"),
            (ok.replace("2022-04-04", "April"), "dateAdded"),
            (r#"{"vulnerabilities":[]}"#.to_string(), "catalogVersion"),
            ("[]".to_string(), "body: not a KEV catalogue"),
            (
                ok.replace("\"cveID\"", &format!("\"vulnerabilityName\":\"{}\",\"cveID\"", "x".repeat(1025))),
                "vulnerabilities[0].vulnerabilityName: 1025 bytes",
            ),
            (ok.replace("\"cveID\"", &format!("\"vendorProject\":\"{}\",\"cveID\"", "v".repeat(513))), "vulnerabilities[0].vendorProject"),
            (ok.replace("\"cveID\"", "\"product\":\"a\\u0000b\",\"cveID\""), "vulnerabilities[0].product: holds control"),
            (ok.replace("\"1\"", &format!("\"{}\"", "9".repeat(257))), "catalogVersion"),
        ] {
            let e = KevCatalog::parse(bad.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
