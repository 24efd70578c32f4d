#!/usr/bin/env bash
# The main job, end to end on one machine: installs what is missing, builds the five programs
# it runs, starts its own redis-server (temporary folder, free loopback port) and the three
# services, feeds the sample cohort through the intake over gRPC, then prints a summary of each
# phase (submissions by result, alerts by kind and severity, dyads at risk, the newer patterns:
# slow declines, disengagement, item flags) and one dyad in detail, then the dyads that show
# the newer patterns, and stops everything it started (with --serve, once you press Ctrl-C).
# Usage: scripts/demo.sh [--cluster] [--verbose] [--serve]   (BUILD_DIR defaults to ./build)
#        --cluster  the same on a local Redis Cluster of three primaries and three replicas
#                   (scripts/lib/redis-cluster.sh)
#        --verbose  also one line per submission, every alert as it arrived, every dyad
#        --serve    then keeps everything running and serves the dashboard (docs/dashboard.md)
#                   until Ctrl-C, printing its URL and a key to sign in with
set -euo pipefail
cd "$(dirname "$0")/.."
mode=single
verbose=0
serve=0
for arg in "$@"; do
  case $arg in
    --cluster) mode=cluster ;;
    --verbose) verbose=1 ;;
    --serve) serve=1 ;;
    *) echo "usage: scripts/demo.sh [--cluster] [--verbose] [--serve]" >&2; exit 2 ;;
  esac
done
root=$(pwd)
build_dir=${BUILD_DIR:-$root/build}
partitions=4
tenant=demo-clinic

scripts/install-deps.sh
# Only what the demo runs (not the tests and benchmarks): names as in the CMakeLists.txt files;
# with --serve also the dashboard page's folder.
targets="alliance-intake alliance-worker alliance-insights alliancectl alliance-sample-cohort"
((serve)) && targets+=" alliance_web"
ALLIANCE_BUILD_TARGETS=$targets scripts/build.sh "$build_dir"
bin=$build_dir/bin

thousands() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta' <<<"$1"; }

work=$(mktemp -d /tmp/alliance-demo-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {  # a loopback port nothing listens on
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port found" >&2; exit 1
}
wait_port() {  # port, name: wait up to 20 s for something to listen
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not start; its log:" >&2; cat "$work/$2.log" >&2 || true; exit 1
}

if [[ $mode == cluster ]]; then
  tmp=$work
  # shellcheck source=scripts/lib/redis-cluster.sh
  source scripts/lib/redis-cluster.sh
  start_redis_cluster everysec
  echo "== Redis Cluster: primaries $(cluster_primaries | tr '\n' ' ')(and three replicas)"
  redis=(--redis_cluster_nodes="$cluster_seeds")
  cli=(redis-cli -c -p "${cluster_ports[0]}")  # -c follows the cluster's redirections
else
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --appendonly yes \
    --save '' --daemonize no --logfile "$work/redis.log" &
  pids+=($!)
  wait_port "$redis_port" redis
  redis=(--redis_port="$redis_port")
  cli=(redis-cli -p "$redis_port")
fi

# An API key for the demo tenant: the services keep only its SHA-256 (hash-key prints the
# key file entry); alliancectl reads the key itself from a file.
od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$work/demo.key"
chmod 600 "$work/demo.key"
entry=$("$bin/alliancectl" hash-key --key_id=demo --tenant="$tenant" --scopes=submit,read,watch \
  <"$work/demo.key")
echo "{\"keys\": [$entry]}" >"$work/api-keys.json"

intake_port=$(free_port) insights_port=$(free_port)
intake_http=$(free_port) insights_http=$(free_port)
# Every listener (gRPC, health, metrics) on loopback only: the demo serves nobody else.
common=("${redis[@]}" --partitions="$partitions" --listen_host=127.0.0.1)
auth=(--api_keys_file="$work/api-keys.json")
"$bin/alliance-intake" "${common[@]}" "${auth[@]}" --grpc_port="$intake_port" \
  --http_port="$intake_http" 2>"$work/intake.log" &
pids+=($!)
"$bin/alliance-worker" "${common[@]}" --worker_id=demo-worker 2>"$work/worker.log" &
pids+=($!)
web=()
((serve)) && web=(--web_root="$build_dir/web")
"$bin/alliance-insights" "${common[@]}" "${auth[@]}" --grpc_port="$insights_port" \
  --http_port="$insights_http" "${web[@]}" 2>"$work/insights.log" &
insights_pid=$!
pids+=("$insights_pid")
wait_port "$intake_port" intake
wait_port "$insights_port" insights

ctl=("$bin/alliancectl" --intake="127.0.0.1:$intake_port" --insights="127.0.0.1:$insights_port"
     --tenant="$tenant" --api_key_file="$work/demo.key")

echo "== Watching alerts live (WatchAlerts) while the sample cohort is submitted"
"${ctl[@]}" watch --for=120s >"$work/alerts.txt" 2>"$work/watch.log" &
watch_pid=$!
pids+=("$watch_pid")
sleep 0.5

# The cohort's sessions end yesterday, so the silences it plans (a dyad nobody has rated for
# five weeks since a rupture) are as long on the worker's clock.
"$bin/alliance-sample-cohort" --tenant="$tenant" --last_session="$(date -u +%F)" \
  >"$work/cohort.csv"
ratings=$(($(wc -l <"$work/cohort.csv") - 1))
dyads=$(cut -d, -f3,4 "$work/cohort.csv" | tail -n +2 | sort -u | wc -l)
echo "== Submitting $(thousands "$ratings") ratings of $dyads dyads through the intake"
# alliancectl exits 1 when a submission is refused; the demo goes on and says so at the end.
submit_rc=0
if ((verbose)); then
  "${ctl[@]}" submit --file="$work/cohort.csv" || submit_rc=$?
else
  "${ctl[@]}" submit --file="$work/cohort.csv" --summary || submit_rc=$?
fi

# The worker is done when every partition's consumer group has no lag and nothing pending.
started=$SECONDS
outstanding=1
for _ in $(seq 1 300); do
  outstanding=0
  for p in $(seq 0 $((partitions - 1))); do
    info=$("${cli[@]}" XINFO GROUPS "alliance:{p$p}:feedback" 2>/dev/null | tr '\n' ' ')
    lag=$(sed -n 's/.*lag \([0-9]*\).*/\1/p' <<<"$info"); pending=$(sed -n 's/.*pending \([0-9]*\).*/\1/p' <<<"$info")
    outstanding=$((outstanding + ${lag:-1} + ${pending:-1}))
  done
  ((outstanding == 0)) && break
  sleep 0.2
done
if ((outstanding == 0)); then
  echo "== Worker: every rating applied ($((SECONDS - started)) s after the last submission)"
else
  echo "== Worker: $outstanding ratings still unapplied after 60 s (see its log)"
fi
sleep 1  # let the last alerts reach the watcher

echo
kill -TERM "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
# The watch table: a header, one row per alert (cells two spaces apart), the resume cursor.
alert_rows=$(grep -v -e '^ALERT ' -e '^resume with:' "$work/alerts.txt" || true)
alerts=$(grep -c . <<<"$alert_rows" || true)
count_by() {  # column number -> "3 rupture, 2 repaired" (most frequent first)
  [[ -n $alert_rows ]] || return 0
  awk -F '  +' -v c="$1" '{print $c}' <<<"$alert_rows" | sort | uniq -c | sort -rn |
    awk '{printf "%s%d %s", (NR > 1 ? ", " : ""), $1, $2}'
}
if ((alerts == 0)); then
  echo "== Alerts on WatchAlerts: none"
  cat "$work/watch.log"
else
  echo "== Alerts on WatchAlerts: $alerts ($(count_by 7); severity: $(count_by 8))"
fi
if ((verbose)); then cat "$work/alerts.txt"; fi
echo
"${ctl[@]}" dyads --all_pages --json >"$work/dyads.json"
total=$(grep -c . "$work/dyads.json" || true)
at_risk=$(grep -c '"at_risk":true' "$work/dyads.json" || true)
unrepaired=$(grep -c '"unrepaired":true' "$work/dyads.json" || true)
echo "== Dyads: $total, $at_risk at risk, $unrepaired with an unrepaired rupture"
# The newer patterns: slow declines (opened by the fall from the baseline), disengagement and
# its end, and item flags, which are information on the rating and never an alert.
"${ctl[@]}" alerts --all_pages --json >"$work/alerts.json"
count_alerts() {  # patterns that must all be on one alert's JSON line -> count
  local lines
  lines=$(cat "$work/alerts.json")
  for pattern in "$@"; do lines=$(grep -F -- "$pattern" <<<"$lines" || true); done
  grep -c . <<<"$lines" || true
}
slow=$(count_alerts '"kind":"ALERT_KIND_RUPTURE"' '"rule":"decline_from_baseline"')
disengaged=$(count_alerts '"kind":"ALERT_KIND_DISENGAGEMENT"')
not_rating=$(count_alerts '"kind":"ALERT_KIND_DISENGAGEMENT"' '"reason":"REASON_CLIENT_NOT_RATING"')
silent=$(count_alerts '"kind":"ALERT_KIND_DISENGAGEMENT"' '"reason":"REASON_NO_RATING_DURING_RUPTURE"')
reengaged=$(count_alerts '"kind":"ALERT_KIND_REENGAGED"')
echo "== Newer patterns: $slow declines caught by the fall from the baseline;" \
  "$disengaged disengagement ($not_rating client not rating, $silent no rating during a" \
  "rupture), $reengaged reengaged"
flag_items=0 flag_ratings=0 flag_dyads=0
while IFS=, read -r therapist client; do
  "${ctl[@]}" timeline --therapist="$therapist" --client="$client" --json >"$work/timeline.json"
  items=$(grep -o '"check_value"' "$work/timeline.json" | grep -c . || true)
  flagged=$(grep -o '"flagged_items"' "$work/timeline.json" | grep -c . || true)
  flag_items=$((flag_items + items)) flag_ratings=$((flag_ratings + flagged))
  ((items == 0)) || flag_dyads=$((flag_dyads + 1))
done < <(cut -d, -f3,4 "$work/cohort.csv" | tail -n +2 | sort -u)
echo "== Item flags (information, never an alert): $flag_items items at or below their" \
  "instrument's check value on $flag_ratings ratings of $flag_dyads dyads"
if ((verbose)); then
  echo "-- every dyad (rolling picture per rater)"
  "${ctl[@]}" dyads --all_pages
fi
echo
echo "== Dyads at risk (AT_RISK names the rater series: below cutoff or an open rupture)"
"${ctl[@]}" dyads --at_risk --all_pages
echo
echo "== One dyad in detail: th-01 / cl-004, a V-shaped rupture that was repaired"
"${ctl[@]}" dyad --therapist=th-01 --client=cl-004
echo
"${ctl[@]}" timeline --therapist=th-01 --client=cl-004
echo
"${ctl[@]}" alerts --therapist=th-01 --client=cl-004
echo
echo "== Newer patterns, therapist th-05: a slow decline (cl-021), a client who stops rating"
echo "   (cl-022), item flags without a rupture (cl-023), a rupture then silence (cl-024), a"
echo "   client who pauses rating and comes back (cl-025)"
"${ctl[@]}" dyads --therapist=th-05
echo
"${ctl[@]}" alerts --therapist=th-05 --kinds=rupture,disengagement,reengaged
echo
echo "-- th-05 / cl-023: the goals line at or below 9 at some sessions, steady total, no alert"
"${ctl[@]}" timeline --therapist=th-05 --client=cl-023
echo
echo "== FHIR R4 (docs/fhir.md): a QuestionnaireResponse in, Observations and Flags out"
# The client's SRS of session 1 of a new dyad, as a platform holding FHIR resources sends it.
fhir_base=https://alliance.health/fhir
cat >"$work/qr.json" <<EOF_QR
{"resourceType": "QuestionnaireResponse",
 "identifier": {"system": "$fhir_base/sid/submission", "value": "qr-demo-1"},
 "questionnaire": "$fhir_base/Questionnaire/srs", "status": "completed",
 "subject": {"identifier": {"system": "$fhir_base/sid/client", "value": "cl-fhir"}},
 "author": {"identifier": {"system": "$fhir_base/sid/client", "value": "cl-fhir"}},
 "encounter": {"identifier": {"system": "$fhir_base/sid/session", "value": "visit-1"}},
 "authored": "$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)",
 "extension": [
   {"url": "$fhir_base/StructureDefinition/session-number", "valuePositiveInt": 1},
   {"url": "$fhir_base/StructureDefinition/therapist",
    "valueReference": {"identifier": {"system": "$fhir_base/sid/therapist", "value": "th-01"}}}],
 "item": [{"linkId": "1", "answer": [{"valueDecimal": 9.1}]},
          {"linkId": "2", "answer": [{"valueDecimal": 8.7}]},
          {"linkId": "3", "answer": [{"valueDecimal": 9.4}]},
          {"linkId": "4", "answer": [{"valueDecimal": 9.0}]}]}
EOF_QR
"${ctl[@]}" fhir-submit "$work/qr.json" || true
for _ in $(seq 50); do  # the worker applies it within moments; bounded wait
  "${ctl[@]}" dyad --therapist=th-01 --client=cl-fhir >/dev/null 2>&1 && break
  sleep 0.2
done
count_resources() { grep -o "\"resourceType\":\"$1\"" | wc -l; }
for dyad in th-01/cl-fhir th-01/cl-004 th-05/cl-024; do
  bundle=$("${ctl[@]}" fhir-bundle --therapist="${dyad%/*}" --client="${dyad#*/}" 2>/dev/null || true)
  echo "   $dyad: $(count_resources Observation <<<"$bundle") Observations," \
    "$(count_resources Flag <<<"$bundle") Flags (open ruptures, unrepaired)"
done
echo "   The same over HTTP while the services run: GET /fhir/dyads/th-01/cl-004 on insights'" \
  "--http_port, POST /fhir/QuestionnaireResponse on intake's (docs/fhir.md)"
echo
echo "== Therapist summaries, for supervision (not ranking): each figure shrunk toward the clinic's,"
echo "   with its 95% interval and n"
"${ctl[@]}" therapists
echo
if ((submit_rc != 0)); then
  echo "Some submissions were refused (see the summary above; --verbose shows each line)."
fi
((verbose)) || echo "scripts/demo.sh --verbose also prints every submission, alert and dyad."
if ((serve)); then
  echo
  echo "== Dashboard (docs/dashboard.md): http://127.0.0.1:$insights_http/"
  echo "   Sign in with the API key $(cat "$work/demo.key") (tenant $tenant)."
  echo "   Ratings submitted meanwhile show up live, e.g. with: ${ctl[*]} submit --file=FILE.csv"
  echo "   Press Ctrl-C to stop the services and Redis and remove $work."
  trap 'echo; exit "$submit_rc"' INT TERM
  # Runs until Ctrl-C, by design; it ends by itself only if insights stops.
  while kill -0 "$insights_pid" 2>/dev/null; do sleep 1; done
  echo "alliance-insights stopped; its log:" >&2
  tail -n 20 "$work/insights.log" >&2
  exit 1
fi
echo "Done. Services, Redis and the temporary folder are stopped and removed on exit."
exit "$submit_rc"
