#!/usr/bin/env bash
# Installs the Debian 12 packages Alliance needs to build, test and run, skipping what is present.
# Usage: scripts/install-deps.sh   (as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libssl-dev libjemalloc-dev redis-server redis-tools
  nlohmann-json3-dev libcpp-httplib-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  openssl procps iproute2
  unzip shellcheck
  # Boost.Beast/Asio (header-only) for the asynchronous HTTP port (common/http).
  libboost-dev
  # promtool (`promtool check rules`) for the shipped alerting rules.
  prometheus
  # Sanitizer and fuzzing builds; llvm brings llvm-symbolizer, without which sanitizer reports
  # have no function names and the suppression files cannot match them.
  clang libclang-rt-14-dev llvm
  # The dashboard's browser tests (scripts/browser-tests.sh) drive Debian's chromium headless;
  # a font so that the pages and their screenshots have text (playwright never downloads one).
  chromium fonts-dejavu-core
)
# The deploy checks (scripts/check-deploy.sh) run on Node.js and npm; an existing installation
# (of any origin) is kept rather than replaced by Debian's.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

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
