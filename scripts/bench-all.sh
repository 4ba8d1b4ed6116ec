#!/usr/bin/env bash
# Runs every load-generator scenario against real petstore-auth and
# petstore-api processes on loopback, on SQLite and (when
# PETSTORE_BENCH_POSTGRES_DSN is set) PostgreSQL in a schema of its own, and
# prints one table. Rate limits are off; each scenario runs for a fixed time.
#
#   PETSTORE_BENCH_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' scripts/bench-all.sh
#
# Environment: BENCH_DURATION (10s), BENCH_AUTH_WORKERS (8), BENCH_API_WORKERS (32),
# BENCH_AUTH_PORT (18080), BENCH_API_PORT (18081), BENCH_API_NOAUTH_PORT (18082).
#
# The /v1/pets rows compare each credential with the same request without
# authentication, served by a benchmark build of petstore-api (tag
# petstore_bench_noauth, never shipped) with a fixed principal.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${BENCH_DURATION:-10s}
auth_workers=${BENCH_AUTH_WORKERS:-8}
api_workers=${BENCH_API_WORKERS:-32}
auth_port=${BENCH_AUTH_PORT:-18080}
api_port=${BENCH_API_PORT:-18081}
noauth_port=${BENCH_API_NOAUTH_PORT:-18082}
auth=http://127.0.0.1:$auth_port
api=http://127.0.0.1:$api_port
noauth_api=http://127.0.0.1:$noauth_port
work=$(mktemp -d)
bin=$work/bin
results=$work/results.tsv
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for p in "$auth_port" "$api_port" "$noauth_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is in use; set BENCH_AUTH_PORT / BENCH_API_PORT" >&2; exit 2; fi
done
CGO_ENABLED=0 go build -o "$bin/" ./cmd/petstore-auth ./cmd/petstore-api ./cmd/petstore-load
CGO_ENABLED=0 go build -tags petstore_bench_noauth -o "$bin/petstore-api-noauth" ./cmd/petstore-api
echo "start: $(uptime)"

# wait_up URL LOG: waits up to 30 s for URL to answer; shows LOG if it never does.
wait_up() {
  for _ in $(seq 1 300); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done
  echo "not up: $1" >&2; tail -20 "$2" >&2; return 1
}

# PostgreSQL's CPU over a scenario: every PostgreSQL process (the backends
# of both servers, PostgreSQL's own workers) sampled every 0.2 s, so that
# backends opened and closed during the run count too (a backend's CPU
# since its last sample is lost when it exits).
pg_sample() { # FILE: appends "pid ticks" lines until killed
  while :; do
    # (a process may end between the glob and the read: not an error)
    { awk '$2 == "(postgres)" { split(FILENAME, a, "/"); print a[3], $14 + $15 }' /proc/[0-9]*/stat 2>/dev/null || true; echo --; } >>"$1"
    sleep 0.2
  done
}
# pg_cpu_us FILE REQUESTS: PostgreSQL CPU per request in µs from pg_sample's
# file: per process its last ticks minus its ticks in the first round (0
# for processes started during the run).
pg_cpu_us() {
  awk -v hz="$(getconf CLK_TCK)" -v n="$2" '
    $1 == "--" { round++; next }
    NF == 2 { if (!($1 in start)) start[$1] = round == 0 ? $2 : 0; last[$1] = $2 }
    END { for (p in last) d += last[p] - start[p]; if (n > 0) printf "%dµs", d / hz * 1e6 / n }' "$1"
}

# load DB LABEL PID [petstore-load flags…]: runs one scenario, appends a row.
load() {
  local db=$1 label=$2 pid=$3; shift 3
  local out sampler pgcpu=-
  : >"$work/pg.samples"
  [ "$db" = postgres ] && { pg_sample "$work/pg.samples" & sampler=$!; }
  out=$("$bin/petstore-load" -target "$auth" -api "$api" -duration "$duration" -server-pid "$pid" "$@" 2>&1) || { echo "$out" >&2; out=""; }
  if [ "$db" = postgres ]; then
    kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
    pgcpu=$(pg_cpu_us "$work/pg.samples" "$(awk '/^requests=/ { split($2, a, "="); print a[2] }' <<<"$out")")
  fi
  echo "== $db $label"; echo "$out"; echo "postgres cpu per request: $pgcpu"
  awk -v db="$db" -v label="$label" -v pgcpu="$pgcpu" '
    /^scenario=/ { split($2, a, "="); workers = a[2] }
    /^requests=/ { for (i = 1; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] } }
    /^latency/ { for (i = 2; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] } }
    /^server cpu/ { split($3, a, "="); cpu = a[2] }
    END { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", db, label, workers, v["rate"], v["p50"], v["p90"], v["p99"], v["errors"], cpu, pgcpu }
  ' <<<"$out" >>"$results"
}

# revocations DB [petstore-load flags…]: the revocation scenario (N per
# kind, push channel at its defaults); one row per kind: revoked at the
# authorization server → first 401 at the API.
revocations() {
  local db=$1 what=${REVOCATION_LABEL:-}; shift
  local out
  out=$("$bin/petstore-load" -target "$auth" -api "$api" -scenario revocation "$@" 2>&1) || { echo "$out" >&2; out=""; }
  echo "== $db revocation"; echo "$out"
  awk -v db="$db" -v what="$what" '
    /^kind=/ { for (i = 1; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] }
      printf "%s\trevocation → API refuses (%s%s, max %s)\t1\t-\t%s\t%s\t%s\t%s\t-\t-\n", db, v["kind"], what, v["max"], v["p50"], v["p90"], v["p99"], v["not-refused"] }
  ' <<<"$out" >>"$results"
}

run() { # $1 = label, $2 = auth database URL, $3 = API database URL
  local db=$1 data=$work/$1
  mkdir -p "$data"
  export PETSTORE_DEV=true PETSTORE_DATA_DIR=$data PETSTORE_DATABASE_URL=$2 PETSTORE_LISTEN=127.0.0.1:$auth_port \
    PETSTORE_ISSUER=$auth PETSTORE_RATE_LIMIT_PER_IP=0 PETSTORE_RATE_LIMIT_PER_CLIENT=0 PETSTORE_LOG_LEVEL=warn \
    PETSTORE_SECRET=bench-secret-bench-secret-bench-secret PETSTORE_RESOURCES=$api
  local cli=$bin/petstore-auth
  "$cli" migrate up >/dev/null
  client() { "$cli" client create -o json "$@"; }
  local svc svcjwt web webjwt rs key
  svc=$(client --name bench-svc --grant-type client_credentials --scope read:pets)
  svcjwt=$(client --name bench-svc-jwt --grant-type client_credentials --scope read:pets --token-format jwt)
  web=$(client --name bench-web --redirect-uri https://app.example/cb --scope "read:pets offline_access")
  webjwt=$(client --name bench-web-jwt --redirect-uri https://app.example/cb --scope "read:pets offline_access" --token-format jwt)
  rs=$(client --name bench-rs --introspect --grant-type client_credentials)
  echo 'bench password 123' | "$cli" user create --email bench@example.com --password-stdin >/dev/null
  key=$("$cli" apikey create --owner bench@example.com --scope read:pets --env test -o json | jq -r '.key // .api_key // .secret')
  id() { jq -r .client_id <<<"$1"; }
  sec() { jq -r .client_secret <<<"$1"; }

  "$cli" serve 2>"$data/auth.log" & local auth_pid=$!; pids+=("$auth_pid")
  wait_up "$auth/healthz" "$data/auth.log"
  PETSTORE_API_DEV=true PETSTORE_API_LISTEN=127.0.0.1:$api_port PETSTORE_API_DATABASE_URL=$3 PETSTORE_AUTH_ISSUER=$auth \
    PETSTORE_API_CLIENT_ID=$(id "$rs") PETSTORE_API_CLIENT_SECRET=$(sec "$rs") PETSTORE_API_RATE_LIMIT=0 \
    PETSTORE_API_RATE_LIMIT_FAILED_PER_IP=0 "$bin/petstore-api" --config /dev/null 2>"$data/api.log" & local api_pid=$!; pids+=("$api_pid")
  wait_up "$api/healthz" "$data/api.log"
  PETSTORE_API_DEV=true PETSTORE_API_LISTEN=127.0.0.1:$noauth_port PETSTORE_API_DATABASE_URL=$3 PETSTORE_AUTH_ISSUER=$auth \
    PETSTORE_API_CLIENT_ID=$(id "$rs") PETSTORE_API_CLIENT_SECRET=$(sec "$rs") PETSTORE_API_RATE_LIMIT=0 PETSTORE_API_METRICS_LISTEN= \
    PETSTORE_API_BENCH_NOAUTH_SUBJECT=bench-noauth \
    "$bin/petstore-api-noauth" --config /dev/null 2>"$data/api-noauth.log" & local noauth_pid=$!; pids+=("$noauth_pid")
  wait_up "$noauth_api/healthz" "$data/api-noauth.log"

  token() { curl -sf -u "$(id "$1"):$(sec "$1")" -d grant_type=client_credentials -d scope=read:pets "$auth/oauth2/token" | jq -r .access_token; }
  local opaque jwt
  opaque=$(token "$svc"); jwt=$(token "$svcjwt")
  local aw=(-workers "$auth_workers") pw=(-workers "$api_workers")
  export PETSTORE_LOAD_PASSWORD='bench password 123'
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$svc") load "$db" "client_credentials (opaque)" "$auth_pid" "${aw[@]}" -scenario client_credentials -client-id "$(id "$svc")"
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$svcjwt") load "$db" "client_credentials (JWT)" "$auth_pid" "${aw[@]}" -scenario client_credentials -client-id "$(id "$svcjwt")"
  PETSTORE_LOAD_RS_SECRET=$(sec "$rs") PETSTORE_LOAD_TOKEN=$opaque load "$db" "introspect (opaque)" "$auth_pid" "${aw[@]}" -scenario introspect -rs-id "$(id "$rs")"
  PETSTORE_LOAD_RS_SECRET=$(sec "$rs") PETSTORE_LOAD_TOKEN=$key load "$db" "introspect (API key)" "$auth_pid" "${aw[@]}" -scenario introspect -rs-id "$(id "$rs")"
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$web") load "$db" "refresh (opaque)" "$auth_pid" "${aw[@]}" -scenario refresh -client-id "$(id "$web")" -email bench@example.com
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$webjwt") load "$db" "refresh (JWT)" "$auth_pid" "${aw[@]}" -scenario refresh -client-id "$(id "$webjwt")" -email bench@example.com
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$web") load "$db" "authcode (signed in)" "$auth_pid" "${aw[@]}" -scenario authcode -client-id "$(id "$web")" -email bench@example.com -scope read:pets
  local webid; webid=$(client --name bench-web-oidc --redirect-uri https://app.example/cb --scope "openid profile read:pets")
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$webid") load "$db" "authcode (openid)" "$auth_pid" "${aw[@]}" -scenario authcode -client-id "$(id "$webid")" -email bench@example.com -scope "openid profile read:pets"
  local webes; webes=$(client --name bench-web-oidc-es256 --redirect-uri https://app.example/cb --scope "openid profile read:pets" --id-token-alg ES256)
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$webes") load "$db" "authcode (openid, ES256 ID token)" "$auth_pid" "${aw[@]}" -scenario authcode -client-id "$(id "$webes")" -email bench@example.com -scope "openid profile read:pets"
  load "$db" "api /healthz (no auth)" "$api_pid" "${pw[@]}" -scenario api-noauth
  load "$db" "api /v1/pets (no auth, bench build)" "$noauth_pid" "${pw[@]}" -api "$noauth_api" -scenario api-pets-noauth
  PETSTORE_LOAD_TOKEN=$jwt load "$db" "api /v1/pets (JWT)" "$api_pid" "${pw[@]}" -scenario api-bearer
  PETSTORE_LOAD_TOKEN=$opaque load "$db" "api /v1/pets (opaque)" "$api_pid" "${pw[@]}" -scenario api-bearer
  PETSTORE_LOAD_TOKEN=$key load "$db" "api /v1/pets (API key)" "$api_pid" "${pw[@]}" -scenario api-bearer
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$svcjwt") load "$db" "api /v1/pets (DPoP, JWT)" "$api_pid" "${pw[@]}" -scenario api-bearer -dpop -client-id "$(id "$svcjwt")"
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$svc") load "$db" "api /v1/pets (DPoP, opaque)" "$api_pid" "${pw[@]}" -scenario api-bearer -dpop -client-id "$(id "$svc")"
  local revargs=(-svc-client-id "$(id "$svc")" -jwt-client-id "$(id "$svcjwt")" -client-id "$(id "$web")" -email bench@example.com -scope read:pets)
  export PETSTORE_LOAD_SVC_CLIENT_SECRET=$(sec "$svc") PETSTORE_LOAD_JWT_CLIENT_SECRET=$(sec "$svcjwt")
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$web") revocations "$db" "${revargs[@]}"
  # The same while the API benchmark's load (opaque bearer, all workers) runs.
  PETSTORE_LOAD_TOKEN=$opaque "$bin/petstore-load" -target "$auth" -api "$api" -duration 5m -max-requests 100000000 "${pw[@]}" -scenario api-bearer >/dev/null 2>&1 &
  local flood=$!
  sleep 2
  PETSTORE_LOAD_CLIENT_SECRET=$(sec "$web") REVOCATION_LABEL=", under API load" revocations "$db" "${revargs[@]}"
  kill "$flood"; wait "$flood" 2>/dev/null || true
  kill "$api_pid" "$noauth_pid" "$auth_pid"; wait "$api_pid" "$noauth_pid" "$auth_pid" 2>/dev/null || true
  pids=()
}

run sqlite "sqlite://$work/sqlite/auth.db" "sqlite://$work/sqlite/api.db"
if [ -n "${PETSTORE_BENCH_POSTGRES_DSN:-}" ]; then
  s1="bench_auth_$$" s2="bench_api_$$"
  psql "$PETSTORE_BENCH_POSTGRES_DSN" -qc "CREATE SCHEMA $s1; CREATE SCHEMA $s2"
  trap 'PGOPTIONS="-c client_min_messages=warning" psql "$PETSTORE_BENCH_POSTGRES_DSN" -qc "DROP SCHEMA IF EXISTS $s1 CASCADE; DROP SCHEMA IF EXISTS $s2 CASCADE"; cleanup' EXIT
  run postgres "${PETSTORE_BENCH_POSTGRES_DSN}&search_path=$s1" "${PETSTORE_BENCH_POSTGRES_DSN}&search_path=$s2"
fi

echo
echo "end: $(uptime)"
echo "| database | scenario | workers | req/s | p50 | p90 | p99 | errors | server CPU/req | PostgreSQL CPU/req |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$results"
