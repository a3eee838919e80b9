//! `vers:` ranges and version comparison in every scheme: the first line is a range, the second a
//! version asked of it (and compared with each of the range's bounds).
#![no_main]
use drydock::domain::version::{Scheme, VersionRange};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (range, version) = text.split_once('\n').unwrap_or((text, "1.0"));
    if let Ok(r) = VersionRange::parse(range) {
        let _ = r.contains(version);
        let _ = r.to_string();
    }
    for name in Scheme::NAMES.split(", ") {
        if let Some(s) = Scheme::parse(name) {
            if s.validate(version).is_ok() && s.validate(range).is_ok() {
                let _ = s.compare(version, range);
            }
        }
    }
});
