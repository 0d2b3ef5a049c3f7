#!/usr/bin/env bash
# Load test of the release server, from a fresh clone:
#
#   benches/load/run.sh                 # 32 connections, 2 s warm-up + 10 s per scenario
#   LOAD_SECONDS=30 benches/load/run.sh
#
# 1. builds the release server and the load generator (`orgtenancy-load`);
# 2. seeds a fresh SQLite file in a temporary directory with 100 organizations × 100 users
#    (plus a superuser and, per connection, 100 users in no organization for add-member),
#    through the store's API (`orgtenancy-load seed`);
# 3. starts the server on that file on a free loopback port;
# 4. runs the four scenarios (GET one organization as a member, GET one page of members,
#    POST add-member as the organization's admin, a 90/10 read/write mix) and prints
#    requests/s, p50/p99 latency and the server's resident memory after each, then its peak
#    (VmHWM from /proc/<pid>/status);
# 5. stops the server (SIGTERM) and removes the temporary directory.
#
# The server logs at its default level (info; LOAD_RUST_LOG=warn quiets it) to a file in the
# temporary directory. The load generator runs on the same machine as the server and
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
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

database="sqlite://$work/load.db?mode=rwc"
echo "== seeding $work/load.db"
"$load_bin" seed "$database" --clients "$connections"

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
port="$(free_port)"
base="http://127.0.0.1:$port"

echo "== starting the server on $base"
ORGTENANCY_DATABASE_URL="$database" ORGTENANCY_BIND="127.0.0.1:$port" RUST_LOG="${LOAD_RUST_LOG:-info}" \
  "$server_bin" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  if curl -sf "$base/healthz" > /dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    echo "the server exited" >&2
    exit 1
  fi
  sleep 0.1
done

echo "== load: $connections connections"
"$load_bin" run "$base/api/v1" --clients "$connections" --seconds "$seconds" \
  --warmup "$warmup" --server-pid "$server_pid"
