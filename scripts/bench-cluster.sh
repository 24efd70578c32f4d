#!/usr/bin/env bash
# Intake on a single Redis next to intake on a local Redis Cluster (three primaries, three
# replicas), in one run on this machine: acknowledged submissions per second, CPU per
# submission of intake and of Redis, and how the Redis CPU spreads over the cluster's nodes,
# with replica confirmation (WAIT 1, the cluster default) and without. On a machine with few
# cores expect no speed-up from the cluster: the figures to read are CPU per submission and
# its spread, from which docs/scaling.md derives its capacity model.
# It starts its own Redis processes (temporary folder, free loopback ports) and intakes, and
# stops all of them on exit. Builds first if the binaries are missing.
# Environment: BUILD_DIR (build), BENCH_DURATION (10s), BENCH_OUTSTANDING (64),
# BENCH_CHANNELS (4), BENCH_WRITERS (2), BENCH_APPENDONLY (everysec | always | no).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
bin=$build_dir/bin
duration=${BENCH_DURATION:-10s}
outstanding=${BENCH_OUTSTANDING:-64}
channels=${BENCH_CHANNELS:-4}
writers=${BENCH_WRITERS:-2}
appendonly=${BENCH_APPENDONLY:-everysec}

if [[ ! -x $bin/alliance-intake || ! -x $bin/alliance-loadgen ]]; then
  scripts/build.sh "$build_dir"
fi

# shellcheck source=scripts/lib/processes.sh
source scripts/lib/processes.sh
# shellcheck source=scripts/lib/redis-cluster.sh
source scripts/lib/redis-cluster.sh
start_scratch bench-cluster
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
result_field() { sed -n 's/.*RESULT.* '"$2"'=\([0-9.]*\).*/\1/p' "$1"; }
duration_s=$(awk -v d="$duration" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; print n }')
per_call() {  # per_call TICKS OK_QPS -> microseconds of CPU per acknowledged call
  awk -v t="$1" -v q="$2" -v hz="$(getconf CLK_TCK)" -v d="$duration_s" \
    'BEGIN { if (q > 0) printf "%.1f", t / hz * 1e6 / (q * d); else print "n/a" }'
}

# Starts an intake with the given Redis flags; sets intake_pid and intake_port.
start_intake() {
  intake_port=$(free_port)
  "$bin/alliance-intake" --listen_host=127.0.0.1 --grpc_port="$intake_port" \
    --writer_threads="$writers" --auth_disabled "$@" 2>>"$tmp/intake.log" &
  intake_pid=$!
  pids+=("$intake_pid")
  for _ in $(seq 1 200); do port_in_use "$intake_port" && break; sleep 0.05; done
  if ! port_in_use "$intake_port"; then
    echo "alliance-intake did not start:" >&2
    tail -5 "$tmp/intake.log" >&2
    exit 1
  fi
  sleep 0.5  # writers connect
}

# run NAME REDIS_PIDS... : loadgen against $intake_port; prints the summary line.
run() {
  local name=$1
  shift
  local redis_pids=("$@") before=() i
  for i in "${!redis_pids[@]}"; do before[i]=$(cpu_ticks "${redis_pids[i]}"); done
  local intake_before
  intake_before=$(cpu_ticks "$intake_pid")
  "$bin/alliance-loadgen" --target="127.0.0.1:$intake_port" --channels="$channels" \
    --outstanding="$outstanding" --duration="$duration" --idempotency=unique >"$tmp/$name.out" 2>&1
  local qps intake_ticks redis_total=0 spread=()
  qps=$(result_field "$tmp/$name.out" ok_qps)
  intake_ticks=$(($(cpu_ticks "$intake_pid") - intake_before))
  for i in "${!redis_pids[@]}"; do
    local t=$(($(cpu_ticks "${redis_pids[i]}") - before[i]))
    redis_total=$((redis_total + t))
    spread+=("$(per_call "$t" "$qps")")
  done
  printf '%-22s ok_qps=%-8s intake cpu/call=%-6s us  redis cpu/call=%-6s us  per node: %s\n' \
    "$name" "$qps" "$(per_call "$intake_ticks" "$qps")" "$(per_call "$redis_total" "$qps")" \
    "${spread[*]}"
}

# 1. A single Redis.
redis_port=$(free_port)
if [[ $appendonly == no ]]; then aof=(--appendonly no); else aof=(--appendonly yes --appendfsync "$appendonly"); fi
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp" --save '' "${aof[@]}" \
  --daemonize no --logfile "$tmp/redis.log" &
redis_pid=$!
pids+=("$redis_pid")
wait_port "$redis_port"
start_intake --redis_port="$redis_port"
results=()
results+=("$(run single-redis "$redis_pid")")
kill "$intake_pid"

# 2. The cluster, with and without replica confirmation.
start_redis_cluster "$appendonly"
start_intake --redis_cluster_nodes="$cluster_seeds" --redis_wait_replicas=0
results+=("$(run cluster-no-wait "${cluster_pids[@]}")")
kill "$intake_pid"
start_intake --redis_cluster_nodes="$cluster_seeds"
results+=("$(run cluster-wait-1 "${cluster_pids[@]}")")

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "settings: outstanding=$outstanding channels=$channels duration=$duration writers=$writers appendonly=$appendonly"
echo "cluster nodes (ports, in 'per node' order): ${cluster_ports[*]}; primaries now: $(cluster_primaries | tr '\n' ' ')"
printf '%s\n' "${results[@]}"
