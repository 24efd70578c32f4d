#!/usr/bin/env bash
# Moves every dead letter back to the end of its partition's feedback stream, so the workers
# process it again (after the cause was fixed, e.g. an instrument definition was added).
# Ratings that were applied meanwhile are deduplicated by the worker. Prints the count moved.
# Usage: scripts/replay-dead-letters.sh [--partition=N] [alliance-worker flags, e.g.
#        --redis_host=... --redis_port=... --partitions=...]   (ALLIANCE_* variables work too)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ALLIANCE_WORKER_BIN:-build/bin/alliance-worker}
args=()
for a in "$@"; do
  case "$a" in
    --partition=*) args+=("--replay_partition=${a#--partition=}") ;;
    *) args+=("$a") ;;
  esac
done
exec "$bin" --replay_dead_letters "${args[@]}"
