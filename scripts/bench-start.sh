#!/usr/bin/env bash
# Measures petstore-auth's start-to-ready time and idle memory: `serve` on
# the default SQLite configuration with the demo data `make run` seeds, and
# (when PETSTORE_BENCH_POSTGRES_DSN is set) on PostgreSQL in a schema of its
# own. Start-to-ready is the time from exec to /readyz answering 200 (the
# database reachable), polled every 2 ms, over BENCH_STARTS runs (10); the
# median is reported. RSS is VmRSS from /proc/PID/status when ready and
# after BENCH_IDLE seconds (30) of idleness, with RssAnon (the process's
# own memory) and RssFile (pages of the binary) beside it.
#
#   PETSTORE_BENCH_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' scripts/bench-start.sh
#
# Environment: BENCH_STARTS (10), BENCH_IDLE (30), BENCH_AUTH_PORT (18090), BENCH_EVICT (off).
set -euo pipefail
cd "$(dirname "$0")/.."
starts=${BENCH_STARTS:-10}
idle=${BENCH_IDLE:-30}
port=${BENCH_AUTH_PORT:-18090}
work=$(mktemp -d)
bin=$work/bin
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use; set BENCH_AUTH_PORT" >&2; exit 2; fi
CGO_ENABLED=0 go build -o "$bin/" ./cmd/petstore-auth ./cmd/petstore-dev
# BENCH_EVICT=1 drops the new binaries from the page cache first: the pages
# the linker leaves there are sometimes held in larger units that a start
# maps whole, which made RssFile of one and the same binary vary from 25 to
# 30 MB between builds; read back from disk it is steady (±0.5 MB). Off by
# default, so that figures compare with earlier runs.
if [ "${BENCH_EVICT:-}" = 1 ]; then
  for f in "$bin"/*; do dd of="$f" oflag=nocache conv=notrunc,fdatasync count=0 status=none; done
fi
echo "start: $(uptime)"

# The demo data: petstore-dev seeds its SQLite database once, then stops.
dev=$work/dev
"$bin/petstore-dev" -data "$dev" -auth-addr "127.0.0.1:$port" -api-addr 127.0.0.1:0 -demo-addr 127.0.0.1:0 >"$work/dev.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

rss() { awk '/^VmRSS/ { r = $2 } /^RssAnon/ { a = $2 } /^RssFile/ { f = $2 } END { printf "%.1f MB (anon %.1f, file %.1f)", r / 1024, a / 1024, f / 1024 }' "/proc/$1/status"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# measure LABEL: starts serve $starts times, prints the median start-to-ready
# time and the RSS of the last start when ready and after $idle s.
measure() {
  local label=$1 times=() t0 ready_rss
  for i in $(seq 1 "$starts"); do
    t0=$(now_ms)
    "$bin/petstore-auth" serve 2>"$work/serve.log" &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do
      kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
      sleep 0.002
    done
    times+=($(( $(now_ms) - t0 )))
    if [ "$i" -lt "$starts" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  done
  ready_rss=$(rss "$pid")
  sleep "$idle"
  printf '| %s | %s ms | %s | %s | %s |\n' "$label" \
    "$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" \
    "$(printf '%s ' "${times[@]}")" "$ready_rss" "$(rss "$pid")" >>"$work/results"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

export PETSTORE_DEV=true PETSTORE_DATA_DIR=$dev PETSTORE_LISTEN=127.0.0.1:$port PETSTORE_ISSUER=http://127.0.0.1:$port \
  PETSTORE_METRICS_LISTEN= PETSTORE_LOG_LEVEL=warn
PETSTORE_DATABASE_URL=sqlite://$dev/petstore-auth.db measure "sqlite (demo data)"
if [ -n "${PETSTORE_BENCH_POSTGRES_DSN:-}" ]; then
  schema="bench_start_$$"
  psql "$PETSTORE_BENCH_POSTGRES_DSN" -qc "CREATE SCHEMA $schema"
  trap 'PGOPTIONS="-c client_min_messages=warning" psql "$PETSTORE_BENCH_POSTGRES_DSN" -qc "DROP SCHEMA IF EXISTS $schema CASCADE"; cleanup' EXIT
  PETSTORE_DATABASE_URL="${PETSTORE_BENCH_POSTGRES_DSN}&search_path=$schema" "$bin/petstore-auth" migrate up >/dev/null
  PETSTORE_DATABASE_URL="${PETSTORE_BENCH_POSTGRES_DSN}&search_path=$schema" measure "postgres"
fi

echo "end: $(uptime)"
echo "| database | start to ready (median) | each start | RSS when ready | RSS after ${idle} s idle |"
echo "|---|---|---|---|---|"
cat "$work/results"
