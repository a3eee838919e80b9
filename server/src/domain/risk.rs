//! "Fix these first": how a vulnerability's risk in the estate is scored. One formula, stated
//! once (`FORMULA`, shown on the page and in the README) and computed here.

use app::types::Severity;

/// The formula as people read it.
pub const FORMULA: &str = "score = S × T × E. S is the worst severity of the vulnerability's open findings: critical 10, high 7, medium 4, low 1, any other 0.5. T is the threat: 1 + 9 × the larger of KEV (1 when CISA's Known Exploited Vulnerabilities catalogue lists it, else 0) and EPSS (the probability of exploitation in the next 30 days, 0 to 1). E is the exposure: 3 for each running container of an affected image in a production environment, 1 for each running container elsewhere (another environment, or none), and 0.2 for each affected image that runs nowhere (only in a registry or a report).";

/// Weights of the exposure: per container in production, per other container, per image that
/// runs nowhere.
pub const PRODUCTION_WEIGHT: f64 = 3.0;
pub const OTHER_WEIGHT: f64 = 1.0;
pub const REGISTRY_ONLY_WEIGHT: f64 = 0.2;

/// Where a vulnerability's affected images are: containers running them in production and
/// elsewhere, and images running nowhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exposure {
    pub production: i64,
    pub other: i64,
    pub registry_only: i64,
}

impl Exposure {
    /// E of the formula.
    pub fn weight(&self) -> f64 {
        PRODUCTION_WEIGHT * self.production as f64 + OTHER_WEIGHT * self.other as f64 + REGISTRY_ONLY_WEIGHT * self.registry_only as f64
    }

    pub fn add(&mut self, o: &Exposure) {
        self.production += o.production;
        self.other += o.other;
        self.registry_only += o.registry_only;
    }
}

/// S of the formula.
pub fn severity_weight(s: Severity) -> f64 {
    match s {
        Severity::Critical => 10.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 1.0,
        Severity::Negligible | Severity::Unknown => 0.5,
    }
}

/// T of the formula (an EPSS outside 0..1 counts as its nearest bound).
pub fn threat(kev: bool, epss: Option<f64>) -> f64 {
    let p = epss.filter(|e| e.is_finite()).unwrap_or(0.0).clamp(0.0, 1.0);
    1.0 + 9.0 * if kev { 1.0 } else { p }
}

/// The score, to two decimals.
pub fn score(severity: Severity, kev: bool, epss: Option<f64>, e: &Exposure) -> f64 {
    (severity_weight(severity) * threat(kev, epss) * e.weight() * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_outweighs_staging_which_outweighs_a_registry() {
        let prod = Exposure { production: 1, ..Default::default() };
        let staging = Exposure { other: 1, ..Default::default() };
        let registry = Exposure { registry_only: 1, ..Default::default() };
        let s = |e| score(Severity::High, false, None, e);
        assert!(s(&prod) > s(&staging) && s(&staging) > s(&registry));
        assert_eq!(s(&prod), 21.0);
        assert_eq!(s(&registry), 1.4);
    }

    #[test]
    fn kev_is_the_full_threat_and_epss_a_share_of_it() {
        let e = Exposure { other: 2, ..Default::default() };
        assert_eq!(score(Severity::Critical, true, Some(0.1), &e), 200.0);
        assert_eq!(score(Severity::Critical, false, Some(0.5), &e), 110.0);
        assert_eq!(score(Severity::Critical, false, None, &e), 20.0);
        assert_eq!(threat(false, Some(7.0)), 10.0, "bounded");
        assert_eq!(threat(false, Some(f64::NAN)), 1.0);
        assert_eq!(score(Severity::Low, true, None, &Exposure::default()), 0.0, "nothing exposed, nothing to fix first");
    }
}
