#!/usr/bin/env bash
# The stateful isolation test (orgtenancy-server/tests/it/stateful.rs) with many more
# sequences than CI runs: random API calls by actors in several organizations, each step
# checked against an in-memory model (statuses, lists complete and holding no other tenant's
# rows, the audit log). CI runs 6 sequences of 80 steps per backend.
#
#   scripts/stateful.sh                  # 500 sequences x 120 steps, SQLite and PostgreSQL
#   scripts/stateful.sh 2000 200 77      # sequences, steps per sequence, first seed
#
# PostgreSQL runs when ORGTENANCY_TEST_POSTGRES_URL is set (this script defaults it to the
# CI database; set it to an empty string to run SQLite only). A failure prints its seed and
# the steps so far; rerun that one with `scripts/stateful.sh 1 <steps> <seed>`. Even
# sequences use the documented policy, odd ones strict isolation.
set -euo pipefail
cd "$(dirname "$0")/.."

export ORGTENANCY_STATEFUL_CASES="${1:-500}"
export ORGTENANCY_STATEFUL_STEPS="${2:-120}"
export ORGTENANCY_STATEFUL_SEED="${3:-$(date +%s)}"
export ORGTENANCY_TEST_POSTGRES_URL="${ORGTENANCY_TEST_POSTGRES_URL-postgres://postgres@127.0.0.1:5432/test}"

echo "== $ORGTENANCY_STATEFUL_CASES sequences x $ORGTENANCY_STATEFUL_STEPS steps per backend, first seed $ORGTENANCY_STATEFUL_SEED"
cargo test -p orgtenancy-server --test it stateful::random_sequences -- --nocapture --test-threads 2
