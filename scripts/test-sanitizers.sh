#!/usr/bin/env bash
# Builds and runs the suite under sanitizers, with clang, in build folders of their own (our
# code is instrumented; the Debian libraries are not):
#   address  AddressSanitizer + UndefinedBehaviorSanitizer (leaks included), the whole suite
#            (the deploy checks, benchmark smoke runs and browser tests included), in
#            ./build-asan;
#   thread   ThreadSanitizer, the tests labelled `concurrency` and the binaries they start, in
#            ./build-tsan.
# Any report ends the process that made it with an error, so its test fails.
# Usage: scripts/test-sanitizers.sh [address|thread|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-all}
jobs=$(nproc)

if [[ "${ALLIANCE_SKIP_INSTALL:-0}" != 1 ]]; then scripts/install-deps.sh; fi
# Reports need function names: the suppression files match on them.
if ! command -v llvm-symbolizer >/dev/null; then
  echo "llvm-symbolizer is missing (Debian package llvm): run scripts/install-deps.sh" >&2
  exit 1
fi

run_address() {
  local dir=${ASAN_BUILD_DIR:-$root/build-asan}
  CXX=clang++ scripts/build.sh "$dir" -DALLIANCE_SANITIZE=address,undefined
  # A small quarantine: with the default 256 MiB, freed memory stays resident and the tests
  # that check a service's memory stays bounded would measure the sanitizer instead.
  (cd "$dir" &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:quarantine_size_mb=16 \
    LSAN_OPTIONS=suppressions=$root/tests/sanitizers/lsan.supp \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure --timeout 900 -j "$jobs")
}

run_thread() {
  local dir=${TSAN_BUILD_DIR:-$root/build-tsan}
  # Only the tests labelled `concurrency` and the binaries they start (tests/CMakeLists.txt).
  ALLIANCE_BUILD_TARGETS=alliance_concurrency_tests CXX=clang++ scripts/build.sh "$dir" -DALLIANCE_SANITIZE=thread
  # Memory accesses made inside the uninstrumented Debian libraries are not ours to check.
  (cd "$dir" &&
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 suppressions=$root/tests/sanitizers/tsan.supp" \
      ctest --output-on-failure --timeout 900 -j "$jobs" -L concurrency)
}

case "$mode" in
  address) run_address ;;
  thread) run_thread ;;
  all) run_address; run_thread ;;
  *) echo "usage: $0 [address|thread|all]" >&2; exit 2 ;;
esac
