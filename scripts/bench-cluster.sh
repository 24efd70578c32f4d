#!/usr/bin/env bash
# Alliance on a single Redis next to a local Redis Cluster (three primaries, three replicas), in
# one run on this machine, in three parts (BENCH_PARTS, all by default):
# - intake: acknowledged submissions per second, CPU per submission of intake and of Redis, and
#   how the Redis CPU spreads over the cluster's nodes, with replica confirmation (WAIT 1, the
#   cluster default) and without;
# - worker: one alliance-worker draining a pre-filled backlog, the same three cases: ratings
#   per second, worker CPU and Redis CPU per rating, per node (alliance-cluster-bench
#   --mode=worker, tests/e2e/cluster_bench.cc);
# - failover: intake, worker and insights in cluster mode, a primary SIGKILLed (node timeout
#   1 s): time to the next acknowledged submission on its slots and to the next alert on a
#   watch stream for a rating submitted after the kill, over BENCH_FAILOVER_RUNS fresh clusters,
#   median and max; with one replica per primary and no WAIT, then with two replicas and WAIT 1
#   (alliance-cluster-bench --mode=failover).
# On a machine with few cores expect no speed-up from the cluster: the figures to read are CPU
# per rating and its spread, from which docs/scaling.md derives its capacity model.
# It starts its own Redis processes (temporary folders, free loopback ports) and deployables,
# and stops all of them on exit. Builds first if the binaries are missing.
# Environment: BUILD_DIR (build), BENCH_PARTS ("intake worker failover"), BENCH_DURATION (10s),
# BENCH_OUTSTANDING (64), BENCH_CHANNELS (4), BENCH_WRITERS (2), BENCH_APPENDONLY (everysec |
# always | no; intake part only, the others run without AOF), BENCH_WORKER_RATINGS (40000),
# BENCH_FAILOVER_RUNS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
bin=$build_dir/bin
duration=${BENCH_DURATION:-10s}
outstanding=${BENCH_OUTSTANDING:-64}
channels=${BENCH_CHANNELS:-4}
writers=${BENCH_WRITERS:-2}
appendonly=${BENCH_APPENDONLY:-everysec}
parts=${BENCH_PARTS:-intake worker failover}
worker_ratings=${BENCH_WORKER_RATINGS:-40000}
failover_runs=${BENCH_FAILOVER_RUNS:-5}

for b in alliance-intake alliance-worker alliance-insights alliance-loadgen alliance-cluster-bench; do
  if [[ ! -x $bin/$b ]]; then
    ALLIANCE_BUILD_TARGETS="alliance-intake alliance-worker alliance-insights alliance-loadgen alliance-cluster-bench" \
      scripts/build.sh "$build_dir"
    break
  fi
done
machine() {
  echo "machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
machine

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

bench_intake() {
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
  primaries_now=$(cluster_primaries | tr '\n' ' ')
  # Nothing of this part keeps running into the next ones.
  for pid in "$intake_pid" "$redis_pid" "${cluster_pids[@]}"; do kill "$pid" 2>/dev/null || true; done

  echo
  echo "== intake (settings: outstanding=$outstanding channels=$channels duration=$duration writers=$writers appendonly=$appendonly)"
  echo "cluster nodes (ports, in 'per node' order): ${cluster_ports[*]}; primaries now: $primaries_now"
  printf '%s\n' "${results[@]}"
}

for part in $parts; do
  case $part in
    intake) bench_intake ;;
    worker)
      echo
      echo "== worker (a pre-filled backlog drained by one alliance-worker; no AOF)"
      TEST_TMPDIR=$tmp "$bin/alliance-cluster-bench" --mode=worker --ratings="$worker_ratings"
      ;;
    failover)
      echo
      echo "== failover (intake, worker, insights in cluster mode; a primary SIGKILLed)"
      TEST_TMPDIR=$tmp "$bin/alliance-cluster-bench" --mode=failover --repetitions="$failover_runs" \
        --replicas=1 --wait_replicas=0
      TEST_TMPDIR=$tmp "$bin/alliance-cluster-bench" --mode=failover --repetitions="$failover_runs" \
        --replicas=2
      ;;
    *) echo "unknown part '$part' in BENCH_PARTS" >&2; exit 2 ;;
  esac
done
machine
