# shellcheck shell=bash
# Shared by the benchmark and attack scripts (sourced, not run): a temporary folder and the
# processes a script starts, both removed on exit, and loopback port helpers.
# Usage: source scripts/lib/processes.sh; start_scratch NAME  -> sets $tmp; append to pids.

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}

# Makes $tmp (/tmp/alliance-NAME-XXXXXX) and stops every pid in $pids and removes $tmp on exit.
start_scratch() {
  tmp=$(mktemp -d "/tmp/alliance-$1-XXXXXX")
  trap cleanup EXIT
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! port_in_use "$p"; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; exit 1
}
wait_port() {
  for _ in $(seq 1 200); do port_in_use "$1" && return 0; sleep 0.05; done
  echo "nothing listens on port $1" >&2; exit 1
}

# Starts a redis-server on a free loopback port with its files in $tmp (extra arguments go to
# it, e.g. --appendonly yes), adds it to $pids, waits until it listens; sets $redis_port and
# $redis_pid.
# shellcheck disable=SC2120  # the arguments are optional
start_redis() {
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp" --save '' --appendonly no \
    "$@" --daemonize no --logfile "$tmp/redis.log" &
  redis_pid=$!
  pids+=("$redis_pid")
  wait_port "$redis_port"
}
