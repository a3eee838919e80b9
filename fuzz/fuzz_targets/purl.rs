//! Package URLs (purl), as searches, campaigns and denylists give them.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = drydock::domain::purl::PackageCoordinates::parse(text) {
        let _ = c.to_string();
    }
});
