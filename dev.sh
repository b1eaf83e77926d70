#!/usr/bin/env bash
# Developer entry point: the README's two commands.
#   ./dev.sh demo   set up .venv (once) and run the main job on the demo
#   ./dev.sh test   set up .venv (once) and run lint and the whole test suite
#   ./dev.sh e2e    build the Go toolchain (cached), then the real engine against a real API server
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
VENV=".venv"
REQUIREMENTS=(requirements.txt requirements-dev.txt requirements-demo.txt requirements-nodeps.txt
              demo/data_engineering/requirements.txt pyproject.toml)

setup() {
  local stamp="$VENV/.floe-requirements"
  local wanted
  wanted="$(cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return
  fi
  echo "setting up $VENV (Python: $("$PYTHON" --version 2>&1))"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  # The demo pipeline's own dependencies (Dagster, dbt) too: its tests load and run it.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
    -r requirements-demo.txt
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
  echo "$wanted" > "$stamp"
}

demo() {
  local platform=demo/platform/platform.yaml pipeline=demo/data_engineering/floe.yaml
  "$VENV/bin/floe-infra" validate --platform "$platform" --pipeline "$pipeline"
  mkdir -p .floe
  # The platform and pipeline stacks of the local environment, previewed without any credential. The demo's
  # stack files cannot hold its data team's private key (floe:tenantKey): the preview assumes it is set.
  "$VENV/bin/floe-infra" preview --stack local --pipeline "$pipeline" --assume-secret floe:tenantKey \
    --json .floe/preview-local.json --dot .floe/preview-local.dot
  # The pipeline's Iceberg tables, created (or evolved) in the embedded catalog under .floe/.
  "$VENV/bin/floe-infra" tables apply --platform "$platform" --pipeline "$pipeline" --embedded
}

run_tests() {
  "$VENV/bin/ruff" check .
  "$VENV/bin/python" -m pytest "$@"
}

toolchain() {
  # Pulumi CLI, language host, kubernetes provider and control plane, from Go modules (cached).
  "$PYTHON" tools/toolchain.py build
}

run_e2e() {
  "$VENV/bin/python" -m pytest tests/e2e -m e2e -p no:cacheprovider "$@"
}

case "${1:-}" in
  demo) setup; demo ;;
  test) shift; setup; run_tests "$@" ;;
  toolchain) toolchain ;;
  e2e) shift; toolchain; setup; run_e2e "$@" ;;
  setup) setup ;;
  *) echo "usage: ./dev.sh demo | test [pytest args] | e2e [pytest args] | toolchain | setup" >&2; exit 2 ;;
esac
