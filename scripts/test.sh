#!/usr/bin/env bash
# Runs every test: installs missing packages, builds, and runs ctest; then builds the suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer and runs it there, and runs each
# libFuzzer target for a short, bounded number of inputs (scripts/fuzz.sh runs them longer).
# Integration tests start their own redis-server on free loopback ports, so nothing needs to
# be running beforehand.
# Usage: scripts/test.sh            (build folders: ./build, ./build-asan, ./build-fuzz)
#        ALLIANCE_TEST_QUICK=1 scripts/test.sh   skips the sanitizer and fuzz stages
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-$root/build}
jobs=$(nproc)

stage() { printf '\n==== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

stage "install"
scripts/install-deps.sh

stage "build"
scripts/build.sh "$build_dir"
stage "tests"
(cd "$build_dir" && ctest --output-on-failure --timeout 600 -j "$jobs")

[[ -n ${ALLIANCE_TEST_QUICK:-} ]] && exit 0

# Sanitizers: the whole C++ suite again, our code built with ASan + UBSan (the deploy checks
# are scripts, already run above). Any report fails the test that triggered it.
stage "build (address,undefined)"
scripts/build.sh "$build_dir-asan" -DALLIANCE_SANITIZE=address,undefined
stage "tests (address,undefined)"
(cd "$build_dir-asan" &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure --timeout 900 -j "$jobs" -LE 'deploy|benchmark')

stage "fuzz (bounded)"
BUILD_DIR="$build_dir-fuzz" scripts/fuzz.sh 20000
