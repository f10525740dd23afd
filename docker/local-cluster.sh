#!/usr/bin/env bash
# A StreamDetect cluster on this machine's loopback, without Docker: the same wiring as
# docker/docker-compose.yml (hocon/cluster.conf + postgres.conf + kafka.conf on every node), with
# PostgreSQL (Debian's package, as .ci/run starts it), the librdkafka mock cluster (`streamdetect
# kafka-mock`) instead of a broker, and N engine processes. Generated traffic is fed through kcat.
#
#   docker/local-cluster.sh [options]            (README: "A local cluster without Docker")
#
# Options:
#   --nodes N           engine processes (default 3)
#   --users U --days D --seed S
#                       the generated traffic fed to the events topic (default 300 users, 1 day, seed 5)
#   --feed-seconds T    spread the feed over about T seconds (default 10), so the stream runs a while
#   --model FILE        the model every node scores with (default: a zscore model trained here on other
#                       generated traffic); --ingest-only: persist the users' state only, no model
#   --kill N@T          kill -9 node N T seconds after the feed started (repeatable)
#   --start N@T         start node N (not started at first, or killed before) T seconds after the feed
#                       started: a node added mid-stream, or a killed node rejoining (repeatable)
#   --idle S            each node drains, commits and exits once idle for S seconds (default 20);
#                       0: run until Ctrl-C, then stop every node cleanly (SIGTERM)
#   --partitions P      partitions of the events topic (default 8; with routing.colocate it must divide routing.partitions, 64)
#   --dir DIR           work directory: logs, data directories, alerts.jsonl, state.jsonl (default: a new
#                       directory under /tmp); kept at the end
#   --schema NAME       PostgreSQL schema of the run (default: a fresh sd_local_* one, dropped at the end
#                       unless --keep-schema)
#   --base-port P       Akka remoting ports P+1..P+N, metrics ports P+101..P+100+N (default 4050)
#   --engine DLL        streamdetect.dll to run (default: engine/bin/Release/net10.0, built when missing)
#   --config FILE       another HOCON overlay for every node and the state dump, after the others (repeatable)
#
# At the end (every node exited, or Ctrl-C) it reads the alert topic into DIR/alerts.jsonl, dumps every
# user's state (`streamdetect state dump`) into DIR/state.jsonl, prints one summary line and stops the
# mock cluster. Ctrl-C (or SIGTERM) at any time stops every process it started: engines with SIGTERM
# (they commit what is in flight and leave the cluster; 60 s each at most, then SIGKILL), the feeder and
# the mock cluster; nothing is left running.
#
# Scoring runs through membership changes too: a killed node's partitions recover on the survivors and
# its unscored events are issued again (README, "Scoring through node changes"; LocalClusterTests).
#
# PostgreSQL: STREAMDETECT_PG when set; otherwise the local server is started and given the role and
# database `streamdetect`, as .ci/run does (needs sudo unless run as root).
# Exit code: 0 when every node that was not killed exited 0, 1 otherwise, 2 on a usage error.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
nodes=3 users=300 days=1 seed=5 feed_seconds=10 model="" ingest_only=0 idle=20 partitions=8
dir="" schema="" keep_schema=0 base_port=4050 engine=""
kills=() starts=() extra_configs=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --users) users="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --feed-seconds) feed_seconds="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --ingest-only) ingest_only=1; shift ;;
    --kill) kills+=("$2"); shift 2 ;;
    --start) starts+=("$2"); shift 2 ;;
    --idle) idle="$2"; shift 2 ;;
    --partitions) partitions="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --schema) schema="$2"; shift 2 ;;
    --keep-schema) keep_schema=1; shift ;;
    --base-port) base_port="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    --config) extra_configs+=(--config "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"); shift 2 ;;
    -h|--help) usage ;;
    *) echo "local-cluster: unknown option '$1' (--help lists them)" >&2; exit 2 ;;
  esac
done
for spec in ${kills[@]+"${kills[@]}"} ${starts[@]+"${starts[@]}"}; do
  [[ "$spec" =~ ^[0-9]+@[0-9]+(\.[0-9]+)?$ ]] || { echo "local-cluster: '$spec': expected NODE@SECONDS" >&2; exit 2; }
done
command -v kcat >/dev/null || { echo "local-cluster: kcat is not installed (apt-get install kcat)" >&2; exit 2; }

log() { echo "local-cluster: $*" >&2; }
[ -n "$dir" ] || dir="$(mktemp -d /tmp/sd-local-cluster.XXXXXX)"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

if [ -z "$engine" ]; then
  engine="$root/engine/bin/Release/net10.0/streamdetect.dll"
  if [ ! -f "$engine" ]; then
    log "building the engine (Release)"
    dotnet build "$root/engine" -c Release -v q >/dev/null
  fi
fi
[ -f "$engine" ] || { echo "local-cluster: engine '$engine' not found" >&2; exit 2; }
sd() { dotnet "$engine" "$@"; }

# --- PostgreSQL -------------------------------------------------------------------------------------
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
pg_version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1 || true)
if [ -n "$pg_version" ] && ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
  log "starting PostgreSQL $pg_version"
  as_root pg_ctlcluster "$pg_version" main start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 2>/dev/null && break; sleep 1; done
fi
if [ -z "${STREAMDETECT_PG:-}" ]; then
  [ -n "$pg_version" ] || { echo "local-cluster: PostgreSQL is not installed (apt-get install postgresql) and STREAMDETECT_PG is not set" >&2; exit 2; }
  as_root su postgres -c "psql -qc \"do \\\$\\\$ begin if not exists (select from pg_roles where rolname = 'streamdetect') then create role streamdetect login password 'streamdetect'; end if; end \\\$\\\$;\"" >/dev/null
  as_root su postgres -c "psql -qAtc \"select 1 from pg_database where datname = 'streamdetect'\"" | grep -q 1 \
    || as_root su postgres -c "createdb -O streamdetect streamdetect"
  export STREAMDETECT_PG="Host=127.0.0.1;Port=5432;Database=streamdetect;Username=streamdetect;Password=streamdetect"
fi
drop_schema=0
if [ -z "$schema" ]; then
  schema="sd_local_$(date +%s)_$$"
  [ "$keep_schema" = 1 ] || drop_schema=1
fi

# --- cleanup: every process this script started, and nothing else -----------------------------------
declare -A engine_pid=()
mock_pid="" feeder_pid="" finished=0
stop_engine() { # SIGTERM, up to 60 s, then SIGKILL
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "pid $pid did not stop within 60 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -n "$feeder_pid" ] && kill "$feeder_pid" 2>/dev/null || true
  local stoppers=()
  for n in "${!engine_pid[@]}"; do stop_engine "${engine_pid[$n]}" & stoppers+=($!); done
  for pid in ${stoppers[@]+"${stoppers[@]}"}; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$mock_pid" ]; then kill -TERM "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
  if [ "$drop_schema" = 1 ]; then
    sd_pg_drop || log "could not drop schema $schema"
  fi
  [ "$finished" = 1 ] || log "stopped; logs in $dir"
  exit "$status"
}
sd_pg_drop() {
  local host user db pass
  host=$(sed -n 's/.*Host=\([^;]*\).*/\1/p' <<<"$STREAMDETECT_PG"); user=$(sed -n 's/.*Username=\([^;]*\).*/\1/p' <<<"$STREAMDETECT_PG")
  db=$(sed -n 's/.*Database=\([^;]*\).*/\1/p' <<<"$STREAMDETECT_PG"); pass=$(sed -n 's/.*Password=\([^;]*\).*/\1/p' <<<"$STREAMDETECT_PG")
  local port; port=$(sed -n 's/.*Port=\([^;]*\).*/\1/p' <<<"$STREAMDETECT_PG"); port=${port:-5432}
  PGPASSWORD="$pass" psql -qAt -h "$host" -p "$port" -U "$user" -d "$db" -c "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the mock Kafka cluster ---------------------------------------------------------------------------
setsid dotnet "$engine" kafka-mock --brokers 1 --topics "streamdetect-events:$partitions,streamdetect-alerts:3,streamdetect-dead-letters:1,streamdetect-feedback:1" \
  >"$dir/kafka-mock.out" 2>"$dir/kafka-mock.log" &
mock_pid=$!
for _ in $(seq 1 300); do [ -s "$dir/kafka-mock.out" ] && break; kill -0 "$mock_pid" 2>/dev/null || break; sleep 0.1; done
bootstrap="$(head -1 "$dir/kafka-mock.out" 2>/dev/null || true)"
[ -n "$bootstrap" ] || { echo "local-cluster: kafka-mock did not start (see $dir/kafka-mock.log)" >&2; exit 1; }
log "kafka-mock at $bootstrap; PostgreSQL schema $schema; work directory $dir"

# --- traffic and model --------------------------------------------------------------------------------
sd gen --users "$users" --days "$days" --seed "$seed" --out "$dir/events.jsonl" >/dev/null 2>"$dir/gen.log"
events=$(wc -l <"$dir/events.jsonl")
model_args=(--ingest-only)
if [ "$ingest_only" = 0 ]; then
  if [ -z "$model" ]; then
    model="$dir/model.sdm"
    sd gen --users 300 --days 2 --seed 11 --out "$dir/train.jsonl" >/dev/null 2>>"$dir/gen.log"
    sd train --data "$dir/train.jsonl" --model zscore --out "$model" >"$dir/train.log" 2>&1
  fi
  model_args=(--model "$model" --device cpu)
fi

# --- the engines ---------------------------------------------------------------------------------------
seeds=""
for n in $(seq 1 "$nodes"); do seeds+="${seeds:+, }\"akka.tcp://streamdetect@127.0.0.1:$((base_port + n))\""; done
# What differs from the compose file: loopback addresses, every node a seed node (a restarted first node
# joins the running cluster instead of forming a new one), a quicker split-brain decision and Kafka
# session timeout (a killed node's partitions move within seconds, not minutes) and a schema per run.
cat >"$dir/local.conf" <<EOF
akka.remote.dot-netty.tcp.bind-hostname = "127.0.0.1"
akka.cluster.seed-nodes = [$seeds]
akka.cluster.split-brain-resolver.stable-after = 5s
streamdetect.store.postgres.schema = "$schema"
streamdetect.kafka.consumer.properties { "session.timeout.ms" = "6000", "heartbeat.interval.ms" = "500" }
EOF

start_engine() {
  local n="$1"
  mkdir -p "$dir/node-$n"
  STREAMDETECT_HOCON="akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\", akka.remote.dot-netty.tcp.port = $((base_port + n))" \
    setsid dotnet "$engine" run --config "$root/hocon/cluster.conf" --config "$root/hocon/postgres.conf" --config "$root/hocon/kafka.conf" \
      --config "$dir/local.conf" ${extra_configs[@]+"${extra_configs[@]}"} "${model_args[@]}" --bootstrap "$bootstrap" --topic streamdetect-events --group streamdetect \
      --alerts-topic streamdetect-alerts --dead-letter-topic streamdetect-dead-letters --data-dir "$dir/node-$n" \
      --metrics-port "$((base_port + 100 + n))" --summary-json "$dir/node-$n.summary.json" --verbose \
      ${idle_args[@]+"${idle_args[@]}"} >>"$dir/node-$n.log" 2>&1 &
  engine_pid[$n]=$!
  log "node $n started (pid ${engine_pid[$n]}, log $dir/node-$n.log)"
}
ready() { # /health/ready answers 200
  timeout 2 bash -c 'exec 3<>"/dev/tcp/localhost/$1" && printf "GET /health/ready HTTP/1.0\r\nHost: localhost:%s\r\n\r\n" "$1" >&3 && head -1 <&3 | grep -q " 200 "' _ "$1" 2>/dev/null
}
idle_args=()
[ "$idle" = 0 ] || idle_args=(--stop-after-idle "$idle")
# A node with a --start and no earlier --kill is not started at first (a node added mid-stream).
declare -A later=() first_kill=()
for spec in ${kills[@]+"${kills[@]}"}; do
  n=${spec%@*}; t=${spec#*@}
  [ -n "${first_kill[$n]:-}" ] && awk -v a="${first_kill[$n]}" -v b="$t" 'BEGIN { exit !(a <= b) }' || first_kill[$n]=$t
done
for spec in ${starts[@]+"${starts[@]}"}; do
  n=${spec%@*}; t=${spec#*@}
  if [ -z "${first_kill[$n]:-}" ] || awk -v k="${first_kill[$n]}" -v s="$t" 'BEGIN { exit !(s < k) }'; then later[$n]=1; fi
done
# The nodes start at once on the new schema: the engine makes the journal tables under a PostgreSQL advisory
# lock (PostgresTableCreationLock), one node at a time.
for n in $(seq 1 "$nodes"); do [ -n "${later[$n]:-}" ] || start_engine "$n"; done
# Each node answers /health/ready once it joined the cluster and got Kafka partitions (a rebalance may take them
# away again for a moment, so each node needs to be seen ready once). The feed waits for every node.
declare -A seen_ready=()
for _ in $(seq 1 900); do
  for n in "${!engine_pid[@]}"; do
    [ -n "${seen_ready[$n]:-}" ] && continue
    kill -0 "${engine_pid[$n]}" 2>/dev/null || { echo "local-cluster: node $n exited before it was ready (see $dir/node-$n.log)" >&2; exit 1; }
    ready "$((base_port + 100 + n))" && seen_ready[$n]=1
  done
  [ "${#seen_ready[@]}" -lt "${#engine_pid[@]}" ] || break
  sleep 0.2
done
[ "${#seen_ready[@]}" -eq "${#engine_pid[@]}" ] || { echo "local-cluster: not every node was ready within 180 s (see $dir/node-*.log)" >&2; exit 1; }
log "${#engine_pid[@]} node(s) ready; feeding $events events over ~${feed_seconds} s"

# --- the feed (kcat, key = userId, header sd-schema=1), in slices so the stream runs a while -----------
feed() {
  local slices=$(( feed_seconds * 4 > 0 ? feed_seconds * 4 : 1 ))
  local per=$(( (events + slices - 1) / slices ))
  split -l "$per" -d -a 4 "$dir/events.jsonl" "$dir/slice."
  for slice in "$dir"/slice.*; do
    sed -n 's/^{"userId":"\([^"]*\)".*/\1\t&/p' "$slice" | kcat -b "$bootstrap" -t streamdetect-events -P -X partitioner=murmur2_random -K "$(printf '\t')" -H sd-schema=1
    rm -f "$slice"
    sleep 0.25
  done
  log "fed $events events"
}
feed &
feeder_pid=$!
fed_at=$SECONDS

# --- kills and (re)starts, in time order ----------------------------------------------------------------
actions=()
for spec in ${kills[@]+"${kills[@]}"}; do actions+=("${spec#*@} kill ${spec%@*}"); done
for spec in ${starts[@]+"${starts[@]}"}; do actions+=("${spec#*@} start ${spec%@*}"); done
declare -A killed=()
while read -r at what n; do
  [ -n "${at:-}" ] || continue
  while (( $(awk -v a="$at" -v e="$((SECONDS - fed_at))" 'BEGIN { print (e < a) }') )); do sleep 0.1; done
  if [ "$what" = kill ]; then
    log "kill -9 node $n (pid ${engine_pid[$n]:-none}) at ${at} s"
    [ -n "${engine_pid[$n]:-}" ] && kill -KILL "${engine_pid[$n]}" 2>/dev/null || true
    [ -n "${engine_pid[$n]:-}" ] && wait "${engine_pid[$n]}" 2>/dev/null || true
    unset "engine_pid[$n]"; killed[$n]=1
  else
    unset "killed[$n]"
    start_engine "$n"
  fi
done < <(printf '%s\n' ${actions[@]+"${actions[@]}"} | sort -n)
wait "$feeder_pid" || true
feeder_pid=""

# --- wait for the nodes to finish (or Ctrl-C) ---------------------------------------------------------
failed=0
for n in "${!engine_pid[@]}"; do
  code=0
  wait "${engine_pid[$n]}" || code=$?
  unset "engine_pid[$n]"
  [ "$code" = 0 ] || { log "node $n exited $code (see $dir/node-$n.log)"; failed=1; }
done

# --- what came out ---------------------------------------------------------------------------------------
kcat -b "$bootstrap" -t streamdetect-alerts -C -e -q -o beginning >"$dir/alerts.jsonl" 2>/dev/null || true
alerts=$(wc -l <"$dir/alerts.jsonl")
unique=$( (grep -o '"alertId":"[^"]*"' "$dir/alerts.jsonl" || true) | sort -u | wc -l)
sd state dump --config "$root/hocon/postgres.conf" --config "$dir/local.conf" ${extra_configs[@]+"${extra_configs[@]}"} --data-dir "$dir/node-1" --out "$dir/state.jsonl" 2>>"$dir/state.log"
state_users=$(wc -l <"$dir/state.jsonl")
state_events=$( (grep -o '"eventCount":[0-9]*' "$dir/state.jsonl" || true) | awk -F: '{ s += $2 } END { print s + 0 }')
# Batches the nodes' streams sent to partitions on their own node and on others (streamdetect.routing.colocate).
asks=$(cat "$dir"/node-*.summary.json 2>/dev/null | grep -o '"\(local\|remote\)_asks": *[0-9]*' | awk -F'[": ]+' '{ s[$2] += $3 } END { printf "%d %d", s["local_asks"], s["remote_asks"] }')
local_asks=${asks% *}; remote_asks=${asks#* }
remote_share=$(awk -v l="$local_asks" -v r="$remote_asks" 'BEGIN { printf "%.3f", (l + r > 0 ? r / (l + r) : 0) }')
finished=1
echo "local-cluster: events=$events persisted=$state_events users=$state_users alerts=$alerts unique_alert_ids=$unique nodes_failed=$failed local_asks=$local_asks remote_asks=$remote_asks remote_ask_share=$remote_share dir=$dir"
[ "$failed" = 0 ]
