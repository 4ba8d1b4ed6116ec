#!/usr/bin/env bash
# Fault test: PostgreSQL stopped and started again under load.
#
# Starts a PostgreSQL of its own (initdb in a temp dir, port 55432, never the
# shared one), petstore-auth on loopback against it, and three closed loops
# of requests (two issuing tokens, one introspecting). After a few seconds it
# stops PostgreSQL for OUTAGE seconds and starts it again, then checks:
#   - during the outage requests fail fast (no request over 3 s) with 503;
#   - liveness (/healthz) answers 200 throughout and the server never exits;
#   - requests succeed again within 15 s of PostgreSQL being back, without
#     restarting the server;
#   - every token that was answered with 200 is still active.
# Root only (runs PostgreSQL as the postgres user). Bounded: about a minute.
#
#   scripts/fault-postgres-restart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT=${FAULT_PG_PORT:-55432}
PORT=${FAULT_PORT:-18190}
OUTAGE=${OUTAGE:-6}
FAST=${FAST_SECONDS:-3} # "fail fast": the slowest request allowed during the outage
base=http://127.0.0.1:$PORT
for p in "$PORT" "$PGPORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is in use; set FAULT_PORT / FAULT_PG_PORT" >&2; exit 2; fi
done
work=$(mktemp -d)
chmod 755 "$work"
pgdata=$work/pg
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -d "$pgdata" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$pgdata" "$work/pglog" && chown postgres "$pgdata" "$work/pglog"
runuser -u postgres -- "$PGBIN/initdb" -D "$pgdata" -A trust -U postgres >/dev/null
pgctl() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdata" -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1" -l "$work/pglog/pg.log" -w "$@" >/dev/null; }
pgctl start

CGO_ENABLED=0 go build -o "$work/" ./cmd/petstore-auth
export PETSTORE_DEV=true PETSTORE_DATA_DIR=$work PETSTORE_LISTEN=127.0.0.1:$PORT PETSTORE_ISSUER=$base \
  PETSTORE_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable" \
  PETSTORE_RATE_LIMIT_PER_IP=0 PETSTORE_RATE_LIMIT_PER_CLIENT=0 PETSTORE_LOG_LEVEL=warn \
  PETSTORE_SECRET=fault-secret-fault-secret-fault-secret
"$work/petstore-auth" migrate up >/dev/null
svc=$("$work/petstore-auth" client create -o json --name svc --grant-type client_credentials --scope read:pets)
rs=$("$work/petstore-auth" client create -o json --name rs --introspect --grant-type client_credentials)
sid=$(jq -r .client_id <<<"$svc"); ssec=$(jq -r .client_secret <<<"$svc")
rid=$(jq -r .client_id <<<"$rs"); rsec=$(jq -r .client_secret <<<"$rs")
"$work/petstore-auth" serve 2>"$work/server.log" & server=$!; pids+=("$server")
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
probe=$(curl -s -u "$sid:$ssec" -d grant_type=client_credentials "$base/oauth2/token" | jq -r .access_token)

stop=$work/stop
# Each loop line: start-epoch status seconds [token]
issue() {
  while [ ! -e "$stop" ]; do
    local t0 out
    t0=$(date +%s.%N)
    out=$(curl -s --max-time 20 -o "$work/body.$1" -w '%{http_code} %{time_total}' -u "$sid:$ssec" -d grant_type=client_credentials "$base/oauth2/token" || echo "000 20")
    echo "$t0 $out $(jq -r '.access_token // empty' "$work/body.$1" 2>/dev/null)" >>"$work/issue.$1"
  done
}
introspect() {
  while [ ! -e "$stop" ]; do
    local t0 out
    t0=$(date +%s.%N)
    out=$(curl -s --max-time 20 -o /dev/null -w '%{http_code} %{time_total}' -u "$rid:$rsec" -d token="$probe" "$base/oauth2/introspect" || echo "000 20")
    echo "$t0 $out" >>"$work/introspect"
  done
}
live() {
  while [ ! -e "$stop" ]; do
    echo "$(date +%s.%N) $(curl -s --max-time 5 -o /dev/null -w '%{http_code} %{time_total}' "$base/healthz" || echo "000 5")" >>"$work/live"
    sleep 0.2
  done
}
issue 1 & pids+=($!); issue 2 & pids+=($!); introspect & pids+=($!); live & pids+=($!)

sleep 3
down_at=$(date +%s.%N)
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
stopped_at=$(date +%s.%N)
echo "PostgreSQL stopped; outage of ${OUTAGE}s under load"
sleep "$OUTAGE"
pgctl start
up_at=$(date +%s.%N)
echo "PostgreSQL started again"
sleep 16
touch "$stop"
sleep 1
wait "${pids[@]:1}" 2>/dev/null || true

fail=0
check() { if [ "$1" = ok ]; then echo "PASS $2"; else echo "FAIL $2"; fail=1; fi; }
cat "$work"/issue.* >"$work/issue"
total=$(wc -l <"$work/issue")
# Requests sent while PostgreSQL was shutting down may still have committed;
# from the moment it was down until it was back, every one must be a 503.
awk -v d="$down_at" -v s="$stopped_at" '$1 >= d && $1 < s' "$work/issue" "$work/introspect" >"$work/stopping"
awk -v s="$stopped_at" -v u="$up_at" '$1 >= s && $1 < u' "$work/issue" "$work/introspect" >"$work/during"
during=$(wc -l <"$work/during")
echo "requests: $total token, $(wc -l <"$work/introspect") introspection; $during sent during the outage"
echo "statuses while PostgreSQL was shutting down ($(awk -v d="$down_at" -v s="$stopped_at" 'BEGIN{printf "%.1f", s - d}') s): $(awk '{print $2}' "$work/stopping" | sort | uniq -c | tr '\n' ' ')"
echo "statuses during the outage: $(awk '{print $2}' "$work/during" | sort | uniq -c | tr '\n' ' ')"
echo "slowest request during the outage: $(awk 'BEGIN{m=0} $3>m{m=$3} END{print m}' "$work/during") s"
check "$(awk -v f="$FAST" '$3 > f {bad=1} END{print bad ? "no" : "ok"}' "$work/during")" "no request took over $FAST s during the outage"
check "$(awk '$2 != 503 {bad=1} END{print bad ? "no" : "ok"}' "$work/during")" "every request sent during the outage got 503 (others: $(awk '$2 != 503' "$work/during" | wc -l))"
check "$(awk '$2 != 200 {bad=1} END{print bad ? "no" : "ok"}' "$work/live")" "liveness 200 throughout ($(wc -l <"$work/live") probes)"
check "$(kill -0 "$server" 2>/dev/null && echo ok)" "the server process is still running"
first_ok=$(awk -v u="$up_at" '$1 >= u && $2 == 200 {print $1; exit}' <(sort -n "$work/issue"))
recovery=$(awk -v a="$first_ok" -v u="$up_at" 'BEGIN{ if (a == "") print "never"; else printf "%.1f", a - u }')
echo "first success $recovery s after PostgreSQL was back; statuses in between: $(awk -v u="$up_at" -v a="$first_ok" '$1 >= u && $1 < a + 0 {print $2}' "$work/issue" | sort | uniq -c | tr '\n' ' ')"
check "$(awk -v r="$recovery" 'BEGIN{print (r != "never" && r <= 15) ? "ok" : "no"}')" "success returned within 15 s"
after_fail=$(awk -v u="$up_at" -v a="$first_ok" '$1 > a + 0 && $2 != 200' "$work/issue" | wc -l)
echo "token requests failing after the first success: $after_fail"
tokens=$(awk '$2 == 200 && NF == 4 {print $4}' "$work/issue")
n=0; inactive=0; unknown=0
for tok in $tokens; do
  n=$((n + 1))
  answer=unknown
  for _ in 1 2 3 4 5; do # an overloaded machine may shed a check with 503: ask again
    answer=$(curl -s -u "$rid:$rsec" -d token="$tok" "$base/oauth2/introspect" | jq -r '.active // "unknown"' 2>/dev/null || echo unknown)
    [ "$answer" != unknown ] && break
    sleep 1
  done
  case $answer in true) ;; false) inactive=$((inactive + 1)) ;; *) unknown=$((unknown + 1)) ;; esac
done
check "$([ "$inactive" = 0 ] && [ "$unknown" = 0 ] && [ "$n" -gt 0 ] && echo ok)" "all $n tokens answered with 200 are active ($inactive inactive, $unknown not checkable)"
exit $fail
