#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs every test — unit, parser,
# store suite on SQLite and PostgreSQL, HTTP on the real app, and the browser tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/setup.sh --tests
export RUST_BACKTRACE=0
# CI runs each time in a new clone: a target directory outside the clone lets runs on the same
# machine reuse compiled dependencies (it works from empty too).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/drydock-target}"
export DRYDOCK_BIN="$CARGO_TARGET_DIR/release/drydock"

echo "==> cargo fmt --check, cargo clippy -D warnings" >&2
.ci/lint.sh

echo "==> deployment files: kustomize rendered and validated offline, Dockerfile linted" >&2
.ci/deploy-check.sh

echo "==> cargo test (SQLite and PostgreSQL on 127.0.0.1:5432)" >&2
# A hung test must fail the run, not eat CI's 90 minutes.
timeout 1800 cargo test --workspace --exclude frontend

echo "==> cargo build --release --bin drydock at the root serves (the foundation's contract)" >&2
.ci/check-root-build.sh

echo "==> release build (server + wasm)" >&2
.ci/build.sh

echo "==> drydock-bench at the small preset on both backends (the figures computed and sane, not their speed)" >&2
cargo build --release -p server --bin drydock-bench
bench_dir=$(mktemp -d)
bench_pg="drydock_bench_ci_$$"
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $bench_pg"
timeout 900 "$CARGO_TARGET_DIR/release/drydock-bench" --preset small \
  --database-url "sqlite://$bench_dir/bench.db" --database-url "postgres://postgres@127.0.0.1:5432/$bench_pg" > "$bench_dir/figures.jsonl"
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $bench_pg WITH (FORCE)"
python3 .ci/bench-check.py sqlite postgres < "$bench_dir/figures.jsonl"
rm -rf "$bench_dir"

echo "==> browser tests (Playwright + Debian Chromium)" >&2
cd end2end
timeout 900 npx playwright test

# Test databases are dropped by each test; a crashed run may leave some behind.
psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'drydock_t_%'" 2>/dev/null |
  while read -r db; do psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; done
echo "==> all tests passed" >&2
