#!/usr/bin/env bash
# Configures and builds Alliance with CMake and Ninja into the given folder (default ./build).
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake -D options...]
#        ALLIANCE_BUILD_TYPE=RelWithDebInfo scripts/build.sh   for debug information
#        ALLIANCE_BUILD_TARGETS="a b" scripts/build.sh ...      to build only those targets
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${ALLIANCE_BUILD_TYPE:-Release}" "$@" >/dev/null
targets=()
for t in ${ALLIANCE_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
# The dashboard page's library (uPlot) is fetched here, once, into the build folder's cache, so
# the build (target alliance_web, which tests that serve the page depend on) only copies it;
# skipped without node, as that target is then.
if command -v node >/dev/null; then
  scripts/web-tools.sh --cache "$(cd "$build_dir" && pwd)/web-tools" tools
fi
# Two jobs at most: gRPC translation units need ~1 GiB each and the machine has 2 cores.
cmake --build "$build_dir" -j "${ALLIANCE_BUILD_JOBS:-2}" "${targets[@]}"
