#!/usr/bin/env bash
# The long variant of the concurrency and multi-process tests (issue 7, items 3 and 5): the same
# tests CI runs (orgtenancy-server/tests/it/concurrency.rs, multiprocess.rs), scaled up by
# environment variables. Every check is the same; only the numbers grow.
#
#   scripts/stress.sh                                   # 4x the organizations and pool users
#                                                       # (250 clients), 100 requests each
#   ORGTENANCY_LOAD_SCALE=8 ORGTENANCY_LOAD_OPS=200 scripts/stress.sh
#   ORGTENANCY_LOAD_SEED=$RANDOM scripts/stress.sh      # other random choices
#   STRESS_ROUNDS=5 scripts/stress.sh                   # repeat, a new seed each round
#
# ORGTENANCY_LOAD_SCALE multiplies the stable and victim organizations and the pool users of
# the CI shape (64 clients: 6 stable organizations of 2 admins + 4 issuers, 6 victim
# organizations, 20 pool users, 2 superusers); ORGTENANCY_LOAD_OPS is the number of requests
# per client (CI: 32; the deleting superuser gets four times as many). The PostgreSQL runs
# need ORGTENANCY_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test); without
# it only SQLite runs. Each run prints its figures ("race over N server(s): ...").
set -euo pipefail
cd "$(dirname "$0")/.."

export ORGTENANCY_LOAD_SCALE="${ORGTENANCY_LOAD_SCALE:-4}"
export ORGTENANCY_LOAD_OPS="${ORGTENANCY_LOAD_OPS:-100}"
rounds="${STRESS_ROUNDS:-1}"
seed="${ORGTENANCY_LOAD_SEED:-24301}"

for round in $(seq 1 "$rounds"); do
    export ORGTENANCY_LOAD_SEED=$((seed + round - 1))
    echo "stress round $round/$rounds: scale $ORGTENANCY_LOAD_SCALE, $ORGTENANCY_LOAD_OPS requests per client, seed $ORGTENANCY_LOAD_SEED"
    cargo test -p orgtenancy-server --test it -- --nocapture --test-threads 1 \
        concurrency:: multiprocess::race_spread_over_both
done
