#!/usr/bin/env bash
# Remakes the screenshots of docs/dashboard.md (docs/images/dashboard-*.png) from the demo data:
# starts `scripts/demo.sh --serve` (its own Redis, services and the sample cohort), signs in to
# the dashboard it serves with Debian's chromium driven by playwright-core (installed into the
# browser tests' cache, as scripts/browser-tests.sh does; never a browser download) and saves
# the sign-in form, the caseload, the alert inbox and one dyad's page at 1280 px and the caseload
# at 768 px (scripts/lib/dashboard-screenshots.mjs), then stops the demo.
# Usage: scripts/dashboard-screenshots.sh [OUT_DIR]   (default docs/images; BUILD_DIR as for demo.sh)
# Environment: ALLIANCE_CHROMIUM (default /usr/bin/chromium), DEMO_TIMEOUT_S (default 900: how long
# the demo may take to build, feed the cohort and start serving).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-$root/docs/images}
build_dir=${BUILD_DIR:-$root/build}
chromium=${ALLIANCE_CHROMIUM:-/usr/bin/chromium}
timeout_s=${DEMO_TIMEOUT_S:-900}
command -v node >/dev/null || { echo "dashboard-screenshots: node is missing (scripts/install-deps.sh)" >&2; exit 1; }
[[ -x $chromium ]] || { echo "dashboard-screenshots: $chromium is missing (scripts/install-deps.sh)" >&2; exit 1; }

# shellcheck source=scripts/lib/npm-cache.sh
source "$root/scripts/lib/npm-cache.sh"
cache=$build_dir/browser-tools
npm_cache_install dashboard-screenshots "$cache" "$root/tests/browser/package.json" playwright-core

log=$(mktemp /tmp/alliance-screenshots-XXXXXX.log)
demo_pid=""
stop_demo() {
  # demo.sh stops its services and Redis and removes its folder on SIGTERM (its EXIT trap).
  if [[ -n $demo_pid ]] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -TERM "$demo_pid"
    wait "$demo_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap stop_demo EXIT
BUILD_DIR=$build_dir scripts/demo.sh --serve >"$log" 2>&1 &
demo_pid=$!

# Waits (bounded) for the demo's "== Dashboard ... http://127.0.0.1:PORT/" and key lines.
url="" key_file=""
for _ in $(seq 1 "$timeout_s"); do
  if ! kill -0 "$demo_pid" 2>/dev/null; then
    echo "dashboard-screenshots: the demo stopped; its output:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  url=$(sed -n 's|^== Dashboard .*\(http://127\.0\.0\.1:[0-9]*\)/.*$|\1|p' "$log")
  key_file=$(sed -n 's|.*--api_key_file=\([^ ]*\) .*|\1|p' "$log" | tail -n 1)
  [[ -n $url && -n $key_file && -f $key_file ]] && break
  sleep 1
done
if [[ -z $url || ! -f $key_file ]]; then
  echo "dashboard-screenshots: the demo did not serve the dashboard within ${timeout_s}s" >&2
  exit 1
fi
echo "dashboard-screenshots: the demo serves $url" >&2

ALLIANCE_PLAYWRIGHT="$cache/npm/node_modules/playwright-core/index.mjs" ALLIANCE_CHROMIUM="$chromium" \
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 node "$root/scripts/lib/dashboard-screenshots.mjs" "$url" "$key_file" "$out"
