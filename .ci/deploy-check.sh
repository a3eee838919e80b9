#!/usr/bin/env bash
# The deployment files, checked offline: the Kustomize base and the collector's RBAC rendered by
# `kubectl kustomize` and validated against the Kubernetes schemas (kubernetes-validate, strict:
# an unknown field fails), the rendered Deployment held to its checklist, and the Dockerfile
# linted by hadolint and held to its own checklist (multi-stage, non-root USER, CA certificates,
# no build tools in the final stage, `drydock serve` as the entrypoint).
set -euo pipefail
cd "$(dirname "$0")/.."
tools=/var/tmp/drydock-deploy
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for base in deploy/kubernetes deploy/kubernetes/collector deploy/kubernetes/admission; do
  name=$(basename "$base")
  kubectl kustomize "$base" > "$out/$name.yaml"
  "$tools/bin/kubernetes-validate" --strict --quiet "$out/$name.yaml"
  echo "$base: rendered, $(grep -c '^kind:' "$out/$name.yaml") resources valid against the Kubernetes schemas" >&2
done
"$tools/bin/python" .ci/deploy-checklist.py "$out/kubernetes.yaml" "$out/collector.yaml" Dockerfile
"$tools/bin/hadolint" Dockerfile
echo "Dockerfile: hadolint clean" >&2
