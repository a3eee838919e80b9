//! CycloneDX JSON SBOMs (and, through detection, whichever format the bytes look like).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(report) = drydock::ingest::parse(data, Some(drydock::ingest::Format::CycloneDx)) {
        let _ = report.check_limits();
    }
    let _ = drydock::ingest::parse(data, None);
});
