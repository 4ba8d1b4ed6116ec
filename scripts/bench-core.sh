#!/usr/bin/env bash
# Measures the token endpoint (client_credentials) and introspection over real
# HTTP on loopback, on SQLite and (when PETSTORE_BENCH_POSTGRES_DSN is set)
# PostgreSQL. Usage: scripts/bench-core.sh [workers] [duration]
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-8}
duration=${2:-10s}
bin=$(mktemp -d)
CGO_ENABLED=0 go build -o "$bin/" ./cmd/petstore-auth ./cmd/petstore-load

run() { # $1 = label, $2 = database URL
  local data; data=$(mktemp -d)
  export PETSTORE_DEV=true PETSTORE_DATA_DIR="$data" PETSTORE_DATABASE_URL="$2" PETSTORE_LISTEN=127.0.0.1:18080 \
    PETSTORE_ISSUER=http://127.0.0.1:18080 PETSTORE_RATE_LIMIT_PER_IP=0 PETSTORE_RATE_LIMIT_PER_CLIENT=0 PETSTORE_LOG_LEVEL=warn
  "$bin/petstore-auth" migrate up >/dev/null
  svc=$("$bin/petstore-auth" client create --name bench-svc --grant-type client_credentials --scope read:pets -o json)
  rs=$("$bin/petstore-auth" client create --name bench-rs --introspect --grant-type client_credentials -o json)
  sid=$(jq -r .client_id <<<"$svc"); ssec=$(jq -r .client_secret <<<"$svc")
  rid=$(jq -r .client_id <<<"$rs"); rsec=$(jq -r .client_secret <<<"$rs")
  "$bin/petstore-auth" serve 2>"$data/server.log" & pid=$!
  for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.2; done
  token=$(curl -s -u "$sid:$ssec" -d grant_type=client_credentials -d scope=read:pets http://127.0.0.1:18080/oauth2/token | jq -r .access_token)
  echo "== $1: client_credentials"
  PETSTORE_LOAD_CLIENT_SECRET=$ssec "$bin/petstore-load" -target http://127.0.0.1:18080 -scenario client_credentials -client-id "$sid" -workers "$workers" -duration "$duration" -server-pid $pid
  echo "== $1: introspect"
  PETSTORE_LOAD_RS_SECRET=$rsec PETSTORE_LOAD_TOKEN=$token "$bin/petstore-load" -target http://127.0.0.1:18080 -scenario introspect -rs-id "$rid" -workers "$workers" -duration "$duration" -server-pid $pid
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$data"
}

run sqlite "sqlite://$(mktemp -d)/bench.db"
if [ -n "${PETSTORE_BENCH_POSTGRES_DSN:-}" ]; then
  schema="bench_$$"
  psql "$PETSTORE_BENCH_POSTGRES_DSN" -qc "CREATE SCHEMA $schema"
  run postgres "${PETSTORE_BENCH_POSTGRES_DSN}&search_path=$schema"
  psql "$PETSTORE_BENCH_POSTGRES_DSN" -qc "DROP SCHEMA $schema CASCADE"
fi
rm -rf "$bin"
