#!/usr/bin/env bash
# Fuzzes every parser that reads what others send, for SECONDS each (default 20), with cargo-fuzz
# (libFuzzer) on the machine's stable Rust: RUSTC_BOOTSTRAP lets it use the nightly flags that
# sanitizer coverage needs. Corpora start from the real files under server/fixtures/ (and the
# small seeds in fuzz/seeds/) and grow in /var/tmp/drydock-fuzz/corpus between runs. A crash
# stops the run with its input in fuzz/artifacts/TARGET/; fix it and add a regression test that
# holds that input. Usage: .ci/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${DRYDOCK_FUZZ_TARGET:-/var/tmp/drydock-fuzz-target}"
work=/var/tmp/drydock-fuzz
if [ "$(cargo fuzz --version 2>/dev/null | cut -d' ' -f2)" != "0.13.1" ]; then
  echo "==> cargo install cargo-fuzz 0.13.1 (once)" >&2
  cargo install cargo-fuzz --version 0.13.1 --locked
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(trivy grype cyclonedx k8s k8s_audit registry_manifest registry_notification kev vers purl oidc_callback)

# The seeds each target starts from: the real files of its kind.
seeds_of() {
  case "$1" in
    trivy) echo server/fixtures/trivy ;;
    grype) echo server/fixtures/grype ;;
    cyclonedx) echo server/fixtures/cyclonedx ;;
    k8s) echo server/fixtures/k8s-pods ;;
    k8s_audit) echo server/fixtures/k8s-audit ;;
    registry_manifest) echo fuzz/seeds/registry_manifest ;;
    registry_notification) echo fuzz/seeds/registry_notification ;;
    kev) echo server/fixtures/kev ;;
    *) echo "fuzz/seeds/$1" ;;
  esac
}

echo "==> building the fuzz targets (sanitizer: none; debug assertions on)" >&2
(cd fuzz && cargo fuzz build --sanitizer none --debug-assertions)
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  mkdir -p "$corpus"
  seeds="$(seeds_of "$t")"
  before=$(find "$corpus" -type f | wc -l)
  echo "==> $t: ${seconds}s from $seeds (corpus $before files)" >&2
  (cd fuzz && cargo fuzz run --sanitizer none --debug-assertions "$t" "$corpus" "../$seeds" -- \
    -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 2>"$work/$t.log") || {
    tail -n 40 "$work/$t.log" >&2
    echo "fuzz target $t found a crash: its input is in fuzz/artifacts/$t/" >&2
    exit 1
  }
  after=$(find "$corpus" -type f | wc -l)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo "?")
  echo "    $t: $runs runs, corpus $before -> $after files" >&2
done
