#!/usr/bin/env bash
# Operating characteristics of the rupture rules: runs alliance-oc-benchmark (simulated cohorts
# per built-in instrument through the analytics library) with the rules before the benchmark
# existed (tools/oc_benchmark/rules.before.json) and with the current defaults, and prints both
# sets of markdown tables (docs/analytics.md, "Operating characteristics"). Deterministic for
# a seed; not a timed test. Builds first unless ALLIANCE_SKIP_BUILD=1.
# Usage: scripts/bench-alerts.sh [BUILD_DIR] [alliance-oc-benchmark flags...]
#   e.g. scripts/bench-alerts.sh build --stable_dyads=10000 --pattern_dyads=2000 --seed=7
#        ALLIANCE_RULES_FILE=my-rules.json scripts/bench-alerts.sh build   (only that file)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# A folder given on the command line is relative to where the script is called from.
build_dir=$(realpath -m "${1:-$root/build}")
shift || true
if [[ "$build_dir" == "$root" ]]; then
  echo "refusing to build inside the source tree; pass a build folder" >&2
  exit 2
fi
cd "$root"
if [[ "${ALLIANCE_SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${ALLIANCE_BUILD_TYPE:-Release}" >/dev/null
  cmake --build "$build_dir" -j "${ALLIANCE_BUILD_JOBS:-2}" --target alliance-oc-benchmark
fi
bench="$build_dir/bin/alliance-oc-benchmark"
if [[ -n "${ALLIANCE_RULES_FILE:-}" ]]; then
  exec "$bench" --rules_file="$ALLIANCE_RULES_FILE" --title="Rules: $ALLIANCE_RULES_FILE" "$@"
fi
"$bench" --rules_file="$root/tools/oc_benchmark/rules.before.json" \
  --title="Before: the previous defaults (tools/oc_benchmark/rules.before.json)" "$@"
"$bench" --rules_file="$root/analytics/rules.default.json" \
  --title="After: the defaults (analytics/rules.default.json)" "$@"
