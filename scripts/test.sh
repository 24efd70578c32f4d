#!/usr/bin/env bash
# Runs every test: installs missing packages; builds the deployables (Release) and runs the
# tests that check them as shipped (labels deploy, benchmark, browser); builds the whole suite
# under AddressSanitizer + UndefinedBehaviorSanitizer and runs every other test there (unit,
# integration against real redis-server instances the tests start on free loopback ports,
# end-to-end); runs the concurrency tests under ThreadSanitizer (scripts/test-sanitizers.sh);
# then each libFuzzer target for a short, bounded number of inputs. Each test is built and run
# once with instrumentation rather than also uninstrumented: that keeps the command near 30
# minutes on a 2-core machine (a full Release build, scripts/build.sh, still runs them all
# with a plain `ctest`).
# Usage: scripts/test.sh   (build folders: ./build, ./build-asan, ./build-tsan, ./build-fuzz)
# Longer fuzzing: scripts/fuzz.sh [RUNS].
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-$root/build}

stage() { printf '\n==== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

stage "install"
scripts/install-deps.sh

stage "build (Release: the deployables and what their checks need)"
ALLIANCE_BUILD_TARGETS=alliance_release_checks scripts/build.sh "$build_dir"
stage "tests: deploy, benchmark, browser"
(cd "$build_dir" && ctest --output-on-failure --timeout 600 -j "$(nproc)" -L 'deploy|benchmark|browser')

stage "sanitizers: address + undefined"
ALLIANCE_SKIP_INSTALL=1 ASAN_BUILD_DIR="$build_dir-asan" scripts/test-sanitizers.sh address
stage "sanitizers: thread"
ALLIANCE_SKIP_INSTALL=1 TSAN_BUILD_DIR="$build_dir-tsan" scripts/test-sanitizers.sh thread

stage "fuzz (bounded)"
BUILD_DIR="$build_dir-fuzz" scripts/fuzz.sh 20000
stage "done"
