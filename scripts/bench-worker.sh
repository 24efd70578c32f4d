#!/usr/bin/env bash
# Benchmarks one alliance-worker against a local redis-server started for the run: throughput
# (ratings applied per second from a pre-filled stream) and latency from append to dyad state
# written (p50/p99) at half that rate. Builds first unless ALLIANCE_SKIP_BUILD=1.
# Usage: scripts/bench-worker.sh [BUILD_DIR] [alliance-worker-bench flags...]
#   e.g. scripts/bench-worker.sh build --ratings=200000 --dyads=2000 --latency_seconds=20
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
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j "${ALLIANCE_BUILD_JOBS:-2}" --target alliance-worker alliance-worker-bench
fi
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec env TEST_TMPDIR="${TMPDIR:-/tmp}" "$build_dir/bin/alliance-worker-bench" "$@"
