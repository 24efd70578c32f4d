#!/usr/bin/env bash
# Browser tests of the insights dashboard (tests/browser, docs/dashboard.md "Browser tests"):
# installs playwright-core (pinned in tests/browser/package.json) into a cache folder and runs
# `node --test` on tests/browser/ with Debian's chromium (/usr/bin/chromium, from
# scripts/install-deps.sh), headless. Nothing here downloads a browser: the npm install skips
# install scripts and PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is set. The install runs once per cache
# (a stamp holds the package.json it installed), under flock so that runs started together wait
# for one install; once cached, nothing is fetched.
#
# Usage: scripts/browser-tests.sh [--cache DIR] --bin DIR --web DIR --artifacts DIR [TEST_FILE...]
#   --bin DIR        the built binaries (alliance-insights, -intake, -worker, alliancectl)
#   --web DIR        the assembled web root (<build>/web)
#   --artifacts DIR  where screenshots and service logs of the run go
#   TEST_FILE...     only these test files (default: every tests/browser/*.test.mjs)
# Environment: ALLIANCE_CHROMIUM (default /usr/bin/chromium).
# Exit 77 (a skip for ctest) when node or chromium is not installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/npm-cache.sh
source "$root/scripts/lib/npm-cache.sh"
cache="" bin="" web="" artifacts=""
while [[ ${1:-} == --* ]]; do
  case $1 in
    --cache) cache=$2 ;;
    --bin) bin=$2 ;;
    --web) web=$2 ;;
    --artifacts) artifacts=$2 ;;
    *)
      echo "browser-tests: unknown flag $1" >&2
      exit 2
      ;;
  esac
  shift 2
done
cache=${cache:-$root/build/browser-tools}
bin=${bin:-$root/build/bin}
web=${web:-$root/build/web}
artifacts=${artifacts:-$root/build/tests/browser/artifacts}
chromium=${ALLIANCE_CHROMIUM:-/usr/bin/chromium}

if ! command -v node >/dev/null; then
  echo "browser-tests: SKIPPED: node is not installed (scripts/install-deps.sh installs it)" >&2
  exit 77
fi
if [[ ! -x $chromium ]]; then
  echo "browser-tests: SKIPPED: $chromium is missing (scripts/install-deps.sh installs chromium)" >&2
  exit 77
fi

install_tools() {
  npm_cache_install browser-tests "$cache" "$root/tests/browser/package.json" \
    playwright-core/index.mjs
}

install_tools
mkdir -p "$artifacts"
if (($# == 0)); then set -- "$root"/tests/browser/*.test.mjs; fi
# ES modules ignore NODE_PATH: the tests import playwright-core from ALLIANCE_PLAYWRIGHT.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export ALLIANCE_PLAYWRIGHT="$cache/npm/node_modules/playwright-core/index.mjs"
export ALLIANCE_BIN_DIR="$bin" ALLIANCE_WEB_ROOT="$web" ALLIANCE_ARTIFACTS="$artifacts"
export ALLIANCE_CHROMIUM="$chromium"
# Each file starts its own Redis, services and chromium (ctest runs one file per test, one at a
# time).
exec node --test "$@"
