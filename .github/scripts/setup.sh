#!/usr/bin/env bash
# A job that runs Pulumi: floe-infra in .venv (on PATH), the policy pack's environment, and the cluster's
# kubeconfig from $KUBECONFIG_CONTENT (written with mode 600 outside the checkout; unset: no cluster access).
# No chart is fetched here: the Dagster chart a release installs is at the version only its program knows
# (the platform's override, or the one the platform's contract names for a pipeline), so each program
# fetches that copy into its project's .floe/charts itself (floe_infra/charts.py).
set -euo pipefail
python -m venv .venv
.venv/bin/pip install --quiet -r requirements.txt
echo "$GITHUB_WORKSPACE/.venv/bin" >> "$GITHUB_PATH"
python -m venv policy/venv
policy/venv/bin/pip install --quiet -r policy/requirements.txt -e .
if [ -n "${KUBECONFIG_CONTENT:-}" ]; then
  umask 077
  printf '%s' "$KUBECONFIG_CONTENT" > "$RUNNER_TEMP/kubeconfig"
  echo "KUBECONFIG=$RUNNER_TEMP/kubeconfig" >> "$GITHUB_ENV"
fi
