//! Kubernetes uploads: PodList, Pod, the kubelet's /pods, NodeList.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = drydock::k8s::parse(data);
});
