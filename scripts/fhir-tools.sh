#!/usr/bin/env bash
# Independent FHIR R4 validation for common/fhir (tests/fhir): installs FHIR.js (npm package
# `fhir`, pinned in tests/fhir/tools/package.json) into a cache folder and runs
# tests/fhir/validate.cjs with it. The install runs once per cache (a stamp holds the
# package.json it installed), under flock so that tests started together wait for one install;
# once cached, nothing is fetched. Node.js and npm come from scripts/install-deps.sh.
#
# Usage: scripts/fhir-tools.sh [--cache DIR] COMMAND [ARGS...]
#   tools               install FHIR.js into the cache (idempotent, locked)
#   validate ARGS...    node tests/fhir/validate.cjs ARGS (see that file), after `tools`
# Exit 77 (a skip for ctest) when node is not installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/npm-cache.sh
source "$root/scripts/lib/npm-cache.sh"
cache=""
if [[ ${1:-} == --cache ]]; then
  cache=$2
  shift 2
fi
cache=${cache:-${ALLIANCE_FHIR_TOOLS:-$root/build/fhir-tools}}
command=${1:?command required (tools, validate)}
shift

if ! command -v node >/dev/null; then
  echo "fhir-tools: SKIPPED: node is not installed (scripts/install-deps.sh installs it)" >&2
  exit 77
fi

install_tools() {
  npm_cache_install fhir-tools "$cache" "$root/tests/fhir/tools/package.json" fhir/package.json
}

case $command in
  tools) install_tools ;;
  validate)
    install_tools
    NODE_PATH="$cache/npm/node_modules" node "$root/tests/fhir/validate.cjs" "$@"
    ;;
  *)
    echo "fhir-tools: unknown command $command" >&2
    exit 2
    ;;
esac
