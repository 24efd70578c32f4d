#!/usr/bin/env bash
# Runs every test: installs missing packages, builds, runs ctest (unit, integration against
# real redis-server instances the tests start on free loopback ports, end-to-end, deploy
# checks), then runs each libFuzzer target for a short, bounded number of inputs.
# Usage: scripts/test.sh            (build folders: ./build and ./build-fuzz)
# Longer runs: scripts/fuzz.sh [RUNS]; sanitizers: scripts/test-sanitizers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-$root/build}

stage() { printf '\n==== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

stage "install"
scripts/install-deps.sh

stage "build"
scripts/build.sh "$build_dir"
stage "tests"
(cd "$build_dir" && ctest --output-on-failure --timeout 600 -j "$(nproc)")

stage "fuzz (bounded)"
BUILD_DIR="$build_dir-fuzz" scripts/fuzz.sh 20000
stage "done"
