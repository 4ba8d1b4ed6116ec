#!/usr/bin/env bash
# Fault test: kill -9 of petstore-auth while codes are redeemed, refresh
# tokens rotate and tokens are revoked, then restart and check that nothing
# is half done:
#   - no redeemed (inactive) authorization code without the tokens it issued;
#   - never two live refresh tokens in one family (request id);
#   - every token whose revocation was answered 200 is inactive.
# Runs on SQLite, and on PostgreSQL in a schema of its own when
# PETSTORE_FAULT_POSTGRES_DSN is set. Loopback only; bounded (ROUNDS kills of
# a few seconds each per database).
#
#   PETSTORE_FAULT_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' scripts/fault-kill9.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-4}
PORT=${FAULT_PORT:-18191}
base=http://127.0.0.1:$PORT
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT is in use; set FAULT_PORT" >&2; exit 2; fi
work=$(mktemp -d)
pids=()
schema=""
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$schema" ] && PGOPTIONS="-c client_min_messages=warning" psql "$PETSTORE_FAULT_POSTGRES_DSN" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" || true
  rm -rf "$work"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$work/" ./cmd/petstore-auth ./cmd/petstore-load
fail=0
check() { if [ "$1" = ok ]; then echo "PASS $2"; else echo "FAIL $2"; fail=1; fi; }

start_server() {
  "$work/petstore-auth" serve 2>>"$1/server.log" & server=$!
  for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server did not start" >&2; return 1
}

# revoke_loop DIR N: issues and revokes tokens, logging "token status".
revoke_loop() {
  while :; do
    local tok st
    tok=$(curl -s --max-time 5 -u "$sid:$ssec" -d grant_type=client_credentials "$base/oauth2/token" | jq -r '.access_token // empty' 2>/dev/null) || true
    [ -z "$tok" ] && { sleep 0.05; continue; }
    st=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -u "$sid:$ssec" -d token="$tok" "$base/oauth2/revoke" || echo 000)
    echo "$tok $st" >>"$1/revoked.$2"
  done
}

run() { # $1 = label, $2 = database URL, $3 = SQL runner
  local db=$1 dir=$work/$1 sql=$3
  mkdir -p "$dir"
  export PETSTORE_DEV=true PETSTORE_DATA_DIR=$dir PETSTORE_DATABASE_URL=$2 PETSTORE_LISTEN=127.0.0.1:$PORT \
    PETSTORE_ISSUER=$base PETSTORE_RATE_LIMIT_PER_IP=0 PETSTORE_RATE_LIMIT_PER_CLIENT=0 PETSTORE_LOG_LEVEL=warn \
    PETSTORE_SECRET=kill9-secret-kill9-secret-kill9-secret PETSTORE_REFRESH_GRACE_WINDOW=0s
  "$work/petstore-auth" migrate up >/dev/null
  local web svc rs
  web=$("$work/petstore-auth" client create -o json --name web --redirect-uri https://app.example/cb --scope "read:pets offline_access")
  svc=$("$work/petstore-auth" client create -o json --name svc --grant-type client_credentials --scope read:pets)
  rs=$("$work/petstore-auth" client create -o json --name rs --introspect --grant-type client_credentials)
  echo 'kill9 password 123' | "$work/petstore-auth" user create --email k@example.com --password-stdin >/dev/null
  wid=$(jq -r .client_id <<<"$web"); wsec=$(jq -r .client_secret <<<"$web")
  sid=$(jq -r .client_id <<<"$svc"); ssec=$(jq -r .client_secret <<<"$svc")
  rid=$(jq -r .client_id <<<"$rs"); rsec=$(jq -r .client_secret <<<"$rs")
  export PETSTORE_LOAD_PASSWORD='kill9 password 123' PETSTORE_LOAD_CLIENT_SECRET=$wsec
  for round in $(seq 1 "$ROUNDS"); do
    start_server "$dir"
    local load=()
    "$work/petstore-load" -target "$base" -api "$base" -scenario authcode -client-id "$wid" -email k@example.com -workers 4 -duration 60s >/dev/null 2>&1 & load+=($!)
    "$work/petstore-load" -target "$base" -api "$base" -scenario refresh -client-id "$wid" -email k@example.com -workers 4 -duration 60s >/dev/null 2>&1 & load+=($!)
    revoke_loop "$dir" 1 & load+=($!)
    revoke_loop "$dir" 2 & load+=($!)
    pids+=("$server" "${load[@]}")
    sleep "$(awk -v r="$RANDOM" 'BEGIN{printf "%.1f", 2 + (r % 30) / 10}')"
    kill -9 "$server"
    for p in "${load[@]}"; do kill "$p" 2>/dev/null || true; done
    wait "$server" "${load[@]}" 2>/dev/null || true
    pids=()
  done
  start_server "$dir"; pids+=("$server")
  echo "== $db: $ROUNDS rounds of kill -9 during code redemption, refresh rotation and revocation"
  local codes redeemed orphan families doubles
  codes=$($sql "SELECT count(*) FROM authorize_codes")
  redeemed=$($sql "SELECT count(*) FROM authorize_codes WHERE NOT active")
  orphan=$($sql "SELECT count(*) FROM authorize_codes c WHERE NOT c.active AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.request_id = c.request_id)")
  families=$($sql "SELECT count(DISTINCT request_id) FROM refresh_tokens")
  doubles=$($sql "SELECT count(*) FROM (SELECT request_id FROM refresh_tokens WHERE active GROUP BY request_id HAVING count(*) > 1) f")
  echo "codes: $codes, redeemed: $redeemed; refresh families: $families, refresh tokens: $($sql "SELECT count(*) FROM refresh_tokens")"
  check "$([ "$orphan" = 0 ] && [ "$redeemed" -gt 0 ] && echo ok)" "$db: no redeemed code without tokens ($orphan of $redeemed)"
  check "$([ "$doubles" = 0 ] && [ "$families" -gt 0 ] && echo ok)" "$db: no refresh family with two live tokens ($doubles of $families)"
  local n=0 bad=0
  cat "$dir"/revoked.* >"$dir/revoked"
  while read -r tok st; do
    [ "$st" = 200 ] || continue
    n=$((n + 1))
    [ "$(curl -s -u "$rid:$rsec" -d token="$tok" "$base/oauth2/introspect" | jq -r .active)" = false ] || bad=$((bad + 1))
  done <"$dir/revoked"
  check "$([ "$bad" = 0 ] && [ "$n" -gt 0 ] && echo ok)" "$db: every revocation answered 200 left the token inactive ($bad of $n active)"
  check "$(curl -sf -u "$sid:$ssec" -d grant_type=client_credentials "$base/oauth2/token" >/dev/null && echo ok)" "$db: the restarted server issues tokens"
  kill "$server"; wait "$server" 2>/dev/null || true
  pids=()
}

sqlite_sql() { sqlite3 "$work/sqlite/auth.db" "$1"; }
run sqlite "sqlite://$work/sqlite/auth.db" sqlite_sql
if [ -n "${PETSTORE_FAULT_POSTGRES_DSN:-}" ]; then
  schema="kill9_$$"
  psql "$PETSTORE_FAULT_POSTGRES_DSN" -qc "CREATE SCHEMA $schema"
  pg_sql() { psql "${PETSTORE_FAULT_POSTGRES_DSN}&options=-csearch_path%3D$schema" -Atqc "$1"; }
  run postgres "${PETSTORE_FAULT_POSTGRES_DSN}&search_path=$schema" pg_sql
fi
exit $fail
