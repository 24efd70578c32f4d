#!/usr/bin/env bash
# Watch latency benchmark: starts its own redis-server and alliance-insights on free loopback
# ports, connects WATCHERS watchers, appends ALERTS alert entries at RATE per second in the
# documented alert stream format, and prints p50/p90/p99/max of append -> arrival on every
# watch stream. Target: p99 < 100 ms with 100 watchers.
# With INTAKE_BIN and WORKER_BIN set (paths to alliance-intake and alliance-worker), it also
# starts them and raises every alert through the pipeline instead: one SRS rating below the
# cutoff per new dyad, latency from the submit acknowledgement to arrival on the watch streams.
# Usage: scripts/bench-watch.sh [WATCHERS=100] [ALERTS=1000] [RATE=200]   (BUILD_DIR=build)
set -euo pipefail
cd "$(dirname "$0")/.."
watchers=${1:-100}
alerts=${2:-1000}
rate=${3:-200}
bin=${BUILD_DIR:-build}/bin
for b in alliance-insights alliance-watch-bench; do
  [[ -x $bin/$b ]] || { echo "missing $bin/$b: run scripts/build.sh first" >&2; exit 1; }
done

# shellcheck source=scripts/lib/processes.sh
source scripts/lib/processes.sh
start_scratch bench-watch
start_redis
grpc_port=$(free_port)

# The benchmark clients send no API key: authentication is off here (one SHA-256 and one hash
# lookup per call, nothing per streamed alert). All watchers are one tenant's: its limit is
# raised to their number.
"$bin/alliance-insights" --redis_port="$redis_port" --grpc_port="$grpc_port" --partitions=8 \
  --listen_host=127.0.0.1 --watch_buffer=1024 --log_level=warning --auth_disabled \
  --max_watchers_per_tenant="$watchers" --max_watchers="$((watchers > 2000 ? watchers : 2000))" \
  >"$tmp/insights.log" 2>&1 &
pids+=($!)
wait_port "$grpc_port"

pipeline=()
if [[ -n ${INTAKE_BIN:-} && -n ${WORKER_BIN:-} ]]; then
  intake_port=$(free_port)
  "$WORKER_BIN" --redis_port="$redis_port" --partitions=8 --listen_host=127.0.0.1 \
    --log_level=warning >"$tmp/worker.log" 2>&1 &
  pids+=($!)
  "$INTAKE_BIN" --redis_port="$redis_port" --grpc_port="$intake_port" --partitions=8 \
    --listen_host=127.0.0.1 --log_level=warning --auth_disabled >"$tmp/intake.log" 2>&1 &
  pids+=($!)
  wait_port "$intake_port"
  pipeline=(--intake="127.0.0.1:$intake_port")
  echo "mode: intake -> worker -> insights (submit acknowledgement to arrival)"
else
  echo "mode: XADD of alert entries (append to arrival)"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/alliance-watch-bench" --insights="127.0.0.1:$grpc_port" --redis_port="$redis_port" \
  --partitions=8 --watchers="$watchers" --alerts="$alerts" --rate="$rate" "${pipeline[@]}"
