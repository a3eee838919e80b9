//! Trivy JSON reports: whatever the bytes, a report or an error naming what is wrong, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(report) = drydock::ingest::parse(data, Some(drydock::ingest::Format::Trivy)) {
        let _ = report.check_limits();
    }
});
