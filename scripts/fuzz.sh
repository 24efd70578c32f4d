#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each of them.
# Usage: scripts/fuzz.sh [RUNS]   RUNS inputs per target (default 1000000); BUILD_DIR defaults
# to ./build-fuzz. New interesting inputs are kept in BUILD_DIR/tests/fuzz/corpus-<target>.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
build_dir=${BUILD_DIR:-build-fuzz}
CXX=clang++ scripts/build.sh "$build_dir" -DALLIANCE_FUZZ=ON -DALLIANCE_FUZZ_RUNS="$runs"
cd "$build_dir"
ctest --output-on-failure -L fuzz -j "$(nproc)" --timeout 3600
