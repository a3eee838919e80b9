//! Kubernetes audit events (JSON lines or an EventList).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if drydock::k8s::audit::looks_like_audit(data) {
        let _ = drydock::k8s::audit::parse(data);
    }
    let _ = drydock::k8s::audit::parse(data);
});
