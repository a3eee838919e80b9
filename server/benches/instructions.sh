#!/usr/bin/env bash
# Instructions a page costs, counted by callgrind (repeatable whatever else the machine does, so two
# builds can be compared without wall-clock noise): starts `BIN serve --demo` under valgrind (jobs
# worker off), signs in as the demo viewer, warms each page up, zeroes the counters, asks each
# page N times and prints the instructions counted for those N requests.
# Usage: server/benches/instructions.sh BIN [PAGE...]   (N=10, PORT=3990 by default; run it from the
# repository root so the site's files are found)
set -euo pipefail
bin=$1; shift
pages=("${@:-/scorecards/payments}")
n=${N:-10}; port=${PORT:-3990}; base=http://127.0.0.1:$port
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
DRYDOCK_JOBS_WORKER=false DRYDOCK_DATABASE_URL="sqlite://$dir/d.db" \
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin" serve --demo --addr "127.0.0.1:$port" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do curl -sf "$base/healthz" >/dev/null && break; sleep 1; done
curl -sf -c "$dir/jar" -o /dev/null -X POST -H "Origin: $base" -d role=viewer -d return_to=/ "$base/auth/demo" || true
for p in "${pages[@]}"; do
  for _ in 1 2 3; do curl -s -b "$dir/jar" -o /dev/null "$base$p"; done
  callgrind_control -z "$pid" >/dev/null 2>&1
  for _ in $(seq 1 "$n"); do curl -s -b "$dir/jar" -o /dev/null "$base$p"; done
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  last=$(ls -t "$dir"/cg.out.* | head -n1)
  echo "$p: $(grep -m1 '^summary' "$last" | cut -d' ' -f2) instructions for $n requests"
done
