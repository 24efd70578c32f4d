# shellcheck shell=bash
# Shared by the scripts that install pinned npm packages into a cache folder (sourced, not run):
# scripts/fhir-tools.sh (FHIR.js), scripts/web-tools.sh (uPlot), scripts/browser-tests.sh
# (playwright-core). The install runs once per cache and package.json: a stamp holds the
# package.json it installed, and flock makes runs started together (ctest -j) wait for one
# install; once cached, nothing is fetched. npm runs no install scripts.
# Usage: npm_cache_install NAME CACHE PACKAGE_JSON CHECK_PATH
#   NAME          for messages ("web-tools: installing ...")
#   CACHE         the cache folder; packages land in CACHE/npm/node_modules
#   PACKAGE_JSON  the pinned package.json to install
#   CHECK_PATH    a path under CACHE/npm/node_modules that must exist once installed
npm_cache_install() {
  local name=$1 cache=$2 package_json=$3 check=$4
  mkdir -p "$cache"
  local lock
  exec {lock}>"$cache/.lock"
  flock "$lock"
  local stamp="$cache/.installed" want
  want=$(cat "$package_json")
  if [[ -f $stamp && $(cat "$stamp") == "$want" && -e $cache/npm/node_modules/$check ]]; then
    exec {lock}>&-
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "$name: npm is missing: run scripts/install-deps.sh" >&2
    exec {lock}>&-
    return 1
  fi
  echo "$name: installing $(basename "$(dirname "$package_json")")/package.json into $cache" >&2
  rm -rf "$cache/npm" "$stamp"
  mkdir -p "$cache/npm"
  cp "$package_json" "$cache/npm/package.json"
  if ! (cd "$cache/npm" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent \
    --ignore-scripts --no-audit --no-fund --no-package-lock >/dev/null) ||
    [[ ! -e $cache/npm/node_modules/$check ]]; then
    echo "$name: npm install into $cache failed" >&2
    exec {lock}>&-
    return 1
  fi
  echo "$want" >"$stamp"
  exec {lock}>&-
}
