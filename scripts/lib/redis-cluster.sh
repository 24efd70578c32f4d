# shellcheck shell=bash
# Starts a local Redis Cluster of three primaries and three replicas on free loopback ports, in
# $tmp, for the demo and the benchmarks (sourced after scripts/lib/processes.sh, whose cleanup
# stops the nodes). Sets cluster_ports (primaries first as created), cluster_pids and
# cluster_seeds ("127.0.0.1:p1,127.0.0.1:p2,...").
# Usage: start_redis_cluster [APPENDFSYNC (everysec | always | no)]
# shellcheck disable=SC2034,SC2154  # sets variables for the caller; $tmp comes from it
start_redis_cluster() {
  local fsync=${1:-everysec} port bus dir aof
  cluster_ports=()
  cluster_pids=()
  for _ in 1 2 3 4 5 6; do
    port=$(free_port)
    # The bus port defaults to port + 10000, which can pass 65535: give it one of its own.
    bus=$(free_port)
    dir="$tmp/cluster-$port"
    mkdir -p "$dir"
    if [[ $fsync == no ]]; then aof=(--appendonly no); else aof=(--appendonly yes --appendfsync "$fsync"); fi
    redis-server --port "$port" --cluster-port "$bus" --bind 127.0.0.1 --dir "$dir" --save '' \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
      --repl-diskless-sync-delay 0 "${aof[@]}" --daemonize no --logfile "$dir/redis.log" &
    cluster_pids+=("$!")
    pids+=("$!")
    cluster_ports+=("$port")
  done
  local addresses=()
  for port in "${cluster_ports[@]}"; do
    wait_port "$port"
    addresses+=("127.0.0.1:$port")
  done
  redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >"$tmp/cluster-create.log" 2>&1
  # Bounded: every node says the cluster is ok.
  local ok
  for _ in $(seq 1 200); do
    ok=0
    for port in "${cluster_ports[@]}"; do
      redis-cli -p "$port" CLUSTER INFO | tr -d '\r' | grep -q '^cluster_state:ok$' && ok=$((ok + 1))
    done
    [[ $ok -eq 6 ]] && break
    sleep 0.1
  done
  if [[ $ok -ne 6 ]]; then echo "the local Redis Cluster did not come up" >&2; exit 1; fi
  cluster_seeds=$(IFS=,; echo "${addresses[*]}")
}

# Ports of the nodes that are primaries now.
cluster_primaries() {
  local port
  for port in "${cluster_ports[@]}"; do
    redis-cli -p "$port" ROLE 2>/dev/null | head -1 | grep -q '^master$' && echo "$port"
  done
}
