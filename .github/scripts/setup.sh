#!/usr/bin/env bash
# A job that runs Pulumi: floe-infra in .venv (on PATH), the policy pack's environment, the Dagster charts of
# the project in $1 (default: the repository root), and the cluster's kubeconfig from $KUBECONFIG_CONTENT
# (written with mode 600 outside the checkout; unset: no cluster access).
set -euo pipefail
work_dir="${1:-.}"
python -m venv .venv
.venv/bin/pip install --quiet -r requirements.txt
echo "$GITHUB_WORKSPACE/.venv/bin" >> "$GITHUB_PATH"
python -m venv policy/venv
policy/venv/bin/pip install --quiet -r policy/requirements.txt -e .
(cd "$work_dir" && "$GITHUB_WORKSPACE/.venv/bin/floe-infra" charts fetch)
if [ -n "${KUBECONFIG_CONTENT:-}" ]; then
  umask 077
  printf '%s' "$KUBECONFIG_CONTENT" > "$RUNNER_TEMP/kubeconfig"
  echo "KUBECONFIG=$RUNNER_TEMP/kubeconfig" >> "$GITHUB_ENV"
fi
