//! The OIDC callback's query string (anyone can send any): read as the handler reads it, and the
//! provider's refusal text bounded.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(q) = drydock::http::session::CallbackQuery::parse(text) {
        if let Some(r) = q.refusal() {
            assert!(r.chars().count() < 1024, "the refusal is bounded");
        }
    }
});
