#!/usr/bin/env bash
# Measures alliance-intake against the bare gRPC server on this machine, in one run:
#   1. QPS of each at the same number of outstanding calls (default 64), unique idempotency ids;
#   2. intake latency (p99) at half of its measured maximum rate (and the bare server's at the
#      same rate, for reference);
#   3. intake resident memory (VmRSS / VmHWM from /proc).
# It starts its own redis-server (temporary folder, free loopback port), the intake and the
# bare server, and stops all of them on exit. Builds first if the binaries are missing.
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

if [[ ! -x $bin/alliance-intake || ! -x $bin/alliance-loadgen || ! -x $bin/alliance-bare-server ]]; then
  scripts/build.sh "$build_dir"
fi

# shellcheck source=scripts/lib/processes.sh
source scripts/lib/processes.sh
start_scratch bench
metric() {  # metric PORT NAME -> value of an unlabelled metric
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  awk -v name="$2" '$1 == name { print $2 }' <&3
  exec 3<&-
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
result_field() { sed -n 's/.*RESULT.* '"$2"'=\([0-9.]*\).*/\1/p' "$1"; }

if [[ $appendonly == no ]]; then aof=(--appendonly no); else aof=(--appendonly yes --appendfsync "$appendonly"); fi
start_redis "${aof[@]}"

intake_port=$(free_port)
metrics_port=$(free_port)
# The load generator sends no API key: authentication is off for the benchmark (it costs one
# SHA-256 and one hash lookup per call).
"$bin/alliance-intake" --listen_host=127.0.0.1 --grpc_port="$intake_port" \
  --metrics_port="$metrics_port" --redis_port="$redis_port" --writer_threads="$writers" \
  --auth_disabled 2>"$tmp/intake.log" &
intake_pid=$!
pids+=("$intake_pid")
bare_port=$(free_port)
"$bin/alliance-bare-server" --listen_host=127.0.0.1 --grpc_port="$bare_port" 2>"$tmp/bare.log" &
bare_pid=$!
pids+=("$bare_pid")
wait_port "$intake_port"
wait_port "$bare_port"
wait_port "$metrics_port"
for _ in $(seq 1 100); do
  [[ $(metric "$metrics_port" alliance_intake_writers_connected) -ge 1 ]] 2>/dev/null && break
  sleep 0.05
done

run() {  # run NAME PORT [extra loadgen flags...]
  local name=$1 port=$2
  shift 2
  echo "== $name" >&2
  "$bin/alliance-loadgen" --target="127.0.0.1:$port" --channels="$channels" \
    --outstanding="$outstanding" --duration="$duration" --idempotency=unique "$@" \
    | tee "$tmp/$name.out" >&2
}

# CPU time per acknowledged call (microseconds) of a process during a run: unlike QPS, this
# hardly depends on what else the machine is doing.
cpu_per_call() {  # cpu_per_call TICKS_BEFORE TICKS_AFTER OK_QPS
  awk -v a="$1" -v b="$2" -v q="$3" -v hz="$(getconf CLK_TCK)" -v d="$duration_s" \
    'BEGIN { if (q > 0) printf "%.1f", (b - a) / hz * 1e6 / (q * d); else print "n/a" }'
}
duration_s=$(awk -v d="$duration" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; print n }')
bare_before=$(cpu_ticks "$bare_pid")
run bare "$bare_port"
bare_after=$(cpu_ticks "$bare_pid")
intake_before=$(cpu_ticks "$intake_pid")
redis_before=$(cpu_ticks "$redis_pid")
run intake "$intake_port"
intake_after=$(cpu_ticks "$intake_pid")
redis_after=$(cpu_ticks "$redis_pid")
bare_qps=$(result_field "$tmp/bare.out" ok_qps)
intake_qps=$(result_field "$tmp/intake.out" ok_qps)
half_rate=$(awk -v q="$intake_qps" 'BEGIN { printf "%.0f", q / 2 }')
run intake-half "$intake_port" --rate="$half_rate"
p99_half=$(result_field "$tmp/intake-half.out" p99_ms)
p50_half=$(result_field "$tmp/intake-half.out" p50_ms)
# The same rate against the bare server shows how much of the tail is the machine itself.
run bare-half "$bare_port" --rate="$half_rate"
bare_p99_half=$(result_field "$tmp/bare-half.out" p99_ms)
rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$intake_pid/status")
hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$intake_pid/status")
stream_entries=0
for p in $(seq 0 7); do
  n=$(redis-cli -p "$redis_port" XLEN "alliance:{p$p}:feedback")
  stream_entries=$((stream_entries + n))
done

# Redis rewrites its append-only file when it doubled (fork + copy-on-write): worth knowing
# when reading the tail latencies.
aof_rewrites=$(grep -c 'Background append only file rewriting started' "$tmp/redis.log" || true)
fork_usec=$(redis-cli -p "$redis_port" INFO stats | tr -d '\r' | awk -F: '$1 == "latest_fork_usec" { print $2 }')

ratio=$(awk -v a="$intake_qps" -v b="$bare_qps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "settings: outstanding=$outstanding channels=$channels duration=$duration writers=$writers redis appendonly=$appendonly"
echo "bare   ok_qps=$bare_qps"
echo "intake ok_qps=$intake_qps (entries in Redis: $stream_entries)"
echo "cpu per call (us, includes warm-up): bare server $(cpu_per_call "$bare_before" "$bare_after" "$bare_qps"), intake $(cpu_per_call "$intake_before" "$intake_after" "$intake_qps"), its redis $(cpu_per_call "$redis_before" "$redis_after" "$intake_qps")"
echo "ratio intake/bare = $ratio (target >= 0.75: $(verdict "$ratio >= 0.75"))"
echo "intake p99 at half load ($half_rate/s) = $p99_half ms, p50 $p50_half ms (target < 10 ms: $(verdict "$p99_half < 10")); bare server p99 at the same rate = $bare_p99_half ms"
echo "redis: $aof_rewrites AOF rewrite(s) during the runs, last fork took ${fork_usec:-0} us"
echo "intake RSS = $((rss_kib / 1024)) MiB, peak $((hwm_kib / 1024)) MiB (target < 100 MiB: $(verdict "$hwm_kib < 102400"))"
