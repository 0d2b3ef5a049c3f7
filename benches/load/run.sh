#!/usr/bin/env bash
# Load test of the release server, from a fresh clone:
#
#   benches/load/run.sh                 # 32 connections, 2 s warm-up + 10 s per scenario
#   LOAD_SECONDS=30 benches/load/run.sh
#   LOAD_BACKEND=postgres LOAD_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test benches/load/run.sh
#   LOAD_BASELINE_SERVER="/old/before/orgtenancy-server /old/step1/orgtenancy-server" benches/load/run.sh
#   LOAD_ONLY=add-member LOAD_WRK=0 benches/load/run.sh   # one scenario of the generator, no wrk
#
# 1. builds the release server and the load generator (`orgtenancy-load`);
# 2. measures the ceiling: a bare poem server (`orgtenancy-load ceiling-serve`) answering
#    GET /api/v1/organizations/{id} with a constant JSON body, no auth, no database, driven
#    by the same clients as the real server;
# 3. for each earlier server binary LOAD_BASELINE_SERVER names (space-separated; each is named
#    in the report by its directory), then for this build:
#    seeds a fresh database (a SQLite file in a temporary directory, or with
#    LOAD_BACKEND=postgres a fresh schema `orgtenancy_load` of LOAD_POSTGRES_URL, made with
#    psql) with 100 organizations × 100 users (plus a superuser and, per connection, 100 users
#    in no organization for add-member) through the store's API (`orgtenancy-load seed`),
#    starts the server on it on a free loopback port, runs the five scenarios (GET one
#    organization as a member, GET one page of 20 members, POST add-member as the
#    organization's admin, a 90/10 read/write mix, and a write mix: add a member, PATCH its
#    flags, remove it) and prints requests/s, p50/p99 latency and
#    the server's resident memory after each, then its peak (VmHWM), and stops it (SIGTERM);
#    With wrk on PATH, the two reads (and the ceiling) are first measured with
#    `wrk -t2 -c$LOAD_CONNECTIONS --latency` as well (LOAD_WRK=0 skips it);
# 4. measures the ceiling again, so drift of the machine during the run shows;
# 5. removes the temporary directory.
#
# Everything is measured in one run, one after the other, so ratios between the rows (before
# and after, share of the ceiling) are what to quote; absolute figures move with the machine.
# The servers log at their default level (info; LOAD_RUST_LOG=warn quiets them) to files in
# the temporary directory. The load generator runs on the same machine as the server and
# competes for its cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

connections="${LOAD_CONNECTIONS:-32}"
seconds="${LOAD_SECONDS:-10}"
warmup="${LOAD_WARMUP:-2}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

echo "== building (release)"
cargo build --release -q -p orgtenancy-server -p orgtenancy-load
server_bin="$target_dir/release/orgtenancy-server"
load_bin="$target_dir/release/orgtenancy-load"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

backend="${LOAD_BACKEND:-sqlite}"
postgres_url="${LOAD_POSTGRES_URL:-${ORGTENANCY_TEST_POSTGRES_URL:-}}"

# A fresh database for one server: its URL.
fresh_database() {
  local name="$1"
  if [ "$backend" = postgres ]; then
    if [ -z "$postgres_url" ]; then
      echo "LOAD_BACKEND=postgres needs LOAD_POSTGRES_URL" >&2
      return 1
    fi
    PGOPTIONS="--client-min-messages=warning" psql -q "$postgres_url" -c "DROP SCHEMA IF EXISTS orgtenancy_load CASCADE" \
      -c "CREATE SCHEMA orgtenancy_load" >&2
    local separator='?'
    case "$postgres_url" in *\?*) separator='&' ;; esac
    echo "${postgres_url}${separator}options=-c%20search_path%3Dorgtenancy_load"
  else
    echo "sqlite://$work/$name.db?mode=rwc"
  fi
}

# A free loopback port: ask the kernel for one, or probe a few at random without Python.
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    return
  fi
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Waits until `$1` answers (any HTTP status) while process `$2` lives.
wait_ready() {
  for _ in $(seq 100); do
    if curl -s -o /dev/null "$1" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$2" 2>/dev/null; then
      echo "the server exited" >&2
      return 1
    fi
    sleep 0.1
  done
}

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

# With wrk on PATH (Debian's `wrk`; LOAD_WRK=0 skips it), the two reads are also measured by
# `wrk -t2 -c$connections --latency`, the issue's own command: one row of the report each.
use_wrk() {
  [ "${LOAD_WRK:-1}" != 0 ] && command -v wrk >/dev/null
}

# `wrk_row NAME URL [TOKEN]`: one wrk run, printed as a table row (req/s, p50, p99, non-2xx).
wrk_row() {
  local name="$1" url="$2" token="${3:-}" out
  local header=()
  if [ -n "$token" ]; then header=(-H "Authorization: Bearer $token"); fi
  wrk -t2 -c"$connections" -d"${warmup}s" "${header[@]}" "$url" > /dev/null
  out="$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "${header[@]}" "$url")"
  awk -v name="$name" '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000;
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0;
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000;
      return v;
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec:/ { rate = $2 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    END { printf "| wrk: %s | %.0f | %.2f | %.2f | %d |\n", name, rate, p50, p99, bad }
  ' <<< "$out"
}

wrk_header() {
  echo "| wrk -t2 -c$connections, ${seconds} s | req/s | p50 ms | p99 ms | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
}

ceiling() {
  local port
  port="$(free_port)"
  "$load_bin" ceiling-serve "127.0.0.1:$port" > "$work/ceiling.log" 2>&1 &
  server_pid=$!
  wait_ready "http://127.0.0.1:$port/api/v1/organizations/1" "$server_pid"
  echo "== ceiling: bare poem server, $connections connections"
  "$load_bin" ceiling "http://127.0.0.1:$port/api/v1" --clients "$connections" \
    --seconds "$seconds" --warmup "$warmup"
  if use_wrk; then
    echo
    wrk_header
    wrk_row "CEILING: bare poem, GET one organization" "http://127.0.0.1:$port/api/v1/organizations/1"
  fi
  stop_server
}

# Seeds a fresh database, starts server binary `$2` (called `$1` in the report) on it and
# runs the five scenarios.
measure() {
  local name="$1" binary="$2" database port base
  database="$(fresh_database "$name")"
  echo "== $name: seeding ($backend)"
  "$load_bin" seed "$database" --clients "$connections"
  port="$(free_port)"
  base="http://127.0.0.1:$port"
  echo "== $name: $binary on $base"
  ORGTENANCY_DATABASE_URL="$database" ORGTENANCY_BIND="127.0.0.1:$port" \
    RUST_LOG="${LOAD_RUST_LOG:-info}" "$binary" > "$work/$name.log" 2>&1 &
  server_pid=$!
  if ! wait_ready "$base/healthz" "$server_pid"; then
    cat "$work/$name.log" >&2
    exit 1
  fi
  if use_wrk; then
    local target organization token
    target="$("$load_bin" wrk-target "$base/api/v1")"
    organization="$(sed -n 's/^ORGANIZATION=//p' <<< "$target")"
    token="$(sed -n 's/^TOKEN=//p' <<< "$target")"
    echo "== $name: wrk, $connections connections"
    wrk_header
    wrk_row "GET one organization (member)" "$base/api/v1/organizations/$organization" "$token"
    wrk_row "GET one page of members (20)" \
      "$base/api/v1/organizations/$organization/users?limit=20" "$token"
    echo
  fi
  echo "== $name: load, $connections connections"
  local only=()
  if [ -n "${LOAD_ONLY:-}" ]; then only=(--only "$LOAD_ONLY"); fi
  "$load_bin" run "$base/api/v1" --clients "$connections" --seconds "$seconds" \
    --warmup "$warmup" --server-pid "$server_pid" "${only[@]}"
  stop_server
}

ceiling
# Each earlier binary, named in the report by its directory.
for baseline in ${LOAD_BASELINE_SERVER:-}; do
  measure "$(basename "$(dirname "$baseline")")" "$baseline"
done
measure current "$server_bin"
ceiling
