#!/usr/bin/env bash
# Runs every test: installs missing packages, builds, and runs ctest. Integration tests start
# their own redis-server on free loopback ports, so nothing needs to be running beforehand.
# Usage: scripts/test.sh            (BUILD_DIR defaults to ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-$root/build}

scripts/install-deps.sh
scripts/build.sh "$build_dir"

cd "$build_dir"
ctest --output-on-failure --timeout 600 -j "$(nproc)"
