#!/usr/bin/env bash
# The foundation's contract: `cargo build --release --bin drydock` at the workspace root gives a
# server that serves (other tools build it that way). Builds it with exactly that command, starts
# it on a scratch SQLite file in demo mode, and checks /healthz and a rendered page.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --bin drydock
bin="$target/release/drydock"
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$bin" serve --demo --addr "127.0.0.1:$port" --database-url "sqlite://$dir/root-build.db" >"$dir/serve.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "the root-built drydock exited:" >&2; cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$base/healthz" | grep -q '"ok"' || { echo "/healthz did not answer ok" >&2; cat "$dir/serve.log" >&2; exit 1; }
# Sign in as the demo viewer, then render the overview page (the layout's Effect runs here: the
# binary this command used to build panicked at this point).
jar="$dir/cookies"
curl -fsS -o /dev/null -c "$jar" -b "$jar" -H "Origin: $base" -d "role=viewer&return_to=/" "$base/auth/demo"
page="$(curl -fsS -c "$jar" -b "$jar" "$base/")"
echo "$page" | grep -q "Overview" || { echo "the overview page did not render" >&2; cat "$dir/serve.log" >&2; exit 1; }
# The hydration script must ask for the wasm cargo-leptos writes (pkg/drydock.wasm), else the
# pages this binary serves never hydrate.
echo "$page" | grep -q 'href="/pkg/drydock.wasm"' || { echo "the page asks for another wasm than /pkg/drydock.wasm:" >&2; echo "$page" | grep -o 'href="/pkg/[^"]*"' >&2; exit 1; }
kill -0 "$pid" 2>/dev/null || { echo "the root-built drydock died serving a page:" >&2; cat "$dir/serve.log" >&2; exit 1; }
if grep -q "panicked" "$dir/serve.log"; then echo "the root-built drydock panicked:" >&2; cat "$dir/serve.log" >&2; exit 1; fi
echo "root build ($bin) serves /healthz and the overview page" >&2
