#!/usr/bin/env bash
# SSE benchmark: starts its own redis-server and alliance-insights (HTTP port on) on free
# loopback ports, opens STREAMS Server-Sent Events streams on GET /api/v1/alerts/stream from one
# epoll thread (alliance-sse-bench), and prints insights' VmRSS with 0 and STREAMS streams and
# the latency from each XADD of ALERTS alert entries (at RATE per second) to the event's arrival
# on every stream (p50/p99/max). docs/dashboard.md has the last figures.
# Usage: scripts/bench-sse.sh [STREAMS=1000] [ALERTS=200] [RATE=50]   (BUILD_DIR=build)
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-1000}
alerts=${2:-200}
rate=${3:-50}
bin=${BUILD_DIR:-build}/bin
for b in alliance-insights alliance-sse-bench; do
  [[ -x $bin/$b ]] || { echo "missing $bin/$b: run scripts/build.sh first" >&2; exit 1; }
done
# One descriptor per stream on each side, plus the service's own.
ulimit -n $((streams * 2 + 1024))

# shellcheck source=scripts/lib/processes.sh
source scripts/lib/processes.sh
start_scratch bench-sse
start_redis
grpc_port=$(free_port)
http_port=$(free_port)

# No API keys (authentication off; the streams name their tenant); all streams are one
# tenant's, so its limit is raised to their number.
"$bin/alliance-insights" --redis_port="$redis_port" --grpc_port="$grpc_port" \
  --http_port="$http_port" --partitions=8 --listen_host=127.0.0.1 --watch_buffer=1024 \
  --log_level=warning --auth_disabled --max_watchers_per_tenant="$streams" \
  --max_watchers="$((streams > 2000 ? streams : 2000))" >"$tmp/insights.log" 2>&1 &
insights=$!
pids+=("$insights")
wait_port "$http_port"
sleep 1  # the alert reader's first read

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/alliance-sse-bench" --http_port="$http_port" --redis_port="$redis_port" --partitions=8 \
  --streams="$streams" --alerts="$alerts" --rate="$rate" --pid="$insights"
