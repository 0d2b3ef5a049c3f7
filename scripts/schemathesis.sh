#!/usr/bin/env bash
# API fuzzing from the OpenAPI document (issue 7, item 1): starts the release server on a fresh
# SQLite file, creates a superuser, an admin of an organization and a plain user (with a CA and
# a certificate, so ids exist), and runs schemathesis against /api/v1/openapi.json once per
# actor. Fails on any 5xx, any status code, content type, header or body the document does not
# describe, and if the server stops answering /healthz. Login limits are off for the fuzzed
# server: the fuzzing of `POST /auth/token` from one address would otherwise lock the actors out.
#
#   scripts/schemathesis.sh                 # CI: 25 examples per operation, seed 7
#   scripts/schemathesis.sh postgres        # the same on a fresh PostgreSQL database (CI too)
#   SCHEMATHESIS_EXAMPLES=200 SCHEMATHESIS_SEED=$RANDOM scripts/schemathesis.sh
#
# `postgres` creates a throwaway database next to $ORGTENANCY_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test) with createdb, and drops it afterwards.
#
# Needs python3 (with venv), curl. The virtual environment is cached in
# $CARGO_TARGET_DIR (or target/), so reruns do not reinstall schemathesis.
#
# Order matters, because some operations lock the fuzzer out of its own account: it may sign
# itself out (`logout`, `invalidate_tokens`), change its own password (`update_user`), and the
# superuser may delete the other actors (`delete_user`). Nothing is excluded: every actor
# first fuzzes every other operation, then these, each group with a fresh token and
# `update_user` last (a changed password cannot log in again); and the actors run from the
# least to the most powerful (user, admin, superuser), so nobody is changed before its turn.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
examples="${SCHEMATHESIS_EXAMPLES:-25}"
seed="${SCHEMATHESIS_SEED:-7}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$target_dir/schemathesis-venv-$SCHEMATHESIS_VERSION"

server_bin="${SCHEMATHESIS_SERVER_BIN:-}" # another build of the server, to skip the release build
if [ -z "$server_bin" ]; then
  echo "== build the release server"
  cargo build --release -q -p orgtenancy-server
  server_bin="$target_dir/release/orgtenancy-server"
fi

if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "== install schemathesis $SCHEMATHESIS_VERSION in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work="$(mktemp -d)"
server_pid=""
pg_database=""
pg_base="${ORGTENANCY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_database" ]; then
    dropdb --if-exists -d "$pg_base" "$pg_database" 2>/dev/null \
      || psql -q -d "$pg_base" -c "DROP DATABASE IF EXISTS $pg_database" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

case "${1:-sqlite}" in
  sqlite) database_url="sqlite://$work/fuzz.db?mode=rwc" ;;
  postgres)
    pg_database="schemathesis_$$_$RANDOM"
    psql -q -v ON_ERROR_STOP=1 -d "$pg_base" -c "CREATE DATABASE $pg_database"
    database_url="${pg_base%/*}/$pg_database"
    ;;
  *) echo "usage: $0 [sqlite|postgres]"; exit 2 ;;
esac

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
echo "== start the server on $base, ${1:-sqlite} (log: $work/server.log)"
RUST_LOG=warn "$server_bin" --bind "127.0.0.1:$port" \
  --database-url "$database_url" --access-token-minutes 120 \
  --max-login-failures 0 --max-login-failures-per-address 0 \
  > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$base/healthz" > /dev/null && break
  sleep 0.2
done
curl -sf "$base/healthz" > /dev/null || { echo "the server did not start"; cat "$work/server.log"; exit 1; }

api="$base/api/v1"
json='Content-Type: application/json'
password='fuzz-password-1'
login() {
  curl -sf -X POST "$api/auth/token" -d "username=$1" -d "password=$password" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
post() { # post TOKEN PATH JSON -> the new row's id
  curl -sf -X POST "$api$2" -H "Authorization: Bearer $1" -H "$json" -d "$3" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

echo "== actors: the superuser (the first user), an admin and a user of one organization"
curl -sf -X POST "$api/users/" -H "$json" \
  -d "{\"username\":\"root\",\"email\":\"root@example.com\",\"password\":\"$password\",\"role\":\"superuser\"}" > /dev/null
root="$(login root)"
org="$(post "$root" /organizations/ '{"name":"fuzz-org"}')"
post "$root" /users/ "{\"username\":\"admin\",\"email\":\"admin@example.com\",\"password\":\"$password\",\"role\":\"admin\",\"organization_id\":$org}" > /dev/null
post "$root" /users/ "{\"username\":\"user\",\"email\":\"user@example.com\",\"password\":\"$password\",\"role\":\"user\",\"organization_id\":$org,\"can_create_ca\":true,\"can_create_cert\":true}" > /dev/null
user="$(login user)"
ca="$(post "$user" /cas/ '{"name":"fuzz root","subject_dn":"CN=Fuzz Root","key_type":"ec"}')"
post "$user" "/certificates/?ca_id=$ca" '{"common_name":"fuzz.test","certificate_type":"server","key_type":"ec","san_dns_names":["fuzz.test"]}' > /dev/null
post "$root" /cas/ '{"name":"legacy root","subject_dn":"CN=Legacy","key_type":"ec"}' > /dev/null

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
export SCHEMATHESIS_WAIT_FOR_SCHEMA=10
fuzz() { # fuzz ACTOR LABEL FILTERS...
  local actor="$1" label="$2"
  shift 2
  local token
  token="$(login "$actor")" || { echo "cannot log in as $actor"; return 1; }
  echo "== schemathesis as $actor: $label" | tee -a "$work/schemathesis.log"
  # From the temporary directory: schemathesis and hypothesis leave their caches there.
  (cd "$work" && "$venv/bin/schemathesis" run "$api/openapi.json" --url "$api" \
    -H "Authorization: Bearer $token" \
    --checks "$checks" --max-examples "$examples" --seed "$seed" \
    --phases examples,coverage,fuzzing --workers 2 --no-color --generation-database none \
    --suppress-health-check all --request-timeout 30 \
    "$@") 2>&1 | tee -a "$work/schemathesis.log"
}
status=0
for actor in user admin root; do
  # Everything but the operations that lock the actor out, then those: the deletion and the
  # sign-outs with fresh tokens, the password-changing update last.
  fuzz "$actor" "every operation that keeps the account usable" \
    --exclude-operation-id delete_user --exclude-operation-id logout \
    --exclude-operation-id invalidate_tokens --exclude-operation-id update_user || status=1
  for operation in delete_user logout invalidate_tokens update_user; do
    fuzz "$actor" "$operation" --include-operation-id "$operation" || status=1
  done
done

echo "== the server still answers"
curl -sf "$base/healthz" || { echo "/healthz failed"; status=1; }
echo
if grep -q 'panicked' "$work/server.log"; then
  echo "the server log shows a panic:"; grep -n -A3 'panicked' "$work/server.log"; status=1
fi
echo "== summary"
# One line per run: which actor and operations, then schemathesis's count of test cases.
grep -E '^(== schemathesis as|  [0-9]+ generated)' "$work/schemathesis.log" | paste - - || true
exit "$status"
