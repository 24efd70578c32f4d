#!/usr/bin/env bash
# Runs the built image (scripts/build-image.sh) the way the Kubernetes manifests run it, and
# checks what is inside it:
# - its filesystem: the four binaries (every library they load there) and the dashboard page, and
#   no compiler, headers, Node.js, keys or certificates of ours, sources or tests;
# - its three services, each from the image with the args of its manifest
#   (deploy/kubernetes/base/*.yaml) and the alliance-env settings, as the manifests' uid/gid,
#   without capabilities or new privileges, on a read-only root with the manifests' mounts
#   (rules, instruments, Redis password and API keys read-only, /tmp a tmpfs), against a
#   redis-server, all in one network namespace of their own, as in a pod: the manifests'
#   ports are used as they are and nothing on this machine is in the way;
# - gRPC health (readiness "" and liveness) answering on the ports the manifests probe;
# - the image's alliancectl (buildah run): a rating submitted, the dyad read back, the alert it
#   raises read on a WatchAlerts stream.
# The services run in a private mount and PID namespace under chroot with the container's root
# bind-mounted read-only (util-linux unshare, setpriv): `buildah run` has no read-only root, and
# podman's runtime cannot set its rlimits in every sandbox. Waits are bounded; containers,
# mounts, processes and the namespace are removed on exit.
#
# Usage: scripts/test-image.sh [IMAGE]   (as root; default: the tag scripts/build-image.sh gives
#                                          this checkout, alliance:<VERSION>-g<commit>[-dirty],
#                                          else that of its HEAD, from build-image.sh --head)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/image.sh
source "$root/scripts/lib/image.sh"
ref=${1:-$(image_ref)}
[[ -n ${1:-} ]] || bh inspect --type image "$ref" >/dev/null 2>&1 || ref=$(image_ref head)
base=$root/deploy/kubernetes/base
t_start=$SECONDS

say() { echo "test-image: $*" >&2; }
failures=0
fail() {
  say "FAIL: $*"
  failures=$((failures + 1))
}
die() {
  say "$*"
  exit 1
}
((EUID == 0)) || die "run as root (buildah, namespaces, chroot)"
run_where_root_is_a_mount "$0" "$@"
for t in buildah redis-server node ip nsenter unshare setpriv; do
  command -v $t >/dev/null || die "missing $t (scripts/install-deps.sh; scripts/build-image.sh installs buildah)"
done
bh inspect --type image "$ref" >/dev/null 2>&1 || die "no image $ref: build it with scripts/build-image.sh"

# --- What the manifests say ---
uid=$(sed -n 's/^ *runAsUser: *\([0-9]*\).*/\1/p' "$base/intake.yaml" | head -n1)
gid=$(sed -n 's/^ *runAsGroup: *\([0-9]*\).*/\1/p' "$base/intake.yaml" | head -n1)
[[ -n $uid && -n $gid && $uid != 0 ]] || die "no non-root runAsUser/runAsGroup in $base/intake.yaml"
manifest_args() { sed -n 's/^ *- \(--[a-z_]*=.*\)$/\1/p' "$base/$1.yaml"; }
manifest_flag() { manifest_args "$1" | sed -n "s/^--$2=//p"; }
# The alliance-env literals, with the Redis of this test instead of the Service `redis`.
redis_port=7379 # inside the test's own network namespace
mapfile -t env_vars < <(sed -n 's/^ *- \(ALLIANCE_[A-Z_]*=.*\)$/\1/p' "$base/kustomization.yaml" |
  sed -e "s/^ALLIANCE_REDIS_HOST=.*/ALLIANCE_REDIS_HOST=127.0.0.1/" \
    -e "s/^ALLIANCE_REDIS_PORT=.*/ALLIANCE_REDIS_PORT=$redis_port/")

# --- Scratch space, namespace and cleanup ---
tmp=$(mktemp -d /tmp/alliance-test-image-XXXXXX)
chmod 755 "$tmp"
ns=alliance-test-image-$$
containers=() pids=()
declare -A svc_pid=()
# The processes the test started, and each service (the only child of its unshare): TERM, then
# up to 25 s to drain and exit (the manifests' --shutdown_timeout is 20 s), then KILL.
stop_all() {
  local p all=("${pids[@]}") i
  local children
  for p in "${pids[@]}"; do
    read -ra children <<<"$(ps -o pid= --ppid "$p" 2>/dev/null | tr '\n' ' ')"
    all+=("${children[@]}")
  done
  ((${#all[@]})) || return 0
  kill -TERM "${all[@]}" 2>/dev/null
  for i in $(seq 1 250); do
    kill -0 "${all[@]}" 2>/dev/null || return 0
    ((i % 50)) || say "waiting for $(ps -o comm= -p "${all[*]}" 2>/dev/null | tr '\n' ' ')to stop"
    sleep 0.1
  done
  kill -KILL "${all[@]}" 2>/dev/null
  sleep 0.5
}
cleanup() {
  local rc=$? c
  set +e
  stop_all
  for c in "${containers[@]}"; do bh rm "$c" >/dev/null 2>&1; done
  ip netns del "$ns" 2>/dev/null
  rm -rf --one-file-system "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
ip netns add "$ns"
# Entered with nsenter, which switches the network namespace only: `ip netns exec` also remounts
# / as a slave, which fails where / is not a mount point (a chroot).
netns=(nsenter --net="/run/netns/$ns")
"${netns[@]}" ip link set lo up
in_ns() { "${netns[@]}" "$@"; }
port_open() { in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
wait_port() { # PORT WHAT PID
  for _ in $(seq 1 100); do
    port_open "$1" && return 0
    kill -0 "$3" 2>/dev/null || die "$2 exited before listening on $1"
    sleep 0.1
  done
  die "$2: nothing listens on port $1 after 10 s"
}

# --- 1. The image's filesystem ---
fs_ctr=$(bh from --pull=never --name "alliance-test-fs-$$" "$ref")
containers+=("$fs_ctr")
fs=$(bh mount "$fs_ctr")
for b in alliance-intake alliance-insights alliance-worker alliancectl; do
  if [[ ! -x $fs/usr/local/bin/$b ]]; then
    fail "no /usr/local/bin/$b"
  # Every shared library the shipped binary needs is in the runtime stage (the deploy_runtime_libs
  # tests check the apt list against the build tree's binaries; this, the image itself).
  elif missing=$(chroot "$fs" /usr/bin/ldd "/usr/local/bin/$b" 2>&1 | grep -F 'not found'); then
    fail "$b: libraries missing from the image: $(echo "$missing" | tr -s ' \t\n' ' ')"
  fi
done
web_root=$(manifest_flag insights web_root)
[[ -n $web_root ]] || fail "insights' manifest passes no --web_root"
[[ -f $fs$web_root/index.html && -f $fs$web_root/vendor/uPlot.iife.min.js ]] ||
  fail "the dashboard page is not at $web_root (index.html, vendor/uPlot.iife.min.js)"
for p in /usr/bin/c++ /usr/bin/g++ /usr/bin/gcc /usr/bin/cc /usr/bin/cmake /usr/bin/ld \
  /usr/bin/node /usr/bin/npm /usr/bin/protoc /src /build /out; do
  [[ -e $fs$p || -L $fs$p ]] && fail "the runtime image has $p"
done
[[ -z $(find "$fs/usr/include" -mindepth 1 -print -quit 2>/dev/null) ]] ||
  fail "the runtime image has headers in /usr/include"
# Keys and certificates: only those of Debian packages (public CA bundles, dpkg knows them) and
# the links update-ca-certificates makes in /etc/ssl/certs; anything else is ours or a leak.
found=$(find "$fs" -xdev \( -name '*.key' -o -name '*.pem' -o -name '*.crt' -o -name '*.p12' \) \
  -not -path "$fs/etc/ssl/certs/*" -print | sed "s|^$fs||" | sort |
  comm -23 - <(cat "$fs"/var/lib/dpkg/info/*.list | sort -u))
[[ -z $found ]] || fail "keys or certificates in the image: $(echo "$found" | head -n5 | tr '\n' ' ')"
found=$(find "$fs/usr/local" "$fs/usr/share/alliance" "$fs/etc" -xdev \( -name '*_test' \
  -o -name '*_test.*' -o -name 'tests' -o -name 'CMakeLists.txt' -o -name '*.cc' \
  -o -name '*.proto' -o -name 'libgtest*' \) -print 2>/dev/null | sed "s|^$fs||")
[[ -z $found ]] || fail "sources or test files in the image: $(echo "$found" | head -n5 | tr '\n' ' ')"
found=$(find "$fs/usr/lib" -xdev -name 'libgtest*' -print -quit 2>/dev/null)
[[ -z $found ]] || fail "test libraries in the image: ${found#"$fs"}"
size=$(du -sh "$fs" | cut -f1)
bh umount "$fs_ctr" >/dev/null
say "filesystem checked ($size unpacked)"

# --- 2. Redis, secrets and mounts, as the pods get them ---
secrets=$tmp/secrets
mkdir -p "$secrets/redis" "$secrets/api-keys" "$secrets/rules" "$secrets/instruments" "$tmp/client"
od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$secrets/redis/password"
cp "$base/config/rules.json" "$secrets/rules/rules.json"
od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$tmp/client/key"
chown -R "$uid:$gid" "$secrets" "$tmp/client"
chmod -R go-rwx "$secrets" "$tmp/client"
# Started directly, not through in_ns (a function, which `&` would run in a subshell), so that
# $! is the process itself.
"${netns[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --requirepass "$(cat "$secrets/redis/password")" \
  --save '' --appendonly no --dir "$tmp" --logfile "$tmp/redis.log" --daemonize no &
pids+=($!)
wait_port "$redis_port" redis-server "${pids[-1]}"

# The image's alliancectl in a container of its own (buildah run; the test's network namespace).
ctl_ctr=$(bh from --pull=never --name "alliance-test-ctl-$$" "$ref")
containers+=("$ctl_ctr")
ctl() {
  in_ns timeout 90 buildah --storage-driver vfs run --isolation chroot --network host \
    --user "$uid:$gid" -v "$tmp/client:/client:ro" "$ctl_ctr" -- /usr/local/bin/alliancectl \
    --intake="127.0.0.1:$(manifest_flag intake grpc_port)" \
    --insights="127.0.0.1:$(manifest_flag insights grpc_port)" --api_key_file=/client/key "$@"
}
tenant=image-test
entry=$(ctl hash-key --key_id=image-test --tenant="$tenant" --scopes=submit,read,watch \
  <"$tmp/client/key") || die "alliancectl hash-key failed"
echo "{\"keys\": [$entry]}" >"$secrets/api-keys/keys.json"
chown "$uid:$gid" "$secrets/api-keys/keys.json"

# Where a path of the image really is (/var/run is a symlink to /run): resolved inside the root,
# so that nothing is ever created or mounted through an absolute symlink on this machine.
in_root() { chroot "$1" /usr/bin/realpath -m "$2"; }

# NAME: runs /usr/local/bin/alliance-NAME of a new container of the image, with its manifest's
# args and mounts; appends its pid (unshare's, whose only child is the service) to pids.
start_service() {
  local name=$1 ctr mnt ro mounts=() m src dst args
  ctr=$(bh from --pull=never --name "alliance-test-$name-$$" "$ref")
  containers+=("$ctr")
  mnt=$(bh mount "$ctr")
  ro=$tmp/root-$name
  mkdir -p "$ro"
  for m in rules:/etc/alliance/rules instruments:/etc/alliance/instruments \
    redis:/var/run/secrets/alliance/redis api-keys:/var/run/secrets/alliance/api-keys; do
    src=$secrets/${m%%:*}
    dst=$(in_root "$mnt" "${m#*:}")
    # Mount points are made in the container's own layer, before its root is read-only.
    chroot "$mnt" /bin/mkdir -p "$dst"
    mounts+=("$src:$dst")
  done
  mapfile -t args < <(manifest_args "$name")
  # shellcheck disable=SC2016 # the inner script's variables are its own
  "${netns[@]}" unshare --mount --pid --fork --kill-child=TERM --propagation private \
    bash -c '
      set -e
      mnt=$1 ro=$2 uid=$3 gid=$4 mounts=$5 bin=$6
      shift 6
      mount --bind "$mnt" "$ro"
      mount -o remount,bind,ro "$ro"
      mount -t proc -o nosuid,nodev,noexec proc "$ro/proc"
      mount --bind /dev "$ro/dev"
      mount -t tmpfs -o size=64m,mode=1777,nosuid,nodev tmpfs "$ro/tmp"
      for m in $mounts; do
        mount --bind "${m%%:*}" "$ro${m#*:}"
        mount -o remount,bind,ro "$ro${m#*:}"
      done
      exec setpriv --no-new-privs chroot --userspec="$uid:$gid" --groups="$gid" "$ro" "$bin" "$@"
    ' service "$mnt" "$ro" "$uid" "$gid" "${mounts[*]}" \
    /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent "${env_vars[@]}" \
    "/usr/local/bin/alliance-$name" "${args[@]}" 2>"$tmp/$name.log" &
  pids+=($!)
  svc_pid[$name]=$!
}
start_service intake
start_service worker
start_service insights
t_up=$SECONDS

# --- 3. gRPC health on the probed ports ---
for name in intake worker insights; do
  port=$(manifest_flag "$name" health_port)
  wait_port "$port" "alliance-$name" "${svc_pid[$name]}"
  for service in "" liveness; do
    ok=0
    for _ in $(seq 1 50); do
      if in_ns node "$root/tests/deploy/grpc_health_check.cjs" "127.0.0.1:$port" "$service" \
        >"$tmp/health.out"; then
        ok=1
        break
      fi
      sleep 0.2
    done
    ((ok)) || fail "alliance-$name health ${service:-\"\"} on $port: $(cat "$tmp/health.out")"
  done
  say "alliance-$name: health SERVING on $port (readiness and liveness)"
done

# --- 4. Users, capabilities, read-only root of the running services ---
for name in intake worker insights; do
  spid=$(ps -o pid= --ppid "${svc_pid[$name]}" | tr -d ' ' | head -n1)
  [[ -n $spid ]] || {
    fail "alliance-$name: no process"
    continue
  }
  st=/proc/$spid/status
  [[ $(readlink "/proc/$spid/exe") == */usr/local/bin/alliance-$name ]] ||
    fail "alliance-$name: pid $spid runs $(readlink "/proc/$spid/exe")"
  read -r _ ruid euid _ _ < <(grep '^Uid:' "$st")
  read -r _ rgid egid _ _ < <(grep '^Gid:' "$st")
  [[ $ruid == "$uid" && $euid == "$uid" && $rgid == "$gid" && $egid == "$gid" ]] ||
    fail "alliance-$name runs as uid $ruid/$euid gid $rgid/$egid, not $uid:$gid"
  if grep -qE '^Cap(Eff|Prm):[[:space:]]*0*[1-9a-f]' "$st"; then
    fail "alliance-$name has capabilities"
  fi
  grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || fail "alliance-$name may gain privileges"
  # The mount at / as the process sees it: read-only.
  awk '$5 == "/" { print $6 }' "/proc/$spid/mountinfo" | grep -qE '(^|,)ro(,|$)' ||
    fail "alliance-$name: its root filesystem is not read-only"
  say "alliance-$name: pid $spid, uid/gid $uid:$gid, no capabilities, read-only root"
done

# --- 5. A rating, the dyad, the alert ---
# A cursor from before the rating: the alert it raises is then read whenever the stream opens.
cursor=$(ctl watch --for=1s | sed -n 's/^resume with: --cursor=//p')
[[ -n $cursor ]] || fail "watch gave no cursor"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$tmp/client/rating.csv" <<EOF
tenant_id,idempotency_id,therapist_id,client_id,session_id,session_number,session_time,rater,instrument_id,answers
,image-test-1,t-image,c-image,s-image-1,1,$now,client,srs,"5 5 5 5"
EOF
chmod 644 "$tmp/client/rating.csv"
ctl submit --file=/client/rating.csv --summary >"$tmp/submit.out" 2>&1 ||
  fail "submit: $(cat "$tmp/submit.out")"
grep -q '1 accepted' "$tmp/submit.out" || fail "submit: $(cat "$tmp/submit.out")"
dyad=""
for _ in $(seq 1 30); do
  dyad=$(ctl dyad --therapist=t-image --client=c-image --json 2>/dev/null) && [[ -n $dyad ]] && break
  sleep 0.5
done
grep -q 'c-image' <<<"$dyad" || fail "the dyad was not read back: $dyad"
alert=$(ctl watch --cursor="$cursor" --count=1 --for=60s --json 2>"$tmp/watch.log" | grep -F 'c-image' || true)
[[ -n $alert ]] || fail "no alert on the watch stream ($(tail -n3 "$tmp/watch.log"))"
say "rating submitted, dyad read back, alert watched: ${alert:0:160}"

if ((failures)); then
  for name in intake worker insights; do
    say "--- alliance-$name log (tail)"
    tail -n 15 "$tmp/$name.log" >&2
  done
  die "$failures check(s) failed ($ref, $((SECONDS - t_start)) s)"
fi
say "passed: $ref, services up in $((t_up - t_start)) s, all checks in $((SECONDS - t_start)) s"
