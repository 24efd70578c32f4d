#!/usr/bin/env bash
# The dashboard page's files (services/insights/web, docs/dashboard.md "The page"): installs
# uPlot (npm package `uplot`, pinned in services/insights/web/package.json) into a cache folder
# and assembles the folder alliance-insights serves with --web_root. `tools` is the only command
# that fetches (scripts/build.sh runs it before building); it installs once per cache (a stamp
# holds the package.json it installed), under flock so that builds started together wait for one
# install. `assemble` never fetches: it copies from the cache and fails when `tools` has not run.
# Node.js and npm come from scripts/install-deps.sh.
#
# Usage: scripts/web-tools.sh [--cache DIR] COMMAND [ARGS...]
#   tools              install uPlot into the cache (idempotent, locked)
#   assemble OUT_DIR   OUT_DIR := the repository's web files + vendor/uPlot.iife.min.js and
#                      vendor/uPlot.min.css (replaced as a whole)
# Exit 77 when node is not installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/npm-cache.sh
source "$root/scripts/lib/npm-cache.sh"
web=$root/services/insights/web
cache=""
if [[ ${1:-} == --cache ]]; then
  cache=$2
  shift 2
fi
cache=${cache:-${ALLIANCE_WEB_TOOLS:-$root/build/web-tools}}
command=${1:?command required (tools, assemble)}
shift

if ! command -v node >/dev/null; then
  echo "web-tools: SKIPPED: node is not installed (scripts/install-deps.sh installs it)" >&2
  exit 77
fi

uplot=$cache/npm/node_modules/uplot/dist

installed() {
  [[ -f $cache/.installed && $(cat "$cache/.installed") == "$(cat "$web/package.json")" &&
    -f $uplot/uPlot.iife.min.js && -f $uplot/uPlot.min.css ]]
}

install_tools() {
  npm_cache_install web-tools "$cache" "$web/package.json" uplot/dist/uPlot.iife.min.js
}

assemble() {
  local out=${1:?assemble OUT_DIR}
  if ! installed; then
    echo "web-tools: uPlot is not in $cache: run scripts/web-tools.sh --cache $cache tools" \
      "(scripts/build.sh does)" >&2
    exit 1
  fi
  # Built next to OUT_DIR and renamed into place, so a server never sees half a folder.
  local tmp="$out.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/vendor"
  local f
  shopt -s nullglob
  for f in "$web"/*.html "$web"/*.js "$web"/*.css "$web"/*.svg; do
    cp "$f" "$tmp/"
  done
  cp "$uplot/uPlot.iife.min.js" "$uplot/uPlot.min.css" "$tmp/vendor/"
  cp "$cache/npm/node_modules/uplot/LICENSE" "$tmp/vendor/uPlot.LICENSE.txt"
  rm -rf "$out"
  mv "$tmp" "$out"
}

case $command in
  tools) install_tools ;;
  assemble) assemble "$@" ;;
  *)
    echo "web-tools: unknown command $command" >&2
    exit 2
    ;;
esac
