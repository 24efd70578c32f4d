#!/usr/bin/env bash
# Installs the Debian 12 packages Alliance needs to build, test and run, skipping what is present.
# Usage: scripts/install-deps.sh                (as root, or with sudo available)
#        scripts/install-deps.sh --build-only   only what a Release build of the deployables
#                                               (alliance-intake, -insights, -worker, alliancectl)
#                                               and the dashboard page (target alliance_web)
#                                               needs: the image's build stage (deploy/Dockerfile)
set -euo pipefail

build_only=0
case ${1:-} in
  --build-only) build_only=1 ;;
  "") ;;
  *)
    echo "usage: scripts/install-deps.sh [--build-only]" >&2
    exit 2
    ;;
esac

# Building: compilers, CMake and Ninja, the code generators and the libraries' headers.
packages=(
  build-essential cmake ninja-build pkg-config ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libssl-dev libjemalloc-dev
  nlohmann-json3-dev libcpp-httplib-dev prometheus-cpp-dev
  # Boost.Beast/Asio (header-only) for the asynchronous HTTP port (common/http).
  libboost-dev
)
# The dashboard page's uPlot is fetched with npm (scripts/web-tools.sh); the deploy checks
# (scripts/check-deploy.sh) run on Node.js too. An existing installation (of any origin) is kept
# rather than replaced by Debian's.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

# Testing, running locally and the checks; not needed to build the deployables.
((build_only)) || packages+=(
  git redis-server redis-tools
  libgtest-dev libgmock-dev libbenchmark-dev
  openssl procps iproute2
  unzip shellcheck
  # promtool (`promtool check rules`) for the shipped alerting rules.
  prometheus
  # Sanitizer and fuzzing builds; llvm brings llvm-symbolizer, without which sanitizer reports
  # have no function names and the suppression files cannot match them.
  clang libclang-rt-14-dev llvm
  # The dashboard's browser tests (scripts/browser-tests.sh) drive Debian's chromium headless;
  # a font so that the pages and their screenshots have text (playwright never downloads one).
  chromium fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "installing: ${missing[*]}" >&2
sudo_cmd=()
((EUID == 0)) || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
