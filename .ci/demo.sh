#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and serves Drydock on
# http://127.0.0.1:3000 with an SQLite file (drydock.db) holding the demo estate.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/setup.sh
.ci/build.sh
exec "${CARGO_TARGET_DIR:-target}/release/drydock" serve --demo "$@"
