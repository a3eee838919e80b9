//! Distribution registry notifications (push events).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let now = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default();
    let _ = drydock::registry::notify::parse(data, now);
});
