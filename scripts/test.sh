#!/usr/bin/env bash
# Runs every test: installs missing packages; builds the container image from deploy/Dockerfile
# (scripts/build-image.sh: the deployables compiled in Release, as shipped) and runs it
# (scripts/test-image.sh: the three services from the image as the manifests run them, a rating,
# the dyad, an alert); builds the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
# and runs every test there (unit, integration against real redis-server instances the tests
# start on free loopback ports, end-to-end, the deploy checks, benchmark smoke runs and the
# browser tests); runs the concurrency tests under ThreadSanitizer (scripts/test-sanitizers.sh);
# then each libFuzzer target for a short, bounded number of inputs. Each test is built and run
# once, with instrumentation, and the image build is the Release build: that keeps the command
# near 30 minutes on a 2-core machine (a plain Release build, scripts/build.sh, still runs the
# whole suite with `ctest`).
# Usage: scripts/test.sh   (as root or with sudo: the image scripts need root; build folders
#                           ./build-asan, ./build-tsan, ./build-fuzz; the image's Debian base is
#                           cached in /var/cache/alliance-image)
# Longer fuzzing: scripts/fuzz.sh [RUNS].
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-$root/build}

stage() { printf '\n==== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

stage "install"
scripts/install-deps.sh

stage "image: build (Release) and run"
as_root=()
((EUID == 0)) || as_root=(sudo --preserve-env=PATH)
"${as_root[@]}" scripts/build-image.sh
"${as_root[@]}" scripts/test-image.sh

stage "sanitizers: address + undefined"
ALLIANCE_SKIP_INSTALL=1 ASAN_BUILD_DIR="$build_dir-asan" scripts/test-sanitizers.sh address
stage "sanitizers: thread"
ALLIANCE_SKIP_INSTALL=1 TSAN_BUILD_DIR="$build_dir-tsan" scripts/test-sanitizers.sh thread

stage "fuzz (bounded)"
BUILD_DIR="$build_dir-fuzz" scripts/fuzz.sh 20000
stage "done"
