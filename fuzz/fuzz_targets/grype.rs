//! Grype JSON reports.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(report) = drydock::ingest::parse(data, Some(drydock::ingest::Format::Grype)) {
        let _ = report.check_limits();
    }
});
