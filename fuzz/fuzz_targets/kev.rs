//! CISA's Known Exploited Vulnerabilities catalogue.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = drydock::domain::kev::KevCatalog::parse(data);
});
