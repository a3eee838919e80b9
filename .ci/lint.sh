#!/usr/bin/env bash
# Habits the build enforces: formatting (rustfmt.toml) and clippy with every warning an error,
# on the server with all its targets (tests, benches) and on the app's server-side build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/drydock-target}"
cargo fmt --all --check
cargo clippy --all-targets -- -D warnings
cargo clippy -p app --features ssr -- -D warnings
