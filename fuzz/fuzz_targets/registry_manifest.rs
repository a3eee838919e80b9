//! Registry manifests and indexes (OCI and Docker), and image config blobs.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = drydock::registry::parse_manifest(data, "application/vnd.oci.image.manifest.v1+json");
    let _ = drydock::registry::parse_manifest(data, "application/vnd.oci.image.index.v1+json");
    if let Ok(config) = drydock::registry::parse_config(data) {
        let _ = drydock::registry::runs_as_root(config.user.as_deref());
    }
});
