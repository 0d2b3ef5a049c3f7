#!/usr/bin/env bash
# Validates both OpenAPI documents of the server with openapi-spec-validator (SPEC §13): the
# REST API's `/api/v1/openapi.json` and the AuthZEN API's `/access/v1/openapi.json`, as the
# release server serves them (on a fresh SQLite file). Exits non-zero when either is invalid.
# That each example request body is accepted is checked by the `openapi_examples` test.
#
#   scripts/openapi-validate.sh
#   OPENAPI_SERVER_BIN=target/debug/orgtenancy-server scripts/openapi-validate.sh
#
# The server binary is $OPENAPI_SERVER_BIN, else $SCHEMATHESIS_SERVER_BIN, else the release
# build (`cargo build --release -q -p orgtenancy-server`, which schemathesis.sh reuses). Needs
# python3 (with venv) and curl; the validator's virtual environment is cached in
# $CARGO_TARGET_DIR (or target/).
set -euo pipefail
cd "$(dirname "$0")/.."

VALIDATOR_VERSION=0.9.0
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$target_dir/openapi-validator-venv-$VALIDATOR_VERSION"

server_bin="${OPENAPI_SERVER_BIN:-${SCHEMATHESIS_SERVER_BIN:-}}"
if [ -z "$server_bin" ]; then
  echo "== build the release server"
  cargo build --release -q -p orgtenancy-server
  server_bin="$target_dir/release/orgtenancy-server"
fi

if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  echo "== install openapi-spec-validator $VALIDATOR_VERSION in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "openapi-spec-validator==$VALIDATOR_VERSION"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
echo "== start the server on $base (log: $work/server.log)"
RUST_LOG=warn "$server_bin" --bind "127.0.0.1:$port" \
  --database-url "sqlite://$work/openapi.db?mode=rwc" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$base/healthz" > /dev/null && break
  sleep 0.2
done
curl -sf "$base/healthz" > /dev/null || { echo "the server did not start"; cat "$work/server.log"; exit 1; }

status=0
for document in /api/v1/openapi.json /access/v1/openapi.json; do
  file="$work/$(echo "${document#/}" | tr / _)"
  curl -sf "$base$document" -o "$file" || { echo "cannot fetch $document"; status=1; continue; }
  echo "== openapi-spec-validator $VALIDATOR_VERSION: $document"
  "$venv/bin/openapi-spec-validator" --validation-errors all "$file" || status=1
done
exit "$status"
