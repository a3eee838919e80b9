//! The process's Prometheus metrics (`GET /metrics`). One registry per process: every family is
//! registered when first touched, so a scrape shows each one from the start (zero until used).
//! Counters and histograms are moved where things happen (the HTTP layer, ingest, the job runner,
//! escalation delivery); the gauges that describe the database (jobs due, the ledger, the pool)
//! are read when scraped (`service::Service::observe`).
//!
//! A leaf module: it knows no other part of Drydock, so any layer may count into it.

use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use std::sync::LazyLock;

/// Latency buckets in seconds: from a kept page (~1 ms) to a large upload (tens of seconds).
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Job duration buckets in seconds: a purge (milliseconds) to a full evaluation (minutes).
const JOB_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0];

/// Every family Drydock exports.
pub struct Metrics {
    registry: Registry,
    /// (name, help, type) of every family: one with no labelled child yet is still announced.
    families: Vec<(&'static str, &'static str, &'static str)>,
    pub http_request_duration: HistogramVec,
    pub ingest_reports: IntCounterVec,
    pub ingest_bytes: IntCounter,
    pub job_runs: IntCounterVec,
    pub job_duration: HistogramVec,
    pub jobs_due: IntGauge,
    pub job_oldest_due_seconds: IntGauge,
    pub escalation_messages: IntCounterVec,
    pub db_pool_connections: IntGaugeVec,
    pub ledger_entries: IntGauge,
    pub ledger_last_verify_ok: IntGauge,
    pub build_info: IntGaugeVec,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn get() -> &'static Metrics {
    &METRICS
}

/// The registry being built and the families it announces.
struct Builder {
    registry: Registry,
    families: Vec<(&'static str, &'static str, &'static str)>,
}

impl Builder {
    fn add<C: prometheus::core::Collector + Clone + 'static>(
        &mut self,
        c: C,
        name: &'static str,
        help: &'static str,
        kind: &'static str,
    ) -> C {
        self.registry.register(Box::new(c.clone())).expect("registered once");
        self.families.push((name, help, kind));
        c
    }
    fn histogram(&mut self, name: &'static str, help: &'static str, labels: &[&str], buckets: &[f64]) -> HistogramVec {
        let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels).expect("a valid histogram");
        self.add(h, name, help, "histogram")
    }
    fn counter_vec(&mut self, name: &'static str, help: &'static str, labels: &[&str]) -> IntCounterVec {
        let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
        self.add(c, name, help, "counter")
    }
    fn counter(&mut self, name: &'static str, help: &'static str) -> IntCounter {
        let c = IntCounter::new(name, help).expect("a valid counter");
        self.add(c, name, help, "counter")
    }
    fn gauge(&mut self, name: &'static str, help: &'static str) -> IntGauge {
        let g = IntGauge::new(name, help).expect("a valid gauge");
        self.add(g, name, help, "gauge")
    }
    fn gauge_vec(&mut self, name: &'static str, help: &'static str, labels: &[&str]) -> IntGaugeVec {
        let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid gauge");
        self.add(g, name, help, "gauge")
    }
}

impl Metrics {
    fn new() -> Metrics {
        let mut b = Builder { registry: Registry::new(), families: Vec::new() };
        let http_request_duration = b.histogram(
            "drydock_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status",
            &["route", "method", "status"],
            LATENCY_BUCKETS,
        );
        let ingest_reports =
            b.counter_vec("drydock_ingest_reports_total", "Scanner reports received, by format and outcome", &["format", "outcome"]);
        let ingest_bytes = b.counter("drydock_ingest_bytes_total", "Bytes of scanner reports received");
        let job_runs = b.counter_vec("drydock_job_runs_total", "Background job runs, by kind and outcome", &["kind", "outcome"]);
        let job_duration = b.histogram("drydock_job_duration_seconds", "Time a background job run took, by kind", &["kind"], JOB_BUCKETS);
        let jobs_due = b.gauge("drydock_jobs_due", "Jobs due now and not claimed by a worker");
        let job_oldest_due_seconds = b.gauge("drydock_job_oldest_due_seconds", "How long the longest-waiting due job has waited");
        let escalation_messages = b.counter_vec(
            "drydock_escalation_messages_total",
            "Escalation message delivery attempts, by channel and outcome",
            &["channel", "outcome"],
        );
        let db_pool_connections = b.gauge_vec(
            "drydock_db_pool_connections",
            "Database pool connections: idle, used, and store calls waiting without one",
            &["state"],
        );
        let ledger_entries = b.gauge("drydock_ledger_entries", "Entries in the audit ledger");
        let ledger_last_verify_ok =
            b.gauge("drydock_ledger_last_verify_ok", "1 when the last full ledger verification passed, 0 otherwise");
        let build_info = b.gauge_vec("drydock_build_info", "Drydock's version (always 1)", &["version"]);
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for state in ["idle", "used", "waiting"] {
            db_pool_connections.with_label_values(&[state]);
        }
        Metrics {
            registry: b.registry,
            families: b.families,
            http_request_duration,
            ingest_reports,
            ingest_bytes,
            job_runs,
            job_duration,
            jobs_due,
            job_oldest_due_seconds,
            escalation_messages,
            db_pool_connections,
            ledger_entries,
            ledger_last_verify_ok,
            build_info,
        }
    }

    /// Records one HTTP request's answer.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http_request_duration.with_label_values(&[route, method, status_label(status)]).observe(seconds);
    }

    /// Records one job run.
    pub fn observe_job(&self, kind: &str, ok: bool, seconds: f64) {
        self.job_runs.with_label_values(&[kind, if ok { "success" } else { "failure" }]).inc();
        self.job_duration.with_label_values(&[kind]).observe(seconds);
    }

    /// Everything in the Prometheus text format (version 0.0.4).
    /// A family with no labelled child yet has no samples: it is announced (HELP and TYPE), so
    /// every family is there from the first scrape.
    pub fn render(&self) -> String {
        let gathered = self.registry.gather();
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail on I/O; a family that fails to encode is left out.
        let _ = prometheus::TextEncoder::new().encode(&gathered, &mut out);
        let mut text = String::from_utf8(out).unwrap_or_default();
        for (name, help, kind) in &self.families {
            if !gathered.iter().any(|f| f.name() == *name) {
                text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            }
        }
        text
    }
}

/// Status codes as labels (a fixed set of strings: no allocation per request).
fn status_label(status: u16) -> &'static str {
    const KNOWN: &[(u16, &str)] = &[
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (303, "303"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (408, "408"),
        (409, "409"),
        (413, "413"),
        (415, "415"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
    ];
    KNOWN.iter().find(|(s, _)| *s == status).map(|(_, l)| *l).unwrap_or(match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_family_is_present_before_it_is_used() {
        let text = super::Metrics::new().render();
        for family in [
            "drydock_http_request_duration_seconds",
            "drydock_ingest_reports_total",
            "drydock_ingest_bytes_total",
            "drydock_job_runs_total",
            "drydock_job_duration_seconds",
            "drydock_jobs_due",
            "drydock_job_oldest_due_seconds",
            "drydock_escalation_messages_total",
            "drydock_db_pool_connections",
            "drydock_ledger_entries",
            "drydock_ledger_last_verify_ok",
            "drydock_build_info",
        ] {
            assert!(text.contains(&format!("# TYPE {family} ")), "{family} missing from:\n{text}");
        }
    }
}
