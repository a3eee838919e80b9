//! What the page and campaign benchmarks share: an estate of distinct images built from one real
//! report.

/// Juice Shop's Trivy report cut to its first `findings` findings, as `n` distinct images spread
/// over `teams` teams (`acme/team-T/NAME-I`, config digests from `id_base`).
pub fn juice_shop_estate(n: usize, findings: usize, teams: usize, name: &str, id_base: usize) -> Vec<Vec<u8>> {
    let base: serde_json::Value = serde_json::from_slice(include_bytes!("../../fixtures/trivy/juice-shop-v10.2.0.json")).unwrap();
    (0..n)
        .map(|i| {
            let mut v = base.clone();
            let mut left = findings;
            for r in v["Results"].as_array_mut().unwrap() {
                if let Some(list) = r["Vulnerabilities"].as_array_mut() {
                    let keep = left.min(list.len());
                    list.truncate(keep);
                    left -= keep;
                }
            }
            v["Metadata"]["RepoDigests"] = serde_json::json!([format!("acme/team-{}/{name}-{i}@sha256:{:064x}", i % teams, i + 1)]);
            v["Metadata"]["ImageID"] = serde_json::json!(format!("sha256:{:064x}", id_base + i));
            v["Metadata"]["RepoTags"] = serde_json::json!([format!("acme/team-{}/{name}-{i}:1.0", i % teams)]);
            serde_json::to_vec(&v).unwrap()
        })
        .collect()
}
