#!/usr/bin/env bash
# One command for every figure in docs/benchmarks.md that needs running
# replicas: it starts a throwaway Postgres, builds gatehouse and the load
# driver, times start to ready, seeds a SPA client and USERS users with phones,
# sets the MFA policy to always, starts REPLICAS `gatehouse serve` on free
# loopback ports with Plivo pointed at the driver's fake Plivo, and runs the
# driver's modes (login, refresh, discovery, jwks, flood by default). Arguments go to `loadgen run`, e.g.
#
#   bench/run.sh                                  # all modes, 3 runs of 20 s each
#   bench/run.sh -duration 10s -runs 1 -markdown  # a quick look, as Markdown
#   REPLICAS=3 bench/run.sh -modes login
#   PROFILE=/tmp/prof bench/run.sh -modes login   # CPU profile of replica 1 per mode
#   LOGS=/tmp/logs bench/run.sh                   # keep the replicas' logs
#   REPLICAS=2 REPLICA1_ENV="GOMEMLIMIT=70MiB" bench/run.sh  # A/B: replica 1 differs,
#   REPLICAS=2 REPLICA1_BIN=/tmp/old/gatehouse bench/run.sh  # in its environment or binary
#   bench/run.sh oidc -runs 3 -duration 20s      # password-only logins, policy never,
#                                                # through the provider-neutral `loadgen oidc`
#
# The driver exits non-zero, and so does this script, if any journey or
# request failed. Figures are only meaningful on an otherwise idle machine:
# the report prints the load average next to every run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null 2>&1; then
  export PATH="$PATH:/usr/local/go/bin"
fi

if [ "${BENCH_INNER:-}" != 1 ]; then
  bash scripts/ensure-postgres.sh
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  go build -trimpath -o "$work/gatehouse" ./cmd/gatehouse
  go build -trimpath -o "$work/loadgen" ./bench/cmd/loadgen
  status=0
  BENCH_INNER=1 BENCH_WORK="$work" go run ./cmd/withpostgres -- bash bench/run.sh "$@" || status=$?
  exit "$status"
fi

# From here on, under withpostgres: DATABASE_URL names an empty database.
work=$BENCH_WORK
gatehouse=$work/gatehouse
loadgen=$work/loadgen
replicas=${REPLICAS:-1}
users=${USERS:-64}
password=bench-password-2026
phone_base=7911100000 # user i gets +44 (phone_base + i): UK mobiles

mapfile -t ports < <("$loadgen" freeports -n $((replicas + 1)))
plivo_port=${ports[$replicas]}

export GATEHOUSE_SECRET_KEY
GATEHOUSE_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
# One issuer for every replica, as behind a load balancer; the driver sends
# each request to the next replica itself.
export GATEHOUSE_ISSUER="http://127.0.0.1:${ports[0]}/"
export GATEHOUSE_SMS_PROVIDER=plivo PLIVO_AUTH_ID=MABENCH0000000000000 PLIVO_AUTH_TOKEN=bench-token
export PLIVO_SRC=+14155550100 PLIVO_API_URL="http://127.0.0.1:$plivo_port/"
export GATEHOUSE_MAIL=console # serve needs a choice; no mode sends mail

echo "== start to ready (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
"$loadgen" startup -n 1 -label "empty database: every migration, two new RSA keys" -- "$gatehouse" serve
"$loadgen" startup -n 5 -label "migrated database, keys stored" -- "$gatehouse" serve

echo "== seeding a SPA client and $users users"
"$gatehouse" clients create --name "Bench SPA" --type spa --client-id bench-spa \
  --callback http://localhost/bench/callback --web-origin http://localhost >/dev/null
for i in $(seq 1 "$users"); do
  echo "$password" | "$gatehouse" users create --email "bench$i@example.com" --password-stdin \
    --phone "+44$((phone_base + i))" >/dev/null
done
oidc=false
if [ "${1:-}" = oidc ]; then
  oidc=true
  shift
  "$gatehouse" policy set never
  for i in $(seq 1 "$users"); do echo "bench$i@example.com,$password"; done >"$work/users.csv"
else
  "$gatehouse" policy set always
  "$loadgen" setup
fi

pids=()
targets=()
stop_replicas() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  if [ -n "${LOGS:-}" ]; then
    mkdir -p "$LOGS" && cp "$work"/replica*.log "$LOGS"/
  fi
}
trap stop_replicas EXIT
profile_flags=()
for i in $(seq 0 $((replicas - 1))); do
  pprof=""
  if [ -n "${PROFILE:-}" ] && [ "$i" = 0 ]; then
    pprof_port=$("$loadgen" freeports -n 1)
    pprof=127.0.0.1:$pprof_port
    mkdir -p "$PROFILE"
    profile_flags=(-cpuprofile-url "http://$pprof/debug/pprof/profile" -cpuprofile-dir "$PROFILE")
  fi
  extra_env="REPLICA${i}_ENV"
  bin="REPLICA${i}_BIN"
  # shellcheck disable=SC2086 # the variable holds NAME=VALUE words
  env ${!extra_env:-} GATEHOUSE_PPROF_ADDR=$pprof GATEHOUSE_ADDR="127.0.0.1:${ports[$i]}" \
    "${!bin:-$gatehouse}" serve --no-migrate 2>"$work/replica$i.log" &
  pids+=($!)
  targets+=("http://127.0.0.1:${ports[$i]}/")
done

# The postmaster of withpostgres's server, so that the driver can count the
# CPU time Postgres spends (its backends are the postmaster's children).
db_port=$(echo "$DATABASE_URL" | sed -E 's|.*@[^:/]+:([0-9]+)/.*|\1|')
db_pid=$(ps -eo pid=,args= | awk -v want="port=$db_port" '$2 ~ /\/postgres$/ && index($0, want) { print $1; exit }')

echo "== load ($replicas replica(s), pids ${pids[*]}, postgres ${db_pid:-unknown})"
status=0
if $oidc; then
  "$loadgen" oidc -issuer "$GATEHOUSE_ISSUER" -client-id bench-spa -redirect-uri http://localhost/bench/callback \
    -users "$work/users.csv" -pids "$(IFS=,; echo "${pids[*]}")" -db-pids "${db_pid:-}" "$@" || status=$?
  exit "$status"
fi
"$loadgen" run -targets "$(IFS=,; echo "${targets[*]}")" -plivo-addr "127.0.0.1:$plivo_port" \
  -plivo-auth-id "$PLIVO_AUTH_ID" -plivo-auth-token "$PLIVO_AUTH_TOKEN" -users "$users" \
  -password "$password" -phone-base "$phone_base" -pids "$(IFS=,; echo "${pids[*]}")" -db-pid "${db_pid:-0}" \
  "${profile_flags[@]}" "$@" || status=$?
if [ "$status" != 0 ]; then
  for i in $(seq 0 $((replicas - 1))); do
    echo "== last lines of replica $i's log" >&2
    tail -n 20 "$work/replica$i.log" >&2
  done
fi
exit "$status"
