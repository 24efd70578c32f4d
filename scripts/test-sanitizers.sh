#!/usr/bin/env bash
# Builds the whole C++ suite with AddressSanitizer + UndefinedBehaviorSanitizer (our code; the
# Debian libraries stay uninstrumented) in a second build folder and runs it there. Any report
# aborts the process that triggered it, so its test fails.
# Usage: scripts/test-sanitizers.sh      (build folder ./build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-asan}
scripts/install-deps.sh
scripts/build.sh "$build_dir" -DALLIANCE_SANITIZE=address,undefined
cd "$build_dir"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure --timeout 900 -j "$(nproc)" -LE 'deploy|benchmark'
