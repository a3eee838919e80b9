#!/usr/bin/env bash
# Builds the release server and the hydrated site (target/site) with cargo-leptos, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm binaryen's wasm-opt first on PATH: cargo-leptos would otherwise try to download one.
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo leptos build --release
