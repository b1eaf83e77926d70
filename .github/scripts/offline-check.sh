#!/usr/bin/env bash
# The offline check of a pull request (preview.yml, job `offline`; docs/ci.md "The offline check"):
#   offline-check.sh BASE HEAD [OUT]
# BASE and HEAD are checkouts of the base branch and of the pull request. Each is installed in its own
# virtualenv from its own requirements.txt (kept when it has one already), and every stack of its stack files
# (Pulumi.<stack>.yaml at its root) is previewed offline with the pipeline projects that have that stack, as
# `floe-infra preview --offline` does it, into OUT/preview/<base|head>/<stack>.{status,json,txt,err}. Then
# `floe-infra ci gate` compares the sides and writes OUT/offline-diff.md (the job summary and the PR comment).
# The exit status is the gate's: 0 passes; non-zero when head breaks what base passes, or holds a risky change
# without the label that accepts it. The PR's labels come as JSON in $PR_LABELS.
set -uo pipefail
base="$1" head="$2" out="${3:-.}"
results="$out/preview"
rm -rf "$results"

# preview_side CHECKOUT SIDE: previews every stack of CHECKOUT into $results/SIDE; never fails itself.
preview_side() {
  local checkout="$1" dir="$results/$2" stack_file stack file project
  local -a pipelines args
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ ! -x "$checkout/.venv/bin/floe-infra" ]; then
    if ! (cd "$checkout" && "${PYTHON:-python3}" -m venv .venv && .venv/bin/pip install --quiet -r requirements.txt) \
        > "$dir/setup.log" 2>&1; then
      echo "::error::$2: floe-infra could not be installed from its requirements.txt (see $dir/setup.log)"
      touch "$dir/setup.failed"
      return 0
    fi
  fi
  # Pipeline projects: a floe.yaml beside a Pulumi.yaml, below the root (what `floe-infra ci changes` finds).
  pipelines=()
  while IFS= read -r -d '' file; do
    project="${file%/floe.yaml}"
    if [ "$project" != "." ] && [ -f "$checkout/$project/Pulumi.yaml" ]; then pipelines+=("$file"); fi
  done < <(cd "$checkout" && find . \( -name .git -o -name .venv -o -name venv -o -name node_modules \
             -o -name .floe -o -name __pycache__ \) -prune -o -name floe.yaml -print0 | sort -z)
  for stack_file in "$checkout"/Pulumi.*.yaml; do
    [ -f "$stack_file" ] || continue
    stack="${stack_file##*/Pulumi.}"
    stack="${stack%.yaml}"
    args=()
    for file in "${pipelines[@]}"; do
      if [ -f "$checkout/${file%/floe.yaml}/Pulumi.$stack.yaml" ]; then args+=(--pipeline "$file"); fi
    done
    # floe:tenantKey is never in the stack files: the deploy job sets it from each pipeline's GitHub
    # environment, so the previews assume it (docs/ci.md).
    (cd "$checkout" && .venv/bin/floe-infra preview --offline --stack "$stack" "${args[@]}" \
      --assume-secret floe:tenantKey --json "$dir/$stack.json") > "$dir/$stack.txt" 2> "$dir/$stack.err"
    echo "$?" > "$dir/$stack.status"
  done
}

preview_side "$base" base
preview_side "$head" head
# The verdict comes from head's floe-infra (base's when head could not be installed).
floe="$head/.venv/bin/floe-infra"
[ -x "$floe" ] || floe="$base/.venv/bin/floe-infra"
"$floe" ci gate "$results/base" "$results/head" --labels "${PR_LABELS:-[]}" > "$out/offline-diff.md"
status=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$out/offline-diff.md" >> "$GITHUB_STEP_SUMMARY"; fi
echo "offline check: exit $status (the verdict: $out/offline-diff.md)"
exit "$status"
