#!/usr/bin/env bash
# Memory under attack without an API key (issue: many concurrent large unauthenticated requests).
# Starts its own redis-server (temporary folder, free loopback port), alliance-intake and
# alliance-insights on loopback with authentication on, then attacks each service in turn with
# alliance-attack-memory: CONNECTIONS connections x STREAMS calls in flight each, every call one
# MESSAGE_BYTES request without a key, for DURATION. A well-behaved client with a valid key calls
# the same service meanwhile. Prints per service the attack's result codes, the well-behaved
# client's successes and latency, and resident memory (VmHWM during, VmRSS after the attack);
# target: both under 256 MiB. Stops everything on exit. Builds first if a binary is missing.
# Usage: scripts/attack-memory.sh [extra flags for both services...]
# Environment: BUILD_DIR (build), ATTACK_CONNECTIONS (2), ATTACK_STREAMS (250),
# ATTACK_MESSAGE_BYTES (1048576), ATTACK_DURATION (20s), ATTACK_SETTLE (5s).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
bin=$build_dir/bin
connections=${ATTACK_CONNECTIONS:-2}
streams=${ATTACK_STREAMS:-250}
message_bytes=${ATTACK_MESSAGE_BYTES:-1048576}
duration=${ATTACK_DURATION:-20s}
settle=${ATTACK_SETTLE:-5s}
target_mib=256

for b in alliance-intake alliance-insights alliance-attack-memory; do
  [[ -x $bin/$b ]] || { scripts/build.sh "$build_dir"; break; }
done

# shellcheck source=scripts/lib/processes.sh
source scripts/lib/processes.sh
start_scratch attack
result_field() { sed -n 's/.*RESULT.* '"$2"'=\([0-9.-]*\).*/\1/p' "$1"; }

start_redis

# One key for the well-behaved client (submit and read); the attacker has none.
tenant=attack-check
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$key" >"$tmp/good.key"
hash=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
printf '{"keys": [{"id": "good", "sha256": "%s", "tenant": "%s", "scopes": ["submit", "read"]}]}\n' \
  "$hash" "$tenant" >"$tmp/keys.json"

intake_port=$(free_port)
"$bin/alliance-intake" --listen_host=127.0.0.1 --grpc_port="$intake_port" \
  --redis_port="$redis_port" --api_keys_file="$tmp/keys.json" --log_level=warning "$@" \
  2>"$tmp/intake.log" &
intake_pid=$!
pids+=("$intake_pid")
insights_port=$(free_port)
"$bin/alliance-insights" --listen_host=127.0.0.1 --grpc_port="$insights_port" \
  --redis_port="$redis_port" --api_keys_file="$tmp/keys.json" --log_level=warning "$@" \
  2>"$tmp/insights.log" &
insights_pid=$!
pids+=("$insights_pid")
wait_port "$intake_port"
wait_port "$insights_port"

attack() {  # attack SERVICE PORT PID
  echo "== $1" >&2
  "$bin/alliance-attack-memory" --service="$1" --target="127.0.0.1:$2" --server_pid="$3" \
    --connections="$connections" --streams="$streams" --message_bytes="$message_bytes" \
    --duration="$duration" --settle="$settle" --key_file="$tmp/good.key" --tenant="$tenant" \
    | tee "$tmp/$1.out" >&2
}
attack intake "$intake_port" "$intake_pid"
attack insights "$insights_port" "$insights_pid"

verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
echo
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "attack: $connections connections x $streams calls of $message_bytes bytes without a key, $duration per service; extra flags: ${*:-none}"
status=0
for s in intake insights; do
  out=$tmp/$s.out
  hwm=$(result_field "$out" hwm_mib)
  after=$(result_field "$out" after_mib)
  ok=$(result_field "$out" good_ok)
  failed=$(result_field "$out" good_failed)
  v=$(verdict "$hwm < $target_mib && $after < $target_mib && $ok > 0 && $failed == 0")
  [[ $v == met ]] || status=1
  printf '%-8s peak %s MiB, after %s MiB (target < %d MiB); well-behaved client: %s ok, %s failed, p50 %s ms, p99 %s ms: %s\n' \
    "$s" "$hwm" "$after" "$target_mib" "$ok" "$failed" "$(result_field "$out" good_p50_ms)" \
    "$(result_field "$out" good_p99_ms)" "$v"
  sed -n 's/^attack calls/  attack calls/p' "$out"
done
exit "$status"
